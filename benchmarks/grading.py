"""How fast the autograder grades, and how it scales with workers, measured in one run on one machine.

    python benchmarks/grading.py                     # every gradable lab, 8 submissions each, 1 then 2 workers
    python benchmarks/grading.py --lab 1 --lab 2     # some labs
    python benchmarks/grading.py --submissions 30 --scheduler local:2   # a class-sized folder, on a local cluster

For each lab it writes a folder of copies of the solution's answers (each one a full, sandboxed grading run),
grades it with 1 worker and then with 2 (``labkit grade``, fresh gradebooks, so nothing is kept), and prints
the seconds per submission, the submissions per minute, and the ratio of the two throughputs. Then, from the
slowest lab's figure, the workers needed to grade 300 students × every lab within an hour. Shared machines
are noisy: compare the ratio from one run, not absolute times across runs.
"""

from __future__ import annotations

import argparse
import copy
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_copies(number: int, folder: Path, count: int) -> None:
    """``count`` submissions of lab ``number``, each the student notebook with the solution's answers."""
    import nbformat

    from labkit import labs
    from labkit.grading.agreement import solution_answers

    lab = labs.get(number)
    answers = solution_answers(nbformat.read(ROOT / "solutions" / lab.notebook, as_version=4))
    student = nbformat.read(ROOT / "labs" / lab.notebook, as_version=4)
    for cell in student.cells:
        grade_id = (cell.metadata.get("labkit") or {}).get("grade_id")
        if grade_id:
            cell.source = answers[grade_id]
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        notebook = copy.deepcopy(student)
        notebook.cells.insert(0, nbformat.v4.new_markdown_cell(f"copy {index}"))
        for position, cell in enumerate(notebook.cells):
            cell.id = f"copy{index}-{position}"
        nbformat.write(notebook, folder / f"student_{index:03d}.ipynb")


def grade(folder: Path, number: int, out: Path, *, workers: int, scheduler: str | None) -> float:
    """Wall seconds of ``labkit grade`` on ``folder``; fails loudly if any submission is not graded ok."""
    command = [sys.executable, "-m", "labkit.cli", "grade", str(folder), "--lab", str(number), "--out", str(out),
               "--workers", str(workers), "--seed", "1"]
    if scheduler:
        command += ["--scheduler", scheduler]
    started = time.perf_counter()
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"labkit grade failed for Lab {number} (exit {run.returncode}):\n{run.stderr[-2000:]}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    from labkit import labs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", type=int, action="append", help="a lab to measure; repeat (default: every lab "
                        "that can be graded)")
    parser.add_argument("--submissions", type=int, default=8, help="submissions per lab (default 8)")
    parser.add_argument("--scheduler", help="also grade on this Dask scheduler (for example local:2)")
    args = parser.parse_args(argv)
    numbers = args.lab or [lab.number for lab in labs.with_part("grading")]
    slowest = 0.0
    print(f"{'lab':>4} {'1 worker: s/sub':>16} {'2 workers: s/sub':>17} {'per minute (1 → 2)':>20} {'ratio':>6}"
          + ("  on the cluster: s/sub" if args.scheduler else ""), flush=True)
    for number in numbers:
        with tempfile.TemporaryDirectory(prefix=f"labkit-bench-lab{number}-") as work:
            folder = Path(work) / "submissions"
            write_copies(number, folder, args.submissions)
            one = grade(folder, number, Path(work) / "one" / "gradebook.csv", workers=1, scheduler=None)
            two = grade(folder, number, Path(work) / "two" / "gradebook.csv", workers=2, scheduler=None)
            line = (f"{number:>4} {one / args.submissions:>16.1f} {two / args.submissions:>17.1f} "
                    f"{60 * args.submissions / one:>9.1f} → {60 * args.submissions / two:<8.1f} {one / two:>6.2f}")
            if args.scheduler:
                spread = grade(folder, number, Path(work) / "cluster" / "gradebook.csv", workers=1,
                               scheduler=args.scheduler)
                line += f"  {spread / args.submissions:>22.1f}"
            print(line, flush=True)
            slowest = max(slowest, worker_seconds(one, two, args.submissions))
    total = 300 * len(numbers)
    print(f"\nOn paper: 300 students × {len(numbers)} labs = {total} submissions at {slowest:.1f} s of one "
          f"worker each (the slowest lab) need {workers_needed(total, slowest, minutes=60)} workers of one core "
          f"to finish within an hour ({total * slowest / 3600:.1f} worker-hours).")
    return 0


def worker_seconds(one: float, two: float, submissions: int) -> float:
    """Seconds one worker spends on a submission: the slower of grading alone (``one`` seconds for the folder)
    and beside a second worker (``two`` seconds, each worker busy all of it), as a cluster's workers share
    their nodes' memory bandwidth and caches."""
    return max(one, 2 * two) / submissions


def workers_needed(submissions: int, seconds_each: float, *, minutes: float) -> int:
    """One-core workers that grade ``submissions`` at ``seconds_each`` within ``minutes``."""
    return math.ceil(submissions * seconds_each / (60 * minutes))


if __name__ == "__main__":
    sys.exit(main())
