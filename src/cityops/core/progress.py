"""Progress of the long commands (`load_demo`, `simulate`, `iot simulate`, `geo import`, `dispatch retrain`).

On a terminal a live bar (rich) shows what runs and how far it is; it disappears when done, and the command
prints its one summary. Written to a file or a pipe (CI logs, tests) nothing of the bar appears. The log lines
of single items (each notification sent, each region written …) stay out of the terminal unless the command
runs with `-v 2`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

# Loggers that write one line per item handled; a summary is printed instead.
ITEM_LOGGERS = ("cityops",)


def item_logs(verbosity: int) -> None:
    """Per-item log lines (INFO) on the terminal only at `-v 2` and above; warnings and errors always."""
    level = logging.INFO if verbosity >= 2 else logging.WARNING
    for name in ITEM_LOGGERS:
        logging.getLogger(name).setLevel(level)


def _console(stdout) -> Console | None:
    stream = getattr(stdout, "_out", stdout)  # Django's OutputWrapper keeps the real stream in _out
    if stream is None or not hasattr(stream, "write"):
        return None
    console = Console(file=stream)
    return console if console.is_terminal else None


class Step:
    """What `progress` yields: `step()` / `step(k)` advances, `step(description=…)` renames what runs, and
    `step.write(line)` prints a line above the bar (the command's own output, e.g. a stage's summary)."""

    def __init__(self, stdout, bar: Progress | None = None, task=None) -> None:
        self._stdout, self._bar, self._task = stdout, bar, task

    def __call__(self, advance: float = 1, description: str | None = None) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=advance, **({"description": description} if description else {}))

    def write(self, line: str) -> None:
        if self._bar is not None:
            self._bar.console.print(line.rstrip("\n"), markup=False, highlight=False)
        elif self._stdout is not None:  # Django's OutputWrapper ends the line itself
            text = line.rstrip("\n")
            self._stdout.write(text if hasattr(self._stdout, "ending") else text + "\n")


@contextmanager
def progress(stdout, description: str, total: float | None = None) -> Iterator[Step]:
    """`with progress(self.stdout, "生成网格 / grids", total=n) as step: … step()`. Nothing is drawn when stdout is
    not a terminal; `step.write` then writes to stdout as usual."""
    console = _console(stdout)
    if console is None:
        yield Step(stdout)
        return
    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True) as bar:
        yield Step(stdout, bar, bar.add_task(description, total=total))
