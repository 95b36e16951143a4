"""Policies: validation, variants as declared changes, serialisation, subclassing, switching."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import vraagvolgend as vv
from vraagvolgend import DemandDriven, ParameterError, PolicySwitch, SupplyDriven
from vraagvolgend.financing import resolve_policy


def test_names_resolve_to_the_defaults():
    assert resolve_policy("supply-driven") == SupplyDriven()
    assert resolve_policy("demand-driven") == DemandDriven()
    assert resolve_policy(None) is None


def test_variant_is_a_declared_change_on_a_baseline():
    base = SupplyDriven()
    variant = base.with_changes(contract="task", collective_capacity=1.5, name="task")
    assert variant.contract == "task" and variant.collective_capacity == 1.5
    assert base.contract == "effort"  # the baseline is untouched
    assert type(variant) is SupplyDriven
    assert variant.changes_from(base) == {
        "collective_capacity": (1.0, 1.5),
        "contract": ("effort", "task"),
        "name": ("supply-driven", "task"),
    }
    nested = base.with_changes({"contracts.task_capacity": 0.5})
    assert nested.contracts.task_capacity == 0.5


@pytest.mark.parametrize(
    ("make", "field", "fragment"),
    [
        (lambda: SupplyDriven(contract="hourly"), "contract", "effort, output, task"),
        (lambda: DemandDriven(max_parallel=0), "max_parallel", "between 1 and 7"),
        (lambda: SupplyDriven().with_changes(collective_capacity=-1), "collective_capacity", ""),
        (lambda: SupplyDriven(budget_rule="panic"), "budget_rule", "cut_collective"),
        (lambda: DemandDriven(root_cause_order=["finances"]), "root_cause_order", "each domain"),
        (
            lambda: SupplyDriven().with_changes({"contracts.output_upcoding": 2}),
            "contracts.output_upcoding",
            "between 0.0 and 1.0",
        ),
    ],
)
def test_invalid_policies_name_the_field(make, field, fragment):
    with pytest.raises(ParameterError) as info:
        make()
    assert info.value.field == field
    assert fragment in str(info.value)


def test_unknown_policy_key_suggests_a_name():
    with pytest.raises(ParameterError, match=r"did you mean 'outreach'\?"):
        DemandDriven().with_changes(outreech=0.1)


def test_policy_toml_round_trip(tmp_path):
    for policy in (SupplyDriven().with_changes(contract="output"), DemandDriven(max_parallel=3)):
        path = tmp_path / "p.toml"
        policy.to_toml(path)
        again = vv.Policy.from_toml(path)
        assert again == policy and type(again) is type(policy)
    with pytest.raises(ParameterError, match=r"p\.toml: contract"):
        path.write_text('regime = "supply-driven"\ncontract = "hourly"\n')
        vv.Policy.from_toml(path)


def test_users_can_subclass_a_regime(small):
    class OneAtATime(DemandDriven):
        """Demand-driven, but only ever one domain at a time."""

        def select_domains(self, need, severity, in_care):
            chosen = super().select_domains(need, severity, in_care)
            return chosen & (np.cumsum(chosen, axis=0) <= 1) & ~in_care.any(axis=0)

    custom = OneAtATime(name="one-at-a-time")
    m = vv.MunicipalityModel(small, custom, rng=1)
    for _ in range(12):
        m.step()
        # the flexible budget is a one-off outside the slots; everything else is one at a time
        assert ((m.care.slot >= 0).sum(axis=0) <= 1).all()
    assert (m.care.slot >= 0).sum() > 0
    assert m.care.policy is custom


def test_switch_shares_and_validation():
    s = PolicySwitch(SupplyDriven(), DemandDriven(), at_month=24, ramp_months=12)
    assert [s.share_new(m) for m in (1, 24, 25, 36, 60)] == [0.0, 0.0, 1 / 12, 1.0, 1.0]
    assert s.policy_at(24) == SupplyDriven() and s.policy_at(25) == DemandDriven()
    with pytest.raises(ParameterError, match="at_month"):
        PolicySwitch(SupplyDriven(), DemandDriven(), at_month=-1)
    with pytest.raises(ParameterError, match="after"):
        PolicySwitch(SupplyDriven(), "demand-driven", at_month=3)


# --- a user's own regime, contract and budget rule survive TOML and comparison folders -------

from dataclasses import dataclass  # noqa: E402

from vraagvolgend.budget import BudgetRule, register_budget_rule  # noqa: E402
from vraagvolgend.contracts import Contract, register_contract  # noqa: E402
from vraagvolgend.parameters import param  # noqa: E402


@dataclass(frozen=True)
class OneAtATime(DemandDriven):
    """A plan that treats one domain at a time, whatever max_parallel says."""

    regime = "one-at-a-time"
    name: str = param("one-at-a-time", kind="str", source="test", doc="name")

    def select_domains(self, need, severity, in_care):
        chosen = super().select_domains(need, severity, in_care)
        return chosen & (np.cumsum(chosen, axis=0) <= 1) & ~in_care.any(axis=0)


@register_contract("half_price")
class HalfPrice(Contract):
    """Billed at half the catalogue price per client-month (a test contract)."""

    def bill(self, cost_month, intensity, months_in, duration, upcoded):
        return 0.5 * cost_month * intensity


register_contract("full_price")(type("FullPrice", (Contract,), {}))


@register_budget_rule("freeze")
class Freeze(BudgetRule):
    """Closes intake from the start of every year (a test rule)."""

    def closes_intake(self, budget):
        return True


def test_a_users_regime_contract_and_budget_rule_round_trip_through_toml(tmp_path):
    policy = OneAtATime().with_changes(contract="half_price", budget_rule="freeze")
    back = vv.Policy.from_toml(policy.to_toml(tmp_path / "p.toml") and tmp_path / "p.toml")
    assert type(back) is OneAtATime and back == policy
    assert back.contract == "half_price" and back.budget_rule == "freeze"


def test_a_users_contract_and_rule_change_the_run(small):
    s = small.with_changes(n_households=1500)
    full = vv.run(s, SupplyDriven(contract="full_price"), seed=4, months=12)
    half = vv.run(s, SupplyDriven(contract="half_price"), seed=4, months=12)
    frozen = vv.run(s, SupplyDriven(budget_rule="freeze"), seed=4, months=12)
    # Same episodes (neither contract changes durations or referrals), half the bill
    pd.testing.assert_frame_equal(
        full.episodes.drop(columns="cost_eur"), half.episodes.drop(columns="cost_eur")
    )
    e = half.episodes
    individual = (e["law"] != "collective") & ~e["provision"].isin(["benefit", "flexible_budget"])
    np.testing.assert_allclose(
        half.episodes.loc[individual, "cost_eur"], 0.5 * full.episodes.loc[individual, "cost_eur"]
    )
    # A frozen intake starts no individual episode through access
    started = frozen.episodes.query("start_month >= 1 and law != 'collective'")
    assert started["channel"].isin(["renewal", "escalation", "entitlement"]).all()


def test_a_users_classes_round_trip_through_a_comparison_folder(small, tmp_path):
    s = small.with_changes(n_households=600, burn_in_months=12)
    mine = OneAtATime().with_changes(contract="half_price", budget_rule="freeze")
    switch = PolicySwitch(SupplyDriven(), mine, at_month=6, ramp_months=3)
    c = vv.compare([SupplyDriven(), mine, switch], s, replications=1, months=12, progress=False)
    back = vv.Comparison.load(c.save(tmp_path / "cmp"))
    assert [type(p) for p in back.policies] == [SupplyDriven, OneAtATime, PolicySwitch]
    assert back.policies[1] == mine
    assert back.policies[2].after == mine and back.policies[2].at_month == 6


def test_policy_switch_round_trips_through_toml(tmp_path):
    switch = PolicySwitch(SupplyDriven(), DemandDriven(outreach=0.1), at_month=24, ramp_months=6)
    file = tmp_path / "switch.toml"
    switch.to_toml(file)
    back = vv.Policy.from_toml(file)
    assert back == switch


def test_a_partial_policy_table_keeps_the_other_defaults():
    p = vv.Policy.from_toml('regime = "demand-driven"\n[contracts]\noutput_upcoding = 0.5\n')
    assert type(p) is DemandDriven
    assert p.contracts == DemandDriven().contracts.with_changes(output_upcoding=0.5)
    s = vv.Scenario.from_toml("[budget.per_inhabitant]\nwmo = 100.0\n")
    assert s.budget.per_inhabitant == {**vv.Scenario.default().budget.per_inhabitant, "wmo": 100.0}
    p = vv.Policy.from_toml('regime = "supply-driven"\n[contracts]\ntask_capacity = 2.0\n')
    assert p.contracts.task_capacity == 2.0
    assert p.contracts.effort_prolongation == SupplyDriven().contracts.effort_prolongation


def test_an_unknown_contract_or_regime_gets_a_hint():
    with pytest.raises(ParameterError, match="did you mean 'output'"):
        SupplyDriven(contract="outptu")
    with pytest.raises(ParameterError, match="did you mean 'demand-driven'"):
        resolve_policy("demand_driven")
    with pytest.raises(ParameterError, match="regime"):
        vv.Policy.from_toml('regime = "supply"\n')


def test_dutch_names_are_aliases_wherever_a_policy_is_named(tmp_path):
    from vraagvolgend.cli import load_experiment

    assert type(resolve_policy("aanbodgericht")) is vv.SupplyDriven
    assert type(resolve_policy("Vraagvolgend")) is vv.DemandDriven
    path = tmp_path / "p.toml"
    path.write_text('regime = "vraagvolgend"\nname = "dd"\n')
    assert type(vv.Policy.from_toml(path)) is vv.DemandDriven
    experiment = tmp_path / "e.toml"
    experiment.write_text('policies = ["aanbodgericht", "vraagvolgend"]\n')
    assert [p.name for p in load_experiment(experiment).policies] == [
        "supply-driven",
        "demand-driven",
    ]
    with pytest.raises(vv.ParameterError, match="vraagvolgnd"):
        resolve_policy("vraagvolgnd")


# --- the table of assumptions ------------------------------------------------------------------


def test_the_assumptions_table_lists_every_difference_with_a_source_and_a_range():
    from vraagvolgend.financing import assumptions_table

    table = assumptions_table().set_index("parameter")
    changes = vv.DemandDriven().changes_from(vv.SupplyDriven())
    differing = [k for k in changes if k not in ("name", "regime")]
    assert len(differing) >= 10
    for key in differing:
        row = table.loc[key]
        assert row["differs"], key
        assert row["range"] and row["why"], f"{key}: no plausible range"
        assert row["source"] and row["source"] != "-", f"{key}: no source"
    prices = ["access.conversation_cost", "outreach_cost", "network_programme_cost"]
    prices += [
        f"provisions.{law}.{name}.cost_month"
        for law in ("collective", "jeugdwet", "wmo", "participatiewet")
        for name in getattr(vv.Scenario.default().provisions, law)
    ]
    for key in prices:
        assert table.loc[key, "range"], f"{key}: a price without a plausible range"


def test_every_plausible_range_contains_its_default():
    for section in (vv.SupplyDriven(), vv.DemandDriven(), vv.Scenario.default()):
        for row in section.assumptions():
            low, high = row["plausible"]
            if isinstance(low, str):
                continue
            assert low <= row["value"] <= high, row["parameter"]


def test_the_generated_assumptions_file_is_up_to_date():
    from pathlib import Path

    from vraagvolgend.financing import assumptions_markdown

    path = Path(__file__).resolve().parent.parent / "docs" / "assumptions.md"
    assert path.read_text(encoding="utf-8") == assumptions_markdown(), (
        "docs/assumptions.md is stale: run scripts/write_assumptions.py"
    )
