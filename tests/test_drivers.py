"""What decides the answer: sensitivity, break-even values, PRIM rules and sentences."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.stats import qmc

import vraagvolgend as vv
from vraagvolgend.drivers import (
    BreakEven,
    Limit,
    Rule,
    break_even,
    break_even_for,
    discover,
    explain,
    parameter_label,
    sensitivity,
)
from vraagvolgend.parameters import ParameterError


def _draws(n=400, seed=7, replications=None):
    """A Latin hypercube over three inputs; the difference falls with the price, rises a
    little with the severity and ignores the null input."""
    u = qmc.LatinHypercube(d=3, seed=seed).random(n)
    draws = pd.DataFrame(
        {
            "access.conversation_cost": 150 + 350 * u[:, 0],
            "policy.reference_severity": 0.6 + 0.25 * u[:, 1],
            "problems.onset_rate.work": 0.001 + 0.002 * u[:, 2],
        }
    )
    noise = np.random.default_rng(seed).normal(0, 80_000, n)
    draws["cost_total"] = (
        1_000 * (draws["access.conversation_cost"] - 250)
        + 400_000 * (draws["policy.reference_severity"] - 0.7)
        + noise
    )
    if replications:
        rows = []
        for r in range(replications):
            rows.append(draws.assign(replication=r, draw=np.arange(n)))
            rows[-1]["cost_total"] += np.random.default_rng([seed, r]).normal(0, 1_000, n)
        draws = pd.concat(rows, ignore_index=True)
    return draws


# --- sensitivity --------------------------------------------------------------------------------


def test_sensitivity_null_input_interval_contains_zero_below_005():
    table = sensitivity(_draws(), None, "cost_total", bootstrap=300, seed=1).set_index("parameter")
    null = table.loc["problems.onset_rate.work"]
    assert null["low"] == 0.0 <= null["index"] <= null["high"] < 0.05
    price = table.loc["access.conversation_cost"]
    assert price["rank"] == 1 and price["low"] > 0.5 and price["coefficient"] > 0
    severity = table.loc["policy.reference_severity"]
    assert severity["rank"] == 2 and severity["low"] > null["high"]
    assert 0.5 < table.attrs["r2"] < 0.8 and "rank regression" in table.attrs["method"]
    assert set(table["method"]) == {"srrc2"}
    # nearly orthogonal inputs: the shares add up to about the rank regression's R²
    assert table["index"].sum() == pytest.approx(table.attrs["r2"], abs=0.06)


def test_sensitivity_reproducible_and_averages_replications():
    plain = sensitivity(_draws(), None, "cost_total", bootstrap=100, seed=3)
    again = sensitivity(_draws(), None, "cost_total", bootstrap=100, seed=3)
    pd.testing.assert_frame_equal(plain, again)
    reps = sensitivity(_draws(replications=2), None, "cost_total", bootstrap=100, seed=3)
    assert reps.attrs["n"] == 400  # one row per draw after averaging
    assert list(reps["parameter"]) == list(plain["parameter"])


def test_sensitivity_codes_a_choice_and_names_bad_input():
    d = _draws(200).assign(**{"policy.continuation": lambda t: np.where(t.index % 2, "a", "b")})
    table = sensitivity(d, None, "cost_total", bootstrap=60)
    assert "policy.continuation" in set(table["parameter"])
    with pytest.raises(ParameterError, match="output: 'nope' is not a column"):
        sensitivity(d, None, "nope")
    with pytest.raises(ParameterError, match="bootstrap"):
        sensitivity(d, None, "cost_total", bootstrap=3)
    with pytest.raises(ParameterError, match="level"):
        sensitivity(d, None, "cost_total", level=1.5)
    with pytest.raises(ParameterError, match="draws: 5 usable draws"):
        sensitivity(d.head(5), None, "cost_total")
    with pytest.raises(ParameterError, match="draws: must be a pandas DataFrame"):
        sensitivity([1, 2], None, "cost_total")


# --- break-even ---------------------------------------------------------------------------------


def _linear(a=2.0, b=5.0, n=8, seed=0, scale=None):
    noise = np.random.default_rng(seed).normal(0, 1.0, n)  # the same at every value (CRN)

    def paired(v):
        return a * v - b + noise * (1.0 if scale is None else scale(v))

    return paired, noise


def test_break_even_recovers_closed_form_and_band():
    paired, noise = _linear()
    b = break_even(paired, 0.0, 10.0, parameter="price")
    m, se = noise.mean(), noise.std(ddof=1) / np.sqrt(len(noise))
    half = stats.t.ppf(0.975, len(noise) - 1) * se
    assert b.crossed and b.converged
    assert b.value == pytest.approx((5.0 - m) / 2.0, abs=1e-6)
    # the band mean ± t·se crosses zero where a·v − b + m = ∓half
    assert b.interval[0] == pytest.approx((5.0 - m - half) / 2.0, abs=1e-6)
    assert b.interval[1] == pytest.approx((5.0 - m + half) / 2.0, abs=1e-6)
    assert b.open == (False, False) and b.negative_below
    assert b.evaluations <= 6 and len(b.table) == b.evaluations
    assert "break-even at" in str(b)


def test_break_even_band_widening_and_decreasing():
    # decreasing, with noise growing with the value: the band is not symmetric about the root
    paired, noise = _linear(a=-1.0, b=-3.0, scale=lambda v: 0.2 * (1 + v))
    b = break_even(paired, 0.0, 12.0)
    noise = 0.2 * noise
    m, s = noise.mean(), noise.std(ddof=1) / np.sqrt(len(noise))
    half = stats.t.ppf(0.975, len(noise) - 1) * s
    assert b.value == pytest.approx((3 + m) / (1 - m), abs=1e-6)  # −v + 3 + m(1+v) = 0
    lo, hi = b.interval
    assert b.open == (False, False) and lo < b.value < hi and not b.negative_below
    assert -lo + 3 + (m - half) * (1 + lo) == pytest.approx(0, abs=1e-6)  # band's lower end
    assert -hi + 3 + (m + half) * (1 + hi) == pytest.approx(0, abs=1e-6)  # band's upper end
    assert b.evaluations <= 6


def test_break_even_no_crossing_open_interval_and_integers():
    paired, _ = _linear()
    none = break_even(paired, 3.0, 10.0)
    assert not none.crossed and np.isnan(none.value) and none.mean_low > 0
    assert none.evaluations == 2 and "no crossing in [3, 10]" in str(none)
    # the band still contains zero at the lower end: the interval is open there
    wide = break_even(lambda v: v - 0.5 + np.array([-3.0, 3.0]), 0.0, 10.0)
    assert wide.crossed and wide.open[0] and wide.interval[0] == 0.0
    seen = []

    def steps(v):
        seen.append(v)
        return np.full(3, v - 4.5) + np.array([-0.1, 0.0, 0.1])

    whole = break_even(steps, 0, 20, integer=True)
    assert all(isinstance(v, int) for v in seen)
    assert whole.value == pytest.approx(4.5) and whole.interval[0] < 4.5 < whole.interval[1]
    one = break_even(lambda v: np.array([v - 1.0]), 0.0, 2.0)
    assert one.value == pytest.approx(1.0) and np.isnan(one.interval[0])


def test_break_even_budget_and_errors():
    def curved(v):
        return np.array([np.exp(v) - 2.0, np.exp(v) - 2.2])

    b = break_even(curved, 0.0, 5.0, max_evaluations=4)
    assert b.evaluations <= 4 and not b.converged and 0 < b.value < 5
    with pytest.raises(ParameterError, match=r"high: 1\.0 must be above low"):
        break_even(curved, 2.0, 1.0)
    with pytest.raises(ParameterError, match="max_evaluations"):
        break_even(curved, 0.0, 1.0, max_evaluations=2)
    with pytest.raises(ParameterError, match="paired: returned 0 values"):
        break_even(lambda v: np.array([]), 0.0, 1.0)
    with pytest.raises(ParameterError, match="paired: must be a function"):
        break_even(3, 0.0, 1.0)


def test_break_even_for_a_policy_price_on_the_model():
    """The access cost of demand-driven is linear in the integrated conversation's factor:
    the break-even equals the crossing of the line through two evaluations."""
    scenario = vv.Scenario.default().with_changes(n_households=150, burn_in_months=2)
    common = {"replications": 2, "seed": 5, "months": 12}
    b = break_even_for(
        "policy.conversation_factor", scenario=scenario, low=0.0, high=20.0, **common
    )

    def mean_difference(f):
        d = vv.DemandDriven().with_changes(conversation_factor=f)
        runs = vv.compare(["supply-driven", d], scenario, progress=False, **common).runs
        by = runs.sort_values("replication").groupby("policy")["cost_external_total"]
        return float(np.mean(by.get_group("demand-driven").to_numpy() - by.get_group(
            "supply-driven").to_numpy()))  # fmt: skip

    lo, hi = mean_difference(0.0), mean_difference(20.0)
    assert lo < 0 < hi
    assert b.value == pytest.approx(-lo * 20.0 / (hi - lo), rel=1e-6)
    assert b.evaluations <= 6 and b.parameter == "policy.conversation_factor"


def test_break_even_for_scenario_paths_and_errors():
    scenario = vv.Scenario.default().with_changes(n_households=150, burn_in_months=2)
    b = break_even_for(
        "access.conversation_cost",
        scenario=scenario,
        replications=2,
        months=12,
        output="cost_access",
        max_evaluations=3,
    )  # default range: the declared plausible range 150–500
    assert (b.low, b.high) == (150.0, 500.0) and b.evaluations <= 3
    with pytest.raises(ParameterError, match="low: 'n_households' declares no plausible"):
        break_even_for("n_households", scenario=scenario)
    lag = break_even_for(
        "policy.exit_lag_months", scenario=scenario, replications=2, months=12, target="both"
    )  # a whole number: evaluated at whole values only
    assert set(lag.table["value"]) <= {0.0, 1.0, 2.0, 3.0} and (lag.low, lag.high) == (0, 3)
    with pytest.raises(ParameterError, match="parameter: 'conversation_factor' is not a param"):
        break_even_for("policy.conversation_factor", target="baseline")
    with pytest.raises(ParameterError, match="parameter: 'end_on_goal' is not a numeric"):
        break_even_for("policy.end_on_goal")
    with pytest.raises(ParameterError, match="target"):
        break_even_for("policy.review_months", target="mine")
    with pytest.raises(ParameterError, match="policies: give two policies"):
        break_even_for("policy.review_months", policies=["demand-driven"])


# --- scenario discovery -------------------------------------------------------------------------


def test_discover_finds_a_known_box():
    rng = np.random.default_rng(11)
    x = pd.DataFrame(rng.random((800, 4)), columns=["x1", "x2", "x3", "x4"])
    inside = (x["x1"] < 0.3) & (x["x2"] > 0.6)
    rule = discover(x, ["x1", "x2", "x3", "x4"], cheaper=inside.to_numpy())
    limits = {limit.parameter: limit for limit in rule.limits}
    assert set(limits) == {"x1", "x2"}
    assert np.isnan(limits["x1"].low) and limits["x1"].high == pytest.approx(0.3, abs=0.03)
    assert np.isnan(limits["x2"].high) and limits["x2"].low == pytest.approx(0.6, abs=0.03)
    assert rule.coverage > 0.9 and rule.density > 0.9
    assert rule.base_rate == pytest.approx(inside.mean())
    assert rule.holds(x).sum() == rule.n
    assert str(rule).startswith("cheaper when x1 ≤ 0.")


def test_discover_from_the_output_with_labels():
    draws = _draws(400)
    rule = discover(draws, output="cost_total", max_restrictions=2)
    assert rule.limits[0].parameter == "access.conversation_cost"
    assert np.isnan(rule.limits[0].low) and rule.limits[0].high < 300
    text = rule.text(labels=True)
    assert "the price of an access conversation is below €" in text
    all_cheaper = discover(draws.assign(cost_total=-1.0), output="cost_total")
    assert all_cheaper.limits == () and all_cheaper.density == 1.0
    with pytest.raises(ParameterError, match="cheaper: must be 400 booleans"):
        discover(draws, cheaper=np.ones(3, dtype=bool))
    with pytest.raises(ParameterError, match="max_restrictions"):
        discover(draws, output="cost_total", max_restrictions=0)


# --- sentences ----------------------------------------------------------------------------------


def test_explain_names_the_driver_break_even_and_rule():
    draws = _draws(400)
    table = sensitivity(draws, None, "cost_total", bootstrap=100)

    def paired(price):
        return 1_000 * (price - 250) + np.array([-3_000.0, 0.0, 3_000.0])

    b = break_even(paired, 150, 500, parameter="access.conversation_cost")
    rule = discover(draws, output="cost_total", max_restrictions=2)
    text = explain(table, [b], rule)
    assert text.startswith(
        "Whether demand-driven saves money depends mostly on the price of an access "
        "conversation (about"
    )
    assert "below about €250 it saves money, above it does not" in text
    assert "It saves money in 2" in text and "% of those where the price" in text
    assert 2 <= text.count(". ") + 1 <= 4
    severity = break_even(lambda v: (0.7 - v) * np.ones(2), 0.6, 0.85, parameter="p.x")
    worse = explain(break_evens=[severity], output="mean_severity", alternative="the plan")
    assert worse.startswith("The plan leaves households better off when x is above about 0.7")
    flat = explain(break_evens=[break_even(lambda v: np.ones(2), 0.0, 1.0, parameter="q")])
    assert flat == "Demand-driven does not save money over the whole range of q from 0 to 1."


def test_parameter_labels_from_declarations():
    assert parameter_label("policy.conversation_factor").startswith("how many")
    assert "onset" in parameter_label("problems.onset_rate.work")
    assert parameter_label("scenario.access.conversation_cost") == parameter_label(
        "access.conversation_cost"
    )
    assert parameter_label("x.unknown_thing") == "unknown thing"
    assert parameter_label("x", {"x": "mine"}) == "mine"
    assert Limit("access.conversation_cost", high=212.0).text(labels=True).endswith("is below €210")
    assert isinstance(Rule((), 1.0, 1.0, 1.0, 1.0, 3), Rule)
    assert BreakEven.__dataclass_fields__["interval"]


def test_discover_without_the_workbench_says_which_extra(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "ema_workbench", None)
    with pytest.raises(ImportError, match=r"pip install 'vraagvolgend\[ema\]'"):
        discover(_draws(100), output="cost_total")


# --- analyse: a probabilistic comparison's drivers, end to end --------------------------------


@pytest.fixture(scope="module")
def probabilistic():
    """A tiny comparison of three policies with 14 draws of two inputs on two of them: the
    conversation factor (it moves only demand-driven's access cost) and a provision price that
    no run uses (no episode of sheltered housing starts at this size: a null input)."""
    s = vv.Scenario.default().with_changes(n_households=500, burn_in_months=12)
    policies = [vv.SupplyDriven(), vv.DemandDriven(), vv.DemandDriven().with_changes(name="dd2")]
    c = vv.compare(policies, s, replications=2, months=12, progress=False)
    inputs = [
        vv.Uncertainty("policy.conversation_factor", 2, 5),
        vv.Uncertainty("provisions.wmo.sheltered_housing.cost_month", 2670, 3260),
    ]
    vv.add_uncertainty(c, 14, uncertainties=inputs, policies=["supply-driven", "demand-driven"])
    return c


def test_add_uncertainty_is_compare_with_uncertainty(probabilistic):
    """Adding draws to a finished comparison gives the draws compare(uncertainty=N) gives on
    the same seeds, for the chosen policies only."""
    c = probabilistic
    u = c.uncertainty
    assert u.info["policies"] == ["supply-driven", "demand-driven"]
    assert set(u.draws["policy"]) == {"demand-driven"}
    again = vv.compare(
        c.policies[:2], c.scenario, replications=2, months=12, progress=False,
        uncertainty=14, uncertainties=[vv.Uncertainty(**x) for x in u.info["inputs"]],
    )  # fmt: skip
    pd.testing.assert_frame_equal(again.uncertainty.draws, u.draws)
    with pytest.raises(ParameterError, match="policies: must include the baseline"):
        vv.add_uncertainty(c, 4, policies=["demand-driven"])
    with pytest.raises(ParameterError, match="policies: 'nope' is not one of"):
        vv.add_uncertainty(c, 4, policies=["supply-driven", "nope"])


def test_analyse_finds_the_driver_its_break_even_and_keeps_them(probabilistic, tmp_path):
    """The conversation factor explains the spread, the unused price does not; the break-even
    search runs for the top input only; the analysis is saved and loaded with the comparison."""
    from vraagvolgend.drivers import analyse

    c = probabilistic
    d = analyse(c, break_even=1, replications=2, max_evaluations=3, bootstrap=200)
    assert c.uncertainty.drivers is d
    table = d.sensitivity.set_index("parameter")
    assert table.loc["policy.conversation_factor", "rank"] == 1
    assert table.loc["provisions.wmo.sheltered_housing.cost_month", "index"] < 0.05
    assert [b.parameter for b in d.break_evens] == ["policy.conversation_factor"]
    assert d.break_evens[0].mean_high > d.break_evens[0].mean_low  # dearer with the factor
    assert "conversation" in d.text
    c.save(tmp_path / "c")
    loaded = vv.Comparison.load(tmp_path / "c").uncertainty.drivers
    assert loaded.text == d.text
    pd.testing.assert_frame_equal(loaded.break_even_table(), d.break_even_table())
    pd.testing.assert_frame_equal(
        loaded.sensitivity.reset_index(drop=True), d.sensitivity.reset_index(drop=True)
    )


def test_analyse_refuses_what_it_cannot_do_in_one_line(probabilistic):
    from vraagvolgend.drivers import analyse

    plain = vv.compare(
        ["supply-driven", "demand-driven"],
        probabilistic.scenario.with_changes(n_households=200),
        replications=2,
        months=12,
        progress=False,
    )
    with pytest.raises(ParameterError, match="comparison: has no uncertainty analysis"):
        analyse(plain)
    with pytest.raises(ParameterError, match="break_even: -1 must be a whole number"):
        analyse(probabilistic, break_even=-1)
    with pytest.raises(ParameterError, match="replications: 1 must be a whole number ≥ 2"):
        analyse(probabilistic, replications=1)
    with pytest.raises(ParameterError, match="output: 'cost_nothing' is not a column"):
        analyse(probabilistic, output="cost_nothing")


def test_sensitivity_with_few_draws_per_input_uses_the_rank_correlation():
    """32 draws of 16 inputs: a regression on 16 inputs would be unstable, so ``auto`` uses
    each input's squared rank correlation; the one input that matters stands out with an
    interval above 0, and most of the 15 without effect get intervals from 0."""
    u = qmc.LatinHypercube(d=16, seed=3).random(32)
    names = [f"policy.x{i}" for i in range(16)]
    draws = pd.DataFrame(u, columns=names)
    draws["cost"] = 4 * draws["policy.x0"] + np.random.default_rng(3).normal(0, 0.3, 32)
    table = sensitivity(draws, names, "cost", bootstrap=300)
    assert table.attrs["method"].startswith("squared rank correlation")
    top = table.iloc[0]
    assert top["parameter"] == "policy.x0" and top["low"] > 0.3
    assert (table.iloc[1:]["low"] == 0).sum() >= 13
    regression = sensitivity(draws, names, "cost", bootstrap=300, method="regression")
    assert regression.attrs["method"].startswith("squared standardised rank regression")
    with pytest.raises(ParameterError, match="method: 'x': one of auto"):
        sensitivity(draws, names, "cost", method="x")
