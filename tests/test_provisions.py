"""The provision catalogue and the calibration of the default municipality."""

from __future__ import annotations

import pytest

import vraagvolgend as vv
from vraagvolgend import Catalogue, ParameterError


def test_default_catalogue_has_every_law_and_a_source_per_entry():
    c = Catalogue.default()
    laws = {c.law_of(n) for n in c.names}
    assert laws == {"collective", "jeugdwet", "wmo", "participatiewet"}
    for name in c.names:
        assert c[name].source
        assert c[name].cost_month >= 0
    assert c["household_help"].cost_month * 12 == pytest.approx(2650, rel=0.01)  # CBS 84580NED


def test_catalogue_is_overridable_and_validated():
    s = vv.Scenario.default().with_changes({"provisions.wmo.household_help.cost_month": 300.0})
    assert s.provisions["household_help"].cost_month == 300.0
    with pytest.raises(ParameterError) as info:
        vv.Scenario.default().with_changes({"provisions.wmo.household_help.cost_month": -1})
    assert info.value.field == "provisions.wmo.household_help.cost_month"
    with pytest.raises(ParameterError, match="benefit"):
        data = vv.Scenario.default().provisions.to_dict()
        del data["participatiewet"]["benefit"]
        Catalogue.from_dict(data)


def test_a_dearer_catalogue_costs_more():
    s = vv.Scenario.default().with_changes(n_households=2000, burn_in_months=24)
    dear = s.with_changes({"provisions.wmo.individual_support.cost_month": 860.0})
    a = vv.run(s, "supply-driven", seed=1, months=12).costs
    b = vv.run(dear, "supply-driven", seed=1, months=12).costs
    line = "individual_support"
    assert b.loc[b["provision"] == line, "cost_eur"].sum() == pytest.approx(
        2 * a.loc[a["provision"] == line, "cost_eur"].sum(), rel=0.01
    )


def test_default_municipality_meets_the_calibration_ranges():
    """The levels of calibration.md, under the default supply-driven policy (one seed)."""
    r = vv.run(policy="supply-driven", seed=0, months=36)
    ind = r.indicators().query("year >= 2").mean()
    assert 0.08 <= ind["youth_care_share"] <= 0.13
    assert 55 <= ind["wmo_clients_per_1000"] <= 90
    assert 0.035 <= ind["social_assistance_share"] <= 0.065
    assert 0.18 <= ind["any_individual_share"] <= 0.28
    assert 350 <= ind["external_cost_per_inhabitant"] <= 600
