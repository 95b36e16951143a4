"""Threads for large municipalities: same results as one thread, configurable."""

from __future__ import annotations

import numpy as np
import pandas as pd
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
    monkeypatch.setattr(parallel, "BLOCK_ROWS", 10_000)
    monkeypatch.setenv("VRAAGVOLGEND_THREADS", "2")
    blocked = support.InformalSupport()
    blocked.setup(s.support, m.households, m.network)
    assert len(blocked.blocks) == 2
    split = blocked.flow(m.severity, m._state, m.strain)
    np.testing.assert_allclose(split.coverage, whole.coverage, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(split.given, whole.given, rtol=1e-5, atol=1e-6)
    assert whole.given.sum() > 0


def test_blocks_do_not_depend_on_the_thread_count(monkeypatch):
    import scipy.sparse as sp

    matrix = sp.random_array((5000, 5000), density=0.001, format="csr", rng=1)
    monkeypatch.setattr(parallel, "MIN_ROWS", 1000)
    monkeypatch.setattr(parallel, "BLOCK_ROWS", 1200)
    shapes = []
    for threads in ("1", "2", "3"):
        monkeypatch.setenv("VRAAGVOLGEND_THREADS", threads)
        shapes.append([(start, b.shape) for start, b in parallel.row_blocks(matrix)])
    assert shapes[0] == shapes[1] == shapes[2] and len(shapes[0]) == 5


def _run_with_threads(monkeypatch, threads: str, n: int, months: int):
    monkeypatch.setenv("VRAAGVOLGEND_THREADS", threads)
    s = vv.Scenario.default().with_changes(n_households=n, burn_in_months=0)
    r = vv.run(s, "demand-driven", seed=5, months=months)
    return r.monthly, r.costs


def test_results_are_bit_identical_with_one_and_two_threads(monkeypatch):
    """The blocked path (forced on at 6,000 households) gives the same bits on 1 and 2
    threads: the partition and the order of the partial sums do not depend on the threads."""
    monkeypatch.setattr(parallel, "MIN_ROWS", 1000)
    monkeypatch.setattr(parallel, "BLOCK_ROWS", 1500)
    one = _run_with_threads(monkeypatch, "1", 6000, 12)
    two = _run_with_threads(monkeypatch, "2", 6000, 12)
    for a, b in zip(one, two, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.mark.slow
def test_a_million_households_are_bit_identical_with_one_and_two_threads(monkeypatch):
    one = _run_with_threads(monkeypatch, "1", 1_000_000, 1)
    two = _run_with_threads(monkeypatch, "2", 1_000_000, 1)
    for a, b in zip(one, two, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
