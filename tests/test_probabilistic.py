"""compare(..., uncertainty=N): draws, paired differences, the headline, executors, resuming."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import vraagvolgend as vv
from vraagvolgend.uncertainty import Uncertainty

POLICIES = ["supply-driven", "demand-driven"]
OPTIONS = {"replications": 2, "months": 12, "progress": False}


@pytest.fixture(scope="module")
def tiny():
    return vv.Scenario.default().with_changes(n_households=300, burn_in_months=12)


#: A few inputs: a scenario price, a policy parameter and a range per policy.
INPUTS = [
    Uncertainty("access.conversation_cost", 150, 500, distribution="triangular"),
    Uncertainty("policy.reference_severity", 0.6, 0.85),
    Uncertainty(
        "policy.review_factor",
        by_policy={"supply-driven": (0.5, 1.0), "demand-driven": (0.25, 1.0)},
    ),
]


@pytest.fixture(scope="module")
def analysed(tiny):
    return vv.compare(POLICIES, tiny, **OPTIONS, uncertainty=4, uncertainties=INPUTS)


def test_point_distributions_reproduce_the_plain_comparison_exactly(tiny):
    """Zero-width inputs at the base values: every draw is the plain comparison, seed for seed
    and number for number."""
    points = [
        Uncertainty.point("access.conversation_cost", 150.0),
        Uncertainty.point("policy.reference_severity", 0.7),
        Uncertainty(
            "policy.review_factor",
            distribution="point",
            by_policy={"supply-driven": (0.75, 0.75), "demand-driven": (0.5, 0.5)},
        ),
    ]
    c = vv.compare(POLICIES, tiny, **OPTIONS, uncertainty=3, uncertainties=points)
    u = c.uncertainty
    plain = c.runs.sort_values(["replication", "policy"]).reset_index(drop=True)
    for d in range(3):
        mine = u.runs[u.runs["draw"] == d].drop(columns="draw")
        mine = mine.sort_values(["replication", "policy"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(mine[plain.columns], plain)
    dd = c.summary[c.summary["policy"] == "demand-driven"].set_index("line")["difference"]
    for line, value in dd.items():
        assert (u.draws[f"cost_{line}"] == value).all()
    severity = c.outcomes.set_index(["policy", "outcome"])["difference"]
    assert (u.draws["mean_severity"] == severity["demand-driven", "mean_severity"]).all()
    assert u.interval()["low"] == u.interval()["high"] == u.interval()["at_defaults"]


def test_the_draws_table(analysed):
    u = analysed.uncertainty
    d = u.draws
    assert list(d.columns[:2]) == ["draw", "policy"]
    assert u.parameters == [
        "access.conversation_cost",
        "policy.reference_severity",
        "policy.review_factor[supply-driven]",
        "policy.review_factor[demand-driven]",
    ]
    assert list(d.columns[2:6]) == u.parameters
    assert {"cost_external_total", "cost_jeugdwet", "mean_severity", "share_3plus_problems"} <= set(
        d.columns
    )
    assert len(d) == 4 and (d["policy"] == "demand-driven").all()
    assert d["access.conversation_cost"].between(150, 500).all()
    assert d["access.conversation_cost"].nunique() == 4  # space-filling: no two alike
    # one quantile, each policy's own range: the two columns move together
    s, m = d["policy.review_factor[supply-driven]"], d["policy.review_factor[demand-driven]"]
    np.testing.assert_allclose((s - 0.5) / 0.5, (m - 0.25) / 0.75)
    # a draw's difference is the mean of its replications' paired differences
    r = u.replications
    mean = r.groupby("draw")["cost_external_total"].mean().to_numpy()
    np.testing.assert_allclose(d.sort_values("draw")["cost_external_total"], mean)
    runs = u.runs.set_index(["draw", "replication", "policy"])["cost_external_total"]
    first = runs[0, 0, "demand-driven"] - runs[0, 0, "supply-driven"]
    assert r[(r["draw"] == 0) & (r["replication"] == 0)]["cost_external_total"].item() == first
    assert set(u.inputs["input"]) == {x.name for x in INPUTS}
    assert "policy.outreach_cost" in set(u.fixed["parameter"])  # declared, not an input here


def test_the_headline(analysed):
    u = analysed.uncertainty
    d = u.draws
    assert u.probability_cheaper() == (d["cost_external_total"] < 0).mean()
    assert u.probability_worse() == (d["mean_severity"] > 0).mean()  # lower severity is better
    i = u.interval()
    assert i["low"] <= i["median"] <= i["high"]
    dd = analysed.summary.set_index(["policy", "line"]).loc[("demand-driven", "external_total")]
    assert (i["simulation_low"], i["simulation_high"]) == (
        dd["difference_ci_low"],
        dd["difference_ci_high"],
    )
    plane = u.plane(outcome="share_3plus_problems")
    assert list(plane.columns) == ["draw", "cost", "outcome", "cheaper", "better", "quadrant"]
    assert u.quadrants().sum() == pytest.approx(1.0)
    text = str(u)
    assert "probability it is cheaper" in text and "cheaper and better" in text
    with pytest.raises(vv.ParameterError, match="outcome"):
        u.probability_worse(outcome="youth_care_share")  # a level: neither better nor worse


def test_draws_are_reproducible_from_the_seed(tiny, analysed):
    again = vv.compare(POLICIES, tiny, **OPTIONS, uncertainty=4, uncertainties=INPUTS)
    pd.testing.assert_frame_equal(again.uncertainty.draws, analysed.uncertainty.draws)
    other = vv.compare(
        POLICIES, tiny, **{**OPTIONS, "replications": 1}, uncertainty=4, uncertainties=INPUTS,
        seed=1, design="sobol",
    )  # fmt: skip
    assert not np.allclose(
        other.uncertainty.draws["access.conversation_cost"],
        analysed.uncertainty.draws["access.conversation_cost"],
    )


def test_serial_process_pool_and_dask_give_identical_draws(tiny):
    pytest.importorskip("dask.distributed")
    options = {**OPTIONS, "replications": 1, "uncertainty": 2, "uncertainties": INPUTS[:2]}
    serial = vv.compare(POLICIES, tiny, **options)
    pool = vv.compare(POLICIES, tiny, **options, executor="processes", workers=2)
    dask = vv.compare(POLICIES, tiny, **options, executor="dask", workers=2)
    for other in (pool, dask):
        pd.testing.assert_frame_equal(serial.uncertainty.draws, other.uncertainty.draws)
        pd.testing.assert_frame_equal(serial.uncertainty.runs, other.uncertainty.runs)


def test_progress_is_told_to_a_callback_phase_by_phase(tiny):
    """Every finished task is told, in order, first the replications then the draws'."""
    events = []
    options = {**OPTIONS, "replications": 2, "uncertainty": 2, "uncertainties": INPUTS[:1]}
    c = vv.compare(
        POLICIES, tiny, **options, draw_replications=1, on_progress=lambda *e: events.append(e)
    )
    assert events == [
        ("replications", 0, 2),
        ("replications", 1, 2),
        ("replications", 2, 2),
        ("uncertainty", 0, 2),
        ("uncertainty", 1, 2),
        ("uncertainty", 2, 2),
    ]
    assert len(c.uncertainty.draws) == 2


def test_an_interrupted_analysis_resumes_without_recomputing_stored_draws(
    tiny, tmp_path, monkeypatch
):
    """Ctrl-C at draw 2 of 3: draws 0 and 1 are kept; the same call computes only draw 2,
    and gives exactly the uninterrupted analysis."""
    from vraagvolgend import probabilistic as module
    from vraagvolgend.executors import SweepInterrupted
    from vraagvolgend.store import StaleResults

    real = module._draw_one
    computed = []

    def interrupted_at_2(task):
        if task[-1] == 2:
            raise KeyboardInterrupt
        computed.append((task[-1], task[4]))
        return real(task)

    options = {**OPTIONS, "uncertainty": 3, "uncertainties": INPUTS, "store": tmp_path}
    monkeypatch.setattr(module, "_draw_one", interrupted_at_2)
    with pytest.raises(SweepInterrupted) as info:
        vv.compare(POLICIES, tiny, **options)
    assert (info.value.stored, info.value.total) == (4, 6)
    assert computed == [(0, 0), (0, 1), (1, 0), (1, 1)]

    monkeypatch.setattr(module, "_draw_one", lambda t: computed.append((t[-1], t[4])) or real(t))
    events = []
    resumed = vv.compare(POLICIES, tiny, **options, on_progress=lambda *e: events.append(e))
    assert computed[4:] == [(2, 0), (2, 1)]  # draws 0 and 1 were not computed again
    # the progress starts from the stored replications
    assert [e for e in events if e[0] == "uncertainty"] == [
        ("uncertainty", n, 6) for n in (4, 5, 6)
    ]
    options.pop("store")
    whole = vv.compare(POLICIES, tiny, **options)
    pd.testing.assert_frame_equal(resumed.uncertainty.draws, whole.uncertainty.draws)
    pd.testing.assert_frame_equal(resumed.uncertainty.runs, whole.uncertainty.runs)
    # another definition of the draws is refused, naming what changed
    wider = [Uncertainty("access.conversation_cost", 150, 600), *INPUTS[1:]]
    with pytest.raises(StaleResults, match=r"access\.conversation_cost"):
        vv.compare(POLICIES, tiny, **{**options, "uncertainties": wider}, store=tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "field", "says"),
    [
        ({"uncertainty": 0}, "uncertainty", "from 1 to"),
        ({"uncertainty": 2, "design": "grid"}, "design", "lhs"),
        (
            {"uncertainty": 2, "uncertainties": [Uncertainty("access.conversation_cost", -10, 9)]},
            "access.conversation_cost.low",
            "between 0.0 and",
        ),
        (
            {"uncertainty": 2, "uncertainties": [Uncertainty("policy.exit_threshold", 0.3, 2.0)]},
            "policy.exit_threshold.high",
            "between",
        ),
        (
            {"uncertainty": 2, "uncertainties": [Uncertainty("policy.exit_treshold", 0, 1)]},
            "policy.exit_treshold",
            "did you mean 'policy.exit_threshold'",
        ),
        (
            {"uncertainty": 2, "uncertainties": [Uncertainty("acces.conversation_cost", 1, 2)]},
            "acces.conversation_cost",
            "did you mean 'access.conversation_cost'",
        ),
        (
            {
                "uncertainty": 2,
                "uncertainties": [
                    Uncertainty("policy.review_factor", by_policy={"vraagvolgend": (0.2, 1)})
                ],
            },
            "policy.review_factor.by_policy.vraagvolgend",
            "not a compared policy",
        ),
        ({"uncertainties": INPUTS}, "uncertainty", "number of draws"),
    ],
)
def test_bad_input_is_refused_before_any_run_in_one_line(kwargs, field, says, monkeypatch):
    from vraagvolgend import comparison

    monkeypatch.setattr(comparison, "_compare_one", lambda task: pytest.fail("it ran"))
    with pytest.raises(vv.ParameterError) as info:
        vv.compare(POLICIES, **kwargs)
    assert info.value.field == field and says in info.value.message
    assert "\n" not in str(info.value)


def test_the_analysis_is_saved_and_loaded_with_its_comparison(analysed, tmp_path):
    back = vv.Comparison.load(analysed.save(tmp_path / "c")).uncertainty
    pd.testing.assert_frame_equal(back.draws, analysed.uncertainty.draws)
    assert back.headline() == analysed.uncertainty.headline()
    assert str(back) == str(analysed.uncertainty)
