"""Calibration: targets, statistics, censored trajectory lengths, the fit table and the fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import vraagvolgend as vv
from vraagvolgend import calibration as cal

MONTHS = 36


@pytest.fixture(scope="module")
def tiny() -> vv.Scenario:
    return vv.Scenario.default().with_changes(n_households=1500, burn_in_months=36)


@pytest.fixture(scope="module")
def result(tiny) -> vv.Result:
    return vv.run(tiny, "supply-driven", seed=3, months=MONTHS)


# --- independent computations of every statistic, straight from the result's tables ----------


def _household_years(result: vv.Result, mask: pd.Series) -> pd.DataFrame:
    """(household_id, year) pairs with an episode in ``mask`` during the year (years ≥ 2)."""
    e = result.episodes[mask]
    first = ((e["start_month"].clip(lower=1) - 1) // 12 + 1).astype(int)
    last = ((e["end_month"].fillna(result.months).astype(int) - 1) // 12 + 1).astype(int)
    pairs = pd.DataFrame(
        {
            "household_id": e["household_id"].to_numpy(),
            "year": [list(range(a, b + 1)) for a, b in zip(first, last, strict=True)],
        }
    ).explode("year")
    pairs = pairs[pairs["year"] >= 2].drop_duplicates()
    return pairs.merge(result.households, on="household_id")


def _years(result):
    return result.months // 12 - 1


def _youth_share(result, where) -> float:
    users = _household_years(result, result.episodes["law"] == "jeugdwet")
    users = users[where(users)]
    h = result.households[where(result.households)]
    return users["n_children"].sum() / _years(result) / h["n_children"].sum()


def _benefit_type_share(result, types) -> float:
    users = _household_years(result, result.episodes["provision"] == "benefit")
    return users["household_type"].isin(types).mean()


def _per_1000(result, provision, quintiles=(1, 2, 3, 4, 5)) -> float:
    users = _household_years(result, result.episodes["provision"] == provision)
    h = result.households
    n = users["income_quintile"].isin(quintiles).sum() / _years(result)
    return 1000 * n / h.loc[h["income_quintile"].isin(quintiles), "n_persons"].sum()


def _law_cost(result, law) -> float:
    c = result.costs
    total = c.loc[(c["year"] >= 2) & (c["law"] == law), "cost_eur"].sum()
    return total / _years(result) / result.households["n_persons"].sum()


def _youth_trajectories_direct(result) -> pd.DataFrame:
    """Trajectories by a plain loop over each household's youth episodes."""
    e = result.episodes[result.episodes["law"] == "jeugdwet"].sort_values(
        ["household_id", "start_month"]
    )
    rows = []
    for _, group in e.groupby("household_id"):
        current = None
        for ep in group.itertuples():
            end = np.inf if pd.isna(ep.end_month) else ep.end_month
            if current is not None and ep.start_month <= current["end"] + 1:
                current["end"] = max(current["end"], end)
                continue
            if current is not None:
                rows.append(current)
            current = {"start": ep.start_month, "end": end, "channel": str(ep.channel)}
        rows.append(current)
    t = pd.DataFrame(rows)
    t = t[t["start"] >= 1]
    ended = np.isfinite(t["end"])
    months = np.where(ended, t["end"], result.months) - t["start"] + 1
    return pd.DataFrame({"months": months, "ended": ended, "channel": t["channel"]})


def _longer_than(result, m) -> float:
    """Kaplan–Meier by hand: product over event times ≤ m of (1 − deaths / at risk)."""
    t = _youth_trajectories_direct(result)
    s = 1.0
    for time in sorted(t.loc[t["ended"], "months"].unique()):
        if time > m:
            break
        at_risk = (t["months"] >= time).sum()
        deaths = ((t["months"] == time) & t["ended"]).sum()
        s *= 1 - deaths / at_risk
    return s


def _residential_share(result) -> float:
    youth = _household_years(result, result.episodes["law"] == "jeugdwet")
    residential = _household_years(result, result.episodes["provision"] == "youth_residential")
    return residential["n_children"].sum() / youth["n_children"].sum()


def _benefit_five_years(result) -> float:
    """By a plain loop: for each household on the benefit in the last month, walk back over
    its benefit episodes while the break before each is at most a month."""
    e = result.episodes[result.episodes["provision"] == "benefit"]
    last = result.months
    long = current = 0
    for _, g in e.groupby("household_id"):
        g = g.sort_values("start_month")
        ends = g["end_month"].fillna(10**9).astype(int).tolist()
        starts = g["start_month"].tolist()
        if ends[-1] < last:
            continue
        current += 1
        start = starts[-1]
        for i in range(len(starts) - 2, -1, -1):
            if start - ends[i] <= 2:  # a break of at most one month
                start = starts[i]
            else:
                break
        long += last - start + 1 >= 60
    return long / current


def _indicator(result, name) -> float:
    ind = result.indicators()
    return ind.loc[ind["year"] >= 2, name].mean()


def _q(k):
    return lambda d: d["income_quintile"] == k


def _type(name):
    return lambda d: d["household_type"] == name


DIRECT = {
    **{
        name: (lambda r, name=name: _indicator(r, name))
        for name in (
            "youth_care_share",
            "wmo_clients_per_1000",
            "social_assistance_share",
            "any_individual_share",
            "external_cost_per_inhabitant",
        )
    },
    "youth_care_income_ratio": lambda r: _youth_share(r, _q(1)) / _youth_share(r, _q(5)),
    "youth_care_single_parent_ratio": lambda r: (
        _youth_share(r, _type("single_parent")) / _youth_share(r, _type("couple_children"))
    ),
    "social_assistance_one_person_share": lambda r: _benefit_type_share(
        r, ["single", "single_75plus"]
    ),
    "social_assistance_single_parent_share": lambda r: _benefit_type_share(r, ["single_parent"]),
    "social_assistance_couple_share": lambda r: _benefit_type_share(
        r, ["couple", "couple_children"]
    ),
    "household_help_income_ratio": lambda r: (
        _per_1000(r, "household_help", (1, 2)) / _per_1000(r, "household_help", (5,))
    ),
    "household_help_middle_low_ratio": lambda r: (
        _per_1000(r, "household_help", (3, 4)) / _per_1000(r, "household_help", (1, 2))
    ),
    "household_help_per_1000": lambda r: _per_1000(r, "household_help"),
    "individual_support_per_1000": lambda r: _per_1000(r, "individual_support"),
    "youth_care_cost_per_inhabitant": lambda r: _law_cost(r, "jeugdwet"),
    "wmo_cost_per_inhabitant": lambda r: _law_cost(r, "wmo"),
    "youth_care_cost_share": lambda r: (
        _law_cost(r, "jeugdwet") / (_law_cost(r, "jeugdwet") + _law_cost(r, "wmo"))
    ),
    **{f"youth_care_longer_than_{m}m": (lambda r, m=m: _longer_than(r, m)) for m in (3, 6, 12, 24)},
    "youth_care_residential_share": _residential_share,
    "benefit_five_years_share": _benefit_five_years,
    **{
        f"youth_care_channel_{c}": (
            lambda r, c=c: (_youth_trajectories_direct(r)["channel"] == c).mean()
        )
        for c in ("gp", "wijkteam", "self")
    },
}


@pytest.mark.parametrize("target", cal.load_targets(), ids=lambda t: t.name)
def test_each_target_statistic_matches_a_direct_computation(result, target):
    assert target.statistic in DIRECT, "add a direct computation for every new statistic"
    model = cal.STATISTICS[target.statistic](result)
    direct = DIRECT[target.statistic](result)
    assert np.isfinite(model)
    assert model == pytest.approx(direct, rel=1e-9, abs=1e-12)


# --- trajectories and censored survival --------------------------------------------------------


def _ledger() -> pd.DataFrame:
    rows = [
        # household, start, end (None: still running), channel
        (0, 1, 3, "gp"),
        (0, 4, 6, "renewal"),  # follows without a gap: one trajectory of 6 months
        (1, 2, None, "wijkteam"),  # still running at month 12: censored at 11 months
        (2, 5, 7, "self"),  # 3 months
        (3, -2, 4, "gp"),  # started in the burn-in: left out
        (4, 3, 4, "gp"),  # 2 months
        (4, 8, 9, "self"),  # a gap of three months: a second trajectory of 2 months
        (5, 1, 4, "gp"),  # Wmo: another law
    ]
    frame = pd.DataFrame(rows, columns=["household_id", "start_month", "end_month", "channel"])
    frame["end_month"] = pd.array(frame["end_month"], dtype="Int32")
    frame["law"] = ["jeugdwet"] * 7 + ["wmo"]
    return frame


def test_trajectories_chain_episodes_and_censor_running_ones():
    t = cal.trajectories(_ledger(), "jeugdwet", end=12)
    assert t["household_id"].tolist() == [0, 1, 2, 4, 4]
    assert t["months"].tolist() == [6, 11, 3, 2, 2]
    assert t["ended"].tolist() == [True, False, True, True, True]
    assert t["channel"].tolist() == ["gp", "wijkteam", "self", "gp", "self"]


def test_censored_survival_matches_a_hand_computed_kaplan_meier():
    # Five trajectories: events at 2, 2, 3, 6 months, one censored at 11.
    # S(2) = 1 − 2/5 = 0.6; S(3) = 0.6 × (1 − 1/3) = 0.4; S(6) = 0.4 × (1 − 1/2) = 0.2.
    km = cal.trajectory_survival(cal.trajectories(_ledger(), "jeugdwet", end=12))
    np.testing.assert_allclose(
        km.sf.evaluate([1, 2, 3, 5, 6, 11, 12]), [1, 0.6, 0.4, 0.4, 0.2, 0.2, 0.2]
    )
    # Treating the running trajectory as ended would bias the estimate: S(6) would be 0.2
    # and S(11) 0, where censoring keeps 0.2.
    naive = np.mean(np.array([6, 11, 3, 2, 2]) > 11)
    assert naive == 0 < km.sf.evaluate(11)


# --- targets and the fit table -----------------------------------------------------------------


def test_default_targets_are_valid_and_cover_the_issue():
    targets = cal.load_targets()
    names = {t.name for t in targets}
    assert {
        "youth_care_share",
        "wmo_clients_per_1000",
        "social_assistance_share",
        "any_individual_share",
        "external_cost_per_inhabitant",
        "youth_care_income_ratio",
        "youth_care_single_parent_ratio",
        "social_assistance_one_person_share",
        "household_help_income_ratio",
        "youth_care_longer_than_12m",
        "youth_care_channel_gp",
        "youth_care_cost_share",
    } <= names
    for t in targets:
        assert t.low <= t.value <= t.high and t.source


def test_bad_target_files_get_one_line_errors(tmp_path):
    bad = tmp_path / "t.toml"
    bad.write_text('[targets.x]\nstatistic = "nope"\nvalue = 1\nlow = 0\nhigh = 2\nsource = "s"\n')
    with pytest.raises(vv.ParameterError, match=r"targets\.x\.statistic.*not a registered"):
        cal.load_targets(bad)
    bad.write_text('[targets.youth_care_share]\nvalue = 3\nlow = 0\nhigh = 2\nsource = "s"\n')
    with pytest.raises(vv.ParameterError, match="low ≤ value ≤ high"):
        cal.load_targets(bad)
    with pytest.raises(vv.ParameterError, match="unknown targets"):
        cal.load_targets(names=["no_such_target"])


def test_fit_table_within_column_against_independent_runs(tiny):
    seeds = np.random.SeedSequence(7).spawn(2)
    runs = [vv.run(tiny, "supply-driven", seed=s, months=MONTHS) for s in seeds]
    direct = np.mean([DIRECT["youth_care_share"](r) for r in runs])
    ratio = np.mean([DIRECT["youth_care_single_parent_ratio"](r) for r in runs])
    targets = [
        # the mean lies inside the first range and just outside the second and third
        cal.Target("inside", "youth_care_share", direct, direct - 0.01, direct + 0.01, "test"),
        cal.Target("below", "youth_care_share", direct + 0.02, direct + 1e-4, 1.0, "test"),
        cal.Target("above", "youth_care_single_parent_ratio", 0.5, 0.0, ratio - 1e-3, "test"),
    ]
    table = vv.fit_table(tiny, "supply-driven", targets, replications=2, months=MONTHS, seed=7)
    assert table["within"].tolist() == [True, False, False]
    np.testing.assert_allclose(table["model"], [direct, direct, ratio], rtol=1e-9)
    assert (table["ci_low"] <= table["model"]).all() and (table["model"] <= table["ci_high"]).all()
    assert table["source"].tolist() == ["test"] * 3


# --- fitting -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "match"),
    [
        ("review_months", "policy"),
        ("contract", "policy"),
        ("contracts.effort.prolongation", "policy"),
        ("provisions.wmo.household_help.cost_month", "cannot be fitted"),
        ("n_households", "cannot be fitted"),
        ("problems.no_such_rate", "no_such_rate"),
    ],
)
def test_calibrate_refuses_what_is_not_a_scenario_parameter(tiny, key, match):
    targets = cal.load_targets(names=["youth_care_share"])
    with pytest.raises(vv.ParameterError, match=match):
        vv.calibrate(targets, {key: (0.0, 1.0)}, scenario=tiny)


def test_calibrate_refuses_bad_bounds(tiny):
    targets = cal.load_targets(names=["youth_care_share"])
    with pytest.raises(vv.ParameterError, match="low < high"):
        vv.calibrate(targets, {"problems.onset_rate.parenting": (0.02, 0.01)}, scenario=tiny)
    with pytest.raises(vv.ParameterError, match=r"onset_rate\.parenting"):
        vv.calibrate(targets, {"problems.onset_rate.parenting": (-1.0, 0.01)}, scenario=tiny)


def test_calibration_recovers_a_known_parameter(tiny):
    true = 0.012
    key = "problems.onset_rate.parenting"
    truth = tiny.with_changes({key: true})
    observed = vv.fit_table(
        truth, "supply-driven", cal.load_targets(names=["youth_care_share"]), 1, months=24
    )["model"][0]
    target = cal.Target("y", "youth_care_share", observed, observed - 0.01, observed + 0.01, "t")
    # The fit runs on the same seed as the observation (common random numbers), so the
    # observed value is reproduced exactly at the true parameter value.
    fit = vv.calibrate(
        [target],
        {key: (0.004, 0.03)},
        scenario=tiny,
        replications=1,
        months=24,
        maxiter=10,
        popsize=4,
    )
    assert fit.parameters[key] == pytest.approx(true, rel=0.15)
    assert fit.table["within"].all()
    assert fit.scenario.problems.onset_rate["parenting"] == fit.parameters[key]
    assert len(fit.history) == fit.evaluations > 0
    assert key in str(fit) and "within" in str(fit)


def test_fit_plot_draws_every_target(tiny):
    pytest.importorskip("matplotlib")
    table = pd.DataFrame(
        {
            "target": ["a", "b"],
            "model": [0.5, 3.0],
            "ci_low": [0.4, np.nan],
            "ci_high": [0.6, np.nan],
            "value": [0.5, 2.0],
            "low": [0.0, 1.0],
            "high": [1.0, 2.5],
            "within": [True, False],
        }
    )
    fig = cal.plot_fit_table(table)
    ax = fig.axes[0]
    assert sorted(t.get_text() for t in ax.get_yticklabels()) == ["a", "b"]
    # a dot per target: green inside its range, red outside
    dots = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert [d.get_color() for d in dots] == ["tab:green", "tab:red"]


def test_nelder_mead_starts_from_the_scenario_and_does_not_get_worse(tiny):
    key = "problems.onset_rate.parenting"
    target = cal.Target("y", "youth_care_share", 0.06, 0.05, 0.07, "t")
    fit = vv.calibrate(
        [target],
        {key: (0.002, 0.03)},
        scenario=tiny,
        replications=1,
        months=24,
        method="nelder-mead",
        maxiter=3,
    )
    first = fit.history.iloc[0]
    assert first[key] == pytest.approx(tiny.problems.onset_rate["parenting"])
    assert fit.loss <= first["loss"]
    assert fit.loss == pytest.approx(fit.history["loss"].min())


# --- composition and persistence: the residential share and the benefit's duration ----------


@pytest.fixture(scope="module")
def long_tiny() -> vv.Scenario:
    return vv.Scenario.default().with_changes(n_households=2000, burn_in_months=60)


def _recovered(scenario, statistic, key, true, bounds, months):
    truth = scenario.with_changes(cal._changes(scenario, {key: true}))
    observed = vv.fit_table(
        truth, "supply-driven", cal.load_targets(names=[statistic]), 1, months=months
    )
    value = observed["model"][0]
    target = cal.Target("y", statistic, value, value - 0.01, value + 0.01, "simulated")
    fit = vv.calibrate(
        [target],
        {key: bounds},
        scenario=scenario,
        replications=1,
        months=months,
        maxiter=10,
        popsize=5,
    )
    assert fit.table["within"].all()
    return value, fit.parameters[key]


def test_calibration_recovers_a_known_residential_share(long_tiny):
    key = "provisions.jeugdwet.youth_residential.need_window[0]"
    value, fitted = _recovered(
        long_tiny, "youth_care_residential_share", key, 0.72, (0.6, 0.85), months=36
    )
    assert 0.03 < value < 0.3  # a residential share in the plausible region
    assert fitted == pytest.approx(0.72, abs=0.03)


def test_calibration_recovers_a_known_benefit_duration_parameter(long_tiny):
    key = "problems.persistent_share"
    scenario = long_tiny.with_changes({"problems.persistent_recovery": 0.05})
    value, fitted = _recovered(
        scenario, "benefit_five_years_share", key, 0.15, (0.0, 0.4), months=60
    )
    assert 0.2 < value < 0.9
    assert fitted == pytest.approx(0.15, abs=0.05)


def test_benefit_spells_join_breaks_of_a_month():
    e = pd.DataFrame(
        {
            "household_id": [1, 1, 1, 2],
            "provision": ["benefit"] * 4,
            "start_month": [-10, 6, 20, 3],
            "end_month": pd.array([4, 18, pd.NA, 8], dtype="Int32"),
        }
    )
    s = cal.benefit_spells(e).sort_values(["household_id", "start"])
    # 4 → 6 is a break of one month (5): joined; 18 → 20 a break of one month (19): joined
    assert s["start"].tolist() == [-10, 3] and s["end"].isna().tolist() == [True, False]


def test_a_users_process_runs_in_a_fit_table():
    """calibration accepts users' processes: a process that halves every finance problem each
    month lowers the benefit share the fit table reports."""
    import numpy as np

    from vraagvolgend.domains import domain_index

    class Relief(vv.Process):
        name = "relief"
        after = "problem_dynamics"

        def step(self, state):
            state.severity_end[domain_index("work")] *= np.float32(0.5)

    s = vv.Scenario.default().with_changes(n_households=1500, burn_in_months=12)
    targets = [t for t in cal.load_targets() if t.name == "social_assistance_share"]
    plain = vv.fit_table(s, targets=targets, replications=1, months=24)
    relieved = vv.fit_table(s, targets=targets, replications=1, months=24, processes=[Relief()])
    assert relieved["model"].iloc[0] < plain["model"].iloc[0]
