"""Decomposition of a paired difference into mechanisms (Shapley values over setting groups)."""

from __future__ import annotations

import runpy
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import vraagvolgend as vv
from vraagvolgend.decomposition import (
    EXACT_UP_TO,
    OUTCOME_NAMES,
    Decomposition,
    decompose,
    decompose_comparison,
    hybrid,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# Supply- vs demand-driven differ in six mechanisms; to keep the tests short, the integrated
# plan, package sizing, network activation and flexible budget are taken together here.
PLAN = {
    "plan and package": [
        "rule:select_domains",
        "rule:intensity",
        "network_activation",
        "flexible_budget",
        "plan_stacking_relief",
    ]
}
# Everything demand-driven does differently from supply-driven, as one mechanism.
DEMAND_DRIVEN = [
    "rule:select_domains",
    "rule:intensity",
    "rule:conversation_units",
    "continuation",
    "review_months",
    "review_factor",
    "network_activation",
    "flexible_budget",
    "plan_stacking_relief",
]
FAST = {"replications": 2, "months": 24, "progress": False, "executor": "serial"}


@pytest.fixture(scope="module")
def scenario() -> vv.Scenario:
    """1,500 households; life events independent of the state, so regimes see the same."""
    s = vv.Scenario.default().with_changes(n_households=1500, burn_in_months=36)
    events = {k: {**v.to_dict(), "severity_effect": {}} for k, v in s.life_events.items()}
    return s.with_changes(life_events=events)


ALTERNATIVE = vv.SupplyDriven(outreach=0.1, contract="output", review_months=3, name="mixed")


@pytest.fixture(scope="module")
def three(scenario) -> Decomposition:
    """Reviews (lifecycle), contract type and outreach differ: three mechanisms, exact."""
    return decompose(vv.SupplyDriven(), ALTERNATIVE, scenario, **FAST)


def totals(d: Decomposition) -> pd.DataFrame:
    """Per outcome: the sum of the mechanisms' parts, the sum of their sizes and the total."""
    t = d.table
    mechanisms = t[t["mechanism"] != "total"].groupby("outcome")["mean"]
    total = t[t["mechanism"] == "total"].set_index("outcome")["mean"]
    size = mechanisms.apply(lambda x: x.abs().sum())
    return pd.DataFrame({"parts": mechanisms.sum(), "size": size, "total": total})


def part(d: Decomposition, mechanism: str, outcome: str) -> pd.Series:
    t = d.table
    return t[(t["mechanism"] == mechanism) & (t["outcome"] == outcome)].iloc[0]


def assert_adds_up(d: Decomposition) -> None:
    """The parts add up to the total within floating-point error, on average and in every
    replication."""
    x = totals(d)
    tolerance = 1e-9 * (x["size"] + x["total"].abs()) + 1e-12
    assert ((x["parts"] - x["total"]).abs() <= tolerance).all(), x
    per_rep = d.parts.groupby(["outcome", "replication"])["value"].sum().unstack()
    total = per_rep.mean(axis=1)
    assert np.allclose(total.loc[x.index], x["total"], rtol=1e-9, atol=1e-9)


def test_the_parts_add_up_to_the_paired_difference_of_compare(three, scenario):
    assert_adds_up(three)
    assert list(three.table.columns) == ["outcome", "mechanism", "mean", "lo", "hi"]
    assert set(three.mechanisms) == {"lifecycle", "contract type", "lever: outreach"}
    assert three.permutations is None
    # The total is compare's paired difference: the same seeds, so the same runs.
    c = vv.compare(
        [vv.SupplyDriven(), ALTERNATIVE],
        scenario,
        replications=2,
        months=24,
        progress=False,
    )
    diff = c.summary[c.summary["policy"] == "mixed"].set_index("line")["difference"]
    assert "cost_budget_rule" not in OUTCOME_NAMES  # needs a run without the rule per coalition
    for line, value in diff.drop("budget_rule").items():
        assert part(three, "total", f"cost_{line}")["mean"] == pytest.approx(value, rel=1e-12)
    outcomes = c.outcomes[c.outcomes["policy"] == "mixed"].set_index("outcome")
    for outcome, value in outcomes["difference"].items():
        assert part(three, "total", outcome)["mean"] == pytest.approx(value, rel=1e-12, abs=1e-12)


def test_a_group_set_the_same_in_both_contributes_exactly_zero(scenario):
    a = vv.SupplyDriven(budget_rule="cap")
    b = vv.SupplyDriven(budget_rule="cap", contract="task", review_months=3, name="b")
    d = decompose(a, b, scenario, groups={"budget": ["budget_rule", "budget_cut"]}, **FAST)
    same = d.table[d.table["mechanism"] == "budget"]
    assert len(same) == len(OUTCOME_NAMES)
    assert (same[["mean", "lo", "hi"]].to_numpy() == 0.0).all()
    assert d.mechanisms["budget"] == []
    # Settings that do not differ are not mechanisms in the default grouping.
    assert set(d.mechanisms) == {"budget", "lifecycle", "contract type"}
    assert_adds_up(d)
    # A part that is not zero somewhere: the test above could fail.
    assert (d.table[d.table["mechanism"] == "contract type"]["mean"] != 0).any()


@dataclass(frozen=True)
class StrictReview(vv.DemandDriven):
    """A user's rule: care goes on only while the severity is well above the threshold."""

    def review(self, severity):
        keep, intensity = super().review(severity)
        return keep & (severity >= self.exit_threshold + 0.15), intensity


def test_a_users_overridden_rule_is_a_mechanism_of_its_own(scenario):
    d = decompose(vv.DemandDriven(), StrictReview(name="strict", outreach=0.05), scenario, **FAST)
    assert set(d.mechanisms) == {"override: review", "lever: outreach"}
    assert "StrictReview.review" in d.mechanisms["override: review"][0]
    assert_adds_up(d)
    # Stricter reviews end care sooner: less individual care, whatever outreach does.
    assert part(d, "override: review", "cost_wmo")["mean"] < 0

    # Against the other regime the override is switched on top of the rules in force.
    groups = {"demand-driven": DEMAND_DRIVEN}
    d = decompose(vv.SupplyDriven(), StrictReview(name="strict"), scenario, groups=groups, **FAST)
    assert set(d.mechanisms) == {"override: review", "demand-driven"}
    assert_adds_up(d)


def test_a_hybrid_takes_each_setting_from_its_side():
    strict = StrictReview(contract="task", name="strict")
    p = hybrid(vv.SupplyDriven(), strict, ["override:review"])
    assert p.regime == "supply-driven" and p.contract == "effort"
    severity = np.array([0.2, 0.45, 0.6], dtype=np.float32)
    keep, _ = p.review(severity)
    # super() reaches the rule in force (goal: below 0.4), then the override's own test
    np.testing.assert_array_equal(keep, [False, False, True])
    q = hybrid(vv.SupplyDriven(), strict, ["regime", "field:contract"])
    assert q.regime == "demand-driven" and q.contract == "task"
    assert q.review(severity)[0].tolist() == [False, True, True]  # the regime's own rule
    assert hybrid(vv.SupplyDriven(), strict, []) == vv.SupplyDriven()
    everything = ["regime", "override:review", "field:contract", "field:continuation"]
    everything += ["field:review_months", "field:review_factor", "field:network_activation"]
    everything += ["field:flexible_budget", "field:plan_stacking_relief"]
    assert hybrid(vv.SupplyDriven(), strict, everything) == strict
    # A rule switched on its own finds the parameters it reads (max_parallel, root causes).
    r = hybrid(
        vv.SupplyDriven(),
        vv.DemandDriven(max_parallel=1),
        ["rule:select_domains"],
        split=["select_domains"],
    )
    assert r.regime == "supply-driven" and r.contract == "effort"
    need = np.ones((len(vv.DOMAINS), 4), dtype=bool)
    chosen = r.select_domains(need, need.astype(np.float32), ~need)
    assert chosen.sum(axis=0).tolist() == [1, 1, 1, 1]
    assert chosen[vv.DOMAINS.index("finances")].all()  # root causes first
    # Mixing in a rule leaves the registry of regimes alone.
    assert set(vv.financing.REGIMES) >= {"supply-driven", "demand-driven"}
    assert not any(name.startswith("Hybrid") for name in vv.financing.REGIMES)
    with pytest.raises(vv.ParameterError, match="switched"):
        hybrid(vv.SupplyDriven(), strict, ["field:nope"])


def test_exact_and_sampled_shapley_agree(three, scenario):
    sampled = decompose(vv.SupplyDriven(), ALTERNATIVE, scenario, permutations=600, **FAST)
    assert sampled.permutations == 600 and "600 sampled orders" in str(sampled)
    assert_adds_up(sampled)
    merged = three.table.merge(sampled.table, on=["outcome", "mechanism"])
    for _, g in merged.groupby("outcome"):
        scale = g["mean_x"].abs().max() + 1e-9
        assert (g["mean_x"] - g["mean_y"]).abs().max() <= 0.1 * scale


def test_more_mechanisms_than_exact_are_sampled():
    s = vv.Scenario.default().with_changes(n_households=300, burn_in_months=12)
    b = vv.SupplyDriven(
        contract="output",
        collective_capacity=1.5,
        practice_support_youth=False,
        network_programme=0.5,
        outreach=0.05,
        budget_rule="none",
        contracts={"output_shortening": 0.4},
    )
    d = decompose(
        vv.SupplyDriven(),
        b,
        s,
        replications=1,
        months=12,
        permutations=3,
        progress=False,
        executor="serial",
    )
    assert len(d.mechanisms) == 7 > EXACT_UP_TO and d.permutations == 3
    assert_adds_up(d)


def test_closed_form_prices(scenario):
    """Two price changes: additive, with parts that can be computed by hand."""
    a = vv.SupplyDriven(network_programme=0.5, outreach=0.05, budget_rule="none")
    b = a.with_changes(network_programme_cost=50.0, outreach_cost=500.0, name="dearer")
    d = decompose(a, b, scenario, **FAST)
    # The network programme costs strength × price per household a year, on collective.
    network = part(d, "lever: network programme", "cost_collective")
    assert network["mean"] == pytest.approx(0.5 * 25.0 * scenario.n_households, rel=1e-9)
    # Doubling outreach's price doubles what outreach cost in the baseline's runs.
    seeds = np.random.SeedSequence(0).spawn(2)
    spent = []
    for seed in seeds:
        costs = vv.run(scenario, a, seed=seed, months=24).costs
        spent.append(costs.loc[costs["provision"] == "outreach", "cost_eur"].sum() / 2)
    outreach = part(d, "lever: outreach", "cost_access")
    assert spent[0] > 0 and outreach["mean"] == pytest.approx(np.mean(spent), rel=1e-9)
    assert part(d, "lever: outreach", "cost_collective")["mean"] == 0
    assert part(d, "lever: network programme", "cost_access")["mean"] == 0
    # Prices change nothing that happens to households.
    outcomes = d.table[~d.table["outcome"].str.startswith("cost_")]
    assert (outcomes["mean"] == 0).all()
    assert_adds_up(d)


def test_demand_driven_cheaper_explained_by_its_plan(scenario):
    """Short integrated conversations and a plan that lowers the stacking penalty a lot:
    demand-driven is cheaper, because of what its plan does."""
    dd = vv.DemandDriven(conversation_factor=2.0, plan_stacking_relief=0.8)
    d = decompose(vv.SupplyDriven(), dd, scenario, groups=PLAN, **{**FAST, "executor": "processes"})
    assert set(d.mechanisms) == {"plan and package", "lifecycle", "conversations"}
    assert_adds_up(d)
    line = "cost_external_total"
    total = part(d, "total", line)["mean"]
    plan = part(d, "plan and package", line)["mean"]
    assert total < 0 and plan < 0.5 * total  # the plan makes most of the saving
    assert part(d, "conversations", line)["mean"] > 0  # conversations still cost more
    parts = d.table[(d.table["outcome"] == line) & (d.table["mechanism"] != "total")]
    assert parts.set_index("mechanism")["mean"].idxmin() == "plan and package"


def test_demand_driven_dearer_explained_by_outreach_and_conversations(scenario):
    """Much outreach at a high price, long conversations and reviews, no network: dearer."""
    no_network = scenario.with_changes({"support.capacity": dict.fromkeys(vv.HOUSEHOLD_TYPES, 0.0)})
    dd = vv.DemandDriven(
        outreach=0.3, outreach_cost=1000.0, conversation_factor=10.0, review_factor=3.0
    )
    d = decompose(vv.SupplyDriven(), dd, no_network, groups=PLAN, **FAST)
    assert_adds_up(d)
    line = "cost_external_total"
    total = part(d, "total", line)["mean"]
    outreach = part(d, "lever: outreach", line)["mean"]
    conversations = part(d, "conversations", line)["mean"]
    assert total > 0 and outreach > 0 and conversations > 0
    assert outreach + conversations > 0.75 * total  # they make most of the difference


def test_comparison_keeps_its_decomposition(tmp_path, scenario):
    task = vv.SupplyDriven(contract="task", name="task")
    c = vv.compare([vv.SupplyDriven(), task], scenario, replications=2, months=12, progress=False)
    assert c.decomposition is None
    d = decompose_comparison(c, executor="serial", progress=False)
    assert c.decomposition is d and d.runs == 0  # both ends are the comparison's own runs
    total = part(d, "total", "cost_external_total")["mean"]
    summary = c.summary.set_index(["policy", "line"])
    assert total == pytest.approx(summary.loc[("task", "external_total"), "difference"])
    c.save(tmp_path / "cmp")
    loaded = vv.Comparison.load(tmp_path / "cmp")
    pd.testing.assert_frame_equal(loaded.decomposition.table, d.table)
    assert loaded.decomposition.mechanisms == d.mechanisms
    with pytest.raises(vv.ParameterError, match="alternative"):
        decompose_comparison(c, alternative="nope")


def test_text_table_and_plot(three, tmp_path):
    text = str(three)
    assert "e+" not in text and "e-0" not in text
    assert "exact over all 8 coalitions" in text and "External social-domain cost" in text
    assert "external_total" not in text and "cost_" not in text  # labels, not keys
    assert "Policy.intensity" not in text
    fig = three.plot()
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 6
    fig.savefig(tmp_path / "d.png")
    three.save(tmp_path / "d")
    back = Decomposition.load(tmp_path / "d")
    pd.testing.assert_frame_equal(back.table, three.table)
    assert back.permutations is None and back.replications == 2


def test_bad_input_names_the_field(scenario):
    with pytest.raises(vv.ParameterError, match=r"groups\.mine"):
        decompose("supply-driven", "demand-driven", scenario, groups={"mine": ["nope"]}, **FAST)
    with pytest.raises(vv.ParameterError, match="groups"):
        decompose("supply-driven", "demand-driven", scenario, groups={"r": ["rule:nope"]}, **FAST)
    switch = vv.PolicySwitch(vv.SupplyDriven(), vv.DemandDriven(), at_month=6)
    with pytest.raises(vv.ParameterError, match="alternative"):
        decompose("supply-driven", switch, scenario, **FAST)
    with pytest.raises(vv.ParameterError, match="permutations"):
        decompose("supply-driven", "demand-driven", scenario, permutations=0, **FAST)


def test_cli_compare_decompose(tmp_path, capsys):
    from vraagvolgend.cli import main

    path = tmp_path / "s.toml"
    vv.Scenario.default().with_changes(n_households=400, burn_in_months=12).to_toml(path)
    out = tmp_path / "cmp"
    args = ["compare", "--scenario", str(path), "--replications", "2", "--months", "12"]
    assert main([*args, "--out", str(out), "--no-plots", "--decompose", "1"]) == 0
    assert (out / "decomposition" / "table.parquet").exists()
    text = capsys.readouterr().out
    assert text.index("Mean annual cost, EUR thousand") < text.index("Shapley values")
    assert "lifecycle" in text and "integrated plan" in text and "1 replication " in text


def test_example_runs(capsys, monkeypatch, tmp_path):
    out = tmp_path / "explained"
    argv = ["x", "--households", "400", "--months", "12", "--burn-in", "12", "--replications", "1"]
    argv += ["--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(EXAMPLES / "explain_difference.py"), run_name="__main__")
    text = capsys.readouterr().out
    assert "lifecycle" in text and "package sizing" in text
    assert (out / "decomposition.png").exists() and (
        out / "decomposition" / "table.parquet"
    ).exists()


def test_every_grouping_key_names_a_declared_policy_field():
    import dataclasses

    from vraagvolgend.decomposition import MECHANISMS

    declared = set()
    for cls in (vv.Policy, vv.SupplyDriven, vv.DemandDriven):
        declared |= {f.name for f in dataclasses.fields(cls)}
    assert set(MECHANISMS) <= declared, sorted(set(MECHANISMS) - declared)


def test_splitting_a_replication_over_tasks_changes_nothing(three, scenario):
    """A replication's coalitions split over three tasks (each burns in and sets the budget
    from its own start) give the same parts as one task per replication."""
    from concurrent.futures import ThreadPoolExecutor

    from vraagvolgend.decomposition.orchestration import _tasks_per_replication

    assert _tasks_per_replication("serial", 8, 1) == 1
    assert _tasks_per_replication(None, 3, 1) == 3
    assert _tasks_per_replication(None, 2, 2) == 1
    with ThreadPoolExecutor(3) as pool:
        split = decompose(
            vv.SupplyDriven(), ALTERNATIVE, scenario, **{**FAST, "executor": pool, "workers": 6}
        )
    pd.testing.assert_frame_equal(split.table, three.table)
    pd.testing.assert_frame_equal(split.parts, three.parts)
