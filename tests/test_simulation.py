"""The public entry point run(): tables, validation, a plausible steady state."""

from __future__ import annotations

import pytest

import vraagvolgend as vv
from vraagvolgend.domains import DOMAINS


def test_tables_have_the_documented_columns(small):
    r = vv.run(small, seed=0, months=24)
    assert list(r.households.columns)[:6] == [
        "household_id",
        "household_type",
        "n_persons",
        "n_children",
        "income_quintile",
        "neighbourhood",
    ]
    assert list(r.problems.columns) == ["household_id", "year", "domain", "severity", "zrm_level"]
    assert sorted(r.problems["year"].unique()) == [1, 2]
    n_children = int((r.households["n_children"] > 0).sum())
    assert len(r.problems) == 2 * (6 * small.n_households + n_children)
    assert len(r.monthly) == 24
    for d in DOMAINS:
        assert {f"mean_severity_{d}", f"share_zrm_le2_{d}"} <= set(r.monthly.columns)
    assert {"informal_support_given", "carers_under_strain", "households_3plus_problems"} <= set(
        r.monthly.columns
    )
    assert r.problems["zrm_level"].between(1, 5).all()
    assert set(r.households["household_type"].unique()) == set(vv.HOUSEHOLD_TYPES)


@pytest.mark.parametrize("months", [0, -1, 1201, 2.5, "12", True])
def test_months_is_validated(months):
    with pytest.raises(vv.ParameterError, match="months"):
        vv.run(months=months)


def test_seed_is_validated():
    with pytest.raises(TypeError, match="seed"):
        vv.run(vv.Scenario.default().with_changes(n_households=50), seed="abc", months=1)


def test_default_settles_into_a_plausible_steady_state():
    """Without formal care: no explosion to everyone in crisis, no drift to nobody."""
    s = vv.Scenario.default().with_changes(n_households=8000)
    r = vv.run(s, None, seed=1, months=120)
    m = r.monthly
    n = s.n_households
    three_plus = m["households_3plus_problems"] / n
    none = m["households_0_problems"] / n
    assert 0.02 < three_plus.iloc[-12:].mean() < 0.15
    assert 0.55 < none.iloc[-12:].mean() < 0.85
    # steady: the last two years differ little from years 4–5
    assert abs(three_plus.iloc[-24:].mean() - three_plus.iloc[36:60].mean()) < 0.015
    zrm = m[[f"share_zrm_le2_{d}" for d in DOMAINS]].iloc[-12:].mean()
    assert (zrm > 0.01).all() and (zrm < 0.2).all()


def test_python_and_the_command_line_default_to_supply_driven():
    from vraagvolgend.cli import build_parser

    s = vv.Scenario.default().with_changes(n_households=300, burn_in_months=3)
    assert isinstance(vv.run(s, months=12).policy, vv.SupplyDriven)
    assert build_parser().parse_args(["run"]).policy == "supply-driven"
    assert vv.run(s, None, months=12).policy is None  # no formal care only when asked for
    with pytest.raises(vv.ParameterError, match="scenario"):
        vv.run("default", months=12)
