"""Analysis, sensitivity (SALib) and the EMA workbench adapter."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import vraagvolgend as vv
from vraagvolgend import analysis
from vraagvolgend.ema import workbench_model
from vraagvolgend.sensitivity import morris, sobol


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    s = vv.Scenario.default().with_changes(n_households=800, burn_in_months=12)
    e = vv.Experiment(
        "an",
        ["supply-driven", "demand-driven"],
        [vv.Uncertainty("network.mean_degree", values=[5, 9])],
        levers=[vv.Lever("collective_capacity", values=[1.0, 2.0])],
        replications=3,
        months=24,
        scenario=s,
    )
    results = vv.run_experiment(e, tmp_path_factory.mktemp("an"), executor="serial", progress=False)
    return e, results


def test_run_table_matches_the_store(sweep):
    _, results = sweep
    runs = analysis.run_table(results)
    assert len(runs) == 2 * 2 * 2 * 3
    one = results[
        (results["policy"] == runs["policy"][0])
        & (results["point"] == runs["point"][0])
        & (results["replication"] == runs["replication"][0])
    ]
    costs = one[(one["kind"] == "cost") & (one["variable"] != "benefit")]
    by_year = costs.groupby("year")["value"].sum()
    assert runs["cost_external_total"][0] == pytest.approx(by_year.mean())


def test_store_table_is_long_and_summing_costs_does_not_overcount(sweep):
    _, results = sweep
    assert {"kind", "variable", "value"} <= set(results.columns)
    key = ["point", "policy", "replication", "year", "kind", "variable"]
    assert not results.duplicated(key).any()  # each indicator once per run and year
    indicators = results[results["kind"] == "indicator"]
    per_run_year = indicators.groupby(["point", "policy", "replication", "year"]).size()
    assert (per_run_year == indicators["variable"].nunique()).all()
    runs = analysis.run_table(results)
    total = results.loc[results["kind"] == "cost", "value"].sum()
    years = results["year"].nunique()
    by_line = [c for c in runs.columns if c.startswith("cost_") and c != "cost_external_total"]
    assert total == pytest.approx(runs[by_line].sum().sum() * years)


def test_paired_differences_are_paired(sweep):
    _, results = sweep
    base = "supply-driven__collective_capacity=1.0"
    d = analysis.paired_differences(results, base, columns=["cost_external_total"])
    runs = analysis.run_table(results).set_index(["policy", "point", "replication"]).sort_index()
    other = "demand-driven__collective_capacity=1.0"
    direct = (runs.loc[other, "cost_external_total"] - runs.loc[base, "cost_external_total"]).mean()
    row = d[d["policy"] == other].iloc[0]
    assert row["difference"] == pytest.approx(direct)
    assert row["ci_low"] < row["difference"] < row["ci_high"] and row["pairs"] == 6
    with pytest.raises(vv.ParameterError, match="baseline"):
        analysis.paired_differences(results, "nobody")
    summary = analysis.policy_summary(results, columns=["cost_external_total"])
    assert set(summary["policy"]) == set(runs.index.get_level_values("policy"))


def test_collective_investment_shows_in_the_sweep(sweep):
    e, results = sweep
    table = analysis.by_parameter(results, e, "cost_collective")
    lever = table[table["parameter"] == "collective_capacity"].set_index("value")["mean"]
    assert lever[2.0] == pytest.approx(2 * lever[1.0], rel=0.05)  # twice the places, twice the cost
    assert set(table["parameter"]) == {"network.mean_degree", "collective_capacity"}


def test_break_even_year():
    # A synthetic table: the investment costs 10 more in year 1 and saves 6 a year after.
    rows = []
    for policy, costs in (("base", [100, 100, 100]), ("invest", [110, 94, 94])):
        for year, c in enumerate(costs, start=1):
            rows.append(
                {
                    "point": 0,
                    "policy": policy,
                    "replication": 0,
                    "year": year,
                    "kind": "cost",
                    "variable": "wmo",
                    "value": float(c),
                }
            )
    year, table = analysis.break_even_year(pd.DataFrame(rows), "invest", "base")
    assert year == 3
    assert table["cumulative"].tolist() == [10.0, 4.0, -2.0]
    never, _ = analysis.break_even_year(pd.DataFrame(rows), "base", "invest")
    assert never == 1  # the other way round it is cheaper from the start


def test_sobol_ranks_a_strong_parameter_above_one_without_effect(tmp_path):
    s = vv.Scenario.default().with_changes(n_households=600, burn_in_months=6)
    u = [
        vv.Uncertainty("provisions.wmo.individual_support.cost_month", 200.0, 800.0),
        # Only where a carer counts as strained in the outputs: no effect on any cost.
        vv.Uncertainty("support.strain_level", 0.1, 0.9),
    ]
    table = sobol(
        u, "supply-driven", tmp_path, samples=8, scenario=s, months=12, executor="serial"
    ).set_index("parameter")
    strong, none = table.loc[u[0].name], table.loc[u[1].name]
    assert strong["ST"] > 0.5
    assert abs(none["ST"]) < 0.05
    m = morris(
        u, "supply-driven", tmp_path, trajectories=4, scenario=s, months=12, executor="serial"
    ).set_index("parameter")
    assert m.loc[u[0].name, "mu_star"] > 100 * max(m.loc[u[1].name, "mu_star"], 1.0)


def test_ema_workbench_adapter_runs_the_model():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import ema_workbench as ew

    s = vv.Scenario.default().with_changes(n_households=400, burn_in_months=6)
    u = [vv.Uncertainty("network.mean_degree", 6.0, 10.0)]
    levers = [vv.Lever("outreach", 0.0, 0.2)]
    model = workbench_model(u, levers, policy="demand-driven", scenario=s, months=12, seed=3)
    assert [p.name for p in model.uncertainties] == ["network__mean_degree"]
    assert [p.name for p in model.levers] == ["outreach"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        experiments, outcomes = ew.perform_experiments(
            model, scenarios=2, policies=1, evaluator=ew.SequentialEvaluator(model)
        )
    assert len(experiments) == 2 and outcomes["cost_external_total"].shape == (2,)
    # the workbench's first point, run directly, gives the same outcome
    row = experiments.iloc[0]
    direct = vv.run(
        s.with_changes({"network.mean_degree": row["network__mean_degree"]}),
        vv.DemandDriven().with_changes(outreach=row["outreach"]),
        seed=3,
        months=12,
    )
    total = direct.costs.query("provision != 'benefit'")["cost_eur"].sum() / 1
    assert outcomes["cost_external_total"][0] == pytest.approx(total)
    assert np.isfinite(outcomes["mean_severity"]).all()
