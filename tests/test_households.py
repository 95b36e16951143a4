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


GRADIENTS = {
    "population.vulnerability_income": 0.3,
    "population.vulnerability_deprivation": 0.5,
    "population.vulnerability_type": {
        "single": 0.2,
        "single_75plus": 0.1,
        "couple": 0.0,
        "couple_children": -0.1,
        "single_parent": 0.6,
    },
}


def test_vulnerability_combines_income_type_and_deprivation_as_declared():
    # Least squares of vulnerability on (3 − quintile), deprivation and type dummies recovers
    # the declared weights: the household-specific part is independent of all three.
    s = vv.Scenario.default().with_changes(GRADIENTS, n_households=50_000)
    h = vv.build_households(s, np.random.default_rng(11))
    types = np.eye(len(vv.HOUSEHOLD_TYPES))[h.household_type]
    design = np.column_stack([3 - h.income_quintile, h.deprivation, types])
    coef, *_ = np.linalg.lstsq(design, h.vulnerability.astype(float), rcond=None)
    pop = s.population
    assert coef[0] == pytest.approx(pop.vulnerability_income, abs=0.02)
    assert coef[1] == pytest.approx(pop.vulnerability_deprivation, abs=0.1)
    offsets = coef[2:] - coef[2 + vv.HOUSEHOLD_TYPES.index("couple")]
    expected = [pop.vulnerability_type[t] for t in vv.HOUSEHOLD_TYPES]
    np.testing.assert_allclose(offsets, expected, atol=0.03)
    residual = h.vulnerability - design @ coef
    assert residual.std() == pytest.approx(pop.vulnerability_sd, rel=0.02)


@pytest.mark.parametrize("income", [0.0, 0.3, 1.0])
def test_vulnerability_is_normalised_so_gradients_move_who_not_how_many(income):
    # The onset multiplier exp(effect × vulnerability) averages 1 whatever the gradients, so
    # a steeper income gradient concentrates problems at low incomes without adding any.
    s = vv.Scenario.default().with_changes(
        {**GRADIENTS, "population.vulnerability_income": income}, n_households=50_000
    )
    h = vv.build_households(s, np.random.default_rng(2))
    multiplier = np.exp(s.problems.vulnerability_effect * h.vulnerability.astype(float))
    # sd of the multiplier is about 1, so its mean over 50,000 is within about 0.01 of 1
    assert multiplier.mean() == pytest.approx(1.0, abs=0.03)
    ratio = multiplier[h.income_quintile == 1].mean() / multiplier[h.income_quintile == 5].mean()
    # Income, type and deprivation move together, so the ratio exceeds the income part alone
    assert ratio > np.exp(4 * income) * 0.95
    if income == 0.0:
        assert ratio < 2.0


def test_default_vulnerability_follows_type_and_income(population):
    _, h = population
    single_parent = h.household_type == vv.HOUSEHOLD_TYPES.index("single_parent")
    couple_children = h.household_type == vv.HOUSEHOLD_TYPES.index("couple_children")
    assert h.vulnerability[single_parent].mean() > h.vulnerability[couple_children].mean()
    assert (
        h.vulnerability[h.income_quintile == 1].mean()
        > h.vulnerability[h.income_quintile == 5].mean()
    )


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
