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

from cityops.core.progress import progress

STAGE_NAMES = {"load_demo": "基础数据 / reference data", "load_demo_users": "演示账号 / demo logins",
               "load_demo_history": "模拟历史 / simulated history"}


def _configs(skip: tuple[str, ...] = ()) -> list[AppConfig]:
    return [config for config in apps.get_app_configs() if config.label not in skip]


def load_demo(*, stdout, skip: tuple[str, ...] = (), history_hours: float = 0) -> None:
    """Load every app's demo data; `skip`: app labels whose data stays as it is (e.g. geo's regions)."""
    stages = [("load_demo", {}), ("load_demo_users", {})]
    if history_hours > 0:
        stages.append(("load_demo_history", {"hours": history_hours}))
    steps = [(config, method, kwargs) for method, kwargs in stages for config in _configs(skip)
             if getattr(config, method, None) is not None]
    with progress(stdout, "演示数据 / demo data", total=len(steps)) as step:
        for config, method, kwargs in steps:
            step(0, description=f"{config.verbose_name} · {STAGE_NAMES[method]}")
            summary = getattr(config, method)(step, **kwargs)
            if summary:
                step.write(f"{config.label}: {summary}")
            step()


def demo_usernames() -> list[str]:
    """The logins that `load_demo` creates, from every app that creates some."""
    return [name for config in _configs() if hasattr(config, "demo_usernames") for name in config.demo_usernames()]
