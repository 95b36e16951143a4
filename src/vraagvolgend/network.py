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


def _offsets(rng: np.random.Generator, size: int, window: int) -> np.ndarray:
    """Non-zero offsets uniform in [-window, -1] ∪ [1, window]."""
    step = rng.integers(1, window + 1, size=size)
    return np.where(rng.random(size) < 0.5, -step, step)


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
    stubs = rng.poisson(params.mean_degree / 2.0, size=n)
    src = np.repeat(np.arange(n, dtype=np.int64), stubs)
    m = len(src)

    # Orderings in which neighbours are similar in income and type: one within neighbourhoods
    # (neighbourhood-major), one town-wide. Ties on the key are broken at random.
    tiebreak = rng.random(n)
    similarity = households.income_quintile.astype(np.int64) * len(HOUSEHOLD_TYPES)
    similarity += households.household_type
    local_order = np.lexsort((tiebreak, similarity, households.neighbourhood))
    global_order = np.lexsort((tiebreak, similarity))
    local_rank = np.empty(n, dtype=np.int64)
    local_rank[local_order] = np.arange(n)
    global_rank = np.empty(n, dtype=np.int64)
    global_rank[global_order] = np.arange(n)
    block_size = np.bincount(
        households.neighbourhood, minlength=len(households.neighbourhood_names)
    )
    block_start = np.concatenate(([0], np.cumsum(block_size)[:-1]))

    within = rng.random(m) < params.within_neighbourhood
    similar = rng.random(m) < params.homophily
    draw = rng.random(m)  # uniform partner choice
    offset = _offsets(rng, m, params.homophily_window)

    start = block_start[households.neighbourhood[src]]
    size = block_size[households.neighbourhood[src]]
    local_pos = np.where(
        similar,
        start + (local_rank[src] - start + offset) % size,
        start + (draw * size).astype(np.int64),
    )
    global_pos = np.where(similar, (global_rank[src] + offset) % n, (draw * n).astype(np.int64))
    dst = np.where(within, local_order[local_pos], global_order[global_pos])

    strength = rng.beta(params.tie_strength_a, params.tie_strength_b, size=m).astype(np.float32)
    keep = src != dst
    # Build one triangle (summing ties drawn twice) and mirror it, so the matrix is exactly
    # symmetric: summing duplicates in both triangles could round differently.
    lo = np.minimum(src[keep], dst[keep])
    hi = np.maximum(src[keep], dst[keep])
    upper = sp.coo_array((strength[keep], (lo, hi)), shape=(n, n)).tocsr()
    upper.sum_duplicates()
    np.minimum(upper.data, 1.0, out=upper.data)  # a tie drawn twice is one strong tie
    w = (upper + upper.T).tocsr()
    if w.nnz < 2**31 and n < 2**31:  # 32-bit indices: half the memory, faster products
        w = sp.csr_array(
            (w.data, w.indices.astype(np.int32), w.indptr.astype(np.int32)), shape=(n, n)
        )
    return w


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
