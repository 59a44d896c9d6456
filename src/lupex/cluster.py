"""Dask clusters for campaigns and tiled sky maps: a ``LocalCluster`` by default, any running
scheduler by address.

``connect`` is the one place lupex starts or joins a cluster, so every command turns an
unreachable scheduler into the same ``lupex: error:`` line, and a local cluster always has one
thread per worker process (numba kernels release the GIL, but lupex's kernels already use the
cores they are given; one thread per process keeps the runs' memory apart and lets a dead worker
take only its own task with it).

Ctrl-C belongs to lupex's own process: local workers ignore SIGINT (this module is their Dask
preload, :func:`dask_setup`), so a Ctrl-C at the terminal, sent to the whole process group, stops
only lupex, which cancels the work and closes the cluster quietly. Dask's own log lines (its
warnings are mostly shutdown noise to a lupex user) appear only with ``-v``.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator

from lupex.errors import LupexError

__all__ = ["CONNECT_TIMEOUT_S", "connect", "dask_setup"]

CONNECT_TIMEOUT_S = 10.0
"""How long to wait for a scheduler given by address before giving up [s]."""


@contextlib.contextmanager
def connect(workers: int = 2, scheduler: str | None = None, memory_limit: str = "auto") -> Iterator:
    """A ``distributed.Client`` on a new local cluster, or on the scheduler at ``scheduler``.

    Parameters
    ----------
    workers : int
        Worker processes of the local cluster (ignored with ``scheduler``), at least 1.
    scheduler : str, optional
        Address of a running scheduler, e.g. ``tcp://10.0.0.5:8786``.
    memory_limit : str
        Memory limit of each local worker (Dask's syntax, e.g. ``"4GiB"``; ``"auto"`` shares the
        machine's memory between the workers).

    Raises
    ------
    LupexError
        When ``workers`` is below 1 or the scheduler cannot be reached.
    """
    from distributed import Client, LocalCluster

    level = logging.getLogger().getEffectiveLevel()
    level = level if level < logging.WARNING else logging.ERROR
    logging.getLogger("distributed").setLevel(level)  # after the import, which sets Dask's own level
    if scheduler is None and workers < 1:
        raise LupexError(f"a local cluster needs at least 1 worker, got {workers}")
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError, ValueError) as err:
            raise LupexError(f"cannot reach the Dask scheduler at {scheduler}: {err}") from None
        with client:
            yield client
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=memory_limit,
                      dashboard_address=":0", silence_logs=level, preload=[__name__]) as cluster, \
            Client(cluster) as client:
        yield client


def dask_setup(worker) -> None:
    """Dask's preload hook, run in each local worker process as it starts: ignore Ctrl-C there
    (lupex's own process handles it and closes the workers)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
