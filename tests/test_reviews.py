"""The episode lifecycle: one rule for every regime (reviews, ends on goal, renewal)."""

from __future__ import annotations

import numpy as np
import pytest

import vraagvolgend as vv
from vraagvolgend import DemandDriven, SupplyDriven

LIFECYCLE = {
    "review_months": 4,
    "exit_threshold": 0.4,
    "end_on_goal": True,
    "exit_lag_months": 1,
    "continuation": "prolong",
}


@pytest.fixture(scope="module")
def scenario():
    return vv.Scenario.default().with_changes(n_households=3000, burn_in_months=24)


def _lengths(result):
    e = result.episodes
    e = e[~e["from_burn_in"] & (e["law"] != "collective")]
    return (e["end_month"].fillna(999).astype(int) - e["start_month"]).to_numpy()


def test_identical_lifecycle_parameters_give_identical_episode_lengths(scenario):
    """Supply- and demand-driven differ only in the rules they are given: with the same
    domain choice, sizing, activation, conversations and lifecycle they run the same episodes."""
    same = {
        **LIFECYCLE,
        "network_activation": 0.0,
        "flexible_budget": 0.0,
        "plan_stacking_relief": 0.0,
        "review_factor": 0.0,
    }

    class SupplyLike(DemandDriven):
        """Demand-driven lifecycle parameters, supply-driven choices and sizing."""

        regime = "test-supply-like"

        def select_domains(self, need, severity, in_care):
            return need

        def intensity(self, severity):
            return np.ones_like(severity, dtype=np.float32)

        def conversation_units(self, n_laws):
            return n_laws.astype(float)

    a = vv.run(scenario, SupplyDriven().with_changes(same), seed=5, months=24)
    b = vv.run(scenario, SupplyLike().with_changes(same), seed=5, months=24)
    np.testing.assert_array_equal(_lengths(a), _lengths(b))
    assert len(_lengths(a)) > 100


def test_some_supply_driven_trajectories_end_before_their_typical_duration(scenario):
    r = vv.run(scenario, SupplyDriven(), seed=6, months=36)
    e = r.episodes.dropna(subset=["end_month"])
    e = e[~e["from_burn_in"] & (e["provision"] == "youth_ambulant")]
    typical = scenario.provisions["youth_ambulant"].duration_months
    length = e["end_month"] - e["start_month"] + 1
    assert (length < typical).mean() > 0.2


def test_without_ends_on_goal_care_runs_at_least_to_the_review(scenario):
    """The old supply-driven rule, as a parameter: care runs until the review at least."""
    r = vv.run(scenario, SupplyDriven(end_on_goal=False), seed=6, months=36)
    e = r.episodes.dropna(subset=["end_month"])
    e = e[~e["from_burn_in"] & (e["provision"] == "individual_support")]  # never escalates
    length = e["end_month"] - e["start_month"] + 1
    typical = scenario.provisions["individual_support"].duration_months
    assert len(e) > 20 and (length >= typical).all()
    cheaper = vv.run(scenario, SupplyDriven(), seed=6, months=36)
    assert cheaper.costs["cost_eur"].sum() < r.costs["cost_eur"].sum()


def test_a_longer_exit_lag_costs_more_in_both_regimes(scenario):
    for regime in (SupplyDriven, DemandDriven):
        short = vv.run(scenario, regime(exit_lag_months=0), seed=7, months=24)
        long = vv.run(scenario, regime(exit_lag_months=6), seed=7, months=24)
        assert long.costs["cost_eur"].sum() > short.costs["cost_eur"].sum()


def test_chronic_care_of_the_oldest_ends_only_at_reviews(scenario):
    """Household help of 75+ households is not ended on an early goal, only at a review."""
    r = vv.run(scenario, DemandDriven(review_months=3), seed=8, months=36)
    h = r.households.set_index("household_id")["household_type"]
    e = r.episodes.dropna(subset=["end_month"])
    e = e[(e["domain"] == "physical_health") & ~e["from_burn_in"]]
    e = e[e["provision"] != "flexible_budget"]
    months = (e["end_month"] - e["start_month"] + 1).to_numpy()
    old = h.loc[e["household_id"]].to_numpy() == "single_75plus"
    assert old.sum() > 5 and (~old).sum() > 5
    assert (months[old] % 3 == 0).all()
    assert (months[~old] % 3 != 0).any()


def test_integrated_plans_lower_the_stacking_penalty(scenario):
    """More relief: fewer households with 3+ problems, the documented direction."""
    none = vv.run(scenario, DemandDriven(plan_stacking_relief=0.0), seed=9, months=36)
    full = vv.run(scenario, DemandDriven(plan_stacking_relief=1.0), seed=9, months=36)
    k = "households_3plus_problems"
    assert full.monthly[k].iloc[-12:].mean() < none.monthly[k].iloc[-12:].mean()


def test_network_activation_raises_support_and_strain(scenario):
    off = vv.run(scenario, DemandDriven(network_activation=0.0), seed=9, months=24).monthly
    on = vv.run(scenario, DemandDriven(network_activation=2.0), seed=9, months=24).monthly
    assert on["informal_support_given"].mean() > off["informal_support_given"].mean()
    assert on["carers_under_strain"].mean() > off["carers_under_strain"].mean()
