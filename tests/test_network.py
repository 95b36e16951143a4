"""The social network: structure, homophily, reproducibility and the networkx export."""

from __future__ import annotations

import numpy as np
import pytest

import vraagvolgend as vv


@pytest.fixture(scope="module")
def built():
    s = vv.Scenario.default().with_changes(n_households=20_000)
    h = vv.build_households(s, np.random.default_rng(0))
    return s, h, vv.build_network(h, s.network, np.random.default_rng(1))


def test_symmetric_without_self_ties(built):
    _, h, w = built
    assert w.shape == (h.n, h.n)
    assert abs(w - w.T).max() == 0
    assert w.diagonal().sum() == 0
    assert w.data.min() > 0 and w.data.max() <= 1


def test_mean_degree_in_range(built):
    s, _, w = built
    degree = np.diff(w.indptr)
    assert 6 <= degree.mean() <= 10
    assert degree.mean() == pytest.approx(s.network.mean_degree, rel=0.1)


def test_ties_mostly_within_neighbourhood_and_homophilous(built):
    s, h, w = built
    coo = w.tocoo()
    same_nbh = (h.neighbourhood[coo.row] == h.neighbourhood[coo.col]).mean()
    assert same_nbh == pytest.approx(s.network.within_neighbourhood, abs=0.05)
    same_q = (h.income_quintile[coo.row] == h.income_quintile[coo.col]).mean()
    same_t = (h.household_type[coo.row] == h.household_type[coo.col]).mean()
    # What random pairs would give
    q_share = np.bincount(h.income_quintile) / h.n
    t_share = np.bincount(h.household_type) / h.n
    assert same_q > 2 * (q_share**2).sum()
    assert same_t > 1.5 * (t_share**2).sum()


def test_no_homophily_gives_random_mixing():
    s = vv.Scenario.default().with_changes(
        {"n_households": 20_000, "network.homophily": 0.0, "network.within_neighbourhood": 0.0}
    )
    h = vv.build_households(s, np.random.default_rng(0))
    coo = vv.build_network(h, s.network, np.random.default_rng(1)).tocoo()
    same_q = (h.income_quintile[coo.row] == h.income_quintile[coo.col]).mean()
    assert same_q == pytest.approx(0.2, abs=0.02)


def test_seeded(built):
    s, h, w = built
    again = vv.build_network(h, s.network, np.random.default_rng(1))
    other = vv.build_network(h, s.network, np.random.default_rng(2))
    assert (w != again).nnz == 0
    assert (w != other).nnz > 0


def test_networkx_export():
    s = vv.Scenario.default().with_changes(n_households=500)
    h = vv.build_households(s, np.random.default_rng(0))
    w = vv.build_network(h, s.network, np.random.default_rng(1))
    g = vv.to_networkx(w, h)
    assert g.number_of_nodes() == 500
    assert g.number_of_edges() == w.nnz // 2
    u, v, data = next(iter(g.edges(data=True)))
    assert data["weight"] == pytest.approx(w[u, v])
    assert g.nodes[u]["household_type"] in vv.HOUSEHOLD_TYPES
