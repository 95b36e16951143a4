"""Experiments: several policies on common random numbers, with replications.

:func:`compare` runs every policy on the same replications: replication ``r`` of every policy
uses the same seed (a child of one root :class:`numpy.random.SeedSequence`), so every policy
sees the same households, network and life events, and differences between policies are
paired. The summary gives, per policy and cost line, the mean annual cost with a 95% confidence
interval over replications and the paired difference against the first policy with its own
interval.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import numbers
import os
import re
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import qmc
from tqdm.auto import tqdm

from .financing import Policy, PolicySwitch, resolve_policy
from .parameters import ParameterError
from .rng import SeedLike, as_seed_sequence
from .scenario import Scenario
from .simulation import run
from .store import ResultStore, RunKey

try:
    __version__ = version("vraagvolgend")
except PackageNotFoundError:
    __version__ = "0+unknown"

__all__ = [
    "COST_LINES",
    "Comparison",
    "Experiment",
    "Lever",
    "RunSpec",
    "Uncertainty",
    "compare",
    "run_experiment",
    "run_one",
    "summarise_run",
]

#: Cost lines of the summary: the three laws' individual provisions (participation services
#: without the benefit), the benefit itself, collective provisions, access, and the external
#: total (everything but the benefit, as municipal accounts report it).
COST_LINES = (
    "jeugdwet",
    "wmo",
    "participatiewet",
    "collective",
    "access",
    "external_total",
    "benefit",
)
OUTCOMES = (
    "mean_severity",
    "share_3plus_problems",
    "youth_care_share",
    "wmo_clients_per_1000",
    "social_assistance_share",
    "hidden_need",
    "waiting_list",
    "carers_under_strain",
    "escalations_residential",
)


def summarise_run(result) -> dict[str, float]:
    """Mean annual cost per cost line and the outcome indicators of one run."""
    costs = result.costs
    years = costs["year"].nunique()
    benefit = costs["provision"] == "benefit"
    by_law = costs[~benefit].groupby("law")["cost_eur"].sum() / years
    out = {f"cost_{law}": float(by_law.get(law, 0.0)) for law in COST_LINES[:5]}
    out["cost_external_total"] = float(costs.loc[~benefit, "cost_eur"].sum() / years)
    out["cost_benefit"] = float(costs.loc[benefit, "cost_eur"].sum() / years)
    ind = result.indicators()
    last = ind.iloc[-1]
    for key in ("mean_severity", "share_3plus_problems"):
        out[key] = float(last[key])
    for key in ("youth_care_share", "wmo_clients_per_1000", "social_assistance_share"):
        out[key] = float(ind[key].mean())
    m = result.monthly
    for key in ("hidden_need", "waiting_list", "carers_under_strain"):
        out[key] = float(m[key].mean())
    out["escalations_residential"] = float(m["escalations_residential"].sum() / years)
    return out


def _mean_ci(x: np.ndarray) -> tuple[float, float, float]:
    mean = float(np.mean(x))
    if len(x) < 2:
        return mean, np.nan, np.nan
    half = float(stats.t.ppf(0.975, len(x) - 1) * np.std(x, ddof=1) / np.sqrt(len(x)))
    return mean, mean - half, mean + half


class Comparison:
    """The outcome of :func:`compare`.

    Attributes:
        runs: One row per (policy, replication) with every cost line and outcome.
        summary: Per policy and cost line: mean annual cost, 95% CI, paired difference against
            the first policy and its 95% CI.
        outcomes: The same layout for the outcome indicators.
        policies: The policies, in order (the first is the baseline of the differences).
    """

    def __init__(self, runs: pd.DataFrame, policies, scenario: Scenario, months: int, seed):
        self.runs = runs
        self.policies = list(policies)
        self.scenario = scenario
        self.months = months
        self.seed = seed
        self.summary = self._table([f"cost_{c}" for c in COST_LINES], "line", "cost_")
        self.outcomes = self._table(list(OUTCOMES), "outcome", "")

    def _table(self, columns: list[str], label: str, strip: str) -> pd.DataFrame:
        names = [p.name for p in self.policies]
        base = self.runs[self.runs["policy"] == names[0]].sort_values("replication")
        rows = []
        for name in names:
            mine = self.runs[self.runs["policy"] == name].sort_values("replication")
            for col in columns:
                x = mine[col].to_numpy(dtype=float)
                d = x - base[col].to_numpy(dtype=float)
                mean, lo, hi = _mean_ci(x)
                dmean, dlo, dhi = _mean_ci(d)
                rows.append(
                    {
                        "policy": name,
                        label: col.removeprefix(strip),
                        "mean": mean,
                        "ci_low": lo,
                        "ci_high": hi,
                        "difference": dmean,
                        "difference_ci_low": dlo,
                        "difference_ci_high": dhi,
                    }
                )
        return pd.DataFrame(rows)

    def table(self) -> pd.DataFrame:
        """Mean annual cost per cost line (rows) and policy (columns), in thousands of EUR."""
        t = self.summary.pivot(index="line", columns="policy", values="mean") / 1000
        return t.loc[list(COST_LINES), [p.name for p in self.policies]]

    def __str__(self) -> str:
        names = [p.name for p in self.policies]
        reps = self.runs["replication"].nunique()
        lines = [
            f"{len(names)} policies × {reps} replications, {self.months} months, "
            f"{self.scenario.n_households:,} households (scenario {self.scenario.name!r}).",
            "Mean annual cost (EUR thousand) with 95% CI; difference against "
            f"{names[0]!r} (paired, 95% CI):",
        ]
        fmt = self.summary.copy()
        for col in (
            "mean",
            "ci_low",
            "ci_high",
            "difference",
            "difference_ci_low",
            "difference_ci_high",
        ):
            fmt[col] = fmt[col] / 1000
        lines.append(_format(fmt, "line"))
        lines.append("\nOutcomes (mean with 95% CI; paired difference):")
        lines.append(_format(self.outcomes, "outcome"))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.summary.to_html(float_format=lambda x: f"{x:,.1f}", index=False)

    def __repr__(self) -> str:
        return f"<Comparison of {[p.name for p in self.policies]}>"


def _format(table: pd.DataFrame, label: str) -> str:
    rows = []
    for _, r in table.iterrows():
        ci = f"[{r['ci_low']:,.3g} … {r['ci_high']:,.3g}]" if np.isfinite(r["ci_low"]) else ""
        dci = (
            f"[{r['difference_ci_low']:+,.3g} … {r['difference_ci_high']:+,.3g}]"
            if np.isfinite(r["difference_ci_low"])
            else ""
        )
        rows.append(
            {
                "policy": r["policy"],
                label: r[label],
                "mean": f"{r['mean']:,.4g}",
                "95% CI": ci,
                "difference": f"{r['difference']:+,.4g}",
                "difference 95% CI": dci,
            }
        )
    return pd.DataFrame(rows).to_string(index=False)


def compare(
    policies: Sequence[Policy | PolicySwitch | str],
    scenario: Scenario | None = None,
    *,
    replications: int = 10,
    seed: SeedLike = 0,
    months: int = 60,
    progress: bool | None = None,
) -> Comparison:
    """Run several policies on common random numbers and summarise their costs and outcomes.

    Args:
        policies: Policies or names (``"supply-driven"``, ``"demand-driven"``); the first is
            the baseline of the paired differences. Names must be unique.
        scenario: The municipality (default: :meth:`Scenario.default`).
        replications: Number of replications (each a different seed shared by all policies).
        seed: Root seed; replication ``r`` uses child ``r`` of ``SeedSequence(seed)``.
        months: Months per run after burn-in.
        progress: Show a progress bar (default: only on a terminal).

    Example:
        >>> import vraagvolgend as vv
        >>> s = vv.Scenario.default().with_changes(n_households=300, burn_in_months=12)
        >>> c = vv.compare(["supply-driven", "demand-driven"], s, replications=2, months=12,
        ...                progress=False)
        >>> sorted(c.summary["policy"].unique())
        ['demand-driven', 'supply-driven']
    """
    resolved = [resolve_policy(p) for p in policies]
    if not resolved or any(p is None for p in resolved):
        raise ParameterError("policies", "give at least one policy (None is not a policy here)")
    names = [p.name for p in resolved]
    if len(set(names)) != len(names):
        raise ParameterError("policies", f"policy names must be unique, got {names}")
    if (
        isinstance(replications, bool)
        or not isinstance(replications, numbers.Integral)
        or replications < 1
    ):
        raise ParameterError("replications", f"{replications!r} must be an integer ≥ 1")
    if isinstance(months, bool) or not isinstance(months, numbers.Integral) or months < 12:
        raise ParameterError("months", f"{months!r} must be an integer ≥ 12 (costs are annual)")
    scenario = Scenario.default() if scenario is None else scenario
    children = as_seed_sequence(seed).spawn(replications)
    rows = []
    disable = None if progress is None else not progress
    with tqdm(total=replications * len(resolved), desc="runs", disable=disable) as bar:
        for r, child in enumerate(children):
            for policy in resolved:
                result = run(scenario, policy, seed=child, months=months)
                rows.append({"policy": policy.name, "replication": r, **summarise_run(result)})
                bar.update()
    return Comparison(pd.DataFrame(rows), resolved, scenario, months, seed)


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
    costs = result.costs
    benefit = costs["provision"] == "benefit"
    line = np.where(benefit, "benefit", costs["law"].astype(str))
    annual = costs.assign(line=line).groupby(["year", "line"], as_index=False)["cost_eur"].sum()
    outcomes = result.indicators()
    return annual.merge(outcomes, on="year", how="left")


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
