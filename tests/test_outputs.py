"""Every output declared once: the same number under the same name everywhere."""

from __future__ import annotations

import pandas as pd
import pytest

import vraagvolgend as vv
from vraagvolgend import outputs
from vraagvolgend.analysis import run_table

SMALL = {"n_households": 1500, "burn_in_months": 12}


def _benefit_renamed(scenario: vv.Scenario, name: str = "bijstand") -> vv.Scenario:
    """The scenario with the benefit (the entitlement) under another name."""
    data = scenario.to_dict()
    law = data["provisions"]["participatiewet"]
    law[name] = law.pop("benefit")
    return vv.Scenario.from_dict(data)


def test_a_renamed_entitlement_gives_the_same_summary():
    s = vv.Scenario.default().with_changes(**SMALL)
    renamed = _benefit_renamed(s)
    assert outputs.entitlements(renamed) == {"bijstand"}
    a = outputs.summarise(vv.run(s, seed=3, months=24))
    b = outputs.summarise(vv.run(renamed, seed=3, months=24))
    assert a == b
    assert a["cost_benefit"] > 0 and a["social_assistance_share"] > 0


@pytest.mark.parametrize("burn_in", ["baseline", "each"])
def test_an_outcome_is_the_same_in_compare_and_in_a_sweep(tmp_path, burn_in):
    # compare sets the municipal budget from its baseline; a sweep runs the scenario's own:
    # with the scenario's budget, and the runs starting alike (forks of one burn-in under the
    # baseline, or every policy burnt in under itself), both run the same runs
    s = vv.Scenario.default().with_changes({"budget.set_from_baseline": False}, **SMALL)
    c = vv.compare(
        ["supply-driven", "demand-driven"],
        s,
        replications=2,
        months=24,
        seed=5,
        progress=False,
        burn_in=burn_in,
    )
    e = vv.Experiment(
        "same",
        ["supply-driven", "demand-driven"],
        replications=2,
        months=24,
        scenario=s,
        seed=5,
        burn_in=burn_in,
    )
    runs = run_table(vv.run_experiment(e, tmp_path, executor="serial", progress=False))
    columns = [*outputs.OUTCOMES, "cost_external_total", "cost_benefit", "cost_jeugdwet"]
    for policy in ("supply-driven", "demand-driven"):
        a = c.runs[c.runs["policy"] == policy].sort_values("replication")
        b = runs[runs["policy"] == policy].sort_values("replication")
        for column in columns:
            assert b[column].to_numpy() == pytest.approx(a[column].to_numpy(), rel=1e-12), column


def test_every_output_name_read_elsewhere_is_declared():
    from vraagvolgend import comparison, decomposition, ema, reports

    declared = {*(f"cost_{n}" for n in outputs.COST_LINES), *outputs.OUTCOMES}
    assert set(ema.OUTCOMES) <= declared
    assert set(decomposition.OUTCOME_NAMES) <= declared
    assert set(reports.OUTCOME_FORMAT) == set(outputs.OUTCOMES)
    assert set(comparison.OUTCOMES) == set(outputs.OUTCOMES)
    assert set(comparison.COST_LINES) == set(outputs.COST_LINES)
    assert outputs.PRIMARY in outputs.OUTCOMES


def test_outcomes_per_year_average_to_the_summary():
    r = vv.run(vv.Scenario.default().with_changes(**SMALL), "demand-driven", seed=1, months=36)
    per_year = outputs.outcomes_per_year(r)
    assert list(per_year["year"]) == [1, 2, 3]
    summary = outputs.summarise(r)
    for name in outputs.OUTCOMES:
        assert summary[name] == pytest.approx(per_year[name].mean()), name
    yearly = r.annual_costs()
    assert isinstance(yearly, pd.DataFrame) and set(yearly["line"]) <= set(outputs.COST_LINES)


def test_a_users_process_books_money_that_shows_up_everywhere(tmp_path):
    """A process declaring a cost line and an outcome: they reach compare's summary (inside
    the external total), its decomposition and a sweep's runs."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    from debt_relief import DebtRelief
    from vraagvolgend.decomposition import decompose_comparison

    s = vv.Scenario.default().with_changes({"budget.set_from_baseline": False}, **SMALL)
    c = vv.compare(
        ["supply-driven", "demand-driven"],
        s,
        replications=2,
        months=12,
        seed=2,
        processes=[DebtRelief(uptake=0.2)],
        progress=False,
    )
    runs = c.runs
    assert (runs["cost_debt_relief"] > 0).all() and (runs["debt_relief_cases"] > 0).all()
    laws = [f"cost_{n}" for n in ("jeugdwet", "wmo", "participatiewet", "collective", "access")]
    total = runs[laws].sum(axis=1) + runs["cost_debt_relief"]
    assert runs["cost_external_total"].to_numpy() == pytest.approx(total.to_numpy())
    assert "debt_relief" in set(c.summary["line"])
    assert "debt_relief_cases" in set(c.outcomes["outcome"])
    d = decompose_comparison(c, progress=False)
    assert {"cost_debt_relief", "debt_relief_cases"} <= set(d.table["outcome"])
    e = vv.Experiment(
        "debt",
        ["supply-driven"],
        replications=1,
        months=12,
        scenario=s,
        seed=2,
        processes=(DebtRelief(uptake=0.2),),
    )
    swept = run_table(vv.run_experiment(e, tmp_path, executor="serial", progress=False))
    assert swept["cost_debt_relief"].iloc[0] == pytest.approx(
        runs.loc[runs["policy"] == "supply-driven", "cost_debt_relief"].iloc[0]
    )


@pytest.mark.parametrize("categorical", [True, False])
def test_text_values_and_entitlements_read_a_column_as_text(categorical):
    from vraagvolgend.outputs import entitlements, is_entitlement, text_values

    scenario = vv.Scenario.default()
    names = ["household_help", *sorted(entitlements(scenario)), "household_help"]
    column = pd.Series(pd.Categorical(names) if categorical else names)
    assert text_values(column).tolist() == names
    assert is_entitlement(column, scenario).tolist() == [False, True, False]
