"""Helpers for running the estimators on a dask cluster.

Needs the ``distributed`` extra: ``pip install "sk-attention[distributed]"``.
"""

from numbers import Integral

import torch
from distributed import WorkerPlugin

__all__ = ["TorchThreads"]


class TorchThreads(WorkerPlugin):
    """Set how many threads torch uses in every worker of a dask cluster.

    A worker runs ``nthreads`` tasks at once and each fit parallelises its
    matrix products over torch's intra-op threads, so a worker keeps
    ``nthreads * n_threads`` cores busy. Keep that at most the cores the
    worker has: two processes with two torch threads each on two cores ran
    a search several times slower than with one thread each (see the
    "Scaling out" page). Registered as a plugin, the setting also reaches
    workers that join or restart later.

    dask's nanny already starts workers with ``OMP_NUM_THREADS=1``, so torch
    uses one thread per worker unless told otherwise; this plugin is how to
    give each worker more, e.g. one worker per 8-core machine that runs one
    task at a time with 8 threads.

    Parameters
    ----------
    n_threads : int, default=1
        Torch intra-op threads per worker process.

    Examples
    --------
    >>> from sk_attention.distributed import TorchThreads
    >>> plugin = TorchThreads(1)
    >>> plugin.n_threads
    1

    On a cluster, register it once; every worker then sets its threads:

    >>> from distributed import Client
    >>> client = Client("tcp://scheduler:8786")  # doctest: +SKIP
    >>> client.register_plugin(TorchThreads(1))  # doctest: +SKIP
    """

    name = "sk-attention-torch-threads"

    def __init__(self, n_threads: int = 1):
        if not isinstance(n_threads, Integral) or n_threads < 1:
            raise ValueError(f"n_threads must be a positive int, got {n_threads!r}.")
        self.n_threads = int(n_threads)

    def setup(self, worker):
        torch.set_num_threads(self.n_threads)
