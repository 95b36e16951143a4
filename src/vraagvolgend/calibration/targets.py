"""Calibration targets (value, range, source) and the fit table of a scenario under a
policy, on the experiments executor."""

from __future__ import annotations

import copy
import math
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from ..comparison import mean_ci
from ..financing import Policy, PolicySwitch, resolve_policy
from ..parameters import ParameterError
from ..results import Result
from ..scenario import Scenario
from ..simulation import run
from .statistics import STATISTICS

# --- targets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A public figure the model should reproduce.

    Attributes:
        name: Unique name.
        statistic: Name of a registered statistic (:data:`STATISTICS`).
        value: The public value.
        low: Lowest acceptable model value.
        high: Highest acceptable model value.
        source: Where the value comes from.
        group: ``level``, ``gradient``, ``trajectory``, ``channel`` or ``cost`` (for selecting).
        description: What it is, in words.
        weight: Weight in the calibration loss.
    """

    name: str
    statistic: str
    value: float
    low: float
    high: float
    source: str
    group: str = "level"
    description: str = ""
    weight: float = 1.0

    def __post_init__(self):
        if self.statistic not in STATISTICS:
            raise ParameterError(
                f"targets.{self.name}.statistic",
                f"{self.statistic!r} is not a registered statistic: {sorted(STATISTICS)}",
            )
        if not (self.low <= self.value <= self.high and self.low < self.high):
            raise ParameterError(
                f"targets.{self.name}",
                f"needs low ≤ value ≤ high and low < high, got "
                f"{self.low}, {self.value}, {self.high}",
            )
        if not self.weight >= 0:
            raise ParameterError(f"targets.{self.name}.weight", f"{self.weight} must be ≥ 0")

    def within(self, model_value: float) -> bool:
        """Whether a model value lies in the acceptable range."""
        return bool(self.low <= model_value <= self.high)

    def distance(self, model_value: float) -> float:
        """Distance outside the range in units of the range's width (0 inside, inf for NaN)."""
        if not math.isfinite(model_value):
            return math.inf
        width = self.high - self.low
        return max(self.low - model_value, model_value - self.high, 0.0) / width


def load_targets(
    path: str | Path | None = None,
    *,
    names: Iterable[str] | None = None,
    groups: Iterable[str] | None = None,
) -> tuple[Target, ...]:
    """Read targets from a TOML file (default: the package's ``data/targets.toml``).

    The file has one table per target, ``[targets.<name>]`` with ``statistic`` (default: the
    name), ``value``, ``low``, ``high``, ``source`` and optionally ``group``, ``description``
    and ``weight``.

    Args:
        path: A TOML file; ``None`` for the package's targets.
        names: Keep only these targets (in this order).
        groups: Keep only targets of these groups.
    """
    if path is None:
        text = files("vraagvolgend").joinpath("data/targets.toml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    try:
        table = tomllib.loads(text)["targets"]
    except (tomllib.TOMLDecodeError, KeyError) as err:
        raise ParameterError("targets", f"cannot read targets from {path}: {err}") from None
    allowed = {"statistic", "value", "low", "high", "source", "group", "description", "weight"}
    targets = {}
    for name, spec in table.items():
        unknown = set(spec) - allowed
        if unknown:
            raise ParameterError(f"targets.{name}", f"unknown keys {sorted(unknown)}")
        missing = {"value", "low", "high", "source"} - set(spec)
        if missing:
            raise ParameterError(f"targets.{name}", f"missing keys {sorted(missing)}")
        targets[name] = Target(name=name, **{"statistic": name, **spec})
    if names is not None:
        names = list(names)
        unknown = [n for n in names if n not in targets]
        if unknown:
            raise ParameterError("targets", f"unknown targets {unknown}: {sorted(targets)}")
        chosen = [targets[n] for n in names]
    else:
        chosen = list(targets.values())
    if groups is not None:
        groups = set(groups)
        chosen = [t for t in chosen if t.group in groups]
    return tuple(chosen)


def evaluate(result: Result, targets: Iterable[Target]) -> dict[str, float]:
    """The model value of every target's statistic on one result."""
    return {t.name: float(STATISTICS[t.statistic](result)) for t in targets}


# --- runs on the experiments executor ----------------------------------------------------------


def _run_task(task) -> dict[str, float]:
    """Run one (scenario, policy, seed) and compute the statistics (sent to workers)."""
    from ..parallel import limit_threads

    scenario, policy, seed, months, targets, *rest = task
    processes = copy.deepcopy(list(rest[0])) if rest else None  # a fresh copy per run
    with limit_threads(1):
        result = run(scenario, policy, seed=seed, months=months, processes=processes)
    return evaluate(result, targets)


class _Runner:
    """Runs batches of tasks on the experiments executor, results in task order."""

    def __init__(self, executor, workers):
        self.executor, self.workers = executor, workers

    def map(self, tasks: list) -> list[dict[str, float]]:
        from ..executors import run_all

        done: dict[int, dict[str, float]] = {}
        order = {id(task): i for i, task in enumerate(tasks)}

        def handle(task, value, error):
            if error is not None:
                raise RuntimeError(f"calibration run failed: {error}")
            done[order[id(task)]] = value

        run_all(_run_task, tasks, executor=self.executor, workers=self.workers, handle=handle)
        return [done[i] for i in range(len(tasks))]

    def close(self) -> None:
        """Nothing to close: each batch opens and closes its own executor."""


def _seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise ParameterError("replications", f"{replications!r} must be an integer ≥ 1")
    return np.random.SeedSequence(seed).spawn(replications)


def _table(targets: Sequence[Target], values: list[dict[str, float]]) -> pd.DataFrame:
    rows = []
    for t in targets:
        x = np.array([v[t.name] for v in values], dtype=float)
        x = x[np.isfinite(x)]
        mean, lo, hi = mean_ci(x) if len(x) else (np.nan, np.nan, np.nan)
        rows.append(
            {
                "target": t.name,
                "group": t.group,
                "model": mean,
                "ci_low": lo,
                "ci_high": hi,
                "value": t.value,
                "low": t.low,
                "high": t.high,
                "within": t.within(mean),
                "source": t.source,
                "description": t.description,
            }
        )
    return pd.DataFrame(rows)


def fit_table(
    scenario: Scenario | None = None,
    policy: Policy | PolicySwitch | str = "supply-driven",
    targets: Sequence[Target] | None = None,
    replications: int = 5,
    *,
    months: int = 60,
    seed: int = 0,
    executor="serial",
    workers: int | None = None,
    processes: Sequence | None = None,
) -> pd.DataFrame:
    """Compare a scenario under a policy with targets.

    Args:
        scenario: The municipality (default: the embedded default).
        policy: The policy (object or name).
        targets: Targets (default: :func:`load_targets`).
        replications: Runs, on seeds ``SeedSequence(seed).spawn(replications)``.
        months: Months per run (statistics use years 2 … the last).
        seed: Root seed.
        executor: ``"serial"`` (default), ``"processes"``, ``"dask"``, a Dask client or an
            Executor (as in :func:`~vraagvolgend.experiments.run_experiment`).
        workers: Worker processes for ``"processes"`` and ``"dask"``.
        processes: Processes of your own in every run (as in
            :func:`~vraagvolgend.simulation.run`).

    Returns:
        One row per target: ``target``, ``group``, ``model`` (mean over replications),
        ``ci_low``/``ci_high`` (its 95% interval), ``value``, ``low``/``high`` (the
        acceptable range), ``within`` (the mean lies in the range), ``source``,
        ``description``.
    """
    scenario = Scenario.default() if scenario is None else scenario
    targets = load_targets() if targets is None else tuple(targets)
    policy = resolve_policy(policy)
    extra = tuple(processes or ())
    tasks = [(scenario, policy, s, months, targets, extra) for s in _seeds(seed, replications)]
    runner = _Runner(executor, workers)
    try:
        values = runner.map(tasks)
    finally:
        runner.close()
    return _table(targets, values)
