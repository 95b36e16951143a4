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

The :class:`UncertaintyResult` answers with the probability that the alternative is cheaper,
the probability that it leaves households worse off (on :data:`~vraagvolgend.outputs.PRIMARY`),
the interval of the difference over both sources of uncertainty beside the simulation-only one,
and a cost-effectiveness plane.
"""

from __future__ import annotations

import json
import numbers
import warnings
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from . import outputs as _outputs
from .parameters import ParameterError, _short
from .scenario import Scenario
from .uncertainty import POLICY, Uncertainty

__all__ = ["DESIGNS", "QUADRANTS", "UncertaintyResult"]

#: Space-filling designs of the draws: a Latin hypercube or a scrambled Sobol sequence.
DESIGNS = ("lhs", "sobol")
#: The most parameter sets one analysis draws.
MAX_DRAWS = 100_000
#: The cost-effectiveness plane's quadrants, in the order of :meth:`UncertaintyResult.quadrants`.
QUADRANTS = ("cheaper and better", "cheaper and worse", "dearer and better", "dearer and worse")
#: The store's folder for the draws' replications.
STORED = "uncertainty"
#: Columns of the run rows that are neither cost lines nor outcomes.
BOOKKEEPING = ("draw", "replication", "policy", "inhabitants", "budget_eur")


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


def run_draws(plan: Plan, comparison, children, *, executor, workers, progress, store, recompute):
    """Run every draw's replications (those not stored) and summarise them.

    Args:
        plan: The draws.
        comparison: The plain comparison at the base values (its simulation-only intervals
            stand beside the result's).
        children: The replications' seeds (the comparison's).
    """
    from .executors import SweepInterrupted, run_all
    from .provenance import code_of, determinants
    from .store import ResultStore, RunKey

    names = [p.name for p in comparison.policies]
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
    disable = None if progress is None else not progress
    try:
        with tqdm(total=len(tasks), initial=len(done), desc="uncertainty", disable=disable) as bar:
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


def _at_defaults(comparison) -> pd.DataFrame:
    """The plain comparison's paired differences with their simulation-only 95% intervals."""
    costs = comparison.summary.assign(column="cost_" + comparison.summary["line"])
    outcomes = comparison.outcomes.assign(column=comparison.outcomes["outcome"])
    both = pd.concat([costs, outcomes], ignore_index=True)
    both = both[both["policy"] != comparison.baseline]
    return both[
        ["policy", "column", "difference", "difference_ci_low", "difference_ci_high"]
    ].rename(columns={"difference_ci_low": "ci_low", "difference_ci_high": "ci_high"})


class UncertaintyResult:
    """The paired differences over the draws, and the headline numbers read from them.

    Attributes:
        draws: One row per draw and alternative policy, the input of an analysis of what
            decides the answer. Columns, in order:

            * ``draw``: the draw (0..N-1; its quantiles in :attr:`design`);
            * ``policy``: the alternative policy (the difference is it minus the baseline);
            * the parameter values drawn (:attr:`parameters`): one column per input, named by
              its dotted path (``access.conversation_cost``, ``policy.exit_threshold``), and
              for an input with a range per policy one column per policy,
              ``policy.review_factor[demand-driven]`` (the columns of one such input move
              together: one quantile per draw);
            * the paired differences, each the mean over the draw's replications of
              (alternative − baseline) on the same seed: ``cost_<line>`` for every cost line
              in EUR a year (``cost_jeugdwet``, ``cost_wmo``, ``cost_participatiewet``,
              ``cost_collective``, ``cost_access``, ``cost_external_total`` (the total the
              municipality pays), ``cost_benefit``, ``cost_budget_rule``, and lines users'
              processes add), then every outcome of :mod:`vraagvolgend.outputs`
              (``mean_severity``, the primary; ``share_3plus_problems``, households with 3+
              problems; ...).
        replications: The same differences per draw and replication (``draw``,
            ``replication``, ``policy``, the differences; no parameter columns).
        runs: The raw rows: one per draw, replication and policy, with its costs and outcomes.
        design: The quantiles of the draws (``draw`` and one column per input in [0, 1)).
        inputs: The inputs (:meth:`Plan.table`): which parameters were varied, and how.
        fixed: The parameters declared with a plausible range that stayed at their values,
            with why (``parameter``, ``why``).
        at_defaults: The plain comparison's differences at the base values with their
            simulation-only 95% intervals (``policy``, ``column``, ``difference``, ``ci_low``,
            ``ci_high``).
        parameters: The parameter columns of :attr:`draws`.
        baseline: The baseline policy's name.
    """

    def __init__(self, draws, replications, runs, design, inputs, fixed, at_defaults, info):
        self.draws, self.replications, self.runs = draws, replications, runs
        self.design, self.inputs, self.fixed, self.at_defaults = design, inputs, fixed, at_defaults
        self.info = dict(info)
        self.baseline = self.info["baseline"]
        self.parameters = list(self.info["parameters"])

    @classmethod
    def from_runs(cls, runs: pd.DataFrame, plan: Plan, comparison) -> UncertaintyResult:
        baseline = comparison.baseline
        # the cost lines in the comparison's order, then the outcomes
        costs = [f"cost_{line}" for line in comparison.lines if f"cost_{line}" in runs.columns]
        rest = [c for c in runs.columns if c not in BOOKKEEPING and c not in costs]
        measured = [*costs, *rest]
        index = ["draw", "replication"]
        base = runs[runs["policy"] == baseline].set_index(index)[measured]
        parts = []
        for name in [p.name for p in comparison.policies if p.name != baseline]:
            mine = runs[runs["policy"] == name].set_index(index)[measured]
            diff = (mine - base.loc[mine.index]).reset_index()
            parts.append(diff.assign(policy=name)[[*index, "policy", *measured]])
        replications = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        if parts:
            means = replications.groupby(["draw", "policy"], sort=False)[measured].mean()
            draws = means.reset_index().merge(plan.values, on="draw")
            draws = draws[["draw", "policy", *plan.columns(), *measured]]
            draws = draws.sort_values(["policy", "draw"], kind="stable").reset_index(drop=True)
        else:
            draws = pd.DataFrame(columns=["draw", "policy", *plan.columns(), *measured])
        info = {
            "baseline": baseline,
            "policies": [p.name for p in comparison.policies],
            "parameters": plan.columns(),
            "draws": plan.draws,
            "design": plan.design_kind,
            "replications": plan.replications,
            "months": comparison.months,
            "seed": str(comparison.seed),
            "inputs": [u.to_dict() for u in plan.inputs],
        }
        return cls(
            draws,
            replications,
            runs,
            plan.design.rename_axis("draw").reset_index(),
            plan.table(),
            pd.DataFrame(plan.fixed, columns=["parameter", "why"]),
            _at_defaults(comparison),
            info,
        )

    # --- the headline ---------------------------------------------------------------------------

    def alternative(self, policy: str | None = None) -> str:
        """The alternative policy's name (default: the first policy that is not the baseline)."""
        others = [p for p in self.info["policies"] if p != self.baseline]
        if policy is None:
            if not others:
                raise ParameterError("policy", "only the baseline was compared")
            return others[0]
        if policy not in others:
            raise ParameterError("policy", f"{_short(policy)} is not an alternative: {others}")
        return policy

    def _of(self, policy) -> pd.DataFrame:
        return self.draws[self.draws["policy"] == self.alternative(policy)]

    @staticmethod
    def _outcome(outcome: str | None) -> tuple[str, str]:
        outcome = _outputs.PRIMARY if outcome is None else outcome
        declared = _outputs.OUTCOMES.get(outcome)
        if declared is None or declared.better is None:
            with_direction = [k for k, o in _outputs.OUTCOMES.items() if o.better is not None]
            raise ParameterError(
                "outcome", f"{_short(outcome)}: one of {', '.join(with_direction)}"
            )
        return outcome, declared.better

    def probability_cheaper(self, policy: str | None = None, line: str = "external_total"):
        """The share of draws in which the alternative costs strictly less on ``line`` (each
        draw's difference the mean over its replications)."""
        column = f"cost_{line}"
        if column not in self.draws.columns:
            raise ParameterError("line", f"{_short(line)} is not a cost line")
        return float((self._of(policy)[column] < 0).mean())

    def probability_worse(self, policy: str | None = None, outcome: str | None = None):
        """The share of draws in which the alternative leaves households strictly worse off on
        ``outcome`` (default: the primary outcome), in the direction the outputs module
        declares better (for mean severity: higher is worse)."""
        outcome, better = self._outcome(outcome)
        d = self._of(policy)[outcome]
        return float((d > 0).mean() if better == "lower" else (d < 0).mean())

    def interval(
        self, column: str = "cost_external_total", policy: str | None = None, level=0.95
    ) -> dict:
        """The difference in ``column`` over both sources of uncertainty beside the
        simulation-only interval.

        Both sources: the central ``level`` range (percentiles) of the draws' differences,
        each a mean over the draw's replications, so it holds the parameters' uncertainty
        and the simulation noise of that many replications. Simulation only: the plain
        comparison's Student-t interval of the mean difference at the base values.

        Returns:
            ``mean`` and ``median`` over the draws, ``low``, ``high``, and ``at_defaults``,
            ``simulation_low``, ``simulation_high``.
        """
        if column not in self.draws.columns or column in ("draw", "policy", *self.parameters):
            raise ParameterError("column", f"{_short(column)} is not a difference column")
        if not 0 < level < 1:
            raise ParameterError("level", f"{_short(level)} must be between 0 and 1")
        name = self.alternative(policy)
        x = self._of(name)[column].to_numpy(dtype=float)
        tail = (1 - level) / 2
        ref = self.at_defaults[
            (self.at_defaults["policy"] == name) & (self.at_defaults["column"] == column)
        ]
        sim = ref.iloc[0] if len(ref) else {"difference": np.nan, "ci_low": np.nan,
                                            "ci_high": np.nan}  # fmt: skip
        return {
            "mean": float(np.mean(x)),
            "median": float(np.median(x)),
            "low": float(np.quantile(x, tail)),
            "high": float(np.quantile(x, 1 - tail)),
            "at_defaults": float(sim["difference"]),
            "simulation_low": float(sim["ci_low"]),
            "simulation_high": float(sim["ci_high"]),
        }

    def plane(self, policy: str | None = None, outcome: str | None = None) -> pd.DataFrame:
        """The cost-effectiveness plane: per draw, the difference in external cost (EUR a
        year) against the difference in ``outcome`` (default: the primary outcome).

        Returns:
            ``draw``, ``cost``, ``outcome``, ``cheaper``, ``better`` and ``quadrant`` (one of
            :data:`QUADRANTS`). Cheaper means strictly less cost and better strictly better
            in the declared direction: a tie (a difference of exactly zero) counts as dearer
            or worse, so every draw is in exactly one quadrant.
        """
        outcome, better = self._outcome(outcome)
        d = self._of(policy)
        cost = d["cost_external_total"].to_numpy(dtype=float)
        effect = d[outcome].to_numpy(dtype=float)
        cheaper = cost < 0
        improved = effect < 0 if better == "lower" else effect > 0
        quadrant = np.where(
            cheaper,
            np.where(improved, QUADRANTS[0], QUADRANTS[1]),
            np.where(improved, QUADRANTS[2], QUADRANTS[3]),
        )
        return pd.DataFrame(
            {
                "draw": d["draw"].to_numpy(),
                "cost": cost,
                "outcome": effect,
                "cheaper": cheaper,
                "better": improved,
                "quadrant": quadrant,
            }
        )

    def quadrants(self, policy: str | None = None, outcome: str | None = None) -> pd.Series:
        """The share of draws in each quadrant of the plane (:data:`QUADRANTS`; they add up
        to 1, ties as in :meth:`plane`)."""
        plane = self.plane(policy, outcome)
        counts = plane["quadrant"].value_counts().reindex(list(QUADRANTS), fill_value=0)
        return (counts / max(len(plane), 1)).rename("share").rename_axis("quadrant")

    def headline(self, policy: str | None = None) -> dict:
        """The main numbers for one alternative: the probabilities, the cost interval over both
        sources beside the simulation-only one, and the plane's quadrant shares."""
        name = self.alternative(policy)
        return {
            "policy": name,
            "baseline": self.baseline,
            "draws": self.info["draws"],
            "varied": len(self.inputs["input"].unique()),
            "probability_cheaper": self.probability_cheaper(name),
            "probability_worse": self.probability_worse(name),
            "cost": self.interval("cost_external_total", name),
            "outcome": self.interval(_outputs.PRIMARY, name),
            "quadrants": self.quadrants(name).to_dict(),
        }

    def __str__(self) -> str:
        from .vocabulary import format_number

        info = self.info
        lines = [
            f"Uncertainty: {info['draws']} parameter sets ({info['design']}) × "
            f"{info['replications']} replications; {len(self.inputs['input'].unique())} inputs "
            f"varied, {len(self.fixed)} declared ranges kept fixed."
        ]

        def k(x):
            return format_number(x / 1000, 0)

        for name in [p for p in info["policies"] if p != self.baseline]:
            h = self.headline(name)
            c = h["cost"]
            primary = _outputs.OUTCOMES[_outputs.PRIMARY].label
            lines += [
                f"{name} against {self.baseline}:",
                f"  probability it is cheaper: {h['probability_cheaper']:.0%}",
                f"  probability households are worse off ({primary}): {h['probability_worse']:.0%}",
                f"  external cost difference, EUR thousand a year: median {k(c['median'])}, "
                f"95% over parameters and simulation {k(c['low'])} to {k(c['high'])}; at the "
                f"defaults {k(c['at_defaults'])} (simulation only {k(c['simulation_low'])} to "
                f"{k(c['simulation_high'])})",
                "  " + "; ".join(f"{q}: {share:.0%}" for q, share in h["quadrants"].items()),
            ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<UncertaintyResult: {self.info['draws']} draws of {self.info['policies']}>"

    # --- files ------------------------------------------------------------------------------

    TABLES = ("draws", "replications", "runs", "design", "inputs", "fixed", "at_defaults")

    def save(self, directory) -> Path:
        """Write the tables (Parquet) and a manifest to a folder."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        for name in self.TABLES:
            table = getattr(self, name)
            if name == "inputs":  # lists of values as JSON text: Parquet wants one type
                table = table.assign(values=table["values"].map(
                    lambda v: None if not isinstance(v, list) else json.dumps(v)
                ))  # fmt: skip
            table.to_parquet(out / f"{name}.parquet", index=False)
        manifest = {"kind": "uncertainty", **self.info}
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        return out

    @classmethod
    def load(cls, directory) -> UncertaintyResult:
        """Read a result written by :meth:`save`."""
        from .folders import read_table

        folder = Path(directory)
        info = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        tables = {name: read_table(folder / f"{name}.parquet") for name in cls.TABLES}
        tables["inputs"]["values"] = tables["inputs"]["values"].map(
            lambda v: json.loads(v) if isinstance(v, str) else None
        )
        return cls(**tables, info=info)
