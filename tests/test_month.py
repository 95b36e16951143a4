"""The month as a pipeline: its order, timings, the month state, and adding a process."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

import vraagvolgend as vv
from vraagvolgend.month import MonthState, Pipeline, Process

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SMALL = {"n_households": 2000, "burn_in_months": 12}


def test_the_order_is_declared_once_and_readable_with_timings():
    s = vv.Scenario.default().with_changes(**SMALL)
    m = vv.MunicipalityModel(s, "supply-driven", rng=1)
    m.run_for(6)
    plan = m.pipeline.plan()
    assert plan["process"].tolist() == [p.name for p in vv.PROCESSES]
    assert (plan["calls"] == 12 + 6).all()  # burn-in months and simulated months
    assert (plan["seconds"] > 0).all() and plan["share"].sum() == pytest.approx(1.0)
    assert plan.set_index("process").loc["access", "module"] == "vraagvolgend.access"
    # Without formal care the care processes are left out, the rest keep their order
    bare = vv.MunicipalityModel(s, None, rng=1).pipeline.names()
    assert bare == ["life_events", "informal_support", "problem_dynamics", "carer_strain"]


def test_every_process_reads_the_state_at_the_start_of_the_month():
    """Processes see one MonthState; the start-of-month state is never written during it."""
    seen = []

    class Spy(Process):
        name = "spy"
        after = "reviews"

        def step(self, state: MonthState):
            assert not state.severity.flags.writeable
            assert state.severity_end is not None and state.severity_end is not state.severity
            seen.append((state.month, len(state.arrivals.households), state.costs.sum()))

    s = vv.Scenario.default().with_changes(**SMALL)
    m = vv.MunicipalityModel(s, "demand-driven", rng=2, processes=[Spy()])
    m.run_for(3)
    assert [month for month, *_ in seen][-3:] == [1, 2, 3]
    assert m.pipeline.names().index("spy") == m.pipeline.names().index("reviews") + 1


def test_pipeline_refuses_duplicates_and_unknown_anchors():
    class A(Process):
        name = "a"

    with pytest.raises(ValueError, match="unique"):
        Pipeline([A(), A()])
    p = Pipeline([A()])
    with pytest.raises(KeyError, match="no process named 'nope'"):
        p.insert(type("B", (Process,), {"name": "b"})(), after="nope")


def test_a_process_added_in_an_example_changes_the_run_and_nothing_else(capsys):
    module = runpy.run_path(str(EXAMPLES / "debt_relief.py"))
    relief = module["DebtRelief"]
    s = vv.Scenario.default().with_changes(**SMALL)
    a = vv.run(s, "supply-driven", seed=3, months=24)
    b = vv.run(s, "supply-driven", seed=3, months=24, processes=[relief(uptake=0.2)])
    # The scheme helps: fewer finance problems, paid cases
    assert b.monthly["debt_relief_cases"].sum() > 0
    assert b.monthly["mean_severity_finances"].iloc[-12:].mean() < (
        a.monthly["mean_severity_finances"].iloc[-12:].mean()
    )
    # A zero-uptake scheme changes nothing: the other processes' draws are untouched
    c = vv.run(s, "supply-driven", seed=3, months=24, processes=[relief(uptake=0.0)])
    np.testing.assert_array_equal(a.costs["cost_eur"].to_numpy(), c.costs["cost_eur"].to_numpy())
    module["main"](["--households", "1500", "--months", "12"])
    assert "debt_relief" in capsys.readouterr().out
