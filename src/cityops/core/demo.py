"""The demo city, contributed by the apps (`cityops load_demo`, what `make run` loads).

Core names no app: each app adds its part through methods of its AppConfig, like `consumer_command` for
`cityops run`. Every method is optional, returns a one-line summary (or None) and may write progress to
`stdout`; within a stage the apps run in INSTALLED_APPS order (accounts' departments before geo's regions
before cases' categories …):

1. `load_demo(stdout)`: the app's reference data (org units, regions, categories, devices, a trained model);
2. `load_demo_users(stdout)`: the demo logins — after every app's reference data, since users belong to org
   units and regions;
3. `load_demo_history(stdout, hours)`: simulated traffic over the last `hours`, when asked for.

`demo_usernames()` names the logins an app creates: production refuses to start while one of them still
accepts the demo password (core.security).
"""

from __future__ import annotations

from django.apps import AppConfig, apps


def _configs(skip: tuple[str, ...] = ()) -> list[AppConfig]:
    return [config for config in apps.get_app_configs() if config.label not in skip]


def load_demo(*, stdout, skip: tuple[str, ...] = (), history_hours: float = 0) -> None:
    """Load every app's demo data; `skip`: app labels whose data stays as it is (e.g. geo's regions)."""
    stages = [("load_demo", {}), ("load_demo_users", {})]
    if history_hours > 0:
        stages.append(("load_demo_history", {"hours": history_hours}))
    for method, kwargs in stages:
        for config in _configs(skip):
            hook = getattr(config, method, None)
            summary = hook(stdout, **kwargs) if hook is not None else None
            if summary:
                stdout.write(f"{config.label}: {summary}")


def demo_usernames() -> list[str]:
    """The logins that `load_demo` creates, from every app that creates some."""
    return [name for config in _configs() if hasattr(config, "demo_usernames") for name in config.demo_usernames()]
