"""Comparing policies on common random numbers, with replications.

:func:`compare` runs every policy on the same replications: replication ``r`` of every policy
uses the same seed (a child of one root :class:`numpy.random.SeedSequence`), so every policy
sees the same households, network and life events, and differences between policies are
paired. The summary gives, per policy and cost line, the mean annual cost with a 95% confidence
interval over replications and the paired difference against the first policy with its own
interval; the details keep what a report needs (costs per year, by group, concentration,
ZRM levels).
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from tqdm.auto import tqdm

from .financing import Policy, PolicySwitch, resolve_policy
from .parameters import ParameterError
from .rng import SeedLike, as_seed_sequence
from .scenario import Scenario
from .simulation import run

__all__ = ["COST_LINES", "Comparison", "compare", "mean_ci", "run_details", "summarise_run"]

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


GROUPS = ("neighbourhood", "household_type", "income_quintile")
TOP_SHARES = (0.01, 0.05, 0.10)


def run_details(result) -> dict[str, pd.DataFrame]:
    """What a report needs from one run beyond the means.

    Returns tables: ``yearly`` (year, line, cost_eur), ``groups`` (by, group, households,
    cost_per_household, share_with_individual), ``concentration`` (top, share of individual
    cost in the costliest households), ``lorenz`` (households, cost: cumulative shares) and
    ``zrm`` (domain, zrm_level, share at the last year end).
    """
    yearly = result.annual_costs()
    years = max(yearly["year"].nunique(), 1)
    e = result.episodes
    individual = e[(e["law"] != "collective") & (e["provision"] != "benefit")]
    per_household = (
        individual.groupby("household_id")["cost_eur"]
        .sum()
        .reindex(result.households["household_id"], fill_value=0.0)
        .to_numpy()
        / years
    )
    h = result.households
    rows = []
    for by in GROUPS:
        for group, idx in h.groupby(by, observed=True).groups.items():
            c = per_household[idx]
            rows.append(
                {
                    "by": by,
                    "group": str(group),
                    "households": len(c),
                    "cost_per_household": float(c.mean()),
                    "share_with_individual": float((c > 0).mean()),
                }
            )
    groups = pd.DataFrame(rows)

    ordered = np.sort(per_household)[::-1]
    total = ordered.sum()
    concentration = pd.DataFrame(
        {
            "top": list(TOP_SHARES),
            "share": [
                float(ordered[: max(round(t * len(ordered)), 1)].sum() / total)
                if total > 0
                else np.nan
                for t in TOP_SHARES
            ],
        }
    )
    ascending = ordered[::-1]
    x = np.linspace(0, 1, 101)
    cum = np.concatenate([[0.0], np.cumsum(ascending)]) / (total if total > 0 else 1.0)
    lorenz = pd.DataFrame(
        {"households": x, "cost": np.interp(x * len(ascending), np.arange(len(cum)), cum)}
    )

    p = result.problems
    last = p[p["year"] == p["year"].max()]
    zrm = (
        (
            last.groupby(["domain", "zrm_level"], observed=True).size()
            / last.groupby("domain", observed=True).size()
        )
        .rename("share")
        .reset_index()
    )
    zrm["domain"] = zrm["domain"].astype(str)
    return {
        "yearly": yearly,
        "groups": groups,
        "concentration": concentration,
        "lorenz": lorenz,
        "zrm": zrm,
    }


def mean_ci(x: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% confidence interval (Student's t) of replications; NaN bounds for one."""
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

    def __init__(
        self,
        runs: pd.DataFrame,
        policies,
        scenario: Scenario,
        months: int,
        seed,
        details: dict[str, pd.DataFrame] | None = None,
    ):
        self.runs = runs
        self.policies = list(policies)
        self.scenario = scenario
        self.months = months
        self.seed = seed
        self.details = details or {}
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
            if isinstance(policy, PolicySwitch):
                raise ParameterError("policies", "saving a policy switch is not supported yet")
            policy.to_toml(out / "policies" / file)
            names.append({"name": policy.name, "file": f"policies/{file}"})
        manifest = {
            "kind": "comparison",
            "version": version("vraagvolgend"),
            "seed": self.seed if isinstance(self.seed, int) else str(self.seed),
            "months": self.months,
            "replications": int(self.runs["replication"].nunique()),
            "policies": names,
        }
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        return out

    @classmethod
    def load(cls, directory: str | Path) -> Comparison:
        """Read a comparison written by :meth:`save`."""
        from .results import _manifest

        folder = Path(directory)
        manifest = _manifest(folder, "comparison", "written by 'compare' (Comparison.save)")
        policies = [Policy.from_toml(folder / p["file"]) for p in manifest["policies"]]
        scenario = Scenario.from_toml(folder / "scenario.toml")
        details = {
            name: pd.read_parquet(folder / f"{name}.parquet")
            for name in ("yearly", "groups", "concentration", "lorenz", "zrm")
            if (folder / f"{name}.parquet").exists()
        }
        runs = pd.read_parquet(folder / "runs.parquet")
        return cls(runs, policies, scenario, manifest["months"], manifest["seed"], details)

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
        table = self.table().round(0)
        return (
            "<p>Mean annual cost (EUR thousand); the first column is the baseline of the paired "
            "differences in <code>.summary</code>.</p>" + table.to_html()
        )

    def plot(self):
        """Mean annual cost per line and policy with 95% intervals (matplotlib; the figure)."""
        import matplotlib.pyplot as plt

        names = [p.name for p in self.policies]
        lines = [line for line in COST_LINES if line != "benefit"]
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


def _format(table: pd.DataFrame, label: str) -> str:
    from .results import format_interval, format_number

    rows = []
    for _, r in table.iterrows():
        size = max(abs(r["mean"]), abs(r["ci_low"]), abs(r["ci_high"]))
        decimals = None if np.isfinite(size) else 0
        if np.isfinite(size):
            decimals = 0 if size >= 100 else 2 if size >= 1 else 4
        difference = format_number(r["difference"], decimals)
        rows.append(
            {
                "policy": r["policy"],
                label: r[label],
                "mean": format_number(r["mean"], decimals),
                "95% CI": format_interval(r["ci_low"], r["ci_high"], decimals),
                "difference": difference if difference.startswith("-") else "+" + difference,
                "difference 95% CI": format_interval(
                    r["difference_ci_low"], r["difference_ci_high"], decimals
                ),
            }
        )
    return pd.DataFrame(rows).to_string(index=False)


def _compare_one(task) -> tuple[dict, dict[str, pd.DataFrame]]:
    """One replication of one policy: its summary row and report details (sent to workers)."""
    from .parallel import limit_threads

    scenario, policy, child, months, r = task
    with limit_threads(1):
        result = run(scenario, policy, seed=child, months=months)
        row = {"policy": policy.name, "replication": r, **summarise_run(result)}
        details = {
            name: table.assign(policy=policy.name, replication=r)
            for name, table in run_details(result).items()
        }
    return row, details


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
        executor: ``"serial"`` (default), ``"processes"``, ``"dask"``, a Dask client or any
            ``concurrent.futures.Executor``, as for
            :func:`~vraagvolgend.experiments.run_experiment`; every executor gives the same
            comparison.
        workers: Worker processes for ``"processes"`` and ``"dask"`` (default: the cores).

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
    from .experiments import run_all

    tasks = [
        (scenario, policy, child, months, r)
        for r, child in enumerate(children)
        for policy in resolved
    ]
    done: dict[int, tuple[dict, dict]] = {}
    order = {id(task): i for i, task in enumerate(tasks)}

    def handle(task, value, error):
        done[order[id(task)]] = value

    disable = None if progress is None else not progress
    with tqdm(total=len(tasks), desc="runs", disable=disable) as bar:
        run_all(
            _compare_one,
            tasks,
            executor=executor,
            workers=workers,
            handle=handle,
            bar=bar,
            raise_errors=True,
        )
    # The serial order, whatever order the runs finished in: identical on every executor.
    rows = [done[i][0] for i in range(len(tasks))]
    details: dict[str, list[pd.DataFrame]] = {}
    for i in range(len(tasks)):
        for name, table in done[i][1].items():
            details.setdefault(name, []).append(table)
    merged = {name: pd.concat(tables, ignore_index=True) for name, tables in details.items()}
    return Comparison(pd.DataFrame(rows), resolved, scenario, months, seed, merged)
