"""Allocation (process ``allocation``): capacity, waiting lists and admission.

Tested on a model of 20 households in a known state: limited places go to the longest waiting
first and then by the month's draw; running episodes take places; a full collective provision
refers on to the domain's heavy default; who recovered while waiting leaves the list; without
capacity (a task contract of capacity 0, or intake closed by the budget) nobody is admitted to
an individual provision; the order in which requests come does not matter.
"""

from __future__ import annotations

import vraagvolgend as vv
from states import (
    admitted_of,
    book,
    draws,
    give_episode,
    month_state,
    put_on_waiting_list,
    requests,
    set_severity,
    step,
    tiny_model,
    waiting_of,
)
from vraagvolgend.month import Requests

# At 20 households, 100 places per 1,000 households are 2 places.
TWO_PLACES = {"provisions.wmo.individual_support.capacity_per_1000": 100.0}
TASK = vv.SupplyDriven(contract="task")
NO_PLACES = TASK.with_changes({"contracts.task_capacity": 0.0})


def _needy(model, households, domain="mental_health", value=0.7):
    for h in households:
        set_severity(model, h, domain, value)


def test_limited_places_go_to_the_longest_waiting_then_by_the_draw():
    m = tiny_model(policy=TASK, changes=TWO_PLACES)
    _needy(m, [1, 3, 7, 9])
    put_on_waiting_list(m, 3, "individual_support", "mental_health", since=-2)
    new = requests(m, *[(h, "mental_health", "individual_support") for h in (1, 7, 9)])
    u = draws(m, rules={3: 0.95, 1: 0.9, 7: 0.1, 9: 0.5})
    state = month_state(m, 1, requests=new, draws=u)
    p = step(m, "allocation", state)
    # Household 3 waited longest (whatever its draw); of this month's, 7 has the lowest draw.
    assert admitted_of(m, state) == {
        (3, "mental_health", "individual_support"),
        (7, "mental_health", "individual_support"),
    }
    assert waiting_of(m, 1) == {"mental_health": ("individual_support", 1)}
    assert waiting_of(m, 9) == {"mental_health": ("individual_support", 1)}
    assert waiting_of(m, 3) == {} and waiting_of(m, 7) == {}
    assert p.reporters() == {
        "left_waiting_list_recovered": 0,
        "waiting_list": 2,
        "mean_wait_months": 0.0,
    }


def test_running_episodes_take_places():
    m = tiny_model(policy=TASK, changes=TWO_PLACES)
    _needy(m, [1, 2])
    give_episode(m, 0, "individual_support", "housing")
    new = requests(
        m, (1, "mental_health", "individual_support"), (2, "mental_health", "individual_support")
    )
    state = month_state(m, 1, requests=new, draws=draws(m, rules={1: 0.6, 2: 0.4}))
    step(m, "allocation", state)
    assert admitted_of(m, state) == {(2, "mental_health", "individual_support")}
    assert waiting_of(m, 1) == {"mental_health": ("individual_support", 1)}


def test_a_full_collective_provision_refers_on_to_the_heavy_default():
    # One place in social work; effort contracts put no limit on individual provisions.
    m = tiny_model(changes={"provisions.collective.social_work.capacity_per_1000": 50.0})
    _needy(m, [2, 4], "housing", 0.5)
    new = requests(m, (2, "housing", "social_work"), (4, "housing", "social_work"))
    state = month_state(m, 1, requests=new, draws=draws(m, rules={2: 0.3, 4: 0.6}))
    p = step(m, "allocation", state)
    assert admitted_of(m, state) == {
        (2, "housing", "social_work"),
        (4, "housing", "individual_support"),  # the heavy default for housing
    }
    assert p.waiting_list == 0


def test_whoever_recovered_while_waiting_leaves_the_list():
    m = tiny_model(policy=NO_PLACES)
    set_severity(m, 5, "mental_health", 0.3)  # below the need threshold (0.45)
    set_severity(m, 6, "mental_health", 0.7)
    put_on_waiting_list(m, 5, "individual_support", "mental_health", since=-1)
    put_on_waiting_list(m, 6, "individual_support", "mental_health", since=-3)
    state = month_state(m, 1)
    p = step(m, "allocation", state)
    assert waiting_of(m, 5) == {}
    assert waiting_of(m, 6) == {"mental_health": ("individual_support", -3)}
    assert p.reporters() == {
        "left_waiting_list_recovered": 1,
        "waiting_list": 1,
        "mean_wait_months": 4.0,  # month 1 − month −3
    }


def test_without_capacity_nobody_is_admitted_to_individual_provisions():
    m = tiny_model(policy=NO_PLACES)
    _needy(m, range(6))
    new = requests(m, *[(h, "mental_health", "individual_support") for h in range(6)])
    state = month_state(m, 1, requests=new)
    step(m, "allocation", state)
    assert len(state.admitted) == 0
    assert all(waiting_of(m, h) == {"mental_health": ("individual_support", 1)} for h in range(6))


def test_a_budget_rule_that_closes_intake_stops_individual_admissions():
    # "cap": intake closes once individual spending passes the budget; a budget of zero.
    zero = {"budget.per_inhabitant": {"jeugdwet": 0.0, "wmo": 0.0, "participatiewet": 0.0}}
    m = tiny_model(policy=vv.SupplyDriven(budget_rule="cap"), changes=zero)
    book(m, 1, "household_help", 1.0)
    _needy(m, [1, 2])
    set_severity(m, 2, "social_isolation", 0.5)
    new = requests(
        m,
        (1, "mental_health", "individual_support"),
        (2, "social_isolation", "community_activities"),
    )
    state = month_state(m, 1, requests=new)
    step(m, "allocation", state)
    # Community activities have no free place at 20 households (0.16 places) either: the
    # request is referred on to day activities, and waits like any individual request.
    assert admitted_of(m, state) == set()
    assert waiting_of(m, 1) == {"mental_health": ("individual_support", 1)}
    assert waiting_of(m, 2) == {"social_isolation": ("day_activities", 1)}


def test_the_order_of_requests_does_not_matter():
    results = []
    for order in ((1, 7, 9, 11), (11, 9, 1, 7)):
        m = tiny_model(policy=TASK, changes=TWO_PLACES)
        _needy(m, order)
        new = requests(m, *[(h, "mental_health", "individual_support") for h in order])
        u = draws(m, rules={1: 0.8, 7: 0.3, 9: 0.6, 11: 0.2})
        state = month_state(m, 1, requests=new, draws=u)
        step(m, "allocation", state)
        results.append(admitted_of(m, state))
    assert (
        results[0]
        == results[1]
        == {
            (7, "mental_health", "individual_support"),
            (11, "mental_health", "individual_support"),
        }
    )


def test_without_requests_or_waiting_nothing_happens():
    m = tiny_model(policy=TASK, changes=TWO_PLACES)
    state = month_state(m, 1, requests=Requests.empty())
    p = step(m, "allocation", state)
    assert len(state.admitted) == 0 and p.waiting_list == 0 and p.mean_wait == 0.0


def test_one_seed_gives_the_same_waiting_list_and_another_seed_another():
    def waiting(seed):
        s = vv.Scenario.default().with_changes(n_households=400, burn_in_months=0)
        m = vv.MunicipalityModel(s, TASK.with_changes({"contracts.task_capacity": 0.2}), rng=seed)
        m.run_for(6)
        return [waiting_of(m, h) for h in range(400)]

    a = waiting(3)
    assert sum(map(len, a)) > 5
    assert waiting(3) == a
    assert waiting(4) != a
