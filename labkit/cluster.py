"""A Dask cluster to grade or reproduce on: a scheduler's address, or ``local:K`` worker processes here.

Used by ``labkit grade --scheduler`` (:mod:`labkit.grading.cluster`) and ``labkit reproduce --scheduler``
(:mod:`labkit.reproduce`). The same client code talks to a ``LocalCluster`` on a laptop and to a scheduler
that ``dask-jobqueue`` started on Slurm or ``dask-kubernetes`` on Kubernetes (see the Instructors page).
Needs ``pip install "labkit[cluster]"`` (Dask distributed) on this machine and on every worker.
"""

from __future__ import annotations

import contextlib
import os

CONNECT_TIMEOUT_S = 3
"""How long to try a scheduler's address before saying it cannot be reached."""
LOCAL_ALLOWED_FAILURES = 2
"""Workers a task may lose on a local cluster before it is given up (a remote scheduler has its own setting,
``distributed.scheduler.allowed-failures``, 3 by default)."""


class ClusterError(Exception):
    """The cluster cannot be used (Dask missing, no scheduler at the address, no workers); nothing was run."""


def distributed():
    """The ``distributed`` package, or a :class:`ClusterError` saying how to install it."""
    try:
        import distributed as module
    except ImportError:
        raise ClusterError("running on a cluster needs Dask distributed: pip install \"labkit[cluster]\" (on this "
                           "machine and on every worker)") from None
    return module


class Cluster:
    """A connected Dask client, with the local cluster it started (for ``local:K``), closed together."""

    def __init__(self, client, local=None):
        self.client, self.local = client, local
        self.workers = len(client.scheduler_info()["workers"])

    @property
    def threads(self) -> int:
        """Threads for the work of one task: a local cluster shares this machine's cores between its workers; a
        remote worker runs one task per thread it has."""
        return max(1, (os.cpu_count() or 1) // self.workers) if self.local is not None else 1

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self.local is not None:
            with contextlib.suppress(Exception):
                self.local.close()


def connect(scheduler: str) -> Cluster:
    """Connect to ``scheduler`` (``local:K`` starts K worker processes here, one thread each).

    Raises :class:`ClusterError` within about :data:`CONNECT_TIMEOUT_S` seconds when the address cannot be
    reached, and when the scheduler has no workers.
    """
    module = distributed()
    local = None
    if scheduler.startswith("local:"):
        count = scheduler.split(":", 1)[1]
        if not count.isdigit() or int(count) < 1:
            raise ClusterError(f"--scheduler {scheduler}: write local:K with K the number of worker processes, "
                               "such as local:2")
        import dask

        workers = int(count)
        threads = str(max(1, (os.cpu_count() or 1) // workers))
        with dask.config.set({"distributed.scheduler.allowed-failures": LOCAL_ALLOWED_FAILURES}):
            local = module.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=40,
                                        env={"OMP_NUM_THREADS": threads, "TF_NUM_INTRAOP_THREADS": threads,
                                             "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"})
        address = local.scheduler_address
    else:
        address = scheduler
    try:
        client = module.Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        if local is not None:
            local.close()
        raise ClusterError(f"the Dask scheduler at {scheduler} cannot be reached ({type(error).__name__}: "
                           f"{str(error)[:200]}). Start it (`dask scheduler`), check the address and the network, "
                           "or run here without --scheduler.") from None
    cluster = Cluster(client, local)
    if not cluster.workers:
        cluster.close()
        raise ClusterError(f"the Dask scheduler at {scheduler} has no workers; start some (`dask worker {address}`) "
                           "and try again.")
    return cluster
