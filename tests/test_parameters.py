"""The input gate: every scenario and policy file is either refused with one error naming the
key, or accepted and runs (property-based fuzzing with hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzzing as fz
import vraagvolgend as vv
from fuzzing import MONTHS, check_result, flatten, junk, mutations, names_a_key, small, toml
from vraagvolgend.parameters import ParameterError

FUZZ = settings(
    max_examples=fz.examples(250),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SCENARIO = vv.Scenario.default().to_dict()
POLICIES = {
    name: vv.Policy.from_toml(f'regime = "{name}"\n').to_dict()
    for name in ("supply-driven", "demand-driven")
}


def _gate(load, text: str, changed: dict, tmp_path):
    """Load a fuzzed file: a value, or an error that names a changed key (never another
    exception)."""
    path = tmp_path / "fuzzed.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        return load(path)
    except ParameterError as err:
        assert "\n" not in str(err)
        assert str(path) in str(err)
        paths = list(flatten(changed)) or [("",)]
        assert names_a_key(err, paths) or "not valid TOML" in str(err) or "UTF-8" in str(err), (
            err,
            changed,
        )
        return None


@FUZZ
@given(changes=mutations(SCENARIO))
def test_fuzzed_scenario_files_are_refused_in_one_line_or_run(tmp_path, changes):
    scenario = _gate(vv.Scenario.from_toml, toml(changes), changes, tmp_path)
    if scenario is not None:
        check_result(vv.run(small(scenario), "supply-driven", seed=1, months=MONTHS))


@FUZZ
@given(
    regime=st.sampled_from(sorted(POLICIES)),
    data=st.data(),
)
def test_fuzzed_policy_files_are_refused_in_one_line_or_run(tmp_path, regime, data):
    changes = data.draw(mutations(POLICIES[regime]))
    changes = {"regime": data.draw(st.sampled_from([regime, regime]) | junk), **changes}
    policy = _gate(vv.Policy.from_toml, toml(changes), changes, tmp_path)
    if policy is not None:
        scenario = vv.Scenario.default().with_changes(n_households=800, burn_in_months=6)
        check_result(vv.run(scenario, policy, seed=2, months=MONTHS))


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("n_households = 1" + "0" * 400, "n_households"),
        ("[network]\nmean_degree = 1" + "0" * 400, "network.mean_degree"),
        ("[network]\nmean_degree = -1" + "0" * 400, "network.mean_degree"),
        ("[problems.onset_rate]\nfinances = 1" + "0" * 400, "problems.onset_rate.finances"),
    ],
)
def test_huge_integers_for_floats_name_the_key(text, key):
    with pytest.raises(ParameterError) as info:
        vv.Scenario.from_toml(text)
    assert info.value.field == key and "out of range" in info.value.message
    assert len(str(info.value)) < 200  # the 400 digits are not repeated


def test_non_utf8_and_unhashable_values_give_parameter_errors(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "café"\n'.encode("latin-1"))
    with pytest.raises(ParameterError, match="UTF-8"):
        vv.Scenario.from_toml(path)
    with pytest.raises(ParameterError, match="regime"):
        vv.Policy.from_toml("regime = {a = 1}\n")
    with pytest.raises(ParameterError, match="regime"):
        vv.Policy.from_toml("regime = [1, 2]\n")
