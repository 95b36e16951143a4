"""compare(): common random numbers, paired differences, validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import vraagvolgend as vv
from vraagvolgend import SupplyDriven


@pytest.fixture(scope="module")
def tiny():
    return vv.Scenario.default().with_changes(n_households=1500, burn_in_months=24)


def test_identical_policies_differ_by_exactly_zero(tiny):
    c = vv.compare(
        [SupplyDriven(), SupplyDriven(name="copy")], tiny, replications=3, months=24, progress=False
    )
    copy = c.summary[c.summary["policy"] == "copy"]
    assert (copy["difference"] == 0).all()
    assert (copy["difference_ci_low"] == 0).all() and (copy["difference_ci_high"] == 0).all()
    assert (copy["mean"] > 0).any()


def test_summary_layout_and_paired_intervals(tiny):
    c = vv.compare(
        ["supply-driven", "demand-driven"], tiny, replications=4, months=24, progress=False
    )
    assert set(c.summary.columns) == {
        "policy",
        "line",
        "mean",
        "ci_low",
        "ci_high",
        "difference",
        "difference_ci_low",
        "difference_ci_high",
    }
    dd = c.summary[(c.summary["policy"] == "demand-driven")].set_index("line")
    runs = c.runs.pivot(index="replication", columns="policy", values="cost_external_total")
    diff = runs["demand-driven"] - runs["supply-driven"]
    assert dd.loc["external_total", "difference"] == pytest.approx(diff.mean())
    assert dd.loc["external_total", "difference_ci_low"] < diff.mean()
    assert (c.summary["ci_low"] <= c.summary["mean"]).all()
    text = str(c)
    assert "External social-domain cost" in text and "Young people with youth care" in text
    assert "external_total" not in text and "<NA>" not in text  # labels, not keys
    assert c.table().shape == (8, 2)


def test_replications_use_distinct_seeds(tiny):
    c = vv.compare(["supply-driven"], tiny, replications=3, months=12, progress=False)
    assert c.runs["cost_external_total"].nunique() == 3
    again = vv.compare(["supply-driven"], tiny, replications=3, months=12, progress=False)
    np.testing.assert_array_equal(c.runs["cost_external_total"], again.runs["cost_external_total"])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"policies": []}, "policies"),
        ({"policies": ["supply-driven", "supply-driven"]}, "policies"),
        ({"policies": ["supply-driven"], "replications": 0}, "replications"),
        ({"policies": ["supply-driven"], "months": 6}, "months"),
    ],
)
def test_bad_arguments(kwargs, field):
    with pytest.raises(vv.ParameterError) as info:
        vv.compare(**kwargs)
    assert info.value.field == field


def test_parallel_compare_equals_serial(tiny):
    import pandas as pd

    args = (["supply-driven", "demand-driven"], tiny)
    options = {"replications": 2, "months": 12, "progress": False}
    serial = vv.compare(*args, **options)
    pool = vv.compare(*args, **options, executor="processes", workers=2)
    pd.testing.assert_frame_equal(serial.runs, pool.runs)
    pd.testing.assert_frame_equal(serial.summary, pool.summary)
    for name, table in serial.details.items():
        pd.testing.assert_frame_equal(table, pool.details[name])


def test_a_failing_run_raises_its_own_error(tiny):
    class Broken(SupplyDriven):
        def intensity(self, severity):
            raise ZeroDivisionError("broken rule")

    with pytest.raises(ZeroDivisionError, match="broken rule"):
        vv.compare([Broken(name="broken")], tiny, replications=1, months=12, progress=False)


def test_an_interrupted_compare_keeps_its_replications_and_resumes(tiny, tmp_path, monkeypatch):
    """Ctrl-C during replication 2 of 4: replications 0 and 1 are kept; the same call computes
    only 2 and 3, and gives exactly the uninterrupted comparison."""
    from vraagvolgend import comparison as module
    from vraagvolgend.experiments import SweepInterrupted

    real = module._compare_one
    computed = []

    def interrupted_at_2(task):
        if task[4] == 2:
            raise KeyboardInterrupt
        computed.append(task[4])
        return real(task)

    args = (["supply-driven", "demand-driven"], tiny)
    options = {"replications": 4, "months": 12, "progress": False, "store": tmp_path}
    monkeypatch.setattr(module, "_compare_one", interrupted_at_2)
    with pytest.raises(SweepInterrupted) as info:
        vv.compare(*args, **options)
    assert (info.value.stored, info.value.total, info.value.unit) == (2, 4, "replications")
    assert computed == [0, 1]

    monkeypatch.setattr(module, "_compare_one", lambda task: computed.append(task[4]) or real(task))
    resumed = vv.compare(*args, **options)
    assert computed == [0, 1, 2, 3]  # 0 and 1 were not computed again
    whole = vv.compare(*args, replications=4, months=12, progress=False)
    pd.testing.assert_frame_equal(resumed.runs, whole.runs)
    for name, table in whole.details.items():
        pd.testing.assert_frame_equal(resumed.details[name], table)


def test_a_compare_store_refuses_another_definition(tiny, tmp_path):
    from vraagvolgend.store import StaleResults

    vv.compare(["supply-driven"], tiny, replications=1, months=12, progress=False, store=tmp_path)
    with pytest.raises(StaleResults, match="months"):
        vv.compare(
            ["supply-driven"], tiny, replications=1, months=24, progress=False, store=tmp_path
        )


def test_the_baseline_is_saved_loaded_and_reported(tiny, tmp_path):
    """A baseline that is not the first policy survives save and load, anchors the printed
    differences and is the decomposition's baseline."""
    import json

    c = vv.compare(
        [vv.DemandDriven(), SupplyDriven()],
        tiny,
        replications=2,
        months=12,
        progress=False,
        baseline="supply-driven",
    )
    folder = c.save(tmp_path / "cmp")
    assert json.loads((folder / "manifest.json").read_text())["baseline"] == "supply-driven"
    back = vv.Comparison.load(folder)
    assert back.baseline == "supply-driven"
    assert "difference against 'supply-driven'" in str(back)
    diff = back.summary.set_index(["policy", "line"])["difference"]
    assert diff["supply-driven"].abs().max() == 0 and diff["demand-driven"].abs().max() > 0
    from vraagvolgend.decomposition import decompose_comparison

    d = decompose_comparison(back, replications=1, groups={"all": []}, executor="serial")
    assert (d.baseline, d.alternative) == ("supply-driven", "demand-driven")


def test_every_policy_starts_month_1_from_one_state(tiny):
    """burn_in="baseline": the policies' models are forks of one burnt-in municipality."""
    from test_model import SWITCH, _assert_same, _state
    from vraagvolgend.comparison import Start

    start = Start(tiny, vv.SupplyDriven(), np.random.SeedSequence(3), "baseline")
    forks = [start.today.fork(p) for p in (vv.SupplyDriven(), vv.DemandDriven(), SWITCH)]
    for fork in forks[1:]:
        _assert_same(_state(forks[0]), _state(fork))


def test_burn_in_each_is_a_run_of_each_policy_and_baseline_differs(tiny):
    s = tiny.with_changes({"budget.set_from_baseline": False})
    options = {"replications": 1, "months": 12, "seed": 4, "progress": False}
    each = vv.compare(["supply-driven", "demand-driven"], s, burn_in="each", **options)
    today = vv.compare(["supply-driven", "demand-driven"], s, **options)
    child = np.random.SeedSequence(4).spawn(1)[0]
    for policy in ("supply-driven", "demand-driven"):
        alone = vv.outputs.summarise(vv.run(s, policy, seed=child, months=12))
        row = each.runs[each.runs["policy"] == policy].iloc[0]
        assert {k: row[k] for k in alone} == alone
    # the baseline's own run is the same either way; the alternative starts from today
    base = {k: today.runs.iloc[0][k] for k in alone}
    assert base == {k: each.runs.iloc[0][k] for k in alone}
    alt_each, alt_today = each.runs.iloc[1], today.runs.iloc[1]
    assert alt_each["cost_external_total"] != alt_today["cost_external_total"]
    assert today.burn_in == "baseline" and each.burn_in == "each"
    with pytest.raises(vv.ParameterError, match="burn_in"):
        vv.compare(["supply-driven"], s, burn_in="today", **options)
