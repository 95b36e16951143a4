"""A probabilistic comparison: the paired difference over many parameter sets, and how sure it is.

``compare(..., uncertainty=N)`` draws N parameter sets from the uncertain inputs
(:mod:`vraagvolgend.uncertainty`) with a seeded space-filling design (a Latin hypercube or a
scrambled Sobol sequence, :mod:`scipy.stats.qmc`). Every draw runs every policy on the
comparison's own replication seeds: replication ``r`` of every draw and every policy uses
child ``r`` of the root seed, the seed of replication ``r`` of the plain comparison, so the
differences are paired within a draw and differences between draws come from the parameters
(common random numbers across draws as well). One task is one replication of one draw (a
burn-in under the baseline, forked for every policy: :func:`~vraagvolgend.replication.replicate`);
the tasks run on the experiments' executors and, with a store, each finished one is kept, so an
interrupted analysis resumes.

The answer is a :class:`~vraagvolgend.draws.UncertaintyResult`: the probability that the
alternative is cheaper, the probability that it leaves households worse off (on
:data:`~vraagvolgend.outputs.PRIMARY`), the interval of the difference over both sources of
uncertainty beside the simulation-only one, and a cost-effectiveness plane.
"""

from __future__ import annotations

import json
import numbers
import warnings
import zlib
from dataclasses import replace

import numpy as np
import pandas as pd

from .draws import QUADRANTS, UncertaintyResult
from .parameters import ParameterError, _short
from .scenario import Scenario
from .uncertainty import POLICY, Uncertainty

__all__ = ["DESIGNS", "QUADRANTS", "Plan", "UncertaintyResult", "add_uncertainty", "run_draws"]

#: Space-filling designs of the draws: a Latin hypercube or a scrambled Sobol sequence.
DESIGNS = ("lhs", "sobol")
#: The most parameter sets one analysis draws.
MAX_DRAWS = 100_000
#: The store's folder for the draws' replications.
STORED = "uncertainty"


def _flat_value(section, path: str):
    from .financing import _flat

    return _flat(section.to_dict()).get(path, ...)


class Plan:
    """The checked inputs, the design and the parameter set of every draw (before any run).

    Args:
        draws: How many parameter sets.
        inputs: The uncertain inputs.
        scenario: The base scenario.
        policies: The compared policies (resolved).
        seed: The root :class:`numpy.random.SeedSequence` (not spawned from: the design's
            stream is derived from its entropy by name).
        design: ``"lhs"`` or ``"sobol"``.
        replications: Replications per draw.
        fixed: The declared ranges kept fixed (``{"parameter", "why"}``), for the record.
    """

    def __init__(self, draws, inputs, scenario, policies, seed, design, replications, fixed=()):
        if (
            isinstance(draws, bool)
            or not isinstance(draws, numbers.Integral)
            or not (1 <= draws <= MAX_DRAWS)
        ):
            raise ParameterError(
                "uncertainty", f"{_short(draws)} must be an integer from 1 to {MAX_DRAWS:,} draws"
            )
        if design not in DESIGNS:
            raise ParameterError("design", f"{_short(design)}: one of {', '.join(DESIGNS)}")
        if (
            isinstance(replications, bool)
            or not isinstance(replications, numbers.Integral)
            or replications < 1
        ):
            raise ParameterError(
                "draw_replications", f"{_short(replications)} must be an integer ≥ 1"
            )
        if isinstance(inputs, str | bytes | dict) or not isinstance(inputs, list | tuple):
            raise ParameterError("uncertainties", f"{_short(inputs)} is not a list")
        for i, u in enumerate(inputs):
            if not isinstance(u, Uncertainty):
                raise ParameterError(f"uncertainties[{i}]", f"{_short(u)} is not an Uncertainty")
        names = [u.name for u in inputs]
        if len(set(names)) != len(names):
            twice = sorted({n for n in names if names.count(n) > 1})
            raise ParameterError("uncertainties", f"{twice[0]!r} is declared twice")
        self.draws, self.design_kind, self.replications = int(draws), design, int(replications)
        self.scenario, self.policies, self.seed = scenario, list(policies), seed
        self.fixed = list(fixed)
        self.inputs = [self._resolve(u) for u in inputs]
        for u in self.inputs:
            self._check(u)
        self.design = self._design()
        self.values = self._values()

    # --- inputs -------------------------------------------------------------------------------

    def _having(self, path: str) -> list:
        """The compared policies that have the parameter (a switch keeps its values)."""
        from .financing import Policy

        return [
            p for p in self.policies if isinstance(p, Policy) and _flat_value(p, path) is not ...
        ]

    def _resolve(self, u: Uncertainty) -> Uncertainty:
        """The input with a triangular's missing mode set to the parameter's base value."""
        if u.target == "policy" and u.by_policy is None and not self._having(u.path):
            raise ParameterError(u.name, "no compared policy has this parameter" + self._hint(u))
        if u.target == "scenario" and _flat_value(self.scenario, u.path) is ...:
            raise ParameterError(u.name, "is not a scenario parameter" + self._hint(u))
        if u.values is None and not u.integer and self._whole(u):
            u = replace(u, integer=True)  # an integer parameter takes whole numbers
        if u.by_policy is not None:
            names = [p.name for p in self.policies]
            for policy, *_ in u.by_policy:
                if policy not in names:
                    raise ParameterError(
                        f"{u.name}.by_policy.{policy}", f"is not a compared policy: {names}"
                    )
        if u.distribution != "triangular" or u.values is not None:
            return u
        if u.by_policy is not None:
            by = {p.name: p for p in self.policies}
            spec = {}
            for policy, low, high, mode in u.by_policy:
                base = _flat_value(by[policy], u.path) if mode is None else mode
                spec[policy] = (low, high, self._mode(u, base, low, high))
            return Uncertainty(
                u.name, distribution=u.distribution, integer=u.integer, by_policy=spec
            )
        if u.mode is not None:
            return u
        if u.target == "scenario":
            base = _flat_value(self.scenario, u.path)
        else:
            found = {json.dumps(_flat_value(p, u.path)) for p in self._having(u.path)}
            if len(found) > 1:
                raise ParameterError(
                    f"{u.name}.mode",
                    f"the policies' values differ ({', '.join(sorted(found))}): give a mode or "
                    "by_policy",
                )
            base = _flat_value(self._having(u.path)[0], u.path)
        return Uncertainty(
            u.name, u.low, u.high, distribution="triangular",
            mode=self._mode(u, base, u.low, u.high), integer=u.integer,
        )  # fmt: skip

    def _hint(self, u: Uncertainty) -> str:
        """A "did you mean" for a misspelt parameter path."""
        import difflib

        from .financing import Policy, _flat

        sections = [self.scenario] if u.target == "scenario" else self.policies
        known = {
            k for s in sections if isinstance(s, Policy | Scenario) for k in _flat(s.to_dict())
        }
        close = difflib.get_close_matches(u.path, sorted(known), n=1)
        prefix = "" if u.target == "scenario" else POLICY
        return f"; did you mean {prefix + close[0]!r}?" if close else ""

    def _whole(self, u: Uncertainty) -> bool:
        """Whether the parameter holds an integer (its base value is one)."""
        if u.target == "scenario":
            found = [_flat_value(self.scenario, u.path)]
        else:
            found = [_flat_value(p, u.path) for p in self._having(u.path)]
        return bool(found) and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in found
        )

    @staticmethod
    def _mode(u, base, low, high) -> float:
        if base is ... or isinstance(base, bool) or not isinstance(base, numbers.Real):
            raise ParameterError(f"{u.name}.mode", "give a mode: the parameter has no number")
        if not low <= base <= high:
            raise ParameterError(
                f"{u.name}.mode",
                f"the parameter's value {base:g} is outside {low:g}–{high:g}: give a mode",
            )
        return float(base)

    def _check(self, u: Uncertainty) -> None:
        """Every end of the range (each value of a list) applied alone, before any work."""
        if u.values is not None:
            trials = [(v, "values", None) for v in u.values]
        elif u.by_policy is not None:
            trials = [
                (v, f"by_policy.{p}.{end}", p)
                for p, low, high, _ in u.by_policy
                for end, v in (("low", low), ("high", high))
            ]
        else:
            trials = [(u.low, "low", None), (u.high, "high", None)]
        for value, where, policy in trials:
            if u.integer and u.values is None:
                value = int(np.ceil(value)) if where.endswith("low") else int(np.floor(value))
            try:
                self._apply({u.name: {policy: value} if policy else value})
            except ParameterError as err:
                raise ParameterError(f"{u.name}.{where}", err.message) from None

    def _apply(self, values: dict):
        """The scenario and the policies of one parameter set: ``{input name: value}``, or
        ``{input name: {policy name: value}}`` for a ``by_policy`` input."""
        scenario_changes = {k: v for k, v in values.items() if not k.startswith(POLICY)}
        scenario = (
            self.scenario.with_changes(scenario_changes) if scenario_changes else self.scenario
        )
        policies = []
        for policy in self.policies:
            changes = {}
            for name, value in values.items():
                if not name.startswith(POLICY):
                    continue
                path = name.removeprefix(POLICY)
                if isinstance(value, dict):
                    if policy.name in value:
                        changes[path] = value[policy.name]
                elif any(p is policy for p in self._having(path)):
                    changes[path] = value
            policies.append(policy.with_changes(changes) if changes else policy)
        return scenario, policies

    # --- the design and the parameter sets -----------------------------------------------------

    def _design(self) -> pd.DataFrame:
        """The draws' quantiles: one row per draw, one column per input, in [0, 1)."""
        from scipy.stats import qmc

        # a stream of its own, derived by name from the root seed (as the model's streams are):
        # spawning from the root would shift the replications' seeds
        root = self.seed
        stream = np.random.SeedSequence(
            entropy=root.entropy,
            spawn_key=(*root.spawn_key, zlib.crc32(b"uncertainty design")),
            pool_size=root.pool_size,
        )
        d = len(self.inputs)
        if d == 0:
            unit = np.zeros((self.draws, 0))
        elif self.design_kind == "lhs":
            unit = qmc.LatinHypercube(d=d, rng=np.random.default_rng(stream)).random(self.draws)
        else:
            with warnings.catch_warnings():  # a Sobol sequence balances best at powers of 2
                warnings.simplefilter("ignore", UserWarning)
                sampler = qmc.Sobol(d=d, scramble=True, rng=np.random.default_rng(stream))
                unit = sampler.random(self.draws)
        return pd.DataFrame(unit, columns=[u.name for u in self.inputs])

    def columns(self) -> list[str]:
        """The parameter columns of the draws: the input's name, or ``name[policy]`` for each
        policy of a ``by_policy`` input."""
        out = []
        for u in self.inputs:
            if u.by_policy is None:
                out.append(u.name)
            else:
                out += [f"{u.name}[{p}]" for p, *_ in u.by_policy]
        return out

    def _values(self) -> pd.DataFrame:
        table = {}
        for u in self.inputs:
            q = self.design[u.name].to_numpy()
            if u.by_policy is None:
                table[u.name] = u.from_unit(q)
            else:
                for policy, values in u.by_unit(q).items():
                    table[f"{u.name}[{policy}]"] = values
        frame = pd.DataFrame(table, index=range(self.draws), columns=self.columns())
        return frame.rename_axis("draw").reset_index()

    def parameter_set(self, draw: int):
        """The scenario and the policies of one draw."""
        row = self.values.iloc[draw]
        values = {}
        for u in self.inputs:
            if u.by_policy is None:
                values[u.name] = _plain(row[u.name])
            else:
                values[u.name] = {p: _plain(row[f"{u.name}[{p}]"]) for p, *_ in u.by_policy}
        try:
            return self._apply(values)
        except ParameterError as err:
            raise ParameterError(f"draw {draw}: {err.field}", err.message) from None

    def table(self) -> pd.DataFrame:
        """The inputs: name, what they change, distribution, range, mode or values, and the
        policy of a per-policy range (one row per policy)."""
        rows = []
        for u in self.inputs:
            base = {"input": u.name, "target": u.target, "distribution": u.distribution}
            if u.values is not None:
                rows.append({**base, "distribution": "values", "values": list(u.values)})
            elif u.by_policy is not None:
                for p, low, high, mode in u.by_policy:
                    rows.append({**base, "policy": p, "low": low, "high": high, "mode": mode})
            else:
                rows.append({**base, "low": u.low, "high": u.high, "mode": u.mode})
        columns = ["input", "target", "distribution", "policy", "low", "high", "mode", "values"]
        return pd.DataFrame(rows, columns=columns)


def _plain(value):
    """A numpy scalar as a Python one (parameters are validated as plain numbers)."""
    return value.item() if isinstance(value, np.generic) else value


def _draw_one(task) -> list[dict]:
    """One replication of every policy at one draw (sent to a worker): its rows."""
    from .parallel import limit_threads
    from .replication import replicate

    scenario, policies, child, months, r, at, burn_in, processes, draw = task
    with limit_threads(1):
        rows, _ = replicate(scenario, policies, child, months, at, burn_in, processes, False)
    return [{"draw": draw, "replication": r, **row} for row in rows]


def run_draws(
    plan: Plan,
    comparison,
    children,
    *,
    executor,
    workers,
    progress,
    store,
    recompute,
    on_progress=None,
):
    """Run every draw's replications (those not stored) and summarise them.

    Args:
        plan: The draws.
        comparison: The plain comparison at the base values (its simulation-only intervals
            stand beside the result's).
        children: The replications' seeds (the comparison's).
        on_progress: Called as ``on_progress("uncertainty", done, total)`` at the start and
            after every finished replication of a draw (:func:`~vraagvolgend.comparison.compare`).
    """
    from .executors import SweepInterrupted, progress_bar, run_all
    from .provenance import code_of, determinants
    from .store import ResultStore, RunKey

    names = [p.name for p in plan.policies]
    at = names.index(comparison.baseline)
    processes = list(comparison.processes)
    tasks, keys, current = [], [], {}
    for d in range(plan.draws):
        scenario, policies = plan.parameter_set(d)
        for r in range(plan.replications):
            task = (scenario, policies, children[r], comparison.months, r, at,
                    comparison.burn_in, processes, d)  # fmt: skip
            tasks.append(task)
            keys.append(RunKey(STORED, d, "rows", r))
            if store is not None:
                current[keys[-1]] = determinants(
                    scenario, policies, comparison.months, children[r], r,
                    baseline=comparison.baseline, burn_in=comparison.burn_in,
                    processes=[code_of(p) for p in processes],
                )  # fmt: skip
    done: dict[int, list] = {}
    if store is not None:
        store = store if isinstance(store, ResultStore) else ResultStore(store)
        reusable = store.reusable(STORED, current, recompute=recompute)
        for i, key in enumerate(keys):
            if key in reusable:
                done[i] = store.read(key).to_dict("records")
        store.check_writable(STORED)
    order = {id(task): i for i, task in enumerate(tasks)}

    def handle(task, rows, error):
        i = order[id(task)]
        done[i] = rows
        if store is not None:
            meta = {"determinants": current[keys[i]]}
            store.write(keys[i], pd.DataFrame(rows), meta, key_columns=False)

    todo = [task for i, task in enumerate(tasks) if i not in done]
    try:
        with progress_bar("uncertainty", len(tasks), len(done), progress, on_progress) as bar:
            run_all(_draw_one, todo, executor=executor, workers=workers, handle=handle,
                    bar=bar, raise_errors=True)  # fmt: skip
    except KeyboardInterrupt:
        if store is None:
            raise
        raise SweepInterrupted(
            len(done), len(tasks), store.path / STORED, "replications of draws"
        ) from None
    # the serial order, whatever order they finished in: identical on every executor
    runs = pd.DataFrame([row for i in range(len(tasks)) for row in done[i]])
    return UncertaintyResult.from_runs(runs, plan, comparison)


def add_uncertainty(
    comparison,
    draws: int,
    *,
    uncertainties=None,
    policies=None,
    design: str = "lhs",
    replications: int | None = None,
    executor="serial",
    workers: int | None = None,
    progress: bool | None = None,
    store=None,
    recompute: bool = False,
) -> UncertaintyResult:
    """Add a probabilistic comparison to a finished comparison (``comparison.uncertainty``).

    The same as ``compare(..., uncertainty=draws)`` without running the plain comparison
    again: the draws run on the comparison's scenario, months, burn-in, baseline and
    replication seeds, and its simulation-only intervals stand beside theirs.

    Args:
        comparison: A :class:`~vraagvolgend.comparison.Comparison`.
        draws: How many parameter sets.
        uncertainties: The inputs (default: every declared plausible range).
        policies: The names of the policies to run on every draw, the baseline included
            (default: all of the comparison's), e.g. leaving a switch out.
        design: ``"lhs"`` or ``"sobol"``.
        replications: Replications per draw (default: the comparison's).
        executor: As in :func:`~vraagvolgend.comparison.compare`.
        workers: Worker processes for ``"processes"`` and ``"dask"``.
        progress: Show a progress bar (default: only on a terminal).
        store: A store that keeps every finished draw (resumable).
        recompute: Compute again stored draws made with another definition.

    Returns:
        The :class:`UncertaintyResult`, also set as ``comparison.uncertainty``.
    """
    from .comparison import _plan
    from .rng import as_seed_sequence

    known = [p.name for p in comparison.policies]
    chosen = known if policies is None else list(policies)
    for name in chosen:
        if name not in known:
            raise ParameterError("policies", f"{_short(name)} is not one of {', '.join(known)}")
    if comparison.baseline not in chosen:
        raise ParameterError("policies", f"must include the baseline {comparison.baseline!r}")
    resolved = [p for p in comparison.policies if p.name in chosen]
    reps = len(comparison.runs["replication"].unique())
    root = as_seed_sequence(comparison.seed)
    plan = _plan(draws, uncertainties, design, replications or reps, comparison.scenario,
                 resolved, root)  # fmt: skip
    children = root.spawn(max(reps, plan.replications))
    comparison.uncertainty = run_draws(
        plan, comparison, children, executor=executor, workers=workers, progress=progress,
        store=store, recompute=recompute,
    )  # fmt: skip
    return comparison.uncertainty
