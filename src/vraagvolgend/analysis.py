"""Analysis of experiment results: per-policy means, paired differences, break-even, sweeps.

All functions take the long tidy table of :func:`~vraagvolgend.experiments.run_experiment` (one
row per run, year and cost line or indicator: columns ``kind``, ``variable``, ``value``) and
first reduce it to one row per run with :func:`run_table`:
the mean annual cost per cost line (``cost_<line>``, and ``cost_external_total`` without the
benefit) and the mean of each outcome indicator over the years.

Example:
    >>> import vraagvolgend as vv, tempfile
    >>> s = vv.Scenario.default().with_changes(n_households=400, burn_in_months=6)
    >>> e = vv.Experiment("a", ["supply-driven", "demand-driven"], replications=2, months=12,
    ...                   scenario=s)
    >>> results = vv.run_experiment(e, tempfile.mkdtemp(), executor="serial", progress=False)
    >>> paired_differences(results, "supply-driven")["policy"].tolist()[:1]
    ['demand-driven']
"""

from __future__ import annotations

import pandas as pd

from .comparison import mean_ci
from .outputs import OUTCOMES
from .parameters import ParameterError
from .vocabulary import BENEFIT_LINE

__all__ = [
    "break_even_year",
    "by_parameter",
    "paired_differences",
    "policy_summary",
    "run_table",
]

RUN = ["point", "policy", "replication"]
#: Annual indicators a run table carries beside the outcomes (comparable with public figures).
INDICATORS = ("any_individual_share", "external_cost_per_inhabitant")


def _check(results: pd.DataFrame) -> pd.DataFrame:
    if "error" in results.columns:
        results = results[results["error"].isna()]
    missing = {"year", "kind", "variable", "value", *RUN} - set(results.columns)
    if missing:
        raise ParameterError("results", f"not an experiment's result table: missing {missing}")
    return results


def _costs_per_year(r: pd.DataFrame) -> pd.DataFrame:
    """Cost per run and year (rows) and cost line (columns), with ``external_total``."""
    c = r[r["kind"] == "cost"]
    per_year = c.pivot_table(
        index=[*RUN, "year"], columns="variable", values="value", aggfunc="sum"
    ).fillna(0.0)
    per_year = per_year.rename_axis(columns=None)
    per_year["external_total"] = per_year.drop(columns=[BENEFIT_LINE], errors="ignore").sum(axis=1)
    return per_year


def run_table(results: pd.DataFrame, year: int | None = None) -> pd.DataFrame:
    """One row per run: mean annual cost per line, every outcome of
    :mod:`vraagvolgend.outputs` (its mean over the years, as a comparison reports it) and the
    other annual indicators.

    Args:
        results: The tidy table of an experiment.
        year: Only this year (default: the mean over all years).
    """
    r = _check(results)
    if year is not None:
        r = r[r["year"] == year]
    costs = _costs_per_year(r).groupby(level=RUN).mean().add_prefix("cost_")
    kept = [*OUTCOMES, *INDICATORS]
    values = r[r["kind"].isin(["outcome", "indicator"]) & r["variable"].isin(kept)]
    outcome = values.pivot_table(index=[*RUN, "year"], columns="variable", values="value")
    outcome = outcome[[c for c in kept if c in outcome.columns]]
    outcome = outcome.groupby(level=RUN).mean().rename_axis(columns=None)
    return costs.join(outcome).reset_index()


def _columns(runs: pd.DataFrame, columns) -> list[str]:
    if columns is None:
        return [c for c in runs.columns if c not in RUN]
    unknown = set(columns) - set(runs.columns)
    if unknown:
        raise ParameterError("columns", f"{sorted(unknown)} are not in the run table")
    return list(columns)


def policy_summary(results: pd.DataFrame, columns=None, by_point: bool = False) -> pd.DataFrame:
    """Per policy (and scenario point): mean and 95% confidence interval over replications."""
    runs = run_table(results)
    groups = ["policy", "point"] if by_point else ["policy"]
    rows = []
    for key, g in runs.groupby(groups):
        key = key if isinstance(key, tuple) else (key,)
        for col in _columns(runs, columns):
            mean, lo, hi = mean_ci(g[col].to_numpy(dtype=float))
            rows.append(
                {
                    **dict(zip(groups, key, strict=True)),
                    "outcome": col,
                    "mean": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                    "runs": len(g),
                }
            )
    return pd.DataFrame(rows)


def paired_differences(
    results: pd.DataFrame, baseline: str, columns=None, by_point: bool = False
) -> pd.DataFrame:
    """Each policy minus ``baseline`` on the same scenario point and replication (common random
    numbers), with the mean and 95% confidence interval of the paired differences."""
    runs = run_table(results)
    if baseline not in set(runs["policy"]):
        raise ParameterError("baseline", f"{baseline!r} is not a policy of these results")
    cols = _columns(runs, columns)
    base = runs[runs["policy"] == baseline].set_index(["point", "replication"])[cols]
    rows = []
    for policy, g in runs[runs["policy"] != baseline].groupby("policy"):
        diff = g.set_index(["point", "replication"])[cols] - base
        diff = diff.dropna()
        for key, d in diff.groupby(level="point") if by_point else [(None, diff)]:
            for col in cols:
                mean, lo, hi = mean_ci(d[col].to_numpy(dtype=float))
                row = {
                    "policy": policy,
                    "outcome": col,
                    "difference": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                    "pairs": len(d),
                }
                if by_point:
                    row = {"point": key, **row}
                rows.append(row)
    return pd.DataFrame(rows)


def break_even_year(
    results: pd.DataFrame, policy: str, baseline: str, line: str = "external_total"
) -> tuple[int | None, pd.DataFrame]:
    """When an investment pays for itself.

    Returns the first year in which the cumulative paired cost difference (``policy`` minus
    ``baseline``, mean over scenario points and replications) is at most zero, or ``None``
    within the horizon, and the table of yearly and cumulative differences.
    """
    r = _check(results)
    per_year = _costs_per_year(r)
    if line not in per_year.columns:
        raise ParameterError("line", f"{line!r} is not a cost line: {list(per_year.columns)}")
    series = per_year[line].reset_index()
    mine = series[series["policy"] == policy].set_index(["point", "replication", "year"])[line]
    base = series[series["policy"] == baseline].set_index(["point", "replication", "year"])[line]
    if mine.empty or base.empty:
        raise ParameterError("policy", f"{policy!r} or {baseline!r} is not in these results")
    diff = (mine - base).dropna().groupby(level="year").mean()
    table = pd.DataFrame({"difference": diff, "cumulative": diff.cumsum()})
    paid = table.index[table["cumulative"] <= 0]
    return (int(paid[0]) if len(paid) else None), table.reset_index()


def by_parameter(
    results: pd.DataFrame, experiment, column: str = "cost_external_total", bins: int = 4
) -> pd.DataFrame:
    """A sweep's outcome against each lever and uncertainty (ranges binned into quantiles).

    Args:
        results: The experiment's tidy table.
        experiment: The :class:`~vraagvolgend.experiments.Experiment` (for the points).
        column: A column of :func:`run_table`.
        bins: Quantile bins for a range-valued uncertainty.
    """
    runs = run_table(results)
    _columns(runs, [column])
    points = experiment.scenario_points().rename_axis("point").reset_index()
    runs = runs.merge(points, on="point", how="left")
    rows = []

    def add(parameter: str, kind: str, values: pd.Series) -> None:
        for value, g in runs.groupby(values):
            rows.append(
                {
                    "parameter": parameter,
                    "kind": kind,
                    "value": value,
                    "mean": g[column].mean(),
                    "runs": len(g),
                }
            )

    for u in experiment.uncertainties:
        values = runs[u.name]
        if u.values is None and values.nunique() > bins:
            values = pd.qcut(values, bins, duplicates="drop").astype(str)
        add(u.name, "uncertainty", values)
    labels = {label: policy.to_dict() for label, policy in experiment.policy_variants()}
    for lever in experiment.levers:
        path = lever.name.split(".")

        def value_of(label, path=path):
            v = labels[label]
            for part in path:
                v = v[part]
            return v

        add(lever.name, "lever", runs["policy"].map(value_of))
    return pd.DataFrame(rows)
