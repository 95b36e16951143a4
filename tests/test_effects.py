"""Care effects (process ``care_effects``): what running care does to this month's problems.

Tested on a model of 20 households with known episodes: the recovery added per domain is the
sum over the household's provisions of the catalogue's effect times intensity, plus a one-off
flexible solution's effect; escalation mitigation is the provision's mitigation times the
intensity (at most 1) in the episode's own domain; the plan's regime decides network activation
and stacking relief (also per episode during a policy switch); nobody in care gets no effect;
and in the problem dynamics a treated problem with certain recovery recovers to the recovered
fraction, one with full mitigation does not escalate while an untreated one does.
"""

from __future__ import annotations

import numpy as np
import pytest

import vraagvolgend as vv
from states import (
    give_episode,
    mitigation_at,
    month_state,
    recovery_added,
    set_severity,
    step,
    tiny_model,
)
from vraagvolgend.domains import DOMAINS


def _effects(model, month=1, flexible=(), rules=None):
    state = month_state(model, month)
    hh = np.array(flexible, dtype=np.int64)
    state.flexible = (hh, np.zeros(len(hh), np.int8) if rules is None else np.array(rules))
    step(model, "care_effects", state)
    return state


def _recovery(effects, household):
    return {d: round(recovery_added(effects, household, d), 6) for d in DOMAINS}


def test_recovery_added_is_effect_times_intensity_summed_over_provisions():
    m = tiny_model()
    give_episode(m, 1, "individual_support", "mental_health", intensity=0.5)
    give_episode(m, 1, "day_activities", intensity=1.0)  # in social isolation
    effects = _effects(m).effects
    assert _recovery(effects, 1) == {
        "finances": 0.02,  # individual support: 0.04 × 0.5
        "work": 0.02,  # day activities: 0.02
        "housing": 0.025,
        "mental_health": 0.03,
        "physical_health": 0.0,
        "parenting": 0.0,
        "social_isolation": 0.075,  # 0.03 × 0.5 + 0.06
    }
    assert set(_recovery(effects, 2).values()) == {0.0}  # not in care


def test_mitigation_is_the_provisions_times_intensity_at_most_one_in_its_domain():
    m = tiny_model()
    give_episode(m, 1, "individual_support", "mental_health", intensity=0.5)
    give_episode(m, 2, "individual_support", "housing", intensity=1.5)
    effects = _effects(m).effects
    assert mitigation_at(m, effects, 1, "mental_health") == pytest.approx(0.6 * 0.5)
    assert mitigation_at(m, effects, 2, "housing") == pytest.approx(0.6)
    assert mitigation_at(m, effects, 1, "housing") == 0  # no episode in that domain
    assert mitigation_at(m, effects, 3, "mental_health") == 0


def test_a_flexible_solution_adds_its_effect_this_month():
    m = tiny_model(policy=vv.DemandDriven())
    give_episode(m, 1, "individual_support", "mental_health", intensity=0.5)
    state = _effects(m, flexible=[1, 3])
    assert recovery_added(state.effects, 3, "finances") == pytest.approx(0.25)
    assert recovery_added(state.effects, 3, "parenting") == pytest.approx(0.05)
    assert recovery_added(state.effects, 1, "finances") == pytest.approx(0.02 + 0.25)
    assert recovery_added(state.effects, 1, "mental_health") == pytest.approx(0.03 + 0.05)
    assert state.effects.activation[3] == pytest.approx(0.5)  # the plan activates the network


def test_demand_driven_plans_activate_the_network_and_relieve_stacking():
    m = tiny_model(policy=vv.DemandDriven(network_activation=0.8, plan_stacking_relief=0.25))
    give_episode(m, 4, "reintegration")
    effects = _effects(m).effects
    assert effects.activation[4] == pytest.approx(0.8)
    assert effects.stacking_relief[4] == pytest.approx(0.25)
    others = np.arange(20) != 4
    assert not effects.activation[others].any() and not effects.stacking_relief[others].any()


def test_supply_driven_care_neither_activates_nor_relieves():
    m = tiny_model()
    give_episode(m, 4, "reintegration")
    effects = _effects(m).effects
    assert not effects.activation.any()
    assert effects.stacking_relief is None
    assert recovery_added(effects, 4, "work") == pytest.approx(0.05)


def test_during_a_switch_each_episode_follows_the_regime_that_runs_it():
    switch = vv.PolicySwitch(vv.SupplyDriven(), vv.DemandDriven(network_activation=0.8), 0)
    m = tiny_model(policy=switch)
    give_episode(m, 4, "reintegration", rule=0)
    give_episode(m, 5, "reintegration", rule=1)
    # One episode in a plan is enough, whatever the household's other episodes
    give_episode(m, 6, "reintegration", rule=1)
    give_episode(m, 6, "individual_support", "housing", rule=0)
    effects = _effects(m).effects
    assert effects.activation[4] == 0 and effects.stacking_relief[4] == 0
    for h in (5, 6):
        assert effects.activation[h] == pytest.approx(0.8)
        assert effects.stacking_relief[h] == pytest.approx(0.1)


def test_nobody_in_care_gets_no_effect():
    m = tiny_model(policy=vv.DemandDriven())
    effects = _effects(m).effects
    assert all(set(_recovery(effects, h).values()) == {0.0} for h in range(20))
    assert all(mitigation_at(m, effects, h, "housing") == 0 for h in range(20))
    assert not effects.activation.any()


def _advance(model, state):
    """The month's problem dynamics with the care effects (no support, no life events)."""
    zeros = np.zeros(model.households.n, dtype=np.float32)
    new, _, _ = model.problems.advance(state.severity, state.problems, zeros, zeros, state.effects)
    return new


def test_care_with_certain_recovery_brings_the_problem_to_the_recovered_fraction():
    changes = {
        "provisions.wmo.individual_support.domains": {"mental_health": 1.0},
        "problems.recovery_rate": {d: 0.0 for d in DOMAINS},
        "support.enabled": False,
    }
    m = tiny_model(changes=changes)
    set_severity(m, 1, "mental_health", 0.6)
    set_severity(m, 2, "mental_health", 0.6)
    give_episode(m, 1, "individual_support", "mental_health")
    new = _advance(m, _effects(m))
    i = DOMAINS.index("mental_health")
    assert new[i, 1] == pytest.approx(0.6 * 0.3)  # recovered_fraction 0.3
    assert new[i, 2] > 0.6  # untreated, no recovery: it escalates


def test_full_mitigation_stops_escalation_of_the_treated_domain():
    changes = {
        "provisions.wmo.individual_support.domains": {},
        "provisions.wmo.individual_support.escalation_mitigation": 1.0,
        "problems.recovery_rate": {d: 0.0 for d in DOMAINS},
        "problems.escalation_rate": {d: 0.05 for d in DOMAINS},
        "support.enabled": False,
    }
    m = tiny_model(changes=changes)
    for h in (1, 2, 3):
        set_severity(m, h, "mental_health", 0.6)
    give_episode(m, 1, "individual_support", "mental_health")
    give_episode(m, 3, "individual_support", "mental_health", intensity=0.5)
    new = _advance(m, _effects(m))
    i = DOMAINS.index("mental_health")
    assert new[i, 1] == pytest.approx(0.6)
    assert new[i, 2] == pytest.approx(0.65)  # one problem: no stacking
    assert new[i, 3] == pytest.approx(0.625)  # half the mitigation at half the intensity
