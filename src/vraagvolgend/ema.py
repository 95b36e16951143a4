"""An adapter to the EMA workbench (3.x): the model with its uncertainties, levers and outcomes.

The EMA workbench is an optional extra (``pip install 'vraagvolgend[ema]'``), imported when
used. Parameter paths become workbench names with ``__`` for each dot (:func:`identifier`).
:func:`workbench_model` returns an ``ema_workbench.Model`` whose uncertainties are
scenario parameters, whose levers are policy parameters and whose outcomes are the mean annual
costs per line and the outcome indicators of one run; the workbench's samplers, evaluators and
analyses then apply as to any of its models. In workbench 3.x points are ``Sample`` objects
(the 2.x ``Scenario``/``Policy`` classes are gone).

Example:
    >>> import vraagvolgend as vv
    >>> from vraagvolgend.ema import workbench_model
    >>> model = workbench_model(
    ...     [vv.Uncertainty("network.mean_degree", 6, 10)],
    ...     [vv.Lever("outreach", 0.0, 0.2)],
    ...     policy="demand-driven",
    ... )  # doctest: +SKIP
"""

from __future__ import annotations

import warnings

import numpy as np

from .analysis import run_table
from .experiments import Lever, Uncertainty, run_tables
from .financing import resolve_policy
from .outputs import COST_LINES
from .outputs import OUTCOMES as OUTCOME_DECLARATIONS
from .parameters import ParameterError
from .scenario import Scenario
from .simulation import run

__all__ = ["OUTCOMES", "identifier", "workbench_model"]

#: The workbench's outcomes: every cost line and outcome of :mod:`vraagvolgend.outputs`.
OUTCOMES = (
    *(f"cost_{n}" for n in COST_LINES if n != "budget_rule"),
    *OUTCOME_DECLARATIONS,
)


def _import_workbench():
    try:
        with warnings.catch_warnings():  # it warns about optional evaluators on import
            warnings.simplefilter("ignore")
            import ema_workbench
    except ImportError:
        raise ImportError(
            "the EMA adapter needs ema_workbench: pip install 'vraagvolgend[ema]'"
        ) from None
    return ema_workbench


def identifier(name: str) -> str:
    """The workbench name of a parameter: workbench names must be Python identifiers, so the
    dots of a parameter path become double underscores (``network.mean_degree`` →
    ``network__mean_degree``)."""
    return name.replace(".", "__")


def _parameter(ew, item: Uncertainty):
    name = identifier(item.name)
    if item.values is not None:
        return ew.CategoricalParameter(name, list(item.values))
    if item.integer:
        return ew.IntegerParameter(name, int(item.low), int(item.high))
    return ew.RealParameter(name, float(item.low), float(item.high))


class _RunFunction:
    """The workbench calls this with keyword values; a picklable class (not a closure), so
    the workbench's multiprocessing evaluator can send it to its workers."""

    def __init__(self, scenario, policy, uncertainties, levers, months, seed):
        self.scenario = scenario
        self.policy = policy
        self.uncertainties = uncertainties
        self.levers = levers
        self.months = months
        self.seed = seed

    def __call__(self, **values):
        scenario = self.scenario.with_changes(
            {u: values[identifier(u)] for u in self.uncertainties}
        )
        policy = self.policy.with_changes({lv: values[identifier(lv)] for lv in self.levers})
        result = run(scenario, policy, seed=values.get("seed", self.seed), months=self.months)
        table = run_tables(result).assign(point=0, policy=policy.name, replication=0)
        row = run_table(table).iloc[0]
        return {name: float(row.get(name, np.nan)) for name in OUTCOMES}


def workbench_model(
    uncertainties: list[Uncertainty],
    levers: list[Lever] = (),
    *,
    policy="supply-driven",
    scenario: Scenario | None = None,
    months: int = 60,
    seed: int = 0,
    name: str = "vraagvolgend",
):
    """An ``ema_workbench.Model`` of a municipality with declared uncertainties and levers.

    Args:
        uncertainties: Scenario parameters (ranges become real or integer parameters, lists
            categorical ones).
        levers: Policy parameters, applied to ``policy``.
        policy: The base policy (object or name).
        scenario: The base scenario (default: the embedded default).
        months: Months per run.
        seed: Seed of every run (common random numbers across the workbench's points).
        name: The model's name in the workbench.
    """
    ew = _import_workbench()
    base = resolve_policy(policy)
    if base is None:
        raise ParameterError("policy", "the workbench model needs a policy")
    scenario = Scenario.default() if scenario is None else scenario
    function = _RunFunction(
        scenario, base, [u.name for u in uncertainties], [lv.name for lv in levers], months, seed
    )
    model = ew.Model(name, function=function)
    model.uncertainties = [_parameter(ew, u) for u in uncertainties]
    model.levers = [_parameter(ew, lv) for lv in levers]
    model.outcomes = [ew.ScalarOutcome(o) for o in OUTCOMES]
    return model
