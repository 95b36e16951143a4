"""Policies: validation, variants as declared changes, serialisation, subclassing, switching."""

from __future__ import annotations

import numpy as np
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
