"""Experiments: policies × scenario uncertainties × replications, on any executor.

An :class:`Experiment` declares scenario uncertainties apart from policy levers, a design and
the replications; :func:`run_experiment` runs what is missing from a resumable
:class:`~vraagvolgend.store.ResultStore` on a local process pool, serially, on a local Dask
cluster or on a running one. Replication ``r`` of every point and policy uses the same seed
(common random numbers). For a quick comparison of a few policies without a store, see
:func:`vraagvolgend.comparison.compare`.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import numbers
import os
import re
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pandas as pd
from scipy.stats import qmc
from tqdm.auto import tqdm

from .financing import Policy, PolicySwitch, resolve_policy
from .parameters import ParameterError
from .scenario import Scenario
from .simulation import run
from .store import ResultStore, RunKey

try:
    __version__ = version("vraagvolgend")
except PackageNotFoundError:
    __version__ = "0+unknown"

__all__ = ["Experiment", "Lever", "RunSpec", "Uncertainty", "run_experiment", "run_one"]

# --- Experiments: uncertainties × policies × replications, on any executor ---------------------


@dataclass(frozen=True)
class Uncertainty:
    """A scenario parameter that is uncertain: a range (``low``, ``high``) or a list of values.

    ``name`` is a dotted path into the scenario, as in :meth:`Scenario.with_changes`
    (e.g. ``"problems.onset_rate.finances"``).
    """

    name: str
    low: float | None = None
    high: float | None = None
    values: tuple | None = None

    def __post_init__(self):
        if self.values is not None:
            if self.low is not None or self.high is not None:
                raise ParameterError(self.name, "give a range (low, high) or values, not both")
            if len(self.values) == 0:
                raise ParameterError(self.name, "values must not be empty")
            object.__setattr__(self, "values", tuple(self.values))
        elif self.low is None or self.high is None or not self.low <= self.high:
            raise ParameterError(
                self.name, f"needs low ≤ high or values, got {self.low}, {self.high}"
            )

    def from_unit(self, u: np.ndarray) -> list:
        """Map points in [0, 1) onto the range or the list."""
        if self.values is not None:
            return [self.values[min(int(x * len(self.values)), len(self.values) - 1)] for x in u]
        return [float(self.low + x * (self.high - self.low)) for x in u]

    def levels(self, k: int) -> list:
        """The values of a full-factorial design: the list, or k levels across the range."""
        if self.values is not None:
            return list(self.values)
        return [float(v) for v in np.linspace(self.low, self.high, k)]


@dataclass(frozen=True)
class Lever(Uncertainty):
    """A policy parameter the municipality chooses (a dotted path into the policy)."""


DESIGNS = ("full", "lhs")


@dataclass(frozen=True)
class RunSpec:
    """One run: which scenario point and policy, which replication, and its seed."""

    key: RunKey
    scenario: Scenario
    policy: Policy | PolicySwitch
    seed: np.random.SeedSequence
    months: int


@dataclass(frozen=True)
class Experiment:
    """Policies × scenario uncertainties × replications, with a design.

    Scenario uncertainties are kept apart from policy levers (as in the EMA workbench): the
    design samples scenario points from the uncertainties and policy variants from the levers
    of every base policy; every variant runs on every point with every replication.
    Replication ``r`` of every point and policy uses the same seed (child ``r`` of
    ``SeedSequence(seed)``): common random numbers, so policy differences are paired.

    Args:
        name: Name of the experiment (the store's folder).
        policies: Base policies (objects or names).
        uncertainties: Scenario uncertainties.
        levers: Policy levers (applied to every base policy).
        replications: Replications per point and policy.
        months: Months per run after burn-in.
        design: ``"full"`` (full factorial: lists, or ``levels`` values across each range),
            ``"lhs"`` (Latin hypercube of ``samples`` points, scipy.stats.qmc) or a DataFrame
            whose columns are uncertainty names (a design from SALib or any other tool).
        samples: Points of a Latin hypercube.
        levels: Levels per range in a full-factorial design.
        scenario: The base scenario (default: the embedded default).
        seed: Root seed.

    Example:
        >>> import vraagvolgend as vv
        >>> e = vv.Experiment("demo", ["supply-driven"], [vv.Uncertainty("network.mean_degree",
        ...                   values=[6, 8])], replications=2)
        >>> len(e.runs())
        4
    """

    name: str
    policies: tuple = ("supply-driven", "demand-driven")
    uncertainties: tuple[Uncertainty, ...] = ()
    levers: tuple[Lever, ...] = ()
    replications: int = 10
    months: int = 60
    design: object = "full"
    samples: int = 16
    levels: int = 3
    scenario: Scenario | None = None
    seed: int = 0

    def __post_init__(self):
        if not self.name or not isinstance(self.name, str):
            raise ParameterError("name", "an experiment needs a name")
        policies = tuple(resolve_policy(p) for p in self.policies)
        if not policies or any(p is None for p in policies):
            raise ParameterError("policies", "give at least one policy")
        object.__setattr__(self, "policies", policies)
        object.__setattr__(self, "uncertainties", tuple(self.uncertainties))
        object.__setattr__(self, "levers", tuple(self.levers))
        if self.scenario is None:
            object.__setattr__(self, "scenario", Scenario.default())
        for name, value, lo in (
            ("replications", self.replications, 1),
            ("months", self.months, 12),
            ("samples", self.samples, 1),
            ("levels", self.levels, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lo:
                raise ParameterError(name, f"{value!r} must be an integer ≥ {lo}")
        if not isinstance(self.design, pd.DataFrame) and self.design not in DESIGNS:
            raise ParameterError("design", f"{self.design!r}: one of {DESIGNS} or a DataFrame")
        # Every name must reach a parameter: try the first point now, before any work.
        self.scenario_points()
        self.policy_variants()

    def scenario_points(self) -> pd.DataFrame:
        """The scenario points: one row per point, one column per uncertainty."""
        names = [u.name for u in self.uncertainties]
        if isinstance(self.design, pd.DataFrame):
            unknown = set(self.design.columns) - set(names)
            if unknown:
                raise ParameterError("design", f"columns {sorted(unknown)} are not uncertainties")
            points = self.design[names].reset_index(drop=True)
        elif not names:
            points = pd.DataFrame(index=[0])
        elif self.design == "full":
            grid = itertools.product(*(u.levels(self.levels) for u in self.uncertainties))
            points = pd.DataFrame(list(grid), columns=names)
        else:
            unit = qmc.LatinHypercube(d=len(names), seed=self.seed).random(self.samples)
            points = pd.DataFrame(
                {u.name: u.from_unit(unit[:, i]) for i, u in enumerate(self.uncertainties)}
            )
        for i, row in points.iterrows():
            self._scenario_at(row.to_dict(), f"point {i}")
        return points

    def _scenario_at(self, values: dict, where: str) -> Scenario:
        try:
            return self.scenario.with_changes({k: v for k, v in values.items()})
        except ParameterError as err:
            raise ParameterError(f"{where}: {err.field}", err.message) from None

    def policy_variants(self) -> list[tuple[str, Policy]]:
        """(label, policy) for every base policy × lever combination (full factorial)."""
        variants = []
        combos = list(itertools.product(*(lv.levels(self.levels) for lv in self.levers)))
        for base in self.policies:
            for combo in combos:
                changes = dict(zip([lv.name for lv in self.levers], combo, strict=True))
                label = base.name + "".join(f"__{k}={v}" for k, v in changes.items())
                label = re.sub(r"[^A-Za-z0-9_.=-]+", "_", label)
                try:
                    policy = base.with_changes(changes, name=label) if changes else base
                except ParameterError as err:
                    raise ParameterError(f"{label}: {err.field}", err.message) from None
                variants.append((label, policy))
        labels = [label for label, _ in variants]
        if len(set(labels)) != len(labels):
            raise ParameterError("policies", f"policy labels must be unique: {labels}")
        return variants

    def runs(self) -> list[RunSpec]:
        """Every run of the experiment, with its key and seed."""
        seeds = np.random.SeedSequence(self.seed).spawn(self.replications)
        out = []
        for point, row in self.scenario_points().iterrows():
            scenario = self._scenario_at(row.dropna().to_dict(), f"point {point}")
            for label, policy in self.policy_variants():
                for r, child in enumerate(seeds):
                    key = RunKey(self.name, int(point), label, r)
                    out.append(RunSpec(key, scenario, policy, child, self.months))
        return out

    def definition(self) -> dict:
        """The full definition, as plain values (stored with every run)."""
        return {
            "name": self.name,
            "policies": [p.to_dict() for p in self.policies],
            "uncertainties": [vars(u) for u in self.uncertainties],
            "levers": [vars(lv) for lv in self.levers],
            "replications": self.replications,
            "months": self.months,
            "design": self.design.to_dict("list")
            if isinstance(self.design, pd.DataFrame)
            else self.design,
            "samples": self.samples,
            "levels": self.levels,
            "scenario": self.scenario.to_dict(),
            "seed": self.seed,
            "version": __version__,
        }


def run_one(spec: RunSpec) -> pd.DataFrame:
    """Run one experiment run and return its tidy table (annual costs per law, outcomes).

    This is the function sent to workers; it is a plain module-level function, so any
    executor can pickle it. Worker processes use one thread each.
    """
    os.environ["VRAAGVOLGEND_THREADS"] = "1"
    result = run(spec.scenario, spec.policy, seed=spec.seed, months=spec.months)
    return result.annual_costs().merge(result.indicators(), on="year", how="left")


def _executor(executor, workers):
    """Resolve the executor argument into (executor, shutdown callable)."""
    if executor is None or executor == "processes":
        # An explicit start method: whatever a library may have set globally does not matter.
        method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context(method))
        return pool, pool.shutdown
    if executor == "serial":
        return None, lambda: None
    if executor == "dask" or type(executor).__name__ == "Client":
        try:
            import dask
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ImportError(
                "executor='dask' needs the dask extra: pip install 'vraagvolgend[dask]'"
            ) from None
        if executor == "dask":
            # The nanny's MALLOC_TRIM_THRESHOLD_ slows numpy-heavy tasks (measured ~40%).
            dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None})
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)
            client = Client(cluster)

            def close():
                client.close()
                cluster.close()

            return client.get_executor(), close
        return executor.get_executor(), lambda: None
    if isinstance(executor, Executor):
        return executor, lambda: None
    raise ParameterError(
        "executor", f"{executor!r}: 'serial', 'processes', 'dask', a dask Client or an Executor"
    )


def run_experiment(
    experiment: Experiment,
    store: ResultStore | str | os.PathLike,
    *,
    executor=None,
    workers: int | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Run every missing run of an experiment and return all its results from the store.

    Args:
        experiment: The experiment.
        store: A :class:`~vraagvolgend.store.ResultStore` or its folder. Finished runs are
            skipped, so an interrupted experiment resumes where it stopped.
        executor: ``"processes"`` (default: a local process pool with an explicit start
            method), ``"serial"``, ``"dask"`` (a local Dask cluster of worker processes), a
            ``dask.distributed.Client`` connected to a running cluster, or any
            ``concurrent.futures.Executor``.
        workers: Worker processes for ``"processes"`` and ``"dask"`` (default: the cores).
        progress: Show a progress bar in this process (default: only on a terminal).

    Returns:
        The store's tidy table of the experiment (one row per run, year and cost line), with a
        column ``error`` naming runs that raised (they are not stored, and are retried the
        next time).
    """
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    specs = experiment.runs()
    done = store.finished(experiment.name)
    todo = [s for s in specs if s.key not in done]
    meta = experiment.definition()
    errors = []
    pool, close = _executor(executor, workers)
    disable = None if progress is None else not progress
    try:
        with tqdm(
            total=len(specs), initial=len(specs) - len(todo), desc=experiment.name, disable=disable
        ) as bar:
            if pool is None:
                outcomes = ((s, _call(run_one, s)) for s in todo)
            else:
                futures = {pool.submit(run_one, s): s for s in todo}
                outcomes = ((futures[f], _result(f)) for f in as_completed(futures))
            for spec, (table, error) in outcomes:
                if error is None:
                    store.write(spec.key, table, {**meta, "run": vars(spec.key)})
                else:
                    errors.append({**vars(spec.key), "error": error})
                bar.update()
    finally:
        close()
    results = store.load(experiment.name)
    if errors:
        results = pd.concat([results, pd.DataFrame(errors)], ignore_index=True)
    return results


def _call(function, spec):
    try:
        return function(spec), None
    except Exception as err:  # a run that raises is recorded; the sweep goes on
        return None, f"{type(err).__name__}: {err}"


def _result(future):
    try:
        return future.result(), None
    except Exception as err:
        return None, f"{type(err).__name__}: {err}"
