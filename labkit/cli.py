"""The ``labkit`` command: argument parsing and delegation only.

    labkit assign              regenerate labs/ from solutions/
    labkit viva ...            viva sheets for examiners
    labkit bank                check the question bank; --page writes the book's question-bank page
    labkit reproduce           train every experiment the labs make claims about, at full scale
    labkit grade SUBMISSIONS --lab N --out gradebook.csv    grade submitted notebooks in a sandbox
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labkit", description="Tools of the autoencoder course lab kit.")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    assign = verbs.add_parser("assign", help="generate the student notebooks in labs/ from solutions/")
    assign.add_argument("--solutions", type=Path, default=Path("solutions"))
    assign.add_argument("--labs", type=Path, default=Path("labs"))
    assign.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if labs/ differs from what would be generated")

    viva = verbs.add_parser("viva", help="write viva sheets: a different, reproducible set of questions "
                                         "for each student of a roster")
    viva.add_argument("--lab", type=int, required=True, help="the lab whose bank to draw from")
    viva.add_argument("--roster", type=Path, required=True,
                      help="CSV file with a header naming a student_id column and a name column")
    viva.add_argument("--per-student", type=int, default=5, help="questions per student (default 5)")
    viva.add_argument("--seed", type=int, default=0, help="the same seed gives the same sheets (default 0)")
    viva.add_argument("--out", type=Path, default=Path("viva_sheets"),
                      help="folder for the sheet and the CSV (default viva_sheets/)")
    viva.add_argument("--format", choices=("html", "md"), default="html",
                      help="printable sheet format (default html); a CSV is always written too")
    viva.add_argument("--stage", action="append", choices=("pre-lab", "in-lab", "post-lab", "viva"),
                      help="draw only from this stage; repeat for several (default: all stages)")

    bank = verbs.add_parser("bank", help="check the question bank and print its counts per lab and kind")
    bank.add_argument("--page", type=Path, help="(re)write the book's question-bank pages: this one (the "
                      "questions) and the instructors' page beside it (with answers and rubrics)")
    bank.add_argument("--check", action="store_true",
                      help="with --page: write nothing; exit 1 if the page is out of date")

    reproduce = verbs.add_parser("reproduce", help="train every experiment the labs make claims about and "
                                                   "write results/results.json and results/results.md")
    reproduce.add_argument("--only", action="append", metavar="NAME",
                           help="run only this experiment; repeat for several (default: all)")
    reproduce.add_argument("--quick", action="store_true", help="shipped sample and few epochs (a smoke test)")
    reproduce.add_argument("--out", type=Path, default=Path("results"), help="output folder (default results/)")
    reproduce.add_argument("--update", action="store_true",
                           help="replace only the re-run experiments' records in OUT/results.json, keep the rest")
    reproduce.add_argument("--list", action="store_true", help="list the experiments and exit")
    reproduce.add_argument("--scheduler", metavar="ADDRESS",
                           help="run the experiments as tasks on a Dask cluster: a scheduler's address, or local:K "
                                "for K worker processes here; needs pip install \"labkit[cluster]\"")

    grade = verbs.add_parser("grade", help="grade a folder of submitted notebooks (STUDENT.ipynb or STUDENT/) "
                                           "in a sandbox and write a gradebook and feedback files")
    grade.add_argument("submissions", type=Path, help="folder of submissions")
    grade.add_argument("--lab", type=int, required=True, help="the lab to grade (its package: labkit/labs/labN/)")
    grade.add_argument("--out", type=Path, default=Path("gradebook.csv"), help="the gradebook CSV (default "
                       "gradebook.csv)")
    grade.add_argument("--feedback", type=Path, help="folder of per-student feedback (default: OUT_feedback/ "
                       "beside the gradebook)")
    grade.add_argument("--solutions", type=Path, default=Path("solutions"),
                       help="folder of the solution notebooks, the template (default solutions/)")
    grade.add_argument("--workers", type=int, default=2, help="submissions graded at once (default 2)")
    grade.add_argument("--deadline", type=float, default=180.0, help="seconds per submission (default 180)")
    grade.add_argument("--cell-timeout", type=float, default=60.0, help="seconds per cell (default 60)")
    grade.add_argument("--memory-mb", type=int, default=3072, help="memory per submission (default 3072)")
    grade.add_argument("--seed", type=int, help="seed of the grader's random inputs (default: fresh each run)")
    grade.add_argument("--scheduler", metavar="ADDRESS",
                       help="grade on a Dask cluster: a scheduler's address (tcp://host:8786), or local:K for K "
                            "worker processes here; needs pip install \"labkit[cluster]\" (default: grade here "
                            "with --workers)")
    grade.add_argument("--regrade", action="store_true",
                       help="grade every submission again (default: keep the rows of an earlier run of the same "
                            "gradebook whose submission, lab and kit are unchanged)")
    return parser


def _error(verb: str, error: Exception) -> int:
    print(f"labkit {verb}: error: {error}", file=sys.stderr)
    return 1


def _assign(args: argparse.Namespace) -> int:
    from labkit import assign

    return assign.main(args.solutions, args.labs, check=args.check)


def _viva(args: argparse.Namespace) -> int:
    from labkit import viva
    from labkit.bank import BankError, DrawError

    try:
        viva.write_sheets(args.lab, args.roster, per_student=args.per_student, seed=args.seed,
                          out=args.out, fmt=args.format, stages=args.stage)
    except (viva.VivaError, BankError, DrawError, OSError) as error:
        return _error("viva", error)
    return 0


def _bank(args: argparse.Namespace) -> int:
    from labkit import bank

    try:
        return bank.main(page=args.page, check=args.check)
    except (bank.BankError, OSError) as error:
        return _error("bank", error)


def _reproduce(args: argparse.Namespace) -> int:
    from labkit import reproduce

    if args.list:
        for experiment in reproduce.experiments().values():
            print(f"{experiment.name:<24} Lab {experiment.lab}  {experiment.description}")
        return 0
    return reproduce.run(args.only, quick=args.quick, out=args.out, update=args.update, scheduler=args.scheduler)


def _grade(args: argparse.Namespace) -> int:
    from labkit.grading import run, sandbox

    limits = sandbox.Limits(deadline_s=args.deadline, cell_timeout_s=args.cell_timeout, memory_mb=args.memory_mb)
    return run.main(args.submissions, lab=args.lab, out=args.out, feedback=args.feedback, workers=args.workers,
                    limits=limits, solutions=args.solutions, seed=args.seed, scheduler=args.scheduler,
                    regrade=args.regrade)


_VERBS = {"assign": _assign, "viva": _viva, "bank": _bank, "reproduce": _reproduce, "grade": _grade}


def main(argv: list[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    try:
        return _VERBS[args.verb](args)
    except KeyboardInterrupt:
        print("labkit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
