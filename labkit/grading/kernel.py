"""The kernel of a grading run: executes the rebuilt notebook's cells, one after another, in the sandbox.

Run by the grader as ``python -I -m labkit.grading.kernel cells.json progress.jsonl``, where
``cells.json`` lists ``{"source": ..., "timeout": seconds}``. Cells run in an IPython shell, as in a
notebook (magics, the value of a last expression, ``display``), and a failing cell does not stop the
run. When a cell's time is up, :class:`CellTimeout` is raised inside it; if the cell ignores that,
the grader kills the whole run.
A ``ready`` record, then each cell's start and end, go to the progress file. Nothing here decides a
mark: the grader reads only the plain data the export cells wrote, and treats this file's reports as
hints for the feedback.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time


class CellTimeout(BaseException):
    """A cell ran longer than the grader allows (a BaseException, so ``except Exception`` keeps it)."""


def _on_alarm(signum, frame):
    raise CellTimeout("this cell ran longer than the grader's per-cell time limit")


def main(argv: list[str]) -> int:
    cells_path, progress_path = argv[0], argv[1]
    with open(cells_path, encoding="utf-8") as file:
        cells = json.load(file)
    progress = os.open(progress_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def report(**event) -> None:
        os.write(progress, (json.dumps(event) + "\n").encode())

    report(event="ready", t=time.time())  # before any cell: tells the grader that the sandbox started

    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    config.InteractiveShell.xmode = "Plain"
    shell = InteractiveShell.instance(config=config)
    run_cell = shell.run_cell  # bound now: a cell that replaces get_ipython().run_cell changes nothing here
    for number, cell in enumerate(cells):
        report(cell=number, event="start", t=time.time())
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, float(cell["timeout"]))
        try:
            result = run_cell(cell["source"], store_history=False)
            error = getattr(result, "error_before_exec", None) or getattr(result, "error_in_exec", None)
        except BaseException as raised:  # e.g. CellTimeout while IPython prints, or a broken shell
            error = raised
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        try:
            sys.stdout.flush()
        except Exception:
            pass
        report(cell=number, event="end", t=time.time(),
               error=None if error is None else type(error).__name__,
               message=None if error is None else str(error)[:300])
    report(cell=len(cells), event="done", t=time.time())
    return 0


def _end(code: int) -> None:
    """End the process now, without Python's shutdown: everything the grader reads is written and closed by then.
    That shutdown, with TensorFlow loaded, took 1.4 s of a 7 s grading run, and it would run whatever the
    student's cells registered with ``atexit`` after the last export."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a cell may have replaced or closed the stream
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    _end(main(sys.argv[1:]))
