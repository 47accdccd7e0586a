"""How many examples the hypothesis state machines run (cases, disputes, stability, the engine's sample ticket).

The suite (`make test`, run twice: SQLite and PostgreSQL) gives each machine a small, derandomized budget: the same
sequences every run, deep enough for the states each test asserts it reached. `make fuzz` multiplies the budgets by
CITYOPS_FUZZ_SCALE (4 there, so each machine runs at least as many examples as the suite did before) for a longer
search.
"""

import os


def examples(suite: int) -> int:
    """`suite` examples in the test suite, CITYOPS_FUZZ_SCALE times as many under `make fuzz`."""
    scale = float(os.environ.get("CITYOPS_FUZZ_SCALE", "1") or 1)
    return max(1, round(suite * scale))
