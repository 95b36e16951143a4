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


def _ledger_and_severity(scenario, policy, months, seed):
    """Run a model month by month: its ledger, and the severity at the end of every month."""
    model = vv.MunicipalityModel(scenario, policy, rng=seed)
    severity = {}
    for _ in range(months):
        model.step()
        severity[model.last_month.month] = model.severity.copy()
    names = model.care.names
    c = {k: model.care.ledger.column(k).copy() for k in ("household", "provision", "domain")}
    c.update({k: model.care.ledger.column(k).copy() for k in ("channel", "start", "end")})
    return c, severity, names


def _months_goal_held(ledger, severity, threshold, last):
    """Per episode of a slot-based provision: the months its goal had held without a break
    when it ended (or at the last month, while still running), counted from the start of its
    chain of renewals (a renewal continues the same need)."""
    renewal = vv.vocabulary.ALL_CHANNELS.index("renewal")
    chain_start = {}
    held = []
    order = np.argsort(ledger["start"], kind="stable")
    for e in order:
        key = (int(ledger["household"][e]), int(ledger["domain"][e]))
        start = int(ledger["start"][e])
        if ledger["channel"][e] == renewal and key in chain_start:
            first = chain_start[key]
        else:
            first = start
        end = int(ledger["end"][e])
        running = end < -1
        end = last if running else end
        chain_start[key] = first
        k = 0
        while end - k >= max(first, 1):
            if severity[end - k][key[1], key[0]] >= threshold:
                break
            k += 1
        held.append((e, running, k))
    return held


LAG_CASES = [
    # (regime, end_on_goal, review_months): ends found between reviews, or only at reviews
    (SupplyDriven, True, 0),
    (SupplyDriven, False, 1),
    (DemandDriven, True, 3),
    (DemandDriven, False, 1),
]


@pytest.mark.parametrize("lag", [0, 2])
@pytest.mark.parametrize(("regime", "end_on_goal", "review_months"), LAG_CASES)
def test_every_way_of_ending_respects_the_exit_lag(regime, end_on_goal, review_months, lag):
    """Known answer: an episode ends exactly when its goal has held for lag + 1 months, whether
    the end is found between reviews or at a (monthly) review, in both regimes."""
    scenario = vv.Scenario.default().with_changes(
        {"n_households": 1500, "burn_in_months": 0, "access.chronic_types": []}
    )
    policy = regime(end_on_goal=end_on_goal, review_months=review_months, exit_lag_months=lag)
    ledger, severity, names = _ledger_and_severity(scenario, policy, 24, seed=3)
    last = max(severity)
    threshold = np.float32(policy.exit_threshold)
    slot_based = ~np.isin(np.asarray(names)[ledger["provision"]], ["flexible_budget", "benefit"])
    escalating = ledger["domain"] == vv.domains.DOMAINS.index("parenting")
    ended = running = 0
    for e, is_running, k in _months_goal_held(ledger, severity, threshold, last):
        if not slot_based[e] or escalating[e]:
            continue
        if is_running:
            assert k <= lag, f"episode {e} still runs with its goal held {k} months"
            running += 1
        elif k > 0:  # ended with the goal reached: exactly after the lag
            assert k == lag + 1, f"episode {e} ended after its goal held {k} months"
            ended += 1
    assert ended > 50 and running > 20


def test_a_review_does_not_end_care_sooner_than_the_exit_lag():
    """A review that finds the goal just reached waits for the lag: with monthly reviews the
    lag costs what it costs between reviews (the old bypass made it free)."""
    s = vv.Scenario.default().with_changes(n_households=1500, burn_in_months=12)
    costs = {}
    for lag in (0, 3):
        r = vv.run(
            s,
            DemandDriven(review_months=1, end_on_goal=False, exit_lag_months=lag),
            seed=4,
            months=24,
        )
        costs[lag] = r.costs["cost_eur"].sum()
    assert costs[3] > 1.02 * costs[0]


@pytest.mark.parametrize("regime", [SupplyDriven, DemandDriven])
def test_chronic_care_ends_only_at_its_own_reviews_in_both_regimes(scenario, regime):
    """Household help of 75+ households is reviewed every chronic_review_months in both
    regimes (not at the plan's three-monthly reviews) and never ended on an early goal."""
    policy = regime(review_months=3, chronic_review_months=6, exit_lag_months=0)
    r = vv.run(scenario, policy, seed=8, months=36)
    h = r.households.set_index("household_id")["household_type"]
    e = r.episodes.dropna(subset=["end_month"])
    e = e[(e["domain"] == "physical_health") & ~e["from_burn_in"]]
    e = e[e["provision"] != "flexible_budget"]
    months = (e["end_month"] - e["start_month"] + 1).to_numpy()
    old = h.loc[e["household_id"]].to_numpy() == "single_75plus"
    assert old.sum() > 5 and (~old).sum() > 5
    assert (months[old] % 6 == 0).all()
    assert (months[~old] % 3 != 0).any()


@pytest.mark.parametrize("regime", [SupplyDriven, DemandDriven])
def test_a_renewal_and_a_review_of_the_same_episode_cost_the_same(scenario, regime):
    """One pricing rule: renewing an episode or prolonging it at its review costs the same
    conversations, and the price is review_factor × the conversation unit per review."""

    def conversations(**changes):
        r = vv.run(scenario, regime(**changes), seed=11, months=24)
        c = r.costs
        return c.loc[c["provision"] == "conversation", "cost_eur"].sum()

    renew = conversations(continuation="renew", review_factor=1.0)
    prolong = conversations(continuation="prolong", review_factor=1.0)
    free = conversations(continuation="renew", review_factor=0.0)
    half = conversations(continuation="prolong", review_factor=0.5)
    assert renew == pytest.approx(prolong, rel=1e-12)
    assert renew - free > 10 * scenario.access.conversation_cost  # reviews are paid
    assert half - free == pytest.approx((renew - free) / 2, rel=1e-9)


def test_the_intensity_cap_is_a_parameter():
    sev = np.array([0.1, 0.7, 1.0], dtype=np.float32)
    np.testing.assert_allclose(DemandDriven().intensity(sev), [0.3, 1.0, 1.0 / 0.7], rtol=1e-6)
    capped = DemandDriven(max_intensity=1.2).intensity(sev)
    np.testing.assert_allclose(capped, [0.3, 1.0, 1.2], rtol=1e-6)
    with pytest.raises(vv.ParameterError, match="max_intensity"):
        DemandDriven(max_intensity=0.5)


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
