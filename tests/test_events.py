"""Life events: declared as data, drawn at their hazard, added at the end of the month."""

from __future__ import annotations

import math

import numpy as np
import pytest

import vraagvolgend as vv


def test_an_event_strikes_at_its_hazard():
    """One event type with a constant hazard: the count per month is binomial(n, 1 − e^−r)."""
    n, rate, months = 20_000, 0.01, 12
    s = vv.Scenario.default().with_changes(
        {
            "n_households": n,
            "burn_in_months": 0,
            "life_events": {
                "flood": {"rate": rate, "vulnerability_effect": 0.0, "impact": {"housing": 0.5}}
            },
        }
    )
    r = vv.run(s, None, seed=3, months=months)
    count = r.monthly["events_flood"].sum()
    expected = n * months * -math.expm1(-rate)
    assert count == pytest.approx(expected, rel=4 * math.sqrt(expected) / expected)


def test_events_are_common_random_numbers_across_policies():
    """Events independent of the state strike the same households under every policy."""
    s = vv.Scenario.default().with_changes(n_households=2000, burn_in_months=6)
    events = {k: {**v.to_dict(), "severity_effect": {}} for k, v in s.life_events.items()}
    s = s.with_changes(life_events=events)
    a = vv.MunicipalityModel(s, "supply-driven", rng=2)
    b = vv.MunicipalityModel(s, "demand-driven", rng=2)
    for _ in range(6):
        a.step()
        b.step()
        ea, eb = a.last_month.events, b.last_month.events
        np.testing.assert_array_equal(ea.households, eb.households)
        np.testing.assert_array_equal(ea.event, eb.event)
