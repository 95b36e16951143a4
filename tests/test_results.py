"""Result tables: the benefit on its own law, burn-in excluded, saving and loading, formats."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import vraagvolgend as vv
from vraagvolgend.vocabulary import BENEFIT_LAW, format_interval, format_number, plural


@pytest.fixture(scope="module")
def result() -> vv.Result:
    s = vv.Scenario.default().with_changes(n_households=2000, burn_in_months=36)
    return vv.run(s, "supply-driven", seed=3, months=24)


def test_the_benefit_is_a_law_of_its_own(result):
    costs = result.costs
    benefit = costs[costs["provision"] == "benefit"]
    assert len(benefit) == 2 and (benefit["law"] == BENEFIT_LAW).all()
    assert (benefit["cost_eur"] > 0).all()
    participation = costs[costs["law"] == "participatiewet"]
    assert "benefit" not in set(participation["provision"])
    # the budget (benefit excluded) and the costs agree on participation services
    budget = result.budget.set_index(["year", "law"])["spent_eur"]
    for year in (1, 2):
        spent = participation[
            (participation["year"] == year) & ~participation["provision"].str.contains("idle")
        ]["cost_eur"].sum()
        if ("participatiewet" in budget.index.get_level_values("law")) and spent > 0:
            assert budget.loc[(year, "participatiewet")] >= spent - 1e-6
    lines = result.annual_costs()
    assert set(lines["line"]) >= {"jeugdwet", "wmo", "participatiewet", "benefit"}
    assert lines["cost_eur"].sum() == pytest.approx(costs["cost_eur"].sum())


def test_episodes_and_household_totals_exclude_the_burn_in(result):
    e = result.episodes
    assert (e["start_month"] >= 1).all()
    assert e["from_burn_in"].any() and not e["from_burn_in"].all()
    assert (e.loc[e["from_burn_in"], "start_month"] == 1).all()
    individual = result.costs[~result.costs["law"].isin(["access", "collective"])]
    individual = individual[~individual["provision"].str.contains("idle")]
    # the households' totals add up to the individual costs of months 1 … months
    totals = sum(
        result.household(i).total_eur for i in e["household_id"].drop_duplicates().head(40)
    )
    assert totals <= individual["cost_eur"].sum()
    ids = e["household_id"].to_numpy()
    booked = e.loc[e["law"] != "collective"].groupby("household_id")["cost_eur"].sum()
    hid = int(booked.index[0])
    assert result.household(hid).total_eur == pytest.approx(e.loc[(ids == hid), "cost_eur"].sum())
    assert e.loc[e["law"] != "collective", "cost_eur"].sum() == pytest.approx(
        individual["cost_eur"].sum(), rel=1e-6
    )


def test_result_load_reads_back_what_save_wrote(result, tmp_path):
    folder = result.save(tmp_path / "run")
    loaded = vv.Result.load(folder)
    for name in ("households", "problems", "monthly", "episodes", "costs", "budget"):
        pd.testing.assert_frame_equal(
            getattr(loaded, name).reset_index(drop=True),
            getattr(result, name).reset_index(drop=True),
            check_categorical=False,
        )
    pd.testing.assert_frame_equal(loaded.indicators(), result.indicators())
    pd.testing.assert_frame_equal(loaded.annual_costs(), result.annual_costs())
    assert str(loaded.household(5)) == str(result.household(5))
    assert loaded.months == 24 and loaded.policy.name == result.policy.name
    with pytest.raises(vv.ParameterError, match="manifest"):
        vv.Result.load(tmp_path)
    with pytest.raises(IndexError):
        loaded.household(10**6)


def test_a_comparison_folder_is_not_a_run_folder(tmp_path):
    s = vv.Scenario.default().with_changes(n_households=300, burn_in_months=6)
    c = vv.compare(["supply-driven"], s, replications=1, months=12, progress=False)
    c.save(tmp_path / "c")
    with pytest.raises(vv.ParameterError, match="comparison folder, not a run folder"):
        vv.Result.load(tmp_path / "c")
    vv.run(s, months=12).save(tmp_path / "r")
    with pytest.raises(vv.ParameterError, match="run folder, not a comparison folder"):
        vv.Comparison.load(tmp_path / "r")


def test_household_text_says_one_person_and_ends_with_a_newline(result):
    sizes = result.households["n_persons"]
    single = int(np.flatnonzero(sizes.to_numpy() == 1)[0])
    text = str(result.household(single))
    assert "1 person," in text and "1 persons" not in text
    assert text.endswith("\n") and not text.endswith("\n\n")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (14660.4, "14,660"),
        (5979.0, "5,979"),
        (1.466e4, "14,660"),
        (0.01234, "0.0123"),
        (12.345, "12.35"),
        (-2500.0, "-2,500"),
        (1e12, "1,000,000,000,000"),
        (float("nan"), "–"),
    ],
)
def test_one_number_format(value, text):
    assert format_number(value) == text
    assert "e" not in format_number(value)


def test_intervals_and_plurals():
    assert format_interval(5750.2, 6199.9) == "5,750 – 6,200"
    assert format_interval(np.nan, 1.0) == ""
    assert plural(1, "month") == "1 month" and plural(2, "month") == "2 months"
    assert plural(1, "person") == "1 person" and plural(12_000, "household") == "12,000 households"


def test_year_end_is_the_problems_tables_last_year_and_read_only(result):
    last = result.problems[result.problems["year"] == result.problems["year"].max()]
    state = result.year_end()
    with pytest.raises(ValueError):
        state[0, 0] = 1.0
    for domain, rows in last.groupby("domain", observed=True):
        d = list(vv.DOMAINS).index(domain)
        np.testing.assert_array_equal(state[d, rows["household_id"]], rows["severity"])
    with pytest.raises(ValueError, match="year 99 is not available"):
        result.year_end(99)


def test_zrm_shares_are_the_problems_tables_last_year(result):
    from vraagvolgend.replication import zrm_shares

    p = result.problems
    last = p[p["year"] == p["year"].max()]
    counts = last.groupby(["domain", "zrm_level"], observed=True).size()
    want = (counts / last.groupby("domain", observed=True).size()).rename("share").reset_index()
    want["domain"] = want["domain"].astype(str)
    got = zrm_shares(result)
    pd.testing.assert_frame_equal(got, want)
    assert np.allclose(got.groupby("domain")["share"].sum(), 1.0)
