"""Billing (process ``billing``): this month's cost of every running provision, per cost line.

Tested on a model of 20 households with episodes of known price, intensity and age: effort
contracts bill price × intensity × (1 + over-provision) per month; output contracts bill the
(upcoded) trajectory price at the start and after every shortened standard duration; lump sums
(collective provisions, individual ones under task contracts) pay the capacity, less the
volunteers' share, spread over the running episodes or booked as idle capacity; the benefit,
flexible budgets and the network programme have their own lines; burn-in months are not booked
on episodes; without episodes individual provisions cost nothing.
"""

from __future__ import annotations

import numpy as np
import pytest

import vraagvolgend as vv
from states import (
    cost_line,
    give_episode,
    individual_provisions,
    ledger_of,
    month_state,
    put_on_benefit,
    step,
    tiny_model,
)


def _cost(model, episode_id):
    (entry,) = [e for e in ledger_of(model) if e.id == episode_id]
    return entry.cost


def test_effort_contracts_bill_price_times_intensity_times_over_provision():
    policy = vv.SupplyDriven().with_changes({"contracts.effort_over_provision": 0.5})
    m = tiny_model(policy=policy)
    a = give_episode(m, 1, "individual_support", "mental_health", intensity=0.8, months_in=3)
    b = give_episode(m, 2, "household_help", intensity=1.5)
    c = give_episode(m, 3, "individual_support", "housing", intensity=1.0)
    state = month_state(m, 1)
    step(m, "billing", state)
    assert _cost(m, a) == pytest.approx(430 * 0.8 * 1.5)  # 516
    assert _cost(m, b) == pytest.approx(221 * 1.5 * 1.5)  # 497.25
    assert _cost(m, c) == pytest.approx(430 * 1.5)
    assert cost_line(m, state, "individual_support") == pytest.approx(516 + 645)
    assert cost_line(m, state, "household_help") == pytest.approx(497.25)
    assert cost_line(m, state, "individual_support (idle capacity)") == 0


def test_output_contracts_bill_the_trajectory_price_at_its_start_and_each_period():
    m = tiny_model(policy=vv.SupplyDriven(contract="output"))
    # Period: 12 months × (1 − 0.3) = 8.4 → 8; the price: 430 × 12 = 5,160
    ids = {
        months_in: give_episode(m, h, "individual_support", "mental_health", months_in=months_in)
        for h, months_in in enumerate((0, 3, 8, 16))
    }
    upcoded = give_episode(m, 9, "individual_support", "mental_health", upcoded=True)
    state = month_state(m, 1)
    step(m, "billing", state)
    assert {k: _cost(m, i) for k, i in ids.items()} == {0: 5160, 3: 0, 8: 5160, 16: 5160}
    assert _cost(m, upcoded) == pytest.approx(5160 * 1.5)
    assert cost_line(m, state, "individual_support") == pytest.approx(3 * 5160 + 7740)


def test_collective_lump_sums_are_spread_over_episodes_or_booked_as_idle():
    # 100 places per 1,000 households: 2 places at 20 households
    changes = {
        "provisions.collective.social_work.capacity_per_1000": 100.0,
        "provisions.collective.debt_help.capacity_per_1000": 100.0,
    }
    m = tiny_model(changes=changes)
    a = give_episode(m, 1, "social_work", "housing")
    b = give_episode(m, 2, "social_work", "work", intensity=0.5)  # intensity does not matter
    state = month_state(m, 1)
    step(m, "billing", state)
    assert cost_line(m, state, "social_work") == pytest.approx(2 * 180)
    assert _cost(m, a) == _cost(m, b) == pytest.approx(180)
    assert cost_line(m, state, "social_work (idle capacity)") == 0
    # Nobody in debt help: its capacity less the volunteers' 40% is idle
    assert cost_line(m, state, "debt_help") == 0
    assert cost_line(m, state, "debt_help (idle capacity)") == pytest.approx(2 * 150 * 0.6)


def test_collective_capacity_lever_scales_the_lump_sum():
    changes = {"provisions.collective.social_work.capacity_per_1000": 100.0}
    m = tiny_model(policy=vv.SupplyDriven(collective_capacity=1.5), changes=changes)
    only = give_episode(m, 1, "social_work", "housing")
    state = month_state(m, 1)
    step(m, "billing", state)
    assert _cost(m, only) == pytest.approx(3 * 180)  # 3 places, one running episode


def test_task_contracts_pay_individual_provisions_a_lump_sum_for_their_capacity():
    changes = {"provisions.wmo.individual_support.capacity_per_1000": 100.0}
    policy = vv.SupplyDriven(contract="task").with_changes({"contracts.task_capacity": 1.5})
    m = tiny_model(policy=policy, changes=changes)
    only = give_episode(m, 1, "individual_support", "mental_health", intensity=0.8)
    state = month_state(m, 1)
    step(m, "billing", state)
    assert _cost(m, only) == pytest.approx(3 * 430)  # 2 places × 1.5, one episode running
    # Unused individual capacity is paid too: household help, 70 per 1,000 → 1.4 places × 1.5
    assert cost_line(m, state, "household_help (idle capacity)") == pytest.approx(1.4 * 1.5 * 221)


def test_benefit_flexible_budget_and_network_programme_have_their_own_lines():
    m = tiny_model(policy=vv.SupplyDriven(network_programme=0.5))
    on = put_on_benefit(m, 4, start=1)
    state = month_state(m, 2)
    state.flexible = (np.array([6, 8]), np.zeros(2, dtype=np.int8))  # two one-off solutions
    step(m, "billing", state)
    assert cost_line(m, state, "benefit") == pytest.approx(1200)
    assert _cost(m, on) == pytest.approx(1200)
    assert cost_line(m, state, "flexible_budget") == pytest.approx(2 * 900)
    assert cost_line(m, state, "network_programme") == pytest.approx(0.5 * 25 * 20 / 12)
    assert cost_line(m, state, "reintegration") == 0


def test_burn_in_months_are_billed_on_lines_but_not_on_episodes():
    m = tiny_model()
    a = give_episode(m, 1, "individual_support", "mental_health")
    on = put_on_benefit(m, 4, start=-3)
    state = month_state(m, 0)
    step(m, "billing", state)
    assert cost_line(m, state, "individual_support") == pytest.approx(430)
    assert cost_line(m, state, "benefit") == pytest.approx(1200)
    assert _cost(m, a) == 0 and _cost(m, on) == 0


def test_costs_already_on_the_month_are_kept():
    m = tiny_model()
    give_episode(m, 1, "individual_support", "mental_health")
    state = month_state(m, 1)
    state.costs += 7.0
    step(m, "billing", state)
    assert cost_line(m, state, "conversation") == 7.0
    assert cost_line(m, state, "individual_support") == pytest.approx(437)


@pytest.mark.parametrize("contract", ["effort", "output"])
def test_without_episodes_individual_provisions_cost_nothing(contract):
    m = tiny_model(policy=vv.SupplyDriven(contract=contract))
    state = month_state(m, 1)
    step(m, "billing", state)
    individual = individual_provisions(m)
    assert len(individual) > 5
    assert all(cost_line(m, state, name) == 0 for name in individual)
    assert all(cost_line(m, state, f"{name} (idle capacity)") == 0 for name in individual)
    assert cost_line(m, state, "social_work (idle capacity)") > 0  # budgets are paid anyway
    assert ledger_of(m) == []
