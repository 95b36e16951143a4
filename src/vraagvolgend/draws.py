"""The answer of a probabilistic comparison: the draws' paired differences and the headline.

:class:`UncertaintyResult` holds one row per draw (the parameter values drawn and the paired
differences, the input of an analysis of what decides the answer) and reads from it the
probability that the alternative is cheaper, the probability that it leaves households worse
off (on :data:`~vraagvolgend.outputs.PRIMARY`, in the direction the outputs module declares
better), the interval of the difference over both sources of uncertainty beside the
simulation-only one, and the cost-effectiveness plane. :mod:`vraagvolgend.probabilistic` runs
the draws.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import outputs as _outputs
from .parameters import ParameterError, _short

__all__ = ["QUADRANTS", "UncertaintyResult"]

#: The cost-effectiveness plane's quadrants, in the order of :meth:`UncertaintyResult.quadrants`.
QUADRANTS = ("cheaper and better", "cheaper and worse", "dearer and better", "dearer and worse")
#: Columns of the run rows that are neither cost lines nor outcomes.
BOOKKEEPING = ("draw", "replication", "policy", "inhabitants", "budget_eur")


def _at_defaults(comparison, policies) -> pd.DataFrame:
    """The plain comparison's paired differences with their simulation-only 95% intervals, for
    the ``policies`` drawn."""
    costs = comparison.summary.assign(column="cost_" + comparison.summary["line"])
    outcomes = comparison.outcomes.assign(column=comparison.outcomes["outcome"])
    both = pd.concat([costs, outcomes], ignore_index=True)
    both = both[(both["policy"] != comparison.baseline) & both["policy"].isin(policies)]
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
        #: What decides the answer (:func:`vraagvolgend.drivers.analyse`), or ``None``.
        self.drivers = None

    @classmethod
    def from_runs(cls, runs: pd.DataFrame, plan, comparison) -> UncertaintyResult:
        """The result from the runs' rows, the draws' :class:`~vraagvolgend.probabilistic.Plan`
        and the plain comparison."""
        baseline = comparison.baseline
        # the cost lines in the comparison's order, then the outcomes
        costs = [f"cost_{line}" for line in comparison.lines if f"cost_{line}" in runs.columns]
        rest = [c for c in runs.columns if c not in BOOKKEEPING and c not in costs]
        measured = [*costs, *rest]
        index = ["draw", "replication"]
        base = runs[runs["policy"] == baseline].set_index(index)[measured]
        parts = []
        for name in [p.name for p in plan.policies if p.name != baseline]:
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
            "policies": [p.name for p in plan.policies],
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
            _at_defaults(comparison, [p.name for p in plan.policies]),
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
        if self.drivers is not None:
            self.drivers.save(out / "drivers")
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
        result = cls(**tables, info=info)
        if (folder / "drivers").is_dir():
            from .drivers import Drivers

            result.drivers = Drivers.load(folder / "drivers")
        return result
