"""Threads for the few operations of a large municipality that are worth splitting.

Sparse matrix products in scipy release the GIL, so the network's products can run on row
blocks in parallel threads. Only large municipalities are split (below ``MIN_ROWS`` the threads
cost more than they save). The number of threads is the number of usable cores, capped by the
environment variable ``VRAAGVOLGEND_THREADS`` (set it to 1 when many runs share a machine, as
the experiment runners do with their worker processes).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from itertools import pairwise

import scipy.sparse as sp

__all__ = ["in_parallel", "n_threads", "row_blocks"]

MIN_ROWS = 1_000_000


def n_threads() -> int:
    """Threads to use: the usable cores, at most ``VRAAGVOLGEND_THREADS`` if set."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    limit = os.environ.get("VRAAGVOLGEND_THREADS")
    try:
        cap = int(limit) if limit else cores
    except ValueError:
        raise ValueError(
            f"VRAAGVOLGEND_THREADS={limit!r} is not a whole number of threads (1 or more)"
        ) from None
    return max(1, min(cores or 1, cap))


@cache
def _executor(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="vraagvolgend")


def in_parallel(function: Callable, *items: Sequence) -> list:
    """``[function(*args) for args in zip(*items)]``, in threads when there is more than one."""
    args = list(zip(*items, strict=True))
    if len(args) <= 1 or n_threads() == 1:
        return [function(*a) for a in args]
    return list(_executor(n_threads()).map(lambda a: function(*a), args))


def row_blocks(matrix: sp.csr_array) -> list[tuple[int, sp.csr_array]]:
    """Split a CSR matrix into (first row, block) pairs, one block per thread.

    The blocks are views onto the matrix's arrays (only their row pointers are new), so
    splitting costs no memory.
    """
    n = matrix.shape[0]
    k = n_threads() if n >= MIN_ROWS else 1
    bounds = [n * i // k for i in range(k + 1)]
    blocks = []
    for lo, hi in pairwise(bounds):
        a, b = matrix.indptr[lo], matrix.indptr[hi]
        block = sp.csr_array(
            (matrix.data[a:b], matrix.indices[a:b], matrix.indptr[lo : hi + 1] - a),
            shape=(hi - lo, matrix.shape[1]),
        )
        blocks.append((lo, block))
    return blocks
