"""Shapley values of a game over mechanisms: exact over every coalition, or from sampled
orders."""

from __future__ import annotations

import math

import numpy as np


def _shapley_exact(values: dict[int, np.ndarray], k: int) -> np.ndarray:
    """Exact Shapley values: (k, replications, outcomes) from coalition bitmask → values."""
    phi = np.zeros((k, *values[0].shape))
    for i in range(k):
        bit = 1 << i
        for mask in range(1 << k):
            if mask & bit:
                continue
            s = mask.bit_count()
            weight = math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k)
            phi[i] += weight * (values[mask | bit] - values[mask])
    return phi


def _shapley_sampled(values: dict[int, np.ndarray], orders: np.ndarray) -> np.ndarray:
    """Shapley values estimated from the given orders (each a permutation of the players)."""
    k = orders.shape[1]
    phi = np.zeros((k, *values[0].shape))
    for order in orders:
        mask = 0
        for i in order:
            phi[i] += values[mask | (1 << i)] - values[mask]
            mask |= 1 << i
    return phi / len(orders)
