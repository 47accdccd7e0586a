"""Periodic work of the dashboard for `cityops worker` (gathered by core.tasks.periodic_tasks()): the early-warning
run every CITYOPS_EARLY_WARNING_INTERVAL seconds (300 by default); the rollup of finished cases every
CITYOPS_DASHBOARD_ROLLUP_INTERVAL (60)."""

from django_tasks import task

from cityops.dashboard.services import early_warning_run


@task()
def early_warning_task() -> dict[str, int]:
    return early_warning_run()


@task()
def rollup_task() -> dict[str, int]:
    from cityops.dashboard import rollup

    got = rollup.refresh()
    got["days"] = rollup.refresh_days(max_days=31)  # the first runs count the past year a month at a time
    return got


PERIODIC = {"early_warning": (early_warning_task, "CITYOPS_EARLY_WARNING_INTERVAL"),
            "dashboard_rollup": (rollup_task, "CITYOPS_DASHBOARD_ROLLUP_INTERVAL")}

from cityops.dashboard.briefings import briefing_task  # noqa: E402 - scheduled briefings (dashboard-briefings)

PERIODIC["briefings"] = (briefing_task, "CITYOPS_BRIEFING_INTERVAL")
