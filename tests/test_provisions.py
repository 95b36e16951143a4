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
    with pytest.raises(ParameterError, match="'parenting' needs exactly one heavy"):
        data = vv.Scenario.default().provisions.to_dict()
        del data["jeugdwet"]["youth_ambulant"]
        Catalogue.from_dict(data)


SMALL = {"n_households": 2000, "burn_in_months": 12}


def _renamed(scenario: vv.Scenario) -> vv.Scenario:
    """The scenario with every provision renamed (routing references renamed too)."""
    data = scenario.to_dict()
    cat = data["provisions"]
    for law, entries in cat.items():
        renamed = {}
        for name, entry in entries.items():
            if entry["escalates_to"] != "none":
                entry["escalates_to"] = "p_" + entry["escalates_to"]
            renamed["p_" + name] = entry
        cat[law] = renamed
    return vv.Scenario.from_dict(data)


@pytest.mark.parametrize("policy", ["supply-driven", "demand-driven"])
def test_a_catalogue_with_every_provision_renamed_runs_identically(policy):
    s = vv.Scenario.default().with_changes(**SMALL)
    a = vv.run(s, policy, seed=3, months=24)
    b = vv.run(_renamed(s), policy, seed=3, months=24)
    ca, cb = a.costs, b.costs
    assert cb["provision"].str.replace("p_", "", regex=False).tolist() == ca["provision"].tolist()
    assert cb["cost_eur"].tolist() == ca["cost_eur"].tolist()
    ea, eb = a.episodes, b.episodes
    assert len(ea) == len(eb) > 0
    assert (eb["provision"].astype(str) == "p_" + ea["provision"].astype(str)).all()


def test_a_provision_added_in_a_users_toml_is_offered_and_billed(tmp_path):
    """A new heavy Wmo provision for acute isolation, declared only in the user's file."""
    toml = tmp_path / "peer.toml"
    toml.write_text(
        "n_households = 2000\nburn_in_months = 12\n"
        "[provisions.wmo.peer_support]\n"
        "new = true\n"
        'description = "Peer support group"\n'
        'serves = ["social_isolation"]\n'
        'tier = "heavy"\n'
        "priority = 1\n"
        "need_window = [0.6, 1.0]\n"
        "domains = { social_isolation = 0.05 }\n"
        "cost_month = 123.0\n"
        "duration_months = 6\n"
    )
    s = vv.Scenario.from_toml(toml)
    r = vv.run(s, "supply-driven", seed=2, months=24)
    peer = r.episodes[r.episodes["provision"] == "peer_support"]
    assert len(peer) > 0
    assert (peer["domain"] == "social_isolation").all() and (peer["law"] == "wmo").all()
    billed = r.costs[r.costs["provision"] == "peer_support"]["cost_eur"].sum()
    assert billed == pytest.approx(peer["cost_eur"].sum()) and billed > 0
    # It takes the acute cases from the default heavy offer (day activities)
    base = vv.run(vv.Scenario.default().with_changes(**SMALL), "supply-driven", seed=2, months=24)
    day = "day_activities"
    assert (r.episodes["provision"] == day).sum() < (base.episodes["provision"] == day).sum()


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("[provisions.wmo.househld_help]\ncost_month = 10.0\n", "did you mean 'household_help'"),
        ("[provisions.wmo.foo]\ncost_month = 10.0\n", "new = true"),
        ("[life_events.job_los]\nrate = 0.01\n", "did you mean 'job_loss'"),
    ],
)
def test_a_misspelt_entry_is_refused_with_a_hint(text, hint):
    with pytest.raises(ParameterError, match=hint):
        vv.Scenario.from_toml(text + "\n# .toml text\n")


def test_a_new_life_event_needs_the_marker_and_then_strikes():
    text = (
        "n_households = 2000\nburn_in_months = 0\n"
        "[life_events.flood]\nnew = true\nrate = 0.05\nimpact = { housing = 0.5 }\n"
    )
    s = vv.Scenario.from_toml(text)
    r = vv.run(s, None, seed=1, months=6)
    assert r.monthly["events_flood"].sum() > 0.02 * 2000 * 6


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
