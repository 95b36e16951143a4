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
    forked, _ = replicate(s, policies, seed, 24)  # from one start: one budget too
    assert len({row["budget_eur"] for row in forked}) == 1
    # each policy burnt in under itself: its runs are plain runs, checked against them below
    rows, _ = replicate(s, policies, seed, 24, burn_in="each")
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
    # The budget rule: the baseline's year-1 individual and access spending plus the margin
    spent = reference.costs.query("year == 1 and provision != 'benefit'")
    lines = ["jeugdwet", "wmo", "participatiewet", "access"]
    spent = spent[spent["law"].isin(lines)]["cost_eur"].sum()
    assert rows[0]["budget_eur"] == pytest.approx(spent * 0.7)


def _year1_budget(scenario, policy, seed) -> tuple[float, float]:
    """(the budget the rule sets from ``policy``'s year-1 spending, its access part)."""
    import vraagvolgend as vv
    from vraagvolgend.comparison import without_budget_rule

    r = vv.run(scenario, without_budget_rule(policy), seed=seed, months=12)
    c = r.costs[(r.costs["year"] == 1) & (r.costs["provision"] != "benefit")]
    by_law = c.groupby("law", observed=True)["cost_eur"].sum()
    lines = ["jeugdwet", "wmo", "participatiewet", "access"]
    margin = 1 + scenario.budget.margin
    return float(by_law.reindex(lines).sum()) * margin, float(by_law["access"]) * margin


def test_the_budget_comes_from_the_named_baseline_whatever_the_order_and_includes_access():
    import vraagvolgend as vv

    s = vv.Scenario.default().with_changes(n_households=1500, burn_in_months=12)
    sd, dd = vv.SupplyDriven(), vv.DemandDriven()
    seed = np.random.SeedSequence(3).spawn(1)[0]
    budget = {}
    for name, policy in (("supply-driven", sd), ("demand-driven", dd)):
        budget[name], access = _year1_budget(s, policy, seed)
        assert access > 0.02 * budget[name]  # access is part of the budget
    assert budget["supply-driven"] != pytest.approx(budget["demand-driven"])

    def compared(policies, baseline=None):
        c = vv.compare(
            policies, s, replications=1, seed=3, months=12, progress=False, baseline=baseline
        )
        return c, c.runs.set_index("policy")["budget_eur"]

    for order in ([sd, dd], [dd, sd]):
        c, b = compared(order)  # default: the supply-driven policy, wherever it stands
        assert c.baseline == "supply-driven"
        np.testing.assert_allclose(b.to_numpy(), budget["supply-driven"], rtol=1e-9)
        diff = c.summary.set_index(["policy", "line"])["difference"]
        assert diff["supply-driven"].abs().max() == 0  # the differences are against it
        c, b = compared(order, baseline="demand-driven")
        assert c.baseline == "demand-driven"
        np.testing.assert_allclose(b.to_numpy(), budget["demand-driven"], rtol=1e-9)
    c, _ = compared([dd, vv.DemandDriven(name="other")])  # no supply-driven: the first
    assert c.baseline == "demand-driven"
    with pytest.raises(vv.ParameterError, match="baseline"):
        compared([sd, dd], baseline="nope")
