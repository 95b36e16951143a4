"""The budget: cost lines, years, overruns and the budget rules."""

from __future__ import annotations

import numpy as np
import pytest

from vraagvolgend.budget import BUDGET_RULES, Budget


def _budget():
    return Budget(
        ["a", "b", "benefit"],
        ["wmo", "jeugdwet", "participatiewet"],
        {"wmo": 100.0, "jeugdwet": 50.0},
    )


def test_burn_in_is_not_booked_and_years_close():
    b = _budget()
    b.add(0, np.array([1000.0, 0, 0]))
    for month in range(1, 13):
        b.add(month, np.array([10.0, 2.0, 7.0]))
    assert b.by_year == {1: pytest.approx(np.array([120.0, 24.0, 84.0]))}
    assert b.individual_overrun({"benefit"}) is False  # 144 ≤ 150
    b.add(13, np.array([0.0, 0.0, 0.0]))
    assert b.close_year(1, exclude={"benefit"}) is False
    assert [r["deficit_eur"] for r in b.records] == [20.0, -26.0]


def test_rules_are_registered_and_act():
    class Care:
        collective_multiplier = 1.0

    policy = type("P", (), {"budget_cut": 0.25})()
    cut = BUDGET_RULES["cut_collective"](policy)
    care = Care()
    cut.at_year_end(care, overran=False)
    assert care.collective_multiplier == 1.0
    cut.at_year_end(care, overran=True)
    cut.at_year_end(care, overran=True)
    assert care.collective_multiplier == pytest.approx(0.5625)
    b = _budget()
    b.add(1, np.array([200.0, 0.0, 0.0]))
    assert BUDGET_RULES["cap"](policy).closes_intake(b)
    assert not BUDGET_RULES["none"](policy).closes_intake(b)


def test_every_policy_compared_gets_one_budget_and_the_rule_effect_is_a_counterfactual():
    import vraagvolgend as vv
    from vraagvolgend.comparison import replicate, summarise_run, without_budget_rule

    s = vv.Scenario.default().with_changes(n_households=1500, burn_in_months=12)
    s = s.with_changes({"budget.margin": -0.3})  # a budget well below spending: the rule bites
    policies = [vv.SupplyDriven(), vv.DemandDriven(), vv.SupplyDriven(budget_rule="none", name="n")]
    seed = np.random.SeedSequence(4)
    rows, _ = replicate(s, policies, seed, 24)
    assert len({row["budget_eur"] for row in rows}) == 1
    assert rows[2]["cost_budget_rule"] == 0.0
    assert rows[0]["cost_budget_rule"] != 0  # the rule acted (its sign is an outcome)
    # The effect line equals the difference against the run without the rule, on the same seed
    from vraagvolgend.comparison import municipal_budget

    reference = vv.run(s, without_budget_rule(policies[0]), seed=seed, months=24)
    budgeted = municipal_budget(reference, s)
    with_rule = summarise_run(vv.run(budgeted, policies[1], seed=seed, months=24))
    free = summarise_run(vv.run(budgeted, without_budget_rule(policies[1]), seed=seed, months=24))
    assert rows[1]["cost_budget_rule"] == pytest.approx(
        with_rule["cost_external_total"] - free["cost_external_total"]
    )
    # The budget rule: the baseline's year-1 individual spending plus the margin
    spent = reference.costs.query("year == 1 and provision != 'benefit'")
    spent = spent[spent["law"].isin(["jeugdwet", "wmo", "participatiewet"])]["cost_eur"].sum()
    assert rows[0]["budget_eur"] == pytest.approx(spent * 0.7)
