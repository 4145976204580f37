"""Grade on a Dask cluster: each submission one task, graded by a worker in its own sandbox.

``labkit grade FOLDER --lab N --scheduler ADDRESS`` (a running scheduler, for instance one that
``dask-jobqueue`` started on Slurm or ``dask-kubernetes`` on Kubernetes) or ``--scheduler local:K`` (K
worker processes on this machine: the same code path). The client reads the submissions and sends each
one's answers as plain data (:class:`labkit.grading.run.Task`); a worker runs them in its sandbox, scores
them and returns the outcome, plain data again. Only the client writes the gradebook and the feedback. A
worker that dies mid-task (killed, out of memory, machine lost) costs time, not rows: the scheduler gives
the task to another worker, up to its ``allowed-failures``, after which the submission's row says
``crashed``. Every worker is checked before anything is graded: the same kit, and a working bubblewrap.
"""

from __future__ import annotations

import platform
import socket
from pathlib import Path

from labkit import cluster
from labkit.grading import sandbox

RETRIES = 1
"""Times a task that raised is run again (a lost worker is the scheduler's to retry, see ``allowed-failures``)."""


def readiness(hide: list[Path], expose: list[Path], kit: str, lab: int) -> list[str]:
    """What this worker lacks for grading lab ``lab`` the way the client would (an empty list when ready)."""
    import labkit
    from labkit.grading import run

    problems = []
    version, _, code = kit.partition("+")
    if version != labkit.__version__:
        problems.append(f"it has labkit {labkit.__version__}, the client {version}: install the same kit")
    elif code.split(".")[0] != run.grading_code(lab):
        problems.append(f"its grading code for Lab {lab} differs from the client's: install the same version of "
                        "the kit")
    if sandbox.isolation() != "bubblewrap":
        problems.append("bubblewrap does not work there (apt-get install bubblewrap); it would grade without a "
                        "sandbox")
    else:
        try:
            sandbox.preflight(hide=hide, expose=expose)
        except sandbox.SandboxError as error:
            problems.append(str(error))
    return problems


def _report(hide: list[str], expose: list[str], kit: str, lab: int) -> dict:
    try:
        problems = readiness([Path(p) for p in hide], [Path(p) for p in expose], kit, lab)
    except Exception as error:  # noqa: BLE001 - whatever breaks on the worker is what it lacks
        problems = [f"{type(error).__name__}: {error}"]
    return {"host": f"{socket.gethostname()}, Python {platform.python_version()}", "problems": problems}


class Grader:
    """Grades tasks on a cluster's workers, handing back each outcome as it arrives."""

    def __init__(self, connected: cluster.Cluster):
        self.cluster = connected
        self.workers, self.threads = connected.workers, connected.threads

    def results(self, tasks: list):
        """``(task, outcome or exception)`` as each task finishes; a task given up after it lost its workers
        comes back as an exception whose ``note`` says so."""
        distributed = cluster.distributed()
        from labkit.grading.run import grade_task

        futures = {self.cluster.client.submit(grade_task, task, retries=RETRIES, pure=False,
                                              key=f"grade-{index}-{task.student[:40]}"): task
                   for index, task in enumerate(tasks)}
        try:
            for future in distributed.as_completed(list(futures), loop=self.cluster.client.loop):
                task = futures[future]
                try:
                    yield task, future.result()
                except distributed.scheduler.KilledWorker as error:
                    error.note = ("the workers grading this submission died (killed, out of memory or lost) each "
                                  "time it was tried; grade it again")
                    yield task, error
                except Exception as error:  # noqa: BLE001 - handed to the caller, which decides
                    yield task, error
        finally:
            for future in futures:
                future.cancel()

    def check(self, *, hide: list[Path], kit: str, lab: int, expose: list[Path]) -> None:
        """Check every worker before grading; raises :class:`labkit.grading.run.GradingError` naming each worker
        that lacks the kit or bubblewrap, and what it lacks."""
        from labkit.grading.run import GradingError

        try:
            reports = self.cluster.client.run(_report, [str(p) for p in hide], [str(p) for p in expose], kit, lab)
        except Exception as error:  # noqa: BLE001 - a worker that cannot even run the check cannot grade
            raise GradingError(f"the workers could not be checked ({type(error).__name__}: {error}). Nothing was "
                               "graded.") from None
        lacking = {worker: report for worker, report in reports.items() if report["problems"]}
        if lacking:
            said = "; ".join(f"worker {worker} ({report['host']}): {', '.join(report['problems'])}"
                             for worker, report in lacking.items())
            raise GradingError(f"{len(lacking)} of {len(reports)} workers cannot grade: {said}. Nothing was "
                               "graded.")

    def close(self) -> None:
        self.cluster.close()


def connect(scheduler: str) -> Grader:
    """Connect to ``scheduler``; raises :class:`labkit.grading.run.GradingError` (nothing graded) within a few
    seconds when it cannot be reached or has no workers. :meth:`Grader.check` then checks each worker."""
    from labkit.grading.run import GradingError

    try:
        return Grader(cluster.connect(scheduler))
    except cluster.ClusterError as error:
        raise GradingError(f"{error} Nothing was graded.") from None
