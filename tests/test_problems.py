"""Problems and stacking: a closed-form check, then the mechanisms one by one."""

from __future__ import annotations

import numpy as np
import pytest

import vraagvolgend as vv
from conftest import constant_hazard_scenario
from vraagvolgend.domains import DOMAINS, domain_index


def _active_share(model) -> np.ndarray:
    """Active share per domain, parenting over households with children."""
    active = model.severity >= model.params.problems.threshold
    eligible = np.ones_like(active)
    eligible[domain_index("parenting")] = model.households.has_children
    return active.sum(axis=1) / eligible.sum(axis=1)


def test_constant_hazards_follow_the_closed_form():
    onset, recovery = 0.03, 0.1
    m = vv.MunicipalityModel(constant_hazard_scenario(onset, recovery), None, rng=11)
    a = -np.expm1(-onset)
    pi = a / (a + recovery)
    m.severity = np.zeros_like(m.severity)  # start from nobody: the transient is closed-form too
    for t in range(1, 61):
        m.step()
        expected = pi * (1 - (1 - a - recovery) ** t)
        # sd of a share over 20,000 households is under 0.004 (0.0055 for parenting)
        np.testing.assert_allclose(_active_share(m), expected, atol=0.02)
    tail = []
    for _ in range(40):
        m.step()
        tail.append(_active_share(m))
    # Tolerance: 2.5 × the sd of one month's share (the 40-month mean has a smaller sd, as
    # months are correlated over about 1 / (a + b) ≈ 8 months); parenting has fewer households.
    eligible = np.full(len(DOMAINS), m.households.n)
    eligible[domain_index("parenting")] = m.households.has_children.sum()
    tolerance = 2.5 * np.sqrt(pi * (1 - pi) / eligible)
    assert (np.abs(np.mean(tail, axis=0) - pi) < tolerance).all()
    # no escalation: severities stay within the onset range, so nobody reaches ZRM 2
    assert m.severity.max() < 0.6


def test_recovery_slows_with_stacking_in_closed_form():
    # With recovery ÷ (1 + k (n − 1)) stacked problems last longer: prevalence rises.
    base = constant_hazard_scenario(0.03, 0.1, n=10_000)
    slow = base.with_changes({"problems.recovery_stacking": 2.0})
    shares = []
    for s in (base, slow):
        m = vv.MunicipalityModel(s, None, rng=3)
        m.run_for(60)
        shares.append(_active_share(m).mean())
    assert shares[1] > shares[0] + 0.02


def test_life_event_raises_several_domains_at_once():
    s = constant_hazard_scenario(0.0, 0.0, n=5000).with_changes(
        {
            "life_events": {
                "job_loss": {
                    "rate": 0.2,
                    "vulnerability_effect": 0.0,
                    "impact": {"work": 0.45, "finances": 0.25, "mental_health": 0.1},
                }
            },
            "problems.residual_decay": 0.0,
        }
    )
    m = vv.MunicipalityModel(s, None, rng=2)
    m.severity = np.zeros_like(m.severity)
    m.step()
    hit = m.severity[domain_index("work")] > 0
    assert m.aggregates["events_job_loss"] == hit.sum()
    assert hit.mean() == pytest.approx(-np.expm1(-0.2), abs=0.02)
    np.testing.assert_allclose(m.severity[domain_index("work"), hit], 0.45, rtol=1e-6)
    np.testing.assert_allclose(m.severity[domain_index("finances"), hit], 0.25, rtol=1e-6)
    np.testing.assert_allclose(m.severity[domain_index("mental_health"), hit], 0.1, rtol=1e-6)
    untouched = [domain_index(d) for d in ("housing", "physical_health", "parenting")]
    assert (m.severity[untouched] == 0).all()


def test_higher_deprivation_raises_onset():
    base = vv.Scenario.default().with_changes(n_households=5000, burn_in_months=0)

    def onsets(deprivation: float) -> int:
        nbh = [{**n.to_dict(), "deprivation": deprivation} for n in base.neighbourhoods]
        m = vv.MunicipalityModel(base.with_changes(neighbourhoods=nbh), None, rng=4)
        m.run_for(24)
        return int(m.datacollector.get_model_vars_dataframe()["new_problems"].sum())

    assert onsets(0.8) > 1.3 * onsets(0.1)


def test_stacking_emerges(small):
    r = vv.run(small, seed=1, months=24)
    n_active = r.active_problems()
    observed = (n_active >= 3).mean()
    s = r._snapshots[2] >= small.problems.threshold
    p = s.mean(axis=1)
    p[domain_index("parenting")] = s[domain_index("parenting")].sum() / (
        r._households.has_children.sum()
    )
    dist = np.array([1.0])
    for pi in p:
        dist = np.convolve(dist, [1 - pi, pi])
    independent = dist[3:].sum()
    assert observed > 2.5 * independent


def test_spillover_is_what_stacks_problems(small):
    no_spill = small.with_changes(
        {
            "problems.spillover": {},
            "problems.escalation_stacking": 0.0,
            "problems.recovery_stacking": 0.0,
        }
    )
    with_spill = vv.run(small, seed=1, months=24).active_problems()
    without = vv.run(no_spill, seed=1, months=24).active_problems()
    assert (with_spill >= 3).mean() > 2 * (without >= 3).mean()


def test_escalation_speeds_up_with_number_of_problems():
    s = constant_hazard_scenario(0.0, 0.0, n=1000).with_changes(
        {
            "problems.escalation_rate": {d: 0.01 for d in DOMAINS},
            "problems.escalation_stacking": 1.0,
        }
    )
    m = vv.MunicipalityModel(s, None, rng=1)
    start = np.zeros_like(m.severity)
    start[0, :500] = 0.5  # one problem
    start[:3, 500:] = 0.5  # three problems
    m.severity = start
    m.step()
    one = m.severity[0, :500] - 0.5
    three = m.severity[0, 500:] - 0.5
    np.testing.assert_allclose(one, 0.01, rtol=1e-4)
    np.testing.assert_allclose(three, 0.03, rtol=1e-4)


def test_parenting_only_for_households_with_children(small):
    m = vv.MunicipalityModel(small, None, rng=5)
    m.run_for(12)
    assert (m.severity[domain_index("parenting"), ~m.households.has_children] == 0).all()
    assert (m.severity[domain_index("parenting"), m.households.has_children] > 0).any()


def test_hazards_stay_finite_at_the_largest_allowed_values():
    """Spill-over and event severity effects at their maxima: no overflow warning (warnings
    are errors here), finite costs, severities within [0, 1]."""
    from vraagvolgend.domains import DOMAINS

    s = vv.Scenario.default().with_changes(
        {
            "n_households": 500,
            "burn_in_months": 6,
            "problems.spillover": {d: {e: 20.0 for e in DOMAINS if e != d} for d in DOMAINS},
            "life_events.separation.severity_effect": {d: 20.0 for d in DOMAINS},
        }
    )
    r = vv.run(s, "supply-driven", months=12)
    assert np.isfinite(r.costs["cost_eur"]).all() and (r.costs["cost_eur"] >= 0).all()
    assert r.problems["severity"].between(0, 1).all()


def test_persistent_problems_follow_the_household_types_risk():
    """The persistent component is as concentrated by household type as the problems: the
    chance is persistent_share × the type's relative work risk (mean 1 over households)."""
    from vraagvolgend.households import HOUSEHOLD_TYPES

    s = vv.Scenario.default().with_changes(
        {
            "n_households": 20_000,
            "burn_in_months": 0,
            "problems.persistent_share": 0.1,
            "problems.type_risk.single_parent.work": 4.0,
            "problems.type_risk.couple.work": 1.0,
        }
    )
    m = vv.MunicipalityModel(s, None, rng=3)
    kind = m.households.household_type
    flag = m.problems.persistent
    share = {t: flag[kind == HOUSEHOLD_TYPES.index(t)].mean() for t in ("single_parent", "couple")}
    risk = np.array([s.problems.type_risk[t].get("work", 1.0) for t in HOUSEHOLD_TYPES])[kind]
    expected = 0.1 * 4.0 / risk.mean()
    assert abs(share["single_parent"] - expected) < 4 * np.sqrt(
        expected / (kind == HOUSEHOLD_TYPES.index("single_parent")).sum()
    )
    assert 3.0 < share["single_parent"] / share["couple"] < 5.5  # 4 / 1 in expectation


@pytest.mark.parametrize("size", [1, 7, 8, 9, 63, 1000, 168_003])
@pytest.mark.parametrize("density", [0.0, 0.02, 0.3, 1.0])
def test_true_positions_are_flatnonzero_of_a_padded_mask(size, density):
    from vraagvolgend.problems import padded_mask, true_positions

    rng = np.random.default_rng(size)
    mask = padded_mask((size,))
    np.less(rng.random(size), density, out=mask)
    np.testing.assert_array_equal(true_positions(mask), np.flatnonzero(mask))
    square = padded_mask((7, size))  # two dimensions: flat positions, as flatnonzero gives
    np.less(rng.random((7, size)), density, out=square)
    np.testing.assert_array_equal(true_positions(square), np.flatnonzero(square))
