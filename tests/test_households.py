"""Households: composition, income, neighbourhood sorting and vulnerability."""

from __future__ import annotations

import numpy as np
import pytest

import vraagvolgend as vv
from vraagvolgend.households import exact_counts


@pytest.fixture(scope="module")
def population():
    s = vv.Scenario.default().with_changes(n_households=50_000)
    return s, vv.build_households(s, np.random.default_rng(5))


def test_composition_matches_calibration_shares(population):
    s, h = population
    counts = np.bincount(h.household_type, minlength=5) / h.n
    expected = np.array([s.population.type_shares[t] for t in vv.HOUSEHOLD_TYPES])
    np.testing.assert_allclose(counts, expected, atol=1 / h.n)
    # CBS 37975: one-person 39.9%, couples without children 28.5%, with children 31.6%
    assert counts[0] + counts[1] == pytest.approx(0.399, abs=0.002)
    assert counts[2] == pytest.approx(0.285, abs=0.002)
    assert counts[3] + counts[4] == pytest.approx(0.316, abs=0.002)
    # RIVM: mean household size about 2.1
    assert h.n_persons.mean() == pytest.approx(2.1, abs=0.1)


def test_sizes_and_children_are_consistent(population):
    _, h = population
    types = np.array(vv.HOUSEHOLD_TYPES)[h.household_type]
    assert (h.n_children[np.isin(types, ["single", "single_75plus", "couple"])] == 0).all()
    assert (h.n_children[np.isin(types, ["couple_children", "single_parent"])] >= 1).all()
    adults = np.where(np.isin(types, ["couple", "couple_children"]), 2, 1)
    np.testing.assert_array_equal(h.n_persons, adults + h.n_children)


def test_income_quintiles_are_fifths_and_follow_type(population):
    _, h = population
    np.testing.assert_allclose(np.bincount(h.income_quintile)[1:] / h.n, 0.2, atol=1e-4)
    mean_q = {
        t: h.income_quintile[h.household_type == i].mean() for i, t in enumerate(vv.HOUSEHOLD_TYPES)
    }
    assert mean_q["single_parent"] < mean_q["single"] < mean_q["couple_children"]


def test_households_sort_into_neighbourhoods_by_income(population):
    s, h = population
    dep = np.array([n.deprivation for n in s.neighbourhoods])
    sizes = np.bincount(h.neighbourhood) / h.n
    np.testing.assert_allclose(sizes, [n.share for n in s.neighbourhoods], atol=1 / h.n)
    mean_q = np.array([h.income_quintile[h.neighbourhood == k].mean() for k in range(len(dep))])
    assert np.corrcoef(dep, mean_q)[0, 1] < -0.8


def test_vulnerability_correlates_with_income_type_and_deprivation(population):
    _, h = population
    assert np.corrcoef(h.vulnerability, h.income_quintile)[0, 1] < -0.3
    assert np.corrcoef(h.vulnerability, h.deprivation)[0, 1] > 0.1
    single_parent = h.household_type == vv.HOUSEHOLD_TYPES.index("single_parent")
    assert h.vulnerability[single_parent].mean() > h.vulnerability[~single_parent].mean()


def test_same_generator_seed_same_population():
    s = vv.Scenario.default().with_changes(n_households=2000)
    a = vv.build_households(s, np.random.default_rng(1)).to_frame()
    b = vv.build_households(s, np.random.default_rng(1)).to_frame()
    c = vv.build_households(s, np.random.default_rng(2)).to_frame()
    assert a.equals(b)
    assert not a.equals(c)


def test_exact_counts_sum_and_proportion():
    counts = exact_counts(1001, np.array([0.2, 0.3, 0.5]))
    assert counts.sum() == 1001
    assert np.abs(counts - 1001 * np.array([0.2, 0.3, 0.5])).max() < 1
