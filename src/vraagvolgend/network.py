"""The social network between households, built directly as a sparse matrix.

Ties are drawn per household as "stubs" (each household starts about ``mean_degree / 2`` ties;
the other end receives them, so the mean degree is about ``mean_degree``). A stub stays in the
household's neighbourhood with probability ``within_neighbourhood``. With probability
``homophily`` its partner is drawn from the households nearest in an ordering by income
quintile and type (within the neighbourhood, or town-wide for ties that leave it), otherwise
uniformly. All of this is array arithmetic: no loop over households or edges, so a network of a
million households builds in about a second.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp

from .domains import HOUSEHOLD_TYPES
from .households import Households
from .scenario import Network

__all__ = ["build_network", "to_networkx"]


def _field(bits: np.ndarray, shift: int, width: int = 21) -> np.ndarray:
    """``width`` bits of raw 64-bit draws starting at bit ``shift``: uniform integers."""
    return (bits >> np.uint64(shift)) & np.uint64((1 << width) - 1)


def _below(bits: np.ndarray, shift: int, p: float) -> np.ndarray:
    """Bernoulli(p) from 21 raw bits, compared as integers (no float conversion)."""
    return _field(bits, shift) < np.uint64(round(p * 2**21))


def _order(*keys: np.ndarray, tiebreak: np.ndarray) -> np.ndarray:
    """Indices that sort by ``keys`` (small non-negative ints, most significant first), ties
    broken by ``tiebreak`` (uint32): one sort of a packed 64-bit key instead of a lexsort."""
    packed = np.zeros(len(tiebreak), dtype=np.uint64)
    for key in keys:
        packed = (packed << np.uint64(8)) | key.astype(np.uint64)
    packed = (packed << np.uint64(32)) | tiebreak.astype(np.uint64)
    return np.argsort(packed)


def build_network(
    households: Households, params: Network, rng: np.random.Generator
) -> sp.csr_array:
    """Draw the network of a population.

    Args:
        households: The population.
        params: The scenario's network section.
        rng: Generator for every draw.

    Returns:
        A symmetric ``scipy.sparse.csr_array`` of tie strengths in (0, 1] (float32), without
        self-ties; entry ``[i, j]`` is the strength of the tie between households i and j.
    """
    n = households.n
    index = np.int32 if n < 2**31 else np.int64
    stubs = rng.poisson(params.mean_degree / 2.0, size=n)
    src = np.repeat(np.arange(n, dtype=index), stubs)
    m = len(src)

    # Orderings in which neighbours are similar in income and type: one within neighbourhoods
    # (neighbourhood-major), one town-wide. Ties on the key are broken at random.
    tiebreak = rng.bit_generator.random_raw(n).astype(np.uint32)
    similarity = households.income_quintile.astype(np.int64) * len(HOUSEHOLD_TYPES)
    similarity += households.household_type
    local_order = _order(households.neighbourhood, similarity, tiebreak=tiebreak).astype(index)
    global_order = _order(similarity, tiebreak=tiebreak).astype(index)
    local_rank = np.empty(n, dtype=index)
    local_rank[local_order] = np.arange(n, dtype=index)
    global_rank = np.empty(n, dtype=index)
    global_rank[global_order] = np.arange(n, dtype=index)
    block_size = np.bincount(
        households.neighbourhood, minlength=len(households.neighbourhood_names)
    ).astype(index)
    block_start = np.concatenate(([0], np.cumsum(block_size)[:-1])).astype(index)

    # Per stub, from one raw 64-bit draw: stay in the neighbourhood?, homophilous?, the
    # offset's sign and size, and 21 bits for a uniform partner. Each of the four kinds of
    # stub is then resolved on its own subset (no work on branches that do not apply).
    bits = rng.bit_generator.random_raw(m)
    within = _below(bits, 0, params.within_neighbourhood)
    similar = _below(bits, 21, params.homophily)
    window = np.uint64(params.homophily_window)
    step = (1 + ((_field(bits, 43) * window) >> np.uint64(21))).astype(index)
    offset = step * (1 - 2 * _field(bits, 42, 1).astype(index))
    dst = np.empty(m, dtype=index)

    def uniform_below(rows: np.ndarray, bound: np.ndarray | int) -> np.ndarray:
        """Uniform integers in [0, bound) from 32 fresh raw bits per row."""
        draw = rng.bit_generator.random_raw(len(rows)) >> np.uint64(32)
        return ((draw * np.asarray(bound, dtype=np.uint64)) >> np.uint64(32)).astype(index)

    rows = np.flatnonzero(within & similar)
    nbh = households.neighbourhood[src[rows]]
    start, size = block_start[nbh], block_size[nbh]
    dst[rows] = local_order[start + (local_rank[src[rows]] - start + offset[rows]) % size]
    rows = np.flatnonzero(within & ~similar)
    nbh = households.neighbourhood[src[rows]]
    dst[rows] = local_order[block_start[nbh] + uniform_below(rows, block_size[nbh])]
    rows = np.flatnonzero(~within & similar)
    dst[rows] = global_order[(global_rank[src[rows]] + offset[rows]) % index(n)]
    rows = np.flatnonzero(~within & ~similar)
    dst[rows] = global_order[uniform_below(rows, n)]
    del bits, within, similar, step, offset, rows, nbh, start, size

    strength = rng.beta(params.tie_strength_a, params.tie_strength_b, size=m).astype(np.float32)
    keep = src != dst
    # Build one triangle (summing ties drawn twice) and mirror it, so that the matrix is
    # exactly symmetric: summing duplicates in both triangles could round differently.
    lo = np.minimum(src[keep], dst[keep])
    hi = np.maximum(src[keep], dst[keep])
    upper = sp.coo_array((strength[keep], (lo, hi)), shape=(n, n)).tocsr()
    upper.sum_duplicates()
    np.minimum(upper.data, 1.0, out=upper.data)  # a tie drawn twice is one strong tie
    del src, dst, strength, keep, lo, hi
    # Mirror the triangle into the symmetric matrix, row by row in place: row i is the lower
    # triangle's row i (the upper triangle's column i, all before i) followed by the upper
    # triangle's row i (all after i), so sorted as a canonical CSR (what converting both
    # triangles as one COO would give, without its copies).
    lower = upper.T.tocsr()
    indptr = upper.indptr.astype(np.int64) + lower.indptr
    size = int(indptr[-1])
    # 32-bit indices where they fit: half the memory, faster products
    index = np.int32 if size < 2**31 and n < 2**31 else np.int64
    indptr = indptr.astype(index)
    data = np.empty(size, dtype=upper.data.dtype)
    indices = np.empty(size, dtype=index)
    # Entry k of the lower triangle (in row i) goes to k + upper.indptr[i]; entry k of the
    # upper triangle (in row i) to k + lower.indptr[i + 1].
    at = np.repeat(upper.indptr[:-1].astype(index), np.diff(lower.indptr))
    at += np.arange(len(at), dtype=index)
    data[at], indices[at] = lower.data, lower.indices
    at = np.repeat(lower.indptr[1:].astype(index), np.diff(upper.indptr))
    del lower
    at += np.arange(len(at), dtype=index)
    data[at], indices[at] = upper.data, upper.indices
    return sp.csr_array((data, indices, indptr), shape=(n, n))


def to_networkx(network: sp.csr_array, households: Households | None = None) -> nx.Graph:
    """Export the network to networkx (tie strength as the ``weight`` edge attribute).

    With ``households``, each node also carries ``household_type``, ``income_quintile`` and
    ``neighbourhood``. Meant for analysis of small and medium municipalities: networkx needs
    about 1 KB per edge.
    """
    g = nx.from_scipy_sparse_array(network, edge_attribute="weight")
    if households is not None:
        types = [HOUSEHOLD_TYPES[t] for t in households.household_type]
        names = [households.neighbourhood_names[i] for i in households.neighbourhood]
        nx.set_node_attributes(g, dict(enumerate(types)), "household_type")
        nx.set_node_attributes(
            g, dict(enumerate(households.income_quintile.tolist())), "income_quintile"
        )
        nx.set_node_attributes(g, dict(enumerate(names)), "neighbourhood")
    return g
