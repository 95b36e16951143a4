"""Five years of the default municipality without any formal care.

Prints the prevalence of problems per domain and how problems stack, by household type and by
income quintile. This is the counterfactual against which formal care is later compared:
problems, spill-over between domains, life events and informal support only.

Run:  python examples/municipality_without_care.py [--households N] [--seed S]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import vraagvolgend as vv
from vraagvolgend.cli import one_line_errors


def main(n_households: int | None = None, seed: int = 0, months: int = 60) -> vv.Result:
    scenario = vv.Scenario.default()
    if n_households is not None:
        scenario = scenario.with_changes(n_households=n_households)
    start = time.perf_counter()
    result = vv.run(scenario, policy=None, seed=seed, months=months)
    elapsed = time.perf_counter() - start

    h = result.households
    print(
        f"Municipality {scenario.name!r}: {len(h):,} households, "
        f"{int(h['n_persons'].sum()):,} inhabitants, {h['neighbourhood'].nunique()} "
        f"neighbourhoods; {months} months without formal care (seed {seed}, {elapsed:.1f} s)\n"
    )

    year = months // 12
    p = result.problems.query("year == @year")
    threshold = scenario.problems.threshold
    per_domain = p.groupby("domain", observed=True).agg(
        active_problem=("severity", lambda s: (s >= threshold).mean()),
        zrm_1_or_2=("zrm_level", lambda z: (z <= 2).mean()),
        mean_severity=("severity", "mean"),
    )
    print(f"Prevalence per domain at the end of year {year} (share of eligible households):")
    print(per_domain.to_string(float_format=lambda x: f"{x:6.1%}" if x < 1 else f"{x:.2f}"))

    shares = result.stacking()
    print("\nActive problems per household:")
    print(shares.to_string(index=False, float_format=lambda x: f"{x:6.1%}"))
    # Stacking emerges: compare with what independent domains of the same prevalence would give.
    active = per_domain["active_problem"].to_numpy()
    independent = _share_three_or_more(active)
    print(f"  3+ problems if domains were independent: {independent:6.1%}")

    for by in ("household_type", "income_quintile"):
        print(f"\nActive problems per household, by {by.replace('_', ' ')}:")
        print(result.stacking(by=by).to_string(float_format=lambda x: f"{x:6.1%}"))

    m = result.monthly.iloc[-12:]
    print(
        f"\nLast year, per month: {m['informal_support_given'].mean():,.0f} units of informal "
        f"support given to {m['households_supported'].mean():,.0f} households; "
        f"{m['carers_under_strain'].mean():,.0f} carers under strain."
    )
    return result


def _share_three_or_more(p: np.ndarray) -> float:
    """P(at least 3 of independent Bernoulli(p_i)) by convolution of the count distribution."""
    dist = np.array([1.0])
    for pi in p:
        dist = np.convolve(dist, [1 - pi, pi])
    return float(dist[3:].sum())


if __name__ == "__main__":
    with one_line_errors(__file__):  # bad input: one line, no traceback
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--households", type=int, default=None, help="default: the scenario's")
        parser.add_argument("--seed", type=int, default=0, help="default: 0")
        parser.add_argument("--months", type=int, default=60, help="default: 60")
        args = parser.parse_args()
        main(args.households, args.seed, args.months)
