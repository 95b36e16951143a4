"""How sure is the answer? Supply- vs demand-driven over the plausible ranges of the inputs.

Every parameter declared with a plausible range (``docs/assumptions.md``) is an uncertain
input, triangular around its default; one price is widened here to show an override. The
comparison draws parameter sets with a Latin hypercube and runs both policies on each, on
common random numbers, then prints the probability that demand-driven is cheaper, the
probability that households are worse off, the cost interval over parameters and simulation
beside the simulation-only one, and the cost-effectiveness plane's quadrants; it writes the
draws (one row per parameter set) to a CSV.

Run:  python examples/uncertainty.py [--draws 16] [--replications 2] [--households N]
"""

from __future__ import annotations

import argparse
import time

import vraagvolgend as vv
from vraagvolgend.cli import one_line_errors
from vraagvolgend.uncertainty import default_uncertainties, override


def main(
    draws: int = 16,
    replications: int = 2,
    n_households: int | None = None,
    months: int = 60,
    out: str = "out/uncertainty_draws.csv",
    workers: int | None = None,
):
    scenario = vv.Scenario.default()
    if n_households is not None:
        scenario = scenario.with_changes(n_households=n_households)
    policies = ["supply-driven", "demand-driven"]
    # the declared ranges, with the conversation price widened (a user's own judgement)
    inputs = override(
        default_uncertainties(scenario, policies),
        [vv.Uncertainty("access.conversation_cost", 100, 600, distribution="uniform")],
    )
    start = time.perf_counter()
    comparison = vv.compare(
        policies,
        scenario,
        replications=replications,
        months=months,
        uncertainty=draws,
        uncertainties=inputs,
        executor="serial" if workers == 1 else "processes",
        workers=workers,
    )
    u = comparison.uncertainty
    print(u)
    print(f"\nVaried: {len(u.inputs['input'].unique())} inputs; kept fixed:")
    for row in u.fixed.itertuples():
        print(f"  {row.parameter} ({row.why})")
    print(f"\n{draws} draws × {replications} replications in {time.perf_counter() - start:.0f} s")
    u.draws.to_csv(out, index=False)
    print(f"The draws: {out}")
    return comparison


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=16)
    parser.add_argument("--replications", type=int, default=2)
    parser.add_argument("--households", type=int, default=None)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--out", default="out/uncertainty_draws.csv")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    with one_line_errors("uncertainty.py"):
        main(args.draws, args.replications, args.households, args.months, args.out, args.workers)
