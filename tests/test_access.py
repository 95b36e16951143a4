"""Access: help-seeking and the gatekeeper's catalogue-driven offers."""

from __future__ import annotations

import numpy as np

import vraagvolgend as vv
from vraagvolgend.access import gatekeeper
from vraagvolgend.domains import DOMAINS, domain_index
from vraagvolgend.vocabulary import ALL_CHANNELS

D = len(DOMAINS)


def _offer(severity_by_domain, channel="wijkteam", policy=None, u_gp=1.0, induced=0.0):
    """The gatekeeper's offer for one household treated in every domain given."""
    s = vv.Scenario.default()
    sev = np.zeros((D, 1), dtype=np.float32)
    treat = np.zeros((D, 1), dtype=bool)
    for d, v in severity_by_domain.items():
        sev[domain_index(d), 0] = v
        treat[domain_index(d), 0] = True
    offer = gatekeeper(
        s.access,
        treat,
        sev,
        np.array([ALL_CHANNELS.index(channel)], dtype=np.int8),
        s.provisions.routing(),
        policy or vv.SupplyDriven(),
        induced,
        np.array([u_gp], dtype=np.float32),
        np.array([0.5], dtype=np.float32),
    )
    names = s.provisions.names
    return {d: names[offer[domain_index(d), 0]] for d in severity_by_domain}


def test_light_and_heavy_needs_get_the_catalogues_defaults():
    assert _offer({"finances": 0.5, "work": 0.7}) == {
        "finances": "debt_help",
        "work": "reintegration",
    }


def test_practice_support_only_via_the_gp_and_only_when_funded():
    assert _offer({"parenting": 0.5}, channel="gp")["parenting"] == "practice_support_youth"
    assert _offer({"parenting": 0.5}, channel="school")["parenting"] == "school_social_work"
    unfunded = vv.SupplyDriven(practice_support_youth=False)
    assert _offer({"parenting": 0.5}, "gp", unfunded)["parenting"] == "school_social_work"


def test_acute_and_two_domain_offers_replace_the_defaults():
    assert _offer({"parenting": 0.75})["parenting"] == "youth_residential"
    both = _offer({"housing": 0.75, "mental_health": 0.65})
    assert both["housing"] == "sheltered_housing"
    assert _offer({"housing": 0.75, "mental_health": 0.5})["housing"] == "individual_support"


def test_referral_by_gp_or_contract_sends_light_needs_to_the_heavy_default():
    assert _offer({"finances": 0.5}, channel="gp", u_gp=0.0)["finances"] == "individual_support"
    assert _offer({"finances": 0.5}, induced=1.0)["finances"] == "individual_support"


def test_hidden_need_falls_with_outreach():
    s = vv.Scenario.default().with_changes(n_households=2000, burn_in_months=12)
    a = vv.run(s, vv.SupplyDriven(), seed=1, months=12).monthly
    b = vv.run(s, vv.SupplyDriven(outreach=0.3), seed=1, months=12).monthly
    assert b["found_by_outreach"].sum() > 0 and a["found_by_outreach"].sum() == 0
    assert b["hidden_need"].mean() < a["hidden_need"].mean()
