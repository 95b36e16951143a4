"""Uncertain inputs: distributions, the defaults from the plausible ranges, overrides, TOML."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vraagvolgend as vv
from vraagvolgend.inputs import load_uncertainty
from vraagvolgend.uncertainty import (
    Uncertainty,
    default_uncertainties,
    fixed_parameters,
    override,
    uncertainty_from_dict,
)

unit = st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=20)


@given(
    low=st.floats(-1e6, 1e6),
    width=st.floats(0, 1e6),
    at=st.floats(0, 1),
    u=unit,
    distribution=st.sampled_from(["uniform", "triangular"]),
    integer=st.booleans(),
)
def test_draws_stay_in_their_range_and_rise_with_the_quantile(
    low, width, at, u, distribution, integer
):
    high = low + width
    mode = low + at * width if distribution == "triangular" else None
    x = Uncertainty("a.b", low, high, distribution=distribution, mode=mode, integer=integer)
    values = x.from_unit(u)
    assert all(np.floor(low) <= v <= np.ceil(high) for v in values)
    order = np.argsort(u, kind="stable")
    assert np.all(np.diff(np.asarray(values, dtype=float)[order]) >= 0)
    if integer:
        assert all(isinstance(v, int) for v in values)


def test_a_point_takes_one_value_and_a_lever_refuses_it():
    point = Uncertainty.point("access.conversation_cost", 150)
    assert point.from_unit([0.0, 0.3, 0.99]) == [150.0] * 3
    with pytest.raises(vv.ParameterError, match="lever needs low < high"):
        vv.Lever("outreach", 0.1, 0.1)


def test_the_triangular_peak_is_its_mode():
    x = Uncertainty("a", 0.0, 10.0, distribution="triangular", mode=2.0)
    # the CDF at the mode is (mode - low) / (high - low)
    assert x.from_unit([0.2])[0] == pytest.approx(2.0)
    assert np.mean(x.from_unit(np.linspace(0, 1, 10_001)[:-1])) == pytest.approx(4.0, abs=0.01)


@pytest.mark.parametrize(
    ("kwargs", "field", "says"),
    [
        ({"low": 5, "high": 1}, "x.y", "low ≤ high"),
        ({"low": 0, "high": 1, "distribution": "beta"}, "x.y.distribution", "uniform"),
        ({"low": 0, "high": 1, "distribution": "triangular", "mode": 2}, "x.y.mode", "between"),
        ({"low": 0, "high": 1, "mode": 0.5}, "x.y.mode", "triangular"),
        ({"low": 0, "high": 1, "distribution": "point"}, "x.y.high", "a point"),
        ({"low": "a", "high": 1}, "x.y.low", "not a number"),
        ({"values": [1, 2], "distribution": "triangular"}, "x.y.distribution", "values"),
        ({"by_policy": {"demand-driven": (0, 1)}}, "x.y.by_policy", "policy parameter"),
    ],
)
def test_a_bad_declaration_names_its_field(kwargs, field, says):
    with pytest.raises(vv.ParameterError) as info:
        Uncertainty("x.y", **kwargs)
    assert info.value.field == field and says in info.value.message
    assert "\n" not in str(info.value)


def test_every_declared_range_is_an_input_or_listed_as_fixed():
    inputs = default_uncertainties()
    fixed = fixed_parameters()
    names = {u.name for u in inputs} | {row["parameter"] for row in fixed}
    declared = {r["parameter"] for r in vv.Scenario.default().assumptions()}
    for policy in (vv.SupplyDriven(), vv.DemandDriven()):
        declared |= {"policy." + r["parameter"] for r in policy.assumptions()}
    assert names == declared
    by = {u.name: u for u in inputs}
    # one range and default in both regimes: one input, triangular around the default
    assert by["policy.exit_threshold"].by_policy is None
    assert by["policy.exit_threshold"].mode == 0.4
    # each regime its own range: one input, a range per policy
    assert dict((p, (lo, hi)) for p, lo, hi, _ in by["policy.review_factor"].by_policy) == {
        "supply-driven": (0.5, 1.0),
        "demand-driven": (0.25, 1.0),
    }
    assert by["policy.max_parallel"].integer  # declared by demand-driven only, whole numbers
    assert {r["parameter"] for r in fixed} == {"policy.continuation", "policy.root_cause_order"}
    uniform = default_uncertainties(distribution="uniform")
    assert {u.distribution for u in uniform} == {"uniform"}
    only_scenario = default_uncertainties(policies=[])
    assert all(u.target == "scenario" for u in only_scenario)


def test_by_policy_draws_one_quantile_for_every_policy():
    x = Uncertainty(
        "policy.review_factor",
        by_policy={"supply-driven": (0.5, 1.0), "demand-driven": (0.25, 1.0)},
    )
    values = x.by_unit([0.0, 0.5])
    assert values == {"supply-driven": [0.5, 0.75], "demand-driven": [0.25, 0.625]}


def test_overrides_replace_add_and_fix_by_name():
    inputs = default_uncertainties()
    mine = override(
        inputs,
        [
            Uncertainty("access.conversation_cost", 150, 250),
            Uncertainty("network.mean_degree", 6, 10),
        ],
        fixed=["policy.outreach_cost"],
    )
    by = {u.name: u for u in mine}
    assert by["access.conversation_cost"].high == 250 and "network.mean_degree" in by
    assert "policy.outreach_cost" not in by and len(mine) == len(inputs)
    with pytest.raises(vv.ParameterError, match=r"did you mean 'policy\.outreach_cost'"):
        override(inputs, fixed=["policy.outreach_cots"])


def test_an_uncertainty_table_in_toml(tmp_path):
    file = tmp_path / "u.toml"
    file.write_text(
        "[uncertainty]\ndraws = 8\ndesign = 'sobol'\nfixed = ['policy.outreach_cost']\n"
        "[[uncertainty.inputs]]\nname = 'access.conversation_cost'\nlow = 150\nhigh = 300\n"
        "[[uncertainty.inputs]]\nname = 'policy.review_factor'\ndistribution = 'triangular'\n"
        "by_policy = { supply-driven = { low = 0.5, high = 1.0, mode = 0.75 }, "
        "demand-driven = { low = 0.25, high = 1.0 } }\n",
        encoding="utf-8",
    )
    options = load_uncertainty(file)
    assert options["uncertainty"] == 8 and options["design"] == "sobol"
    by = {u.name: u for u in options["uncertainties"]}
    assert by["access.conversation_cost"].distribution == "uniform"
    assert by["policy.review_factor"].by_policy[0] == ("supply-driven", 0.5, 1.0, 0.75)
    assert "policy.outreach_cost" not in by
    only = uncertainty_from_dict(
        {"defaults": False, "inputs": [{"name": "access.conversation_cost", "low": 1, "high": 2}]}
    )
    assert [u.name for u in only["uncertainties"]] == ["access.conversation_cost"]
    back = uncertainty_from_dict({"defaults": False, "inputs": [u.to_dict() for u in by.values()]})
    assert {u.name: u for u in back["uncertainties"]} == by


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"draws": 4, "inputs": [{"name": "a", "lwo": 1}]}, "uncertainty.inputs[0].lwo"),
        ({"inputs": [{"name": "a", "low": 2, "high": 1}]}, "uncertainty.inputs[0].a"),
        ({"fixed": "policy.outreach_cost"}, "uncertainty.fixed"),
        ({"drwas": 4}, "uncertainty.drwas"),
        ({"defaults": "yes"}, "uncertainty.defaults"),
    ],
)
def test_a_bad_uncertainty_table_names_the_key(table, field):
    with pytest.raises(vv.ParameterError) as info:
        uncertainty_from_dict(table)
    assert info.value.field == field


def test_experiments_sample_the_declared_distribution():
    u = Uncertainty("network.mean_degree", 4.0, 12.0, distribution="triangular", mode=4.0)
    e = vv.Experiment("tri", ["supply-driven"], [u], design="lhs", samples=64, replications=1)
    degrees = e.scenario_points()["network.mean_degree"]
    assert degrees.between(4, 12).all() and degrees.mean() < 8  # a peak at 4 pulls it down


def test_salib_takes_the_declared_distribution():
    from vraagvolgend.sensitivity import _problem

    tri = Uncertainty("a", 0, 10, distribution="triangular", mode=2)
    problem = _problem([tri, Uncertainty("b", 1, 2)])
    assert problem["dists"] == ["triang", "unif"]
    assert problem["bounds"] == [[0.0, 10.0, 0.2], [1.0, 2.0]]
    with pytest.raises(vv.ParameterError, match="Morris samples a grid"):
        _problem([tri], distributions=False)
    with pytest.raises(vv.ParameterError, match="does not vary"):
        _problem([Uncertainty.point("a", 1)])
