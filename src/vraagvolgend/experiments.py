"""Experiments: several policies on common random numbers, with replications.

:func:`compare` runs every policy on the same replications: replication ``r`` of every policy
uses the same seed (a child of one root :class:`numpy.random.SeedSequence`), so every policy
sees the same households, network and life events, and differences between policies are
paired. The summary gives, per policy and cost line, the mean annual cost with a 95% confidence
interval over replications and the paired difference against the first policy with its own
interval.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from tqdm.auto import tqdm

from .financing import Policy, PolicySwitch, resolve_policy
from .parameters import ParameterError
from .rng import SeedLike, as_seed_sequence
from .scenario import Scenario
from .simulation import run

__all__ = ["COST_LINES", "Comparison", "compare", "summarise_run"]

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
