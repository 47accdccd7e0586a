"""Long commands show a live bar on a terminal and nothing of it in a file; per-item logs only at -v 2."""

import io
import logging

from cityops.core.progress import item_logs, progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_the_bar_and_the_lines_written_above_it():
    screen = Terminal()
    with progress(screen, "演示数据 / demo data", total=3) as step:
        step(description="geo · 基础数据")
        step.write("geo: regions 13\n")
        step(2)
    shown = screen.getvalue()
    assert "geo: regions 13" in shown
    assert "3/3" in shown or "geo · 基础数据" in shown  # the bar was drawn (and erased at the end)


def test_a_file_or_pipe_gets_the_lines_and_no_bar():
    log = io.StringIO()
    with progress(log, "演示数据 / demo data", total=3) as step:
        step(description="geo · 基础数据")
        step.write("geo: regions 13\n")
        step(2)
    assert log.getvalue() == "geo: regions 13\n"
    assert "\x1b[" not in log.getvalue()


def test_item_logs_only_at_verbosity_two():
    logger = logging.getLogger("cityops.core.notify")
    try:
        item_logs(1)
        assert not logger.isEnabledFor(logging.INFO) and logger.isEnabledFor(logging.WARNING)
        item_logs(2)
        assert logger.isEnabledFor(logging.INFO)
    finally:
        logging.getLogger("cityops").setLevel(logging.NOTSET)
