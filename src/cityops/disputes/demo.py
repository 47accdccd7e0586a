"""The demo city's dispute resolution: filled in by disputes/demo work (issue 14)."""


def load_demo() -> str:
    return ""


def load_demo_history(*, stdout, hours: float) -> None:
    return None
