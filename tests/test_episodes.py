"""Episodes (process ``episodes``): opening the month's admitted episodes and flexible budgets.

Tested on a model of 20 households: the regime sizes a new episode (standard intensity and the
provision's duration when supply-driven; intensity from severity and the review interval when
demand-driven), the contract responds (output shortens individual episodes and upcodes by the
draw, task lowers individual intensity), a new plan gets a one-off flexible-budget solution
when its draw is below the regime's share, and an opened episode ends on the month its goal has
held longer than the exit lag. Nothing admitted opens nothing; a seed fixes the episodes.
"""

from __future__ import annotations

import pytest

import vraagvolgend as vv
from states import (
    arrive,
    draws,
    episodes_of,
    ledger_of,
    month_state,
    requests,
    set_severity,
    step,
    tiny_model,
)


def _open(model, month, *items, **draw_values):
    """Admit ``(household, domain, provision, severity)`` requests and run the process."""
    for household, domain, _, severity in items:
        set_severity(model, household, domain, severity)
    admitted = requests(model, *[(h, d, p) for h, d, p, _ in items])
    state = month_state(model, month, admitted=admitted, draws=draws(model, **draw_values))
    arrive(model, state, {h: [d] for h, d, _, _ in items})
    return state, step(model, "episodes", state)


def _sized(model, household):
    return [
        (e.provision, e.domain, round(e.intensity, 4), e.left)
        for e in episodes_of(model, household)
    ]


def test_supply_driven_episodes_run_at_the_standard_for_the_typical_duration():
    m = tiny_model()
    state, p = _open(
        m, 1, (2, "mental_health", "individual_support", 0.7), (4, "housing", "social_work", 0.5)
    )
    assert _sized(m, 2) == [("individual_support", "mental_health", 1.0, 12)]
    assert _sized(m, 4) == [("social_work", "housing", 1.0, 4)]
    assert all(e.months_in == 0 and not e.upcoded for e in episodes_of(m, 2) + episodes_of(m, 4))
    (entry,) = ledger_of(m, 2)
    assert (entry.provision, entry.channel, entry.start, entry.end, entry.cost) == (
        "individual_support",
        "wijkteam",
        1,
        None,
        0.0,
    )
    assert p.reporters() == {"new_episodes": 2} and state.counts["new_episodes"] == 2


def test_demand_driven_episodes_are_sized_to_need_and_reviewed_every_three_months():
    m = tiny_model(policy=vv.DemandDriven(flexible_budget=0.0))
    # intensity = severity / 0.7 within [0.3, 1.5]
    _open(
        m,
        1,
        (1, "mental_health", "individual_support", 0.35),
        (2, "mental_health", "individual_support", 0.91),
        (3, "finances", "debt_help", 0.14),
        (4, "work", "reintegration", 1.0),
    )
    assert _sized(m, 1) == [("individual_support", "mental_health", 0.5, 3)]
    assert _sized(m, 2) == [("individual_support", "mental_health", 1.3, 3)]
    assert _sized(m, 3) == [("debt_help", "finances", 0.3, 3)]
    assert _sized(m, 4) == [("reintegration", "work", round(1 / 0.7, 4), 3)]


def test_output_contracts_shorten_and_upcode_individual_episodes_only():
    m = tiny_model(policy=vv.SupplyDriven(contract="output"))
    # 12 months × (1 − 0.3) = 8.4 → 8; upcoded where the draw is below 0.2
    _open(
        m,
        1,
        (1, "mental_health", "individual_support", 0.7),
        (2, "mental_health", "individual_support", 0.7),
        (3, "housing", "social_work", 0.5),
        upcode={1: 0.1, 2: 0.3, 3: 0.1},
    )
    assert [(e.left, e.upcoded) for e in episodes_of(m, 1)] == [(8, True)]
    assert [(e.left, e.upcoded) for e in episodes_of(m, 2)] == [(8, False)]
    assert [(e.left, e.upcoded) for e in episodes_of(m, 3)] == [(4, False)]


def test_task_contracts_lower_the_intensity_of_individual_episodes_only():
    m = tiny_model(policy=vv.SupplyDriven(contract="task"))
    _open(m, 1, (1, "mental_health", "individual_support", 0.7), (3, "housing", "social_work", 0.5))
    assert _sized(m, 1) == [("individual_support", "mental_health", 0.8, 12)]
    assert _sized(m, 3) == [("social_work", "housing", 1.0, 4)]


def test_a_new_plan_gets_a_flexible_budget_when_its_draw_is_below_the_share():
    m = tiny_model(policy=vv.DemandDriven(flexible_budget=0.15))
    state, p = _open(
        m,
        5,
        (3, "housing", "individual_support", 0.7),
        (5, "housing", "individual_support", 0.7),
        flexible={3: 0.1, 5: 0.2},
    )
    flex = [e for e in ledger_of(m) if e.provision == "flexible_budget"]
    # A one-off: opened and closed this month, at the catalogue's price, for the plan's domain
    assert [(e.household, e.domain, e.start, e.end, e.cost) for e in flex] == [
        (3, "housing", 5, 5, 900.0)
    ]
    assert state.flexible[0].tolist() == [3] and state.flexible[1].tolist() == [0]
    assert p.started == 3  # two episodes and one flexible solution
    assert all(e.provision != "flexible_budget" for e in episodes_of(m, 3))  # not in a slot


def test_the_flexible_solution_is_for_the_plans_first_domain_in_domain_order():
    m = tiny_model(policy=vv.DemandDriven(flexible_budget=0.15))
    set_severity(m, 3, "mental_health", 0.7)
    set_severity(m, 3, "work", 0.7)
    state = month_state(m, 1, draws=draws(m, flexible={3: 0.0}))
    arrive(m, state, {3: ["mental_health", "work"]})
    step(m, "episodes", state)
    assert [(e.household, e.domain) for e in ledger_of(m)] == [(3, "work")]


def test_supply_driven_plans_never_get_a_flexible_budget():
    m = tiny_model()
    state, p = _open(m, 1, (3, "housing", "individual_support", 0.7), flexible=0.0)
    assert [e.provision for e in ledger_of(m)] == ["individual_support"]
    assert len(state.flexible[0]) == 0 and p.started == 1


def test_nothing_admitted_opens_nothing():
    m = tiny_model(policy=vv.DemandDriven())
    state = month_state(m, 1)
    p = step(m, "episodes", state)
    assert ledger_of(m) == [] and p.started == 0 and len(state.flexible[0]) == 0


@pytest.mark.parametrize(
    ("policy", "end"),
    [
        (vv.SupplyDriven(exit_lag_months=2), 3),  # the goal must hold 3 months: 1, 2, 3
        (vv.SupplyDriven(contract="output", exit_lag_months=2), 2),  # round(3 × 0.7) − 1 = 1
        (
            vv.SupplyDriven(exit_lag_months=2).with_changes({"contracts.effort_prolongation": 1.0}),
            6,
        ),
    ],
)
def test_an_episode_ends_when_its_goal_has_held_longer_than_the_exit_lag(policy, end):
    m = tiny_model(policy=policy)
    _open(m, 1, (2, "mental_health", "individual_support", 0.7))
    set_severity(m, 2, "mental_health", 0.3)  # below the exit threshold (0.4) from month 1 on
    for month in range(1, 8):
        step(m, "reviews", month_state(m, month, severity_end=m.severity))
    (entry,) = ledger_of(m, 2)
    assert entry.end == end
    assert episodes_of(m, 2) == []


def test_one_seed_gives_the_same_episodes_and_another_seed_others():
    def run(seed):
        s = vv.Scenario.default().with_changes(n_households=400, burn_in_months=0)
        m = vv.MunicipalityModel(s, vv.DemandDriven(), rng=seed)
        m.run_for(6)
        return ledger_of(m)

    a = run(4)
    assert len(a) > 20
    assert run(4) == a
    assert run(5) != a
