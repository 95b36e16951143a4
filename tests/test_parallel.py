"""Threads for large municipalities: same results as one thread, configurable."""

from __future__ import annotations

import numpy as np
import pytest

import vraagvolgend as vv
from vraagvolgend import parallel, support


def test_in_parallel_keeps_order(monkeypatch):
    monkeypatch.setenv("VRAAGVOLGEND_THREADS", "2")
    assert parallel.in_parallel(lambda a, b: a * b, [1, 2, 3], [4, 5, 6]) == [4, 10, 18]


def test_thread_setting_is_validated(monkeypatch):
    monkeypatch.setenv("VRAAGVOLGEND_THREADS", "many")
    with pytest.raises(ValueError, match="VRAAGVOLGEND_THREADS"):
        parallel.n_threads()
    monkeypatch.setenv("VRAAGVOLGEND_THREADS", "1")
    assert parallel.n_threads() == 1


def test_block_products_match_the_whole_network(monkeypatch):
    """Support computed on row blocks in threads equals the single-matrix computation."""
    s = vv.Scenario.default().with_changes(n_households=20_000, burn_in_months=24)
    m = vv.MunicipalityModel(s, None, rng=3)
    whole = m.support.flow(m.severity, m._state, m.strain)

    monkeypatch.setattr(parallel, "MIN_ROWS", 1000)
    monkeypatch.setattr(support, "SLICE_ABOVE", 1000)
    monkeypatch.setenv("VRAAGVOLGEND_THREADS", "2")
    blocked = support.InformalSupport()
    blocked.setup(s.support, m.households, m.network)
    assert len(blocked.blocks) == 2
    split = blocked.flow(m.severity, m._state, m.strain)
    np.testing.assert_allclose(split.coverage, whole.coverage, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(split.given, whole.given, rtol=1e-5, atol=1e-6)
    assert whole.given.sum() > 0
