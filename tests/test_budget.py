"""The budget: cost lines, years, overruns and the budget rules."""

from __future__ import annotations

import numpy as np
import pytest

from vraagvolgend.budget import BUDGET_RULES, Budget


def _budget():
    return Budget(
        ["a", "b", "benefit"],
        ["wmo", "jeugdwet", "participatiewet"],
        {"wmo": 100.0, "jeugdwet": 50.0},
    )


def test_burn_in_is_not_booked_and_years_close():
    b = _budget()
    b.add(0, np.array([1000.0, 0, 0]))
    for month in range(1, 13):
        b.add(month, np.array([10.0, 2.0, 7.0]))
    assert b.by_year == {1: pytest.approx(np.array([120.0, 24.0, 84.0]))}
    assert b.individual_overrun({"benefit"}) is False  # 144 ≤ 150
    b.add(13, np.array([0.0, 0.0, 0.0]))
    assert b.close_year(1, exclude={"benefit"}) is False
    assert [r["deficit_eur"] for r in b.records] == [20.0, -26.0]


def test_rules_are_registered_and_act():
    class Care:
        collective_multiplier = 1.0

    policy = type("P", (), {"budget_cut": 0.25})()
    cut = BUDGET_RULES["cut_collective"](policy)
    care = Care()
    cut.at_year_end(care, overran=False)
    assert care.collective_multiplier == 1.0
    cut.at_year_end(care, overran=True)
    cut.at_year_end(care, overran=True)
    assert care.collective_multiplier == pytest.approx(0.5625)
    b = _budget()
    b.add(1, np.array([200.0, 0.0, 0.0]))
    assert BUDGET_RULES["cap"](policy).closes_intake(b)
    assert not BUDGET_RULES["none"](policy).closes_intake(b)
