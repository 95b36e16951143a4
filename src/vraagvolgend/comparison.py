"""Comparing policies on common random numbers, with replications.

:func:`compare` runs every policy on the same replications: replication ``r`` of every policy
uses the same seed (a child of one root :class:`numpy.random.SeedSequence`), so every policy
sees the same households, network and life events, and differences between policies are
paired. The summary gives, per policy and cost line, the mean annual cost with a 95% confidence
interval over replications and the paired difference against the baseline policy (named, or
the supply-driven one) with its own interval; the baseline also sets the one municipal budget
(:func:`municipal_budget`); the details keep what a report needs (costs per year, by group,
concentration, ZRM levels).
"""

from __future__ import annotations

import functools
import html
import json
import numbers
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from . import outputs as _outputs
from .financing import Policy, PolicySwitch, resolve_policy
from .memory import check_memory as fits
from .parameters import ParameterError
from .replication import (
    BURN_IN,
    Start,
    _compare_one,
    _ReplicationStore,
    default_baseline,
    municipal_budget,
    replicate,
    run_details,
    summarise_run,
    without_budget_rule,
)
from .rng import SeedLike, as_seed_sequence
from .scenario import Scenario
from .vocabulary import BENEFIT_LINE

#: The cost lines of a summary, in order (declared once in :mod:`vraagvolgend.outputs`).
COST_LINES = tuple(_outputs.COST_LINES)

__all__ = [
    "BURN_IN",
    "COST_LINES",
    "Comparison",
    "Start",
    "compare",
    "mean_ci",
    "municipal_budget",
    "replicate",
    "run_details",
    "summarise_run",
    "without_budget_rule",
]

#: The outcomes of a summary, in order (declared once in :mod:`vraagvolgend.outputs`).
OUTCOMES = tuple(_outputs.OUTCOMES)


def mean_ci(x: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% confidence interval (Student's t) of replications; NaN bounds for one."""
    mean = float(np.mean(x))
    if len(x) < 2:
        return mean, np.nan, np.nan
    from scipy import stats  # lazily: scipy.stats takes half a second to import

    half = float(stats.t.ppf(0.975, len(x) - 1) * np.std(x, ddof=1) / np.sqrt(len(x)))
    return mean, mean - half, mean + half


class Comparison:
    """The outcome of :func:`compare`.

    Attributes:
        runs: One row per (policy, replication) with every cost line and outcome.
        summary: Per policy and cost line: mean annual cost, 95% CI, paired difference against
            the first policy and its 95% CI.
        outcomes: The same layout for the outcome indicators.
        policies: The policies, in order.
        baseline: The name of the baseline policy: it set the municipal budget and anchors
            the paired differences.
        decomposition: The difference explained by mechanism
            (:class:`~vraagvolgend.decomposition.Decomposition`), or ``None``; set by
            :func:`~vraagvolgend.decomposition.decompose_comparison`.
    """

    def __init__(
        self,
        runs: pd.DataFrame,
        policies,
        scenario: Scenario,
        months: int,
        seed,
        details: dict[str, pd.DataFrame] | None = None,
        decomposition=None,
        baseline: str | None = None,
        burn_in: str = "baseline",
        processes=(),
    ):
        self.runs = runs
        self.policies = list(policies)
        self.baseline = default_baseline(self.policies) if baseline is None else baseline
        #: Where the runs started (see :class:`Start`): the question the comparison answers.
        self.burn_in = burn_in
        #: Users' processes in every run (a decomposition of the comparison runs them too).
        self.processes = list(processes)
        self.scenario = scenario
        self.months = months
        self.seed = seed
        self.details = details or {}
        self.decomposition = decomposition
        #: The probabilistic comparison (:class:`~vraagvolgend.probabilistic.UncertaintyResult`)
        #: of ``compare(..., uncertainty=N)``, or ``None``.
        self.uncertainty = None
        self.lines, added_outcomes = self._declared()
        self.summary = self._table([f"cost_{c}" for c in self.lines], "line", "cost_")
        self.outcomes = self._table([*OUTCOMES, *added_outcomes], "outcome", "")

    #: Columns of ``runs`` that are neither cost lines nor outcomes.
    BOOKKEEPING = frozenset({"policy", "replication", "inhabitants", "budget_eur"})

    def _declared(self) -> tuple[list[str], list[str]]:
        """The cost lines (users' processes' lines beside the laws, before the external total)
        and the outcomes users' processes added, read from the runs' columns."""
        columns = [c for c in self.runs.columns if c not in self.BOOKKEEPING]
        added = [c.removeprefix("cost_") for c in columns if c.startswith("cost_")]
        added = [c for c in added if c not in COST_LINES]
        at = COST_LINES.index("external_total")
        lines = [*COST_LINES[:at], *added, *COST_LINES[at:]]
        outcomes = [c for c in columns if not c.startswith("cost_") and c not in OUTCOMES]
        return lines, outcomes

    def _table(self, columns: list[str], label: str, strip: str) -> pd.DataFrame:
        names = [p.name for p in self.policies]
        base = self.runs[self.runs["policy"] == self.baseline].sort_values("replication")
        rows = []
        for name in names:
            mine = self.runs[self.runs["policy"] == name].sort_values("replication")
            for col in columns:
                x = mine[col].to_numpy(dtype=float)
                d = x - base[col].to_numpy(dtype=float)
                mean, lo, hi = mean_ci(x)
                dmean, dlo, dhi = mean_ci(d)
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

    def yearly(self) -> pd.DataFrame:
        """Cost per policy, year and line: mean and 95% CI over replications."""
        y = self.details["yearly"]
        rows = []
        for (policy, year, line), g in y.groupby(["policy", "year", "line"]):
            mean, lo, hi = mean_ci(g["cost_eur"].to_numpy(dtype=float))
            rows.append(
                {
                    "policy": policy,
                    "year": year,
                    "line": line,
                    "mean": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
        return pd.DataFrame(rows)

    def save(self, directory: str | Path) -> Path:
        """Write everything to a folder (Parquet tables, scenario and policies as TOML, a
        manifest with version and seeds), so that the comparison can be reported and
        reproduced from the folder alone."""
        from importlib.metadata import version

        out = Path(directory)
        (out / "policies").mkdir(parents=True, exist_ok=True)
        self.runs.to_parquet(out / "runs.parquet", index=False)
        self.summary.to_parquet(out / "summary.parquet", index=False)
        self.outcomes.to_parquet(out / "outcomes.parquet", index=False)
        for name, table in self.details.items():
            table.to_parquet(out / f"{name}.parquet", index=False)
        self.scenario.to_toml(out / "scenario.toml")
        names = []
        for i, policy in enumerate(self.policies):
            file = f"{i:02d}.toml"
            policy.to_toml(out / "policies" / file)  # a policy or a switch
            names.append({"name": policy.name, "file": f"policies/{file}"})
        manifest = {
            "kind": "comparison",
            "version": version("vraagvolgend"),
            "seed": self.seed if isinstance(self.seed, int) else str(self.seed),
            "months": self.months,
            "replications": int(self.runs["replication"].nunique()),
            "policies": names,
            "baseline": self.baseline,
            "burn_in": self.burn_in,
        }
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if self.decomposition is not None:
            self.decomposition.save(out / "decomposition")
        if self.uncertainty is not None:
            self.uncertainty.save(out / "uncertainty")
        return out

    @classmethod
    def load(cls, directory: str | Path) -> Comparison:
        """Read a comparison written by :meth:`save`."""
        from .folders import read_table
        from .results import _manifest

        folder = Path(directory)
        manifest = _manifest(
            folder,
            "comparison",
            "written by 'compare' (Comparison.save)",
            ("months", "seed", "policies"),
        )
        policies = [Policy.from_toml(folder / p["file"]) for p in manifest["policies"]]
        scenario = Scenario.from_toml(folder / "scenario.toml")
        details = {
            name: read_table(folder / f"{name}.parquet")
            for name in ("yearly", "groups", "concentration", "lorenz", "zrm")
            if (folder / f"{name}.parquet").exists()
        }
        runs = read_table(folder / "runs.parquet")
        decomposition = None
        if (folder / "decomposition").is_dir():
            from .decomposition import Decomposition

            decomposition = Decomposition.load(folder / "decomposition")
        comparison = cls(
            runs,
            policies,
            scenario,
            manifest["months"],
            manifest["seed"],
            details,
            decomposition,
            # folders written before the baseline was named: the first policy was the baseline
            baseline=manifest.get("baseline", policies[0].name),
            burn_in=manifest.get("burn_in", "each"),  # folders written before forks
        )
        if (folder / "uncertainty").is_dir():
            from .probabilistic import UncertaintyResult

            comparison.uncertainty = UncertaintyResult.load(folder / "uncertainty")
        return comparison

    def table(self, labels: bool = False) -> pd.DataFrame:
        """Mean annual cost per cost line (rows) and policy (columns), in thousands of EUR.

        Args:
            labels: Rows named by their labels (for people) instead of their keys.
        """
        from .vocabulary import label

        t = self.summary.pivot(index="line", columns="policy", values="mean") / 1000
        t = t.loc[list(self.lines), [p.name for p in self.policies]]
        if labels:
            t = t.rename(index=label).rename_axis(index="EUR thousand a year").round(0)
        return t

    def __str__(self) -> str:
        names = [p.name for p in self.policies]
        reps = self.runs["replication"].nunique()
        lines = [
            f"{len(names)} policies × {reps} replications, {self.months} months, "
            f"{self.scenario.n_households:,} households (scenario {self.scenario.name!r}).",
            f"Mean annual cost, EUR thousand (95% interval); the difference against "
            f"{self.baseline!r} is paired (same households and life events):",
            _format(self.summary, "line", self.baseline),
            "\nOutcomes for households, mean over the years (95% interval); paired difference:",
            _format(self.outcomes, "outcome", self.baseline),
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        table = self.table().round(0)
        return (
            "<p>Mean annual cost (EUR thousand); the paired differences in "
            f"<code>.summary</code> are against {html.escape(self.baseline)!s}, whose year-1 "
            "spending set the budget.</p>" + table.to_html()
        )

    def plot(self):
        """Mean annual cost per line and policy with 95% intervals (matplotlib; the figure)."""
        import matplotlib.pyplot as plt

        names = [p.name for p in self.policies]
        lines = [line for line in COST_LINES if line != BENEFIT_LINE]
        fig, ax = plt.subplots(figsize=(8, 3.8))
        width = 0.8 / len(names)
        x = np.arange(len(lines))
        for i, name in enumerate(names):
            s = self.summary[self.summary["policy"] == name].set_index("line").loc[lines]
            err = np.vstack([s["mean"] - s["ci_low"], s["ci_high"] - s["mean"]]) / 1e6
            ax.bar(
                x + i * width,
                s["mean"] / 1e6,
                width,
                yerr=np.nan_to_num(err),
                label=name,
                capsize=3,
            )
        ax.set_xticks(x + 0.4 - width / 2, lines, rotation=20)
        ax.set_ylabel("EUR million per year")
        ax.legend(fontsize=8)
        fig.tight_layout()
        return fig

    def __repr__(self) -> str:
        return f"<Comparison of {[p.name for p in self.policies]}>"


def _format(table: pd.DataFrame, key: str, baseline: str) -> str:
    """A summary table for the terminal: labels, one number format per line or outcome, means'
    intervals clipped to the values possible, the baseline's own difference left out."""
    from .vocabulary import format_number, label, text_table

    def interval(lo, hi, text) -> str:
        return "" if not (np.isfinite(lo) and np.isfinite(hi)) else f"({text(lo)} – {text(hi)})"

    # each line's baseline first, then the alternatives; the label once per line
    order = {name: i for i, name in enumerate(dict.fromkeys(table[key]))}
    ranked = table.assign(
        _line=table[key].map(order), _alternative=table["policy"] != baseline
    ).sort_values(["_line", "_alternative"], kind="stable")
    rows = []
    for _, r in ranked.iterrows():
        name = r[key]
        outcome = _outputs.OUTCOMES.get(name)
        if outcome is None:  # a cost line: EUR thousand

            def text(x, signed=False):
                t = format_number(x / 1000, 0)
                return ("+" + t) if signed and not t.startswith("-") and t != "0" else t

            # a cost is never negative; the budget rule's effect is a difference of costs
            low, high = (-np.inf if name == "budget_rule" else 0.0), np.inf
        else:
            text = outcome.text
            low, high = outcome.bounds
        lo, hi = np.clip([r["ci_low"], r["ci_high"]], low, high)
        difference = ""
        if r["_alternative"]:
            signed = functools.partial(text, signed=True)
            dlo, dhi = r["difference_ci_low"], r["difference_ci_high"]
            difference = f"{signed(r['difference'])} {interval(dlo, dhi, signed)}".strip()
        rows.append(
            {
                key.replace("line", "cost line"): "" if r["_alternative"] else label(name),
                "policy": r["policy"],
                "mean (95% interval)": f"{text(r['mean'])} {interval(lo, hi, text)}".strip(),
                "difference (95% interval)": difference,
            }
        )
    return text_table(rows)


def compare(
    policies: Sequence[Policy | PolicySwitch | str],
    scenario: Scenario | None = None,
    *,
    replications: int = 10,
    seed: SeedLike = 0,
    months: int = 60,
    progress: bool | None = None,
    executor="serial",
    workers: int | None = None,
    store=None,
    recompute: bool = False,
    check_memory: bool = True,
    baseline: str | None = None,
    burn_in: str = "baseline",
    processes: Sequence | None = None,
    uncertainty: int | None = None,
    uncertainties: Sequence | None = None,
    design: str = "lhs",
    draw_replications: int | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> Comparison:
    """Run several policies on common random numbers and summarise their costs and outcomes.

    One budget rule for the municipality: in every replication the *baseline* policy, run
    without its budget rule, sets the annual budget from its own year-1 spending on every line
    a budget holder controls, access included (:func:`municipal_budget`); every policy then
    runs under that one budget, and the paired differences are taken against the baseline.

    Args:
        policies: Policies or names (``"supply-driven"``, ``"demand-driven"``), in the order
            of the tables. Names must be unique.
        scenario: The municipality (default: :meth:`Scenario.default`).
        replications: Number of replications (each a different seed shared by all policies).
        seed: Root seed; replication ``r`` uses child ``r`` of ``SeedSequence(seed)``.
        months: Months per run after burn-in.
        progress: Show a progress bar (default: only on a terminal).
        executor: ``"serial"`` (default), ``"processes"``, ``"dask"``, a Dask client or any
            ``concurrent.futures.Executor``, as for
            :func:`~vraagvolgend.experiments.run_experiment`; every executor gives the same
            comparison.
        workers: Worker processes for ``"processes"`` and ``"dask"`` (default: the cores).
        store: A :class:`~vraagvolgend.store.ResultStore` (or its folder) that keeps every
            finished replication: an interrupted comparison keeps them, and the same call
            resumes, reusing only replications whose definition (scenario, policies, months,
            seed, the model's code) is unchanged. Without a store nothing is kept.
        recompute: Compute again stored replications made with another definition, instead of
            refusing (:class:`~vraagvolgend.store.StaleResults`).
        check_memory: Refuse, before any work, a comparison whose runs would not fit in the
            memory available (``False`` insists).

    Raises:
        SweepInterrupted: on Ctrl-C or SIGTERM with a store, after the finished replications
            are stored (without a store, ``KeyboardInterrupt``: nothing is kept).
        baseline: The name of the baseline policy (default: the supply-driven policy if one is
            compared, else the first), whatever the order of ``policies``.
        burn_in: ``"baseline"`` (default): the municipality burns in once per replication
            under the baseline policy, "the municipality as it is today", and every policy
            continues from that one state; the comparison answers "from today, under each
            financing, over the next ``months`` months". ``"each"``: every policy burns in
            under itself; it answers the steady-state question ("once each financing has
            shaped the municipality"). See :class:`Start`.
        processes: Processes of your own (:class:`~vraagvolgend.month.Process`) in every run,
            as in :func:`~vraagvolgend.simulation.run`; the cost lines and outcomes they
            report reach the summary when they declare them.
        uncertainty: Also draw this many parameter sets from the uncertain inputs and run
            every policy on each, on the same replication seeds (a probabilistic comparison:
            :mod:`vraagvolgend.probabilistic`); the answer is ``comparison.uncertainty``, an
            :class:`~vraagvolgend.probabilistic.UncertaintyResult`. ``None``: only the base
            values.
        uncertainties: The uncertain inputs (:class:`~vraagvolgend.uncertainty.Uncertainty`;
            default: every parameter declared with a plausible range,
            :func:`~vraagvolgend.uncertainty.default_uncertainties`).
        design: How the draws fill the inputs' space: ``"lhs"`` (a Latin hypercube) or
            ``"sobol"`` (a scrambled Sobol sequence: with a store, more draws extend the
            stored ones), seeded from ``seed``.
        draw_replications: Replications per draw (default: ``replications``); replication
            ``r`` of every draw uses the seed of replication ``r`` here.
        on_progress: Called as ``on_progress(phase, done, total)`` when a phase starts and
            after every finished task, in this process, whatever the executor (for a page or
            a log that follows the work; ``progress`` draws the terminal's bar): phase
            ``"replications"`` counts the replications (each runs every policy), then
            ``"uncertainty"`` the replications of the draws (draw by draw, in order on the
            serial executor).

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
    baseline = default_baseline(resolved) if baseline is None else baseline
    if baseline not in names:
        raise ParameterError("baseline", f"{baseline!r} is not one of the policies: {names}")
    if (
        isinstance(replications, bool)
        or not isinstance(replications, numbers.Integral)
        or replications < 1
    ):
        raise ParameterError("replications", f"{replications!r} must be an integer ≥ 1")
    if isinstance(months, bool) or not isinstance(months, numbers.Integral) or months < 12:
        raise ParameterError("months", f"{months!r} must be an integer ≥ 12 (costs are annual)")
    scenario = Scenario.default() if scenario is None else scenario
    if check_memory:
        fits(scenario.n_households, months, "scenario.n_households")
    plan = None
    root = as_seed_sequence(seed)
    if uncertainty is not None or uncertainties is not None:
        plan = _plan(uncertainty, uncertainties, design, draw_replications or replications,
                     scenario, resolved, root)  # fmt: skip
    # spawned once: the draws' replications use the plain comparison's seeds
    children = root.spawn(max(replications, plan.replications if plan else 0))
    from .executors import SweepInterrupted, progress_bar, run_all

    at = names.index(baseline)
    if burn_in not in BURN_IN:
        raise ParameterError("burn_in", f"{burn_in!r}: one of {', '.join(BURN_IN)}")
    processes = list(processes or ())
    tasks = [
        (scenario, resolved, child, months, r, at, burn_in, processes)
        for r, child in enumerate(children[:replications])
    ]
    done: dict[int, tuple[list, dict]] = {}
    order = {id(task): i for i, task in enumerate(tasks)}
    kept = _ReplicationStore(store, tasks, recompute) if store is not None else None
    if kept is not None:
        done.update(kept.load())

    def handle(task, value, error):
        done[order[id(task)]] = value
        if kept is not None:
            kept.write(order[id(task)], *value)

    todo = [task for i, task in enumerate(tasks) if i not in done]
    try:
        with progress_bar("replications", len(tasks), len(done), progress, on_progress) as bar:
            run_all(
                _compare_one,
                todo,
                executor=executor,
                workers=workers,
                handle=handle,
                bar=bar,
                raise_errors=True,
            )
    except KeyboardInterrupt:
        if kept is None:
            raise
        raise SweepInterrupted(len(done), len(tasks), kept.folder, "replications") from None
    # The serial order, whatever order the runs finished in: identical on every executor.
    rows = [row for i in range(len(tasks)) for row in done[i][0]]
    details: dict[str, list[pd.DataFrame]] = {}
    for i in range(len(tasks)):
        for name, tables in done[i][1].items():
            details.setdefault(name, []).extend(tables)
    merged = {name: pd.concat(tables, ignore_index=True) for name, tables in details.items()}
    comparison = Comparison(
        pd.DataFrame(rows),
        resolved,
        scenario,
        months,
        seed,
        merged,
        baseline=baseline,
        burn_in=burn_in,
        processes=processes,
    )
    if plan is not None:
        from .probabilistic import run_draws

        comparison.uncertainty = run_draws(
            plan, comparison, children, executor=executor, workers=workers, progress=progress,
            store=store, recompute=recompute, on_progress=on_progress,
        )  # fmt: skip
    return comparison


def _plan(draws, inputs, design, replications, scenario, policies, root):
    """The draws of a probabilistic comparison, checked before any run."""
    from .probabilistic import Plan
    from .uncertainty import default_uncertainties, fixed_parameters

    if draws is None:
        raise ParameterError("uncertainty", "give the number of draws (uncertainties are drawn)")
    if inputs is None:
        inputs = default_uncertainties(scenario, policies)
    elif isinstance(inputs, str | bytes | dict) or not isinstance(inputs, list | tuple):
        raise ParameterError("uncertainties", f"{inputs!r:.40} is not a list of Uncertainty")
    fixed = fixed_parameters(scenario, policies, inputs)
    return Plan(draws, list(inputs), scenario, policies, root, design, replications, fixed)
