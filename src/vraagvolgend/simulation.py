"""The one-line entry point: :func:`run`."""

from __future__ import annotations

import numbers

from .financing import Policy, PolicySwitch
from .model import MunicipalityModel
from .parameters import ParameterError
from .results import Result
from .rng import SeedLike
from .scenario import Scenario

__all__ = ["run"]

MAX_MONTHS = 1200


def run(
    scenario: Scenario | None = None,
    policy: Policy | PolicySwitch | str | None = None,
    *,
    seed: SeedLike = 0,
    months: int = 60,
    processes: list | None = None,
) -> Result:
    """Simulate a municipality for a number of months and return its tables.

    Args:
        scenario: The municipality; ``None`` for the embedded default.
        policy: Formal care and financing: a policy, a policy switch or a name
            (``"supply-driven"``, ``"demand-driven"``). ``None`` means no formal care (the
            counterfactual of problems, stacking and informal support only).
        seed: The run's seed; the same seed gives identical tables.
        months: Months to simulate after the scenario's burn-in (1 … 1200).
        processes: Processes of your own (:class:`~vraagvolgend.month.Process`), each
            inserted after the process its ``after`` names.

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
    model = MunicipalityModel(scenario, policy, rng=seed, processes=processes)
    model.run_for(months)
    return Result(
        scenario=model.params,
        policy=model.care.policy if model.care is not None else None,
        seed=seed,
        months=months,
        households=model.households,
        snapshots=model.snapshots,
        monthly=model.datacollector.get_model_vars_dataframe().reset_index(drop=True),
        care=model.care,
    )
