"""Experiments: policies × scenario uncertainties × replications, on any executor.

An :class:`Experiment` declares scenario uncertainties apart from policy levers, a design and
the replications; :func:`run_experiment` runs what is missing from a resumable
:class:`~vraagvolgend.store.ResultStore` on a local process pool, serially, on a local Dask
cluster or on a running one. Replication ``r`` of every point and policy uses the same seed
(common random numbers). For a quick comparison of a few policies without a store, see
:func:`vraagvolgend.comparison.compare`.

Where the runs start (``Experiment(burn_in=...)``), as in :func:`~vraagvolgend.comparison.compare`:
with ``"baseline"`` (the default) the municipality of each scenario point and replication burns
in once, under the baseline policy ("the municipality as it is today"), and every policy variant,
levers included, continues from a copy of that one state (:class:`~vraagvolgend.replication.Start`):
a sweep then answers "from today's municipality, what does each financing do over the next
``months`` months". With ``"each"`` every run burns in under its own policy variant, as a single
:func:`~vraagvolgend.simulation.run` does: the steady-state question ("once each financing has
shaped the municipality").
"""

from __future__ import annotations

import itertools
import math
import numbers
import os
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .executors import SweepInterrupted, run_all
from .financing import Policy, PolicySwitch, resolve_policy
from .memory import check_memory as fits
from .outputs import outcomes_per_year
from .parallel import limit_threads
from .parameters import ParameterError, _short
from .provenance import code_of, determinants
from .replication import BURN_IN, Start, default_baseline
from .scenario import Scenario
from .simulation import MAX_MONTHS
from .store import ResultStore, RunKey, check_name
from .uncertainty import Lever, Uncertainty, _hashable

try:
    __version__ = version("vraagvolgend")
except PackageNotFoundError:
    __version__ = "0+unknown"

__all__ = [
    "Experiment",
    "Lever",
    "RunSpec",
    "SweepInterrupted",
    "Uncertainty",
    "run_all",
    "run_experiment",
    "run_group",
    "run_one",
    "run_tables",
    "variant_label",
]

# --- Experiments: uncertainties × policies × replications, on any executor ---------------------


DESIGNS = ("full", "lhs")
#: Points of a design checked whole when an experiment is defined (all are checked by runs()).
CHECK_POINTS = 100
#: Most runs in one experiment, and most levels per range of a full-factorial design.
MAX_RUNS = 1_000_000
MAX_LEVELS = 1_000


@dataclass(frozen=True)
class RunSpec:
    """One run: which scenario point and policy, which replication, its seed, and where it
    starts.

    ``burn_in="each"`` (the default here) burns the run in under its own policy, as
    :func:`~vraagvolgend.simulation.run` does; ``"baseline"`` burns in under ``baseline`` (the
    experiment's baseline policy) and forks the run's policy from that state, so that the runs
    of one scenario point and replication that share the start can share one burn-in
    (:func:`run_group`).
    """

    key: RunKey
    scenario: Scenario
    policy: Policy | PolicySwitch
    seed: np.random.SeedSequence
    months: int
    processes: tuple = ()
    burn_in: str = "each"
    baseline: Policy | PolicySwitch | None = None

    def determinants(self) -> dict:
        """Everything that determines this run (compared before a stored run is reused): the
        scenario, policy, months, seed, replication, the model's code, the processes, and
        where the run starts (``burn_in``, and under ``"baseline"`` the baseline policy's
        values and class; ``None`` under ``"each"``, where it plays no part)."""
        extra = {"processes": [code_of(p) for p in self.processes]} if self.processes else {}
        baseline = None
        if self.burn_in == "baseline":
            baseline = {"policy": self.baseline.to_dict(), "policy_code": code_of(self.baseline)}
        return determinants(
            self.scenario,
            self.policy,
            self.months,
            self.seed,
            self.key.replication,
            burn_in=self.burn_in,
            baseline=baseline,
            **extra,
        )

    @property
    def start(self) -> tuple:
        """Which start the run shares: runs with the same start can be forked from one
        burn-in (the scenario point and replication, under ``"baseline"``)."""
        if self.burn_in == "baseline":
            return (self.key.experiment, self.key.point, self.key.replication)
        return (self.key,)


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
        processes: Processes of your own in every run (as in
            :func:`~vraagvolgend.simulation.run`); the cost lines and outcomes they declare
            are stored with every run.
        burn_in: ``"baseline"`` (default): per scenario point and replication the municipality
            burns in once under the baseline policy, "the municipality as it is today", and
            every policy variant (levers included) continues from that one state; the sweep
            answers "from today, under each financing, over the next ``months`` months".
            ``"each"``: every run burns in under its own policy variant; it answers the
            steady-state question ("once each financing has shaped the municipality"). As in
            :func:`~vraagvolgend.comparison.compare`; see :class:`~vraagvolgend.replication.Start`.
        baseline: The name of the base policy the municipality burns in under (as given, without
            levers; its budget rule off during the burn-in); default: the supply-driven policy
            if there is one, else the first (as in :func:`~vraagvolgend.comparison.compare`).

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
    processes: tuple = ()
    burn_in: str = "baseline"
    baseline: str | None = None

    def __post_init__(self):
        check_name(self.name)
        if isinstance(self.policies, str | bytes | dict) or not isinstance(
            self.policies, list | tuple
        ):
            raise ParameterError("policies", f"{_short(self.policies)} is not a list of policies")
        policies = tuple(resolve_policy(p) for p in self.policies)
        if not policies or any(p is None for p in policies):
            raise ParameterError("policies", "give at least one policy")
        object.__setattr__(self, "policies", policies)
        if not isinstance(self.burn_in, str) or self.burn_in not in BURN_IN:
            raise ParameterError("burn_in", f"{_short(self.burn_in)}: one of {', '.join(BURN_IN)}")
        names = [p.name for p in policies]
        baseline = default_baseline(policies) if self.baseline is None else self.baseline
        if not isinstance(baseline, str) or baseline not in names:
            raise ParameterError(
                "baseline", f"{_short(baseline)} is not one of the policies: {names}"
            )
        object.__setattr__(self, "baseline", baseline)
        for kind, cls in (("uncertainties", Uncertainty), ("levers", Lever)):
            items = getattr(self, kind)
            if isinstance(items, str | bytes | dict) or not isinstance(items, list | tuple):
                raise ParameterError(kind, f"{_short(items)} is not a list")
            for i, item in enumerate(items):
                if not isinstance(item, cls):
                    raise ParameterError(f"{kind}[{i}]", f"{_short(item)} is not a {cls.__name__}")
            object.__setattr__(self, kind, tuple(items))
        if self.scenario is None:
            object.__setattr__(self, "scenario", Scenario.default())
        elif not isinstance(self.scenario, Scenario):
            raise ParameterError("scenario", f"{_short(self.scenario)} is not a Scenario")
        for name, value, lo, hi in (
            ("replications", self.replications, 1, MAX_RUNS),
            ("months", self.months, 12, MAX_MONTHS),
            ("samples", self.samples, 1, MAX_RUNS),
            ("levels", self.levels, 1, MAX_LEVELS),
            ("seed", self.seed, 0, None),
        ):
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Integral)
                or value < lo
                or (hi is not None and value > hi)
            ):
                allowed = f"from {lo} to {hi:,}" if hi is not None else f"≥ {lo}"
                raise ParameterError(name, f"{_short(value)} must be an integer {allowed}")
        if not isinstance(self.design, pd.DataFrame) and not (
            isinstance(self.design, str) and self.design in DESIGNS
        ):
            raise ParameterError(
                "design", f"{_short(self.design)}: one of {DESIGNS} or a DataFrame"
            )
        n_runs = self._count_points() * self._count_variants() * self.replications
        if n_runs > MAX_RUNS:
            raise ParameterError(
                "design", f"{n_runs:,} runs is more than the {MAX_RUNS:,} an experiment allows"
            )
        # Every name must reach a parameter and every value be allowed: try each value of each
        # uncertainty, and the first points whole, now, before any work (runs() checks all).
        for kind, items in (("uncertainties", self.uncertainties), ("levers", self.levers)):
            for item in items:
                values = item.values if item.values is not None else (item.low, item.high)
                for value in dict.fromkeys(_hashable(v) for v in values):
                    self._check_value(kind, item.name, _plain(value))
        for i, row in self.scenario_points().head(CHECK_POINTS).iterrows():
            self._scenario_at(row.dropna().to_dict(), f"point {i}")
        self.policy_variants()

    def _check_value(self, kind: str, name: str, value) -> None:
        """One value of one uncertainty or lever, alone on the base scenario or policies."""
        try:
            if kind == "uncertainties":
                self.scenario.with_changes({name: value})
            else:
                for base in self.policies:
                    base.with_changes({name: value})
        except ParameterError as err:
            raise ParameterError(f"{kind}: {err.field}", err.message) from None

    @property
    def baseline_policy(self) -> Policy | PolicySwitch:
        """The base policy the municipality burns in under with ``burn_in="baseline"``."""
        return next(p for p in self.policies if p.name == self.baseline)

    def _count_points(self) -> int:
        if isinstance(self.design, pd.DataFrame):
            return len(self.design)
        if not self.uncertainties:
            return 1
        if self.design == "lhs":
            return self.samples
        return math.prod(len(u.levels(self.levels)) for u in self.uncertainties)

    def _count_variants(self) -> int:
        return len(self.policies) * math.prod(len(lv.levels(self.levels)) for lv in self.levers)

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
            from scipy.stats import qmc  # lazily: slow to import

            unit = qmc.LatinHypercube(d=len(names), seed=self.seed).random(self.samples)
            points = pd.DataFrame(
                {u.name: u.from_unit(unit[:, i]) for i, u in enumerate(self.uncertainties)}
            )
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
                # The label is stored inside each result file, so any text is safe here.
                label = base.name + "".join(f"__{k}={v}" for k, v in changes.items())
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
        baseline = self.baseline_policy if self.burn_in == "baseline" else None
        out = []
        for point, row in self.scenario_points().iterrows():
            scenario = self._scenario_at(row.dropna().to_dict(), f"point {point}")
            for label, policy in self.policy_variants():
                for r, child in enumerate(seeds):
                    key = RunKey(self.name, int(point), label, r)
                    out.append(
                        RunSpec(
                            key,
                            scenario,
                            policy,
                            child,
                            self.months,
                            self.processes,
                            self.burn_in,
                            baseline,
                        )
                    )
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
            "processes": [code_of(p) for p in self.processes],
            "burn_in": self.burn_in,
            "baseline": self.baseline,
            "version": __version__,
        }


TABLE_COLUMNS = ["year", "kind", "variable", "value"]


def variant_label(label: str) -> str:
    """A policy variant's label for people: ``supply-driven__contract=effort`` as
    ``supply-driven, contract = effort``."""
    base, *levers = label.split("__")
    return ", ".join([base, *(lever.replace("=", " = ", 1) for lever in levers)])


def _plain(value):
    """Undo :func:`_hashable`."""
    if isinstance(value, tuple) and len(value) == 2 and value[0] == "__table__":
        return {k: _plain(v) for k, v in value[1]}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def run_tables(result) -> pd.DataFrame:
    """One run's long tidy table: ``year``, ``kind``, ``variable`` and ``value``.

    ``kind`` is ``"cost"`` (``variable`` a cost line, ``value`` in EUR), ``"outcome"`` (an
    outcome of :mod:`vraagvolgend.outputs`, its value in that year) or ``"indicator"`` (the
    other annual indicators of :meth:`~vraagvolgend.results.Result.indicators`). Each appears
    once per year, so summing the cost rows of a run gives its total cost exactly, and the mean
    of an outcome's rows over the years is the value a comparison reports.
    """
    result = _IndicatorsOnce(result)
    costs = result.annual_costs().rename(columns={"line": "variable", "cost_eur": "value"})
    costs = costs.assign(kind="cost")
    per_year = outcomes_per_year(result)
    outcomes = per_year.melt(id_vars="year", var_name="variable", value_name="value")
    outcomes = outcomes.assign(kind="outcome")
    indicators = result.indicators()
    indicators = indicators.drop(
        columns=[c for c in per_year.columns if c != "year"], errors="ignore"
    )
    indicators = indicators.melt(id_vars="year", var_name="variable", value_name="value")
    indicators = indicators.assign(kind="indicator")
    out = pd.concat([costs, outcomes, indicators], ignore_index=True)[TABLE_COLUMNS]
    out["year"] = out["year"].astype("int64")
    out["value"] = out["value"].astype("float64")
    return out


class _IndicatorsOnce:
    """A run's result whose annual indicators are computed once: the outcomes read them once
    each (six times in all, most of the cost of :func:`run_tables`)."""

    def __init__(self, result):
        self._result = result
        self._indicators = result.indicators()

    def indicators(self) -> pd.DataFrame:
        return self._indicators.copy()

    def __getattr__(self, name):
        return getattr(self._result, name)


def run_one(spec: RunSpec) -> pd.DataFrame:
    """Run one experiment run and return its long tidy table (see :func:`run_tables`).

    The run starts as ``spec.burn_in`` says (its own burn-in, or a fork of the baseline's);
    :func:`run_group` runs several runs that share a start from one burn-in, with the same
    tables. A plain module-level function, so any executor can pickle it; one thread.
    """
    [(table, _)] = run_group((spec,), raise_errors=True)
    return table


def run_group(specs, raise_errors: bool = False) -> list[tuple[pd.DataFrame | None, str | None]]:
    """Run experiment runs that share a start (:attr:`RunSpec.start`: the same scenario point,
    replication, burn-in and baseline) from one burn-in; return ``(table, error)`` per run.

    Under ``burn_in="baseline"`` the municipality burns in once under the baseline policy and
    every run continues from a copy of that state
    (:meth:`~vraagvolgend.model.MunicipalityModel.fork`); under ``"each"`` every run burns in
    under its own policy. A run that raises is recorded (``error`` names it; with
    ``raise_errors`` it propagates) and the others go on; a burn-in that raises is every run's
    error. This is the function sent to workers: a plain module-level function, so any
    executor can pickle it. It uses one thread (many tasks share the machine); no process-wide
    setting is changed.
    """
    specs = tuple(specs)
    first = specs[0]
    if any(s.start != first.start for s in specs):
        raise ValueError("run_group: the runs do not share one start")
    out = []
    with limit_threads(1):
        try:
            start = Start(
                first.scenario, first.baseline, first.seed, first.burn_in, first.processes
            )
        except Exception as err:
            if raise_errors:
                raise
            return [(None, _error(err))] * len(specs)
        for spec in specs:
            try:
                # run_experiment checked the memory once for the largest point, before any work
                out.append((run_tables(start.run(spec.policy, spec.months)), None))
            except Exception as err:  # a run that raises is recorded; the others go on
                if raise_errors:
                    raise
                out.append((None, _error(err)))
    return out


def _error(err: Exception) -> str:
    return f"{type(err).__name__}: {err}"


def _slots(executor, workers) -> int:
    """How many runs the executor runs at once (an estimate; only the split of groups uses it)."""
    if executor == "serial":
        return 1
    if workers is not None:
        return int(workers)
    if executor is None or executor in ("processes", "dask"):
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not Linux
            return os.cpu_count() or 1
    if type(executor).__name__ == "Client":
        try:
            return max(sum(executor.nthreads().values()), 1)
        except Exception:  # pragma: no cover - a client that cannot answer now
            return 1
    return int(getattr(executor, "_max_workers", 1) or 1)


def _tasks(specs: list[RunSpec], slots: int) -> list[tuple[RunSpec, ...]]:
    """The runs to do, grouped by start (one burn-in per group), in the runs' order.

    With fewer groups than runs at once, a group is split into that many contiguous parts, each
    burning in again (the same state: a burn-in is deterministic), so that no worker idles.
    """
    groups: dict[tuple, list[RunSpec]] = {}
    for spec in specs:
        groups.setdefault(spec.start, []).append(spec)
    parts = 1 if len(groups) >= slots else math.ceil(slots / max(len(groups), 1))
    tasks = []
    for group in groups.values():
        n = min(parts, len(group))
        tasks += [tuple(group[len(group) * i // n : len(group) * (i + 1) // n]) for i in range(n)]
    return tasks


def run_experiment(
    experiment: Experiment,
    store: ResultStore | str | os.PathLike,
    *,
    executor=None,
    workers: int | None = None,
    progress: bool | None = None,
    recompute: bool = False,
    check_memory: bool = True,
) -> pd.DataFrame:
    """Run every missing run of an experiment and return all its results from the store.

    The runs go to the executor as one task per start (:attr:`RunSpec.start`): under
    ``burn_in="baseline"`` one task per scenario point and replication, which burns in once and
    forks every missing policy variant (split in parts when there are fewer tasks than
    workers); under ``"each"`` one task per run. A task's runs are stored as soon as it ends.

    Args:
        experiment: The experiment.
        store: A :class:`~vraagvolgend.store.ResultStore` or its folder. Finished runs are
            skipped, so an interrupted experiment resumes where it stopped.
        executor: ``"processes"`` (default: a local process pool with an explicit start
            method; its workers end with this process), ``"serial"``, ``"dask"`` (a local
            Dask cluster of worker processes), a ``dask.distributed.Client`` connected to a
            running cluster, or any ``concurrent.futures.Executor``.
        workers: Worker processes for ``"processes"`` and ``"dask"`` (default: the cores).
        progress: Show a progress bar in this process (default: only on a terminal).
        recompute: Compute again the stored runs whose definition differs from the current
            one (scenario, policy, months, seed, replication, the model's code, or where the
            run starts: ``burn_in`` and the baseline policy), instead of refusing.
        check_memory: Refuse, before any work, an experiment whose largest run would not fit
            in the memory available (``False`` insists).

    Returns:
        The store's long tidy table of the experiment's current runs (one row per run, year
        and cost line or indicator: see :func:`run_tables`), with a column ``error`` naming
        runs that raised (they are not stored, and are retried the next time).

    Raises:
        ParameterError: the store cannot be written (checked before any work).
        StaleResults: stored runs of this experiment name were made with another definition
            (unless ``recompute``); it names the changed fields.
        SweepInterrupted: on Ctrl-C, after the finished runs are stored and the workers ended.
    """
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    specs = experiment.runs()
    current = {s.key: s.determinants() for s in specs}
    done = store.reusable(experiment.name, current, recompute=recompute)
    todo = [s for s in specs if s.key not in done]
    if todo:
        store.check_writable(experiment.name)
        if check_memory:
            largest = max(todo, key=lambda s: s.scenario.n_households)
            fits(largest.scenario.n_households, largest.months, "scenario.n_households")
    meta = experiment.definition()
    errors = []
    stored = [len(specs) - len(todo)]
    # One task per start: under burn_in="baseline" the runs of one scenario point and
    # replication share a burn-in, and are stored as soon as their task ends.
    tasks = _tasks(todo, _slots(executor, workers))

    disable = None if progress is None else not progress
    try:
        with tqdm(
            total=len(specs), initial=stored[0], desc=experiment.name, disable=disable
        ) as bar:

            def handle(group, outcomes, error):
                for spec, (table, failed) in zip(
                    group, outcomes if error is None else [(None, error)] * len(group), strict=True
                ):
                    if failed is None:
                        info = {**meta, "run": vars(spec.key), "determinants": current[spec.key]}
                        store.write(spec.key, table, info)
                        stored[0] += 1
                    else:
                        errors.append({**vars(spec.key), "error": failed})
                    bar.update()

            run_all(run_group, tasks, executor=executor, workers=workers, handle=handle)
    except KeyboardInterrupt:
        raise SweepInterrupted(stored[0], len(specs), store.path / experiment.name) from None
    # Only this definition's runs: a store may hold more (e.g. replications since reduced).
    results = store.load(experiment.name, keys=current)
    if errors:
        results = pd.concat([results, pd.DataFrame(errors)], ignore_index=True)
    return results
