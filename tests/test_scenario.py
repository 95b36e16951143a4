"""Scenario: defaults, validation with named fields, TOML round trip, immutability."""

from __future__ import annotations

import dataclasses

import pytest

import vraagvolgend as vv
from vraagvolgend import ParameterError, Scenario


def test_default_is_valid_and_documented():
    s = Scenario.default()
    assert s.n_households == 24_000
    assert 8 <= len(s.neighbourhoods) <= 12
    deprivations = [n.deprivation for n in s.neighbourhoods]
    assert max(deprivations) - min(deprivations) > 0.5  # neighbourhoods of varying deprivation
    table = s.describe()
    assert len(table) > 50
    # Every behavioural parameter carries a source or says that it is an assumption.
    assert table["source"].str.len().min() > 0
    assert {"parameter", "value", "allowed", "source", "meaning"} <= set(table.columns)


def test_toml_round_trip(tmp_path):
    s = Scenario.default().with_changes({"network.mean_degree": 7.5, "support.enabled": False})
    path = tmp_path / "s.toml"
    text = s.to_toml(path)
    assert "# " in text  # sources are written as comments
    assert Scenario.from_toml(path) == s
    assert Scenario.from_toml(text) == s


def test_partial_toml_keeps_defaults():
    s = Scenario.from_toml("n_households = 500\n[network]\nmean_degree = 6\n")
    assert s.n_households == 500
    assert s.network.mean_degree == 6.0
    assert s.network.homophily == Scenario.default().network.homophily


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"n_households": 5}, "n_households", "between 10 and 20000000"),
        ({"network.mean_degree": -1}, "network.mean_degree", "between 0.0 and 100.0"),
        ({"problems.onset_rate.finances": 2.0}, "problems.onset_rate.finances", "between"),
        ({"problems.spillover.finances.work": -0.5}, "problems.spillover.finances.work", ""),
        ({"support.enabled": "yes"}, "support.enabled", "true or false"),
        ({"problems.threshold": float("nan")}, "problems.threshold", "finite"),
        ({"n_households": 100.5}, "n_households", "integer"),
        ({"life_events.job_loss.rate": 3}, "life_events.job_loss.rate", "between 0.0 and 1.0"),
    ],
)
def test_invalid_values_name_the_field(changes, field, fragment):
    with pytest.raises(ParameterError) as info:
        Scenario.default().with_changes(changes)
    assert info.value.field == field
    assert fragment in str(info.value)
    assert field in str(info.value)


def test_invalid_neighbourhood_names_its_index():
    data = Scenario.default().to_dict()
    data["neighbourhoods"][2]["deprivation"] = 1.5
    with pytest.raises(ParameterError) as info:
        Scenario.from_dict(data)
    assert info.value.field == "neighbourhoods[2].deprivation"


def test_unknown_keys_suggest_a_name():
    with pytest.raises(ParameterError, match=r"did you mean 'mean_degree'\?"):
        Scenario.from_toml("[network]\nmean_degre = 6\n")
    with pytest.raises(ParameterError, match="did you mean 'problems'"):
        Scenario.from_toml("[problms]\nthreshold = 0.4\n")
    with pytest.raises(ParameterError, match="did you mean 'finances'"):
        Scenario.default().with_changes({"problems.onset_rate": {"finance": 0.001}})
    with pytest.raises(ParameterError, match="household_types"):
        Scenario.default().with_changes({"life_events.job_loss.household_types": ["dog"]})


def test_shares_must_sum_to_one():
    with pytest.raises(ParameterError, match="sum to 1") as info:
        Scenario.default().with_changes({"population.type_shares.single": 0.5})
    assert info.value.field == "population.type_shares"


def test_malformed_toml_names_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("n_households = = 3\n")
    with pytest.raises(ParameterError, match=r"broken\.toml") as info:
        Scenario.from_toml(path)
    assert "not valid TOML" in str(info.value)
    path.write_text("[network]\nmean_degree = 500\n")
    with pytest.raises(ParameterError, match=r"broken.toml: network.mean_degree"):
        Scenario.from_toml(path)


def test_scenarios_are_immutable():
    s = Scenario.default()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.n_households = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.problems.onset_rate["finances"] = 0.5  # type: ignore[index]
    changed = s.with_changes(n_households=100)
    assert s.n_households == 24_000 and changed.n_households == 100


def test_sections_validate_when_built_directly():
    with pytest.raises(ParameterError) as info:
        vv.Network(mean_degree=-3)
    assert info.value.field == "network.mean_degree"


def test_partial_files_merge_at_every_depth():
    s = Scenario.from_toml(
        "[provisions.wmo.household_help]\ncost_month = 300.0\n"
        "[support.capacity]\ncouple = 0.5\n"
        "[life_events.job_loss]\nrate = 0.004\n"
    )
    d = Scenario.default()
    assert s.provisions["household_help"].cost_month == 300.0
    assert (
        s.provisions["household_help"].duration_months
        == d.provisions["household_help"].duration_months
    )
    assert s.provisions.names == d.provisions.names
    assert s.support.capacity["couple"] == 0.5
    assert s.support.capacity["single"] == d.support.capacity["single"]
    assert s.life_events["job_loss"].rate == 0.004
    assert s.life_events["job_loss"].impact == d.life_events["job_loss"].impact
    assert set(s.life_events) == set(d.life_events)
