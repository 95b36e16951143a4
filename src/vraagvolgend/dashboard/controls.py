"""The dashboard's controls as plain values, validated by the library itself.

Every control value goes through :meth:`Scenario.with_changes` or :meth:`Policy.with_changes`,
so a bad value gets the same one-line error (naming the field and the allowed range) as the
command line and the TOML files.

Example:
    >>> build_scenario({**SCENARIO_DEFAULTS, "n_households": 500}).n_households
    500
    >>> try:
    ...     build_policy({**POLICY_DEFAULTS, "outreach": 3})
    ... except ValueError as err:
    ...     print(one_line(err))
    outreach: 3 is out of range: must be between 0.0 and 1.0
"""

from __future__ import annotations

from collections.abc import Mapping

from ..budget import BUDGET_RULES as _BUDGET_RULES
from ..contracts import CONTRACTS as _CONTRACTS
from ..financing import REGIMES as _REGISTERED
from ..financing import Policy
from ..parameters import ParameterError
from ..scenario import Scenario

__all__ = [
    "BUDGET_RULES",
    "CONTRACTS",
    "POLICY_DEFAULTS",
    "REGIMES",
    "SCENARIO_DEFAULTS",
    "UNCERTAINTY_DEFAULTS",
    "build_policy",
    "build_scenario",
    "check_uncertainty",
    "one_line",
]

#: The library's regimes, contracts and budget rules (registered ones of a user's too, when
#: imported before the dashboard starts).
_REGIMES = {k: v for k, v in _REGISTERED.items() if k != "policy"}
REGIMES = tuple(_REGIMES)
CONTRACTS = tuple(_CONTRACTS)
BUDGET_RULES = tuple(_BUDGET_RULES)

#: Scenario controls: dotted parameter → default shown in the dashboard.
SCENARIO_DEFAULTS: dict[str, object] = {
    "n_households": 2_000,
    "burn_in_months": 60,
    "network.mean_degree": Scenario.default().network.mean_degree,
    "problems.deprivation_effect": Scenario.default().problems.deprivation_effect,
}
#: Policy controls: parameter → default (``regime`` picks the class).
POLICY_DEFAULTS: dict[str, object] = {
    "name": "supply-driven",
    "regime": "supply-driven",
    "contract": "effort",
    "collective_capacity": 1.0,
    "outreach": 0.0,
    "network_programme": 0.0,
    "practice_support_youth": True,
    "budget_rule": "cut_collective",
}


#: The compare page's uncertainty analysis: parameter draws (0: none) and replications per
#: draw. 48 draws: the drivers' rank regression needs a draw more than ten per varied input
#: (31 by default), and at the page's 1,000 households they add about 15 s.
UNCERTAINTY_DEFAULTS: dict[str, int] = {"draws": 48, "draw_replications": 1}


def build_scenario(values: Mapping[str, object], base: Scenario | None = None) -> Scenario:
    """The scenario with the controls' values (raises ParameterError on a bad value)."""
    base = Scenario.default() if base is None else base
    return base.with_changes({k: v for k, v in values.items() if v is not None} or None)


def build_policy(values: Mapping[str, object]) -> Policy:
    """The policy with the controls' values; ``regime`` picks supply- or demand-driven."""
    values = dict(values)
    regime = values.pop("regime", "supply-driven")
    if regime not in _REGIMES:
        raise ParameterError("regime", f"{regime!r} is not one of {', '.join(_REGIMES)}")
    changes = {k: v for k, v in values.items() if v is not None}
    if not str(changes.get("name", "")).strip():
        raise ParameterError("name", "give the policy a name")
    return _REGIMES[regime]().with_changes(changes)


def check_uncertainty(draws, draw_replications, scenario: Scenario, policies) -> None:
    """Check the uncertainty analysis the controls ask for, before any run, as
    :func:`vraagvolgend.compare` does (the draws and their replications, and every default
    uncertain input applied at both ends of its range). 0 draws: no analysis, nothing to check.

    Raises:
        ParameterError: a bad number of draws or replications per draw.
    """
    if draws == 0 and not isinstance(draws, bool):
        return
    from ..comparison import _plan
    from ..rng import as_seed_sequence

    _plan(draws, None, "lhs", draw_replications, scenario, list(policies), as_seed_sequence(0))


def one_line(err: BaseException) -> str:
    """The one-line message the command line prints for an error (no traceback)."""
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
