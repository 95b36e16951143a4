"""The scenario: an immutable, validated description of a municipality and its behaviour.

A :class:`Scenario` holds what is *uncertain or given* about a municipality (population profile,
neighbourhoods, problem dynamics, life events, the social network and informal support), as
opposed to a policy, which holds what the municipality *chooses*. Every parameter has a default
with its source (``calibration.md`` in the project's shared notes, or a stated assumption), an
allowed range, and is checked when the scenario is built.

Example:
    >>> from vraagvolgend import Scenario
    >>> s = Scenario.default()
    >>> s.n_households
    24000
    >>> small = s.with_changes(n_households=2000, **{"network.mean_degree": 6})
    >>> Scenario.from_toml(small.to_toml()) == small
    True

One concept per module: :mod:`~vraagvolgend.scenario.population` (population, neighbourhoods,
network), :mod:`~vraagvolgend.scenario.problems` (problems and life events),
:mod:`~vraagvolgend.scenario.support` (informal support, access, the municipal budget) and
:mod:`~vraagvolgend.scenario.municipality` (the :class:`Scenario` itself).
"""

from .common import ASSUMED, CALIBRATED, ScenarioError
from .municipality import Scenario
from .population import Neighbourhood, Network, Population
from .problems import LifeEvent, Problems
from .support import BUDGET_LINES, Access, MunicipalBudget, Support

__all__ = [
    "ASSUMED",
    "BUDGET_LINES",
    "CALIBRATED",
    "Access",
    "LifeEvent",
    "MunicipalBudget",
    "Neighbourhood",
    "Network",
    "Population",
    "Problems",
    "Scenario",
    "ScenarioError",
    "Support",
]
