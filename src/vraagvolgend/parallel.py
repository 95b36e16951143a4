"""Threads for the few operations of a large municipality that are worth splitting.

Sparse matrix products in scipy release the GIL, so the network's products can run on row
blocks in parallel threads. Only large municipalities are split (below ``MIN_ROWS`` the threads
cost more than they save). The partition into blocks depends on the number of rows only (blocks
of ``BLOCK_ROWS``), never on the number of threads, so partial sums are added in the same order
and results are bit-identical whatever the thread count. The number of threads is the number of
usable cores, capped by the environment variable ``VRAAGVOLGEND_THREADS`` and, within a
:func:`limit_threads` block, by its limit (the experiment runners use one thread per run).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from functools import cache
from itertools import pairwise

import scipy.sparse as sp

__all__ = ["BLOCK_ROWS", "MIN_ROWS", "in_parallel", "limit_threads", "n_threads", "row_blocks"]

MIN_ROWS = 1_000_000
#: Rows per block of a split matrix (the partition does not depend on the thread count).
BLOCK_ROWS = 250_000

_limit: ContextVar[int | None] = ContextVar("vraagvolgend_threads", default=None)


@contextlib.contextmanager
def limit_threads(threads: int) -> Iterator[None]:
    """Use at most ``threads`` threads inside the block (no process-wide state is changed)."""
    token = _limit.set(threads)
    try:
        yield
    finally:
        _limit.reset(token)


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
    local = _limit.get()
    if local is not None:
        cap = min(cap, local)
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
    """Split a CSR matrix into (first row, block) pairs of about ``BLOCK_ROWS`` rows each.

    A matrix below ``MIN_ROWS`` rows stays whole. The partition depends on the number of rows
    only, so the threads that later work on the blocks never change a result. The blocks are
    views onto the matrix's arrays (only their row pointers are new), so splitting costs no
    memory.
    """
    n = matrix.shape[0]
    k = max(1, -(-n // BLOCK_ROWS)) if n >= MIN_ROWS else 1
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
