"""Supply-driven vs demand-driven financing on the default municipality.

Five years, ten replications on common random numbers (replication r of both policies sees
the same households and life events). Prints the summary table and writes a Markdown report
with CSV tables.

Run:  python examples/compare_regimes.py [--replications 10] [--households N] [--out out/]
"""

from __future__ import annotations

import argparse
import time

import vraagvolgend as vv
from vraagvolgend.reports import write_report


def main(
    replications: int = 10,
    n_households: int | None = None,
    months: int = 60,
    out: str = "out/compare_regimes",
    seed: int = 0,
) -> vv.Comparison:
    scenario = vv.Scenario.default()
    if n_households is not None:
        scenario = scenario.with_changes(n_households=n_households)
    policies = [vv.SupplyDriven(), vv.DemandDriven()]
    start = time.perf_counter()
    comparison = vv.compare(policies, scenario, replications=replications, seed=seed, months=months)
    elapsed = time.perf_counter() - start
    print(comparison)
    print("\nMean annual cost, EUR thousand:")
    print(comparison.table().round(0).to_string())
    comparison.save(out)
    report = write_report(comparison, out)
    print(
        f"\nReport written to {report} ({elapsed:.0f} s for {replications * len(policies)} runs)."
    )
    return comparison


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=10, help="default: 10")
    parser.add_argument("--households", type=int, default=None, help="default: the scenario's")
    parser.add_argument("--months", type=int, default=60, help="default: 60")
    parser.add_argument("--seed", type=int, default=0, help="default: 0")
    parser.add_argument("--out", default="out/compare_regimes", help="default: out/compare_regimes")
    args = parser.parse_args()
    main(args.replications, args.households, args.months, args.out, args.seed)
