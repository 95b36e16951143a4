"""Social assistance (process ``social_assistance``): the benefit follows the work domain.

Tested on a model of 20 households with known work severity (at the end of the month) and
income quintile: a household qualifies while its work severity lies in the benefit's need
window (from 0.373, edge included) and its quintile is at most 2; a benefit starts the month
after it qualifies, is not opened twice while it holds, and ends in the month it no longer
does; the count of households on benefit; nobody with no problems is on benefit; a changed
catalogue window is the one used.
"""

from __future__ import annotations

import numpy as np

from states import (
    benefits_of,
    cost_line,
    households_with_quintile,
    ledger_of,
    month_state,
    put_on_benefit,
    step,
    tiny_model,
)
from vraagvolgend.domains import DOMAINS, domain_index


def _end_of_month(model, work: dict[int, float]) -> np.ndarray:
    """Severity at the end of the month: zero but for the given work severities."""
    end = np.zeros((len(DOMAINS), model.households.n), dtype=np.float32)
    for household, value in work.items():
        end[domain_index("work"), household] = value
    return end


def _run(model, month, work):
    state = month_state(model, month, severity_end=_end_of_month(model, work))
    return step(model, "social_assistance", state)


def test_low_incomes_with_a_work_problem_in_the_window_get_the_benefit_next_month():
    m = tiny_model()
    low = households_with_quintile(m, [1, 2])
    high = households_with_quintile(m, [3, 4, 5])
    a, b, c = low[:3]
    rich = high[0]
    p = _run(m, 4, {a: 0.5, b: np.float32(0.373), c: 0.372, rich: 0.9})
    assert set(benefits_of(m, a)) == {"benefit"} and set(benefits_of(m, b)) == {"benefit"}
    assert benefits_of(m, c) == {} and benefits_of(m, rich) == {}
    (entry,) = ledger_of(m, a)
    assert (entry.provision, entry.domain, entry.channel, entry.start, entry.end) == (
        "benefit",
        "work",
        "entitlement",
        5,  # paid from the month after the household qualifies
        None,
    )
    assert p.reporters() == {"on_benefit": 2}


def test_a_benefit_runs_on_while_the_household_qualifies_and_ends_when_it_no_longer_does():
    m = tiny_model()
    a, b = households_with_quintile(m, [1])[:2]
    ea = put_on_benefit(m, a, start=1)
    eb = put_on_benefit(m, b, start=1)
    p = _run(m, 6, {a: 0.6, b: 0.2})
    assert benefits_of(m, a) == {"benefit": ea}  # the same episode, none opened
    assert benefits_of(m, b) == {}
    ends = {e.id: e.end for e in ledger_of(m)}
    assert ends == {ea: None, eb: 6}
    assert p.reporters() == {"on_benefit": 1}
    # Qualifying again later opens a new episode
    _run(m, 9, {a: 0.6, b: 0.8})
    assert [(e.start, e.end) for e in ledger_of(m, b)] == [(1, 6), (10, None)]


def test_nobody_without_problems_is_on_benefit():
    m = tiny_model()
    p = _run(m, 1, {})
    assert ledger_of(m) == [] and p.reporters() == {"on_benefit": 0}


def test_the_catalogues_window_and_quintile_are_the_ones_used():
    changes = {
        "provisions.participatiewet.benefit.need_window": [0.2, 0.5],
        "provisions.participatiewet.benefit.max_income_quintile": 5,
    }
    m = tiny_model(changes=changes)
    poor = households_with_quintile(m, [1])[0]
    a, b, c = households_with_quintile(m, [5])[:3]
    _run(m, 1, {poor: 0.6, a: 0.2, b: 0.5, c: 0.1})
    on = [h for h in (poor, a, b, c) if benefits_of(m, h)]
    assert on == [a, b]


def test_billing_pays_a_new_benefit_from_the_month_after_it_started():
    m = tiny_model()
    a = households_with_quintile(m, [1])[0]
    paid = []
    for month in (4, 5):  # in a month, billing runs before social assistance
        state = month_state(m, month)
        step(m, "billing", state)
        paid.append(cost_line(m, state, "benefit"))
        _run(m, month, {a: 0.5})
    assert paid == [0.0, 1200.0]
    assert [(e.start, e.cost) for e in ledger_of(m, a)] == [(5, 1200.0)]
