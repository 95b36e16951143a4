"""Shared fixtures, the tiny closed-form version of the model, and the test run's settings.

Property tests are derandomised by default: every run draws the same examples, so the suite
passes or fails the same way each time. ``VRAAGVOLGEND_FUZZ=long`` is the opt-in long profile:
new random examples on every run, ten times as many (see tests/fuzzing.py).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

import fuzzing
import vraagvolgend as vv
from processes import STARTED_WITH, disposition
from vraagvolgend.domains import DOMAINS

settings.register_profile(
    "default",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long", derandomize=False, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(fuzzing.PROFILE)


def pytest_report_header(config):
    return (
        f"SIGINT disposition at start: {disposition(STARTED_WITH)} (child processes of tests "
        f"start with SIGINT at its default); fuzzing profile: {fuzzing.PROFILE}"
    )


@pytest.fixture(scope="session")
def small() -> vv.Scenario:
    """The default municipality at 3,000 households with a short burn-in."""
    return vv.Scenario.default().with_changes(n_households=3000, burn_in_months=36)


def constant_hazard_scenario(
    onset: float = 0.03, recovery: float = 0.1, n: int = 20_000
) -> vv.Scenario:
    """A model with a closed-form answer: independent domains with constant hazards.

    No vulnerability, income, deprivation or type differences, no persistent problems, no
    spill-over, no escalation, no life events, no informal support. Each domain is then a
    two-state Markov chain with onset
    probability a = 1 − exp(−onset) and recovery probability b = recovery per month, whose
    active share after t months from nobody is π (1 − (1 − a − b)^t), π = a / (a + b).
    """
    return vv.Scenario.default().with_changes(
        {
            "n_households": n,
            "burn_in_months": 0,
            "population.vulnerability_income": 0.0,
            "population.vulnerability_type": {t: 0.0 for t in vv.HOUSEHOLD_TYPES},
            "population.vulnerability_deprivation": 0.0,
            "population.vulnerability_sd": 0.0,
            "problems.deprivation_effect": 0.0,
            "problems.type_risk": {},
            "problems.spillover": {},
            "problems.onset_rate": {d: onset for d in DOMAINS},
            "problems.recovery_rate": {d: recovery for d in DOMAINS},
            "problems.recovery_stacking": 0.0,
            "problems.persistent_share": 0.0,
            "problems.income_effect": {},
            "problems.escalation_rate": {d: 0.0 for d in DOMAINS},
            "problems.onset_severity": [0.4, 0.55],
            "life_events": {},
            "support.enabled": False,
        }
    )
