"""The Mesa model: reproducibility, Mesa idioms, household views and data collection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import vraagvolgend as vv
from vraagvolgend.model import MunicipalityModel


def test_same_seed_same_tables_and_different_seeds_differ(small):
    a = vv.run(small, seed=7, months=24)
    b = vv.run(small, seed=7, months=24)
    c = vv.run(small, seed=8, months=24)
    for table in ("households", "problems", "monthly"):
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table))
    assert not a.households.equals(c.households)
    assert not a.monthly.equals(c.monthly)


def test_mesa_time_and_run_for(small):
    m = vv.MunicipalityModel(small, rng=1)
    assert m.time == 0
    m.run_for(5)
    assert m.time == 5 and m.month == 5 and m.steps == 5
    df = m.datacollector.get_model_vars_dataframe()
    assert df["month"].tolist() == [1, 2, 3, 4, 5]


def test_monthly_counts_add_up(small):
    r = vv.run(small, seed=2, months=12)
    counts = r.monthly[[f"households_{k}_problems" for k in ("0", "1", "2", "3plus")]]
    assert (counts.sum(axis=1) == small.n_households).all()
    last = r.active_problems(1)
    assert counts.iloc[-1].tolist() == np.bincount(np.minimum(last, 3), minlength=4).tolist()


def test_household_view_reads_the_columns(small):
    m = vv.MunicipalityModel(small, rng=1)
    i = int(np.argmax(m.severity.sum(axis=0)))
    h = m.household(i)
    assert h.problems["finances"] == pytest.approx(float(m.severity[0, i]))
    assert h.household_type in vv.HOUSEHOLD_TYPES
    assert set(h.zrm_levels.values()) <= {1, 2, 3, 4, 5}
    assert all(m.network[i, j] == w for j, w in h.neighbours.items())
    assert "Household" in repr(h)
    with pytest.raises(IndexError, match="out of range"):
        m.household(small.n_households)


def test_streams_separate_processes(small):
    # Changing only the support process leaves life events (their own stream) untouched.
    a = vv.run(small, seed=4, months=12).monthly
    b = vv.run(small.with_changes({"support.enabled": False}), seed=4, months=12).monthly
    ev = [c for c in a.columns if c.startswith("events_")]
    assert a["events_job_loss"].iloc[0] == b["events_job_loss"].iloc[0]
    assert a[ev].sum().sum() > 0


def test_unknown_policy_is_rejected(small):
    with pytest.raises(vv.ParameterError, match="not a known policy") as info:
        vv.MunicipalityModel(small, policy="demand-led", rng=1)
    assert info.value.field == "policy"


def test_bad_scenario_type_is_rejected():
    with pytest.raises(TypeError, match="Scenario"):
        vv.MunicipalityModel({"n_households": 10}, rng=1)


def test_severity_is_read_only_and_assignment_is_validated(small):
    m = vv.MunicipalityModel(small, rng=1)
    with pytest.raises(ValueError, match="read-only"):
        m.severity[0, 0] = 0.5
    with pytest.raises(ValueError, match="shape"):
        m.severity = np.zeros((2, 2))
    with pytest.raises(ValueError, match="between 0 and 1"):
        m.severity = np.full_like(m.severity, 2.0)
    m.severity = np.zeros_like(m.severity)
    assert m.aggregates is not None and (m.severity == 0).all()
    m.step()
    assert m.aggregates["households_0_problems"] > 0.9 * small.n_households


# --- Snapshots and forks ------------------------------------------------------------------------


class _Counter(vv.Process):
    """A user's process with state of its own and a stream of its own."""

    name = "counter"
    after = "problem_dynamics"

    def init(self, model):
        super().init(model)
        self.rng = model.streams["counter"]
        self.total = 0.0

    def step(self, state):
        self.total += float(self.rng.random())

    def reporters(self):
        return {"counter_total": self.total}


def _state(model) -> dict:
    """Everything that can differ between two models of one municipality."""
    streams = {k: g.bit_generator.state for k, g in model.streams._generators.items()}
    out = {
        "monthly": model.datacollector.get_model_vars_dataframe(),
        "severity": model.severity.copy(),
        "strain": model.strain.copy(),
        "streams": streams,
        "mesa_rng": model.rng.bit_generator.state,
    }
    if model.care is not None:
        for name in ("slot", "left", "months_in", "intensity", "episode", "waiting", "entitled"):
            out[name] = getattr(model.care, name).copy()
    return out


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], np.ndarray):
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
        elif isinstance(a[key], pd.DataFrame):
            pd.testing.assert_frame_equal(a[key], b[key])
        else:  # random-stream states: nested dicts holding arrays
            np.testing.assert_equal(a[key], b[key], err_msg=key)


SWITCH = vv.PolicySwitch(vv.SupplyDriven(), vv.DemandDriven(), at_month=6, ramp_months=6)


@pytest.mark.parametrize("policy", ["supply-driven", "demand-driven", SWITCH, None])
def test_running_forking_and_running_on_is_running_straight_through(policy):
    s = vv.Scenario.default().with_changes(n_households=1500, burn_in_months=12)
    straight = MunicipalityModel(s, policy, rng=4, processes=[_Counter()])
    straight.run_for(24)
    half = MunicipalityModel(s, policy, rng=4, processes=[_Counter()])
    half.run_for(12)
    twin = half.fork()
    twin.run_for(12)
    _assert_same(_state(straight), _state(twin))
    assert twin.pipeline["counter"].total == straight.pipeline["counter"].total
    half.run_for(12)  # the original is untouched by its fork
    _assert_same(_state(straight), _state(half))


def test_forks_under_other_policies_start_from_one_state():
    s = vv.Scenario.default().with_changes(n_households=1500, burn_in_months=24)
    today = MunicipalityModel(s, "supply-driven", rng=2)
    forks = [today.fork(p) for p in ("supply-driven", "demand-driven", SWITCH)]
    for fork in forks[1:]:
        _assert_same(_state(forks[0]), _state(fork))
    assert [type(f.care.policy).__name__ for f in forks] == [
        "SupplyDriven",
        "DemandDriven",
        "PolicySwitch",
    ]
    for fork in forks:
        fork.run_for(12)
    a, b = (f.datacollector.get_model_vars_dataframe() for f in forks[:2])
    assert not a.equals(b)  # the policies then differ
    with pytest.raises(ValueError, match="cannot add or remove formal care"):
        today.fork(None)


@pytest.mark.parametrize("policy", ["supply-driven", "demand-driven"])
def test_a_switch_forked_under_one_policy_runs_its_new_way_episodes_under_it(policy):
    s = vv.Scenario.default().with_changes(n_households=1500, burn_in_months=12)
    switch = vv.PolicySwitch(vv.SupplyDriven(), vv.DemandDriven(), at_month=1, ramp_months=2)
    today = MunicipalityModel(s, switch, rng=1)
    today.run_for(8)
    rules = today.care.run.rule.copy()
    assert (rules == 1).any()  # episodes of the new way of working are running
    fork = today.fork(policy)
    assert (fork.care.run.rule == 0).all()  # the single policy's only regime runs them
    np.testing.assert_array_equal(today.care.run.rule, rules)  # the original keeps its own
    fork.run_for(12)  # every episode is reviewed and tracked under the one regime
    assert len(fork.care.run) and (fork.care.run.rule == 0).all()


def test_the_monthly_table_is_mesas_and_a_reporter_of_ones_own_is_collected(small):
    plain = MunicipalityModel(small, "supply-driven", rng=2)
    plain.run_for(3)
    m = MunicipalityModel(small, "supply-driven", rng=2)
    m.datacollector._new_model_reporter("twice", lambda model: 2 * model.aggregates["arrivals"])
    m.run_for(3)
    table = m.datacollector.get_model_vars_dataframe()
    pd.testing.assert_frame_equal(
        table.drop(columns="twice"), plain.datacollector.get_model_vars_dataframe()
    )
    assert (table["twice"] == 2 * table["arrivals"]).all()
    assert m.datacollector._collection_steps == plain.datacollector._collection_steps == [1, 2, 3]
