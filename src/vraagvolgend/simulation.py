"""The one-line entry point: :func:`run`."""

from __future__ import annotations

import numbers

from .financing import Policy, PolicySwitch, resolve_policy
from .memory import check_memory as fits
from .model import MunicipalityModel
from .parameters import MAX_MONTHS, ParameterError
from .results import Result
from .rng import SeedLike
from .scenario import Scenario

__all__ = ["MAX_MONTHS", "result_of", "run"]


def run(
    scenario: Scenario | None = None,
    policy: Policy | PolicySwitch | str | None = "supply-driven",
    *,
    seed: SeedLike = 0,
    months: int = 60,
    processes: list | None = None,
    check_memory: bool = True,
) -> Result:
    """Simulate a municipality for a number of months and return its tables.

    Args:
        scenario: The municipality; ``None`` for the embedded default.
        policy: Formal care and financing: a policy, a policy switch or a name
            (``"supply-driven"``, the default as on the command line, ``"demand-driven"``).
            Only an explicit ``None`` means no formal care (the counterfactual of problems,
            stacking and informal support only).
        seed: The run's seed; the same seed gives identical tables.
        months: Months to simulate after the scenario's burn-in (1 … 1200).
        processes: Processes of your own (:class:`~vraagvolgend.month.Process`), each
            inserted after the process its ``after`` names.
        check_memory: Refuse, before any work, a run whose estimated peak memory exceeds
            what is available (:func:`~vraagvolgend.memory.check_memory`); ``False`` insists.

    Returns:
        A :class:`~vraagvolgend.results.Result` with ``households``, ``problems`` and
        ``monthly`` tables.

    Example:
        >>> import vraagvolgend as vv
        >>> r = vv.run(vv.Scenario.default().with_changes(n_households=300), seed=1, months=12)
        >>> len(r.monthly), sorted(r.problems["year"].unique().tolist())
        (12, [1])
    """
    if (
        isinstance(months, bool)
        or not isinstance(months, numbers.Integral)
        or not 1 <= months <= MAX_MONTHS
    ):
        raise ParameterError("months", f"{months!r} is out of range: must be 1 … {MAX_MONTHS}")
    if scenario is not None and not isinstance(scenario, Scenario):
        raise ParameterError("scenario", f"{scenario!r} is not a Scenario (or None)")
    if check_memory:
        n = (scenario or Scenario.default()).n_households
        fits(n, months)
    model = MunicipalityModel(scenario, resolve_policy(policy), rng=seed, processes=processes)
    model.run_for(months)
    return result_of(model, seed, months)


def result_of(model: MunicipalityModel, seed: SeedLike, months: int) -> Result:
    """The :class:`~vraagvolgend.results.Result` of a model that has run ``months`` months
    (built with :class:`MunicipalityModel` or forked from one)."""
    return Result(
        scenario=model.params,
        policy=model.care.policy if model.care is not None else None,
        seed=seed,
        months=months,
        households=model.households,
        snapshots=model.snapshots,
        monthly=model.datacollector.get_model_vars_dataframe().reset_index(drop=True),
        care=model.care,
        process_outputs=[o for p in model.pipeline.processes for o in getattr(p, "outputs", ())],
    )
