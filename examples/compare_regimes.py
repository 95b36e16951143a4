"""The main job: supply-driven vs demand-driven financing on the default municipality.

Five years, ten replications on common random numbers (replication r of both policies sees
the same households and life events), one budget for both (set from the supply-driven
spending in year 1, as the municipality's). Prints

1. the summary table: annual cost per law with 95% intervals, paired differences, outcomes;
2. what drives the difference: its decomposition into named mechanisms (Shapley values over
   the policies' parameter groups and rules, on fewer replications, stated);
3. the switch the seed municipalities made: supply- to demand-driven at month 24 with a year
   of ramp-up and a stated implementation cost, year by year against staying supply-driven;
4. how sure the answer is: a modest probabilistic comparison (:data:`DRAWS` sets of the
   regime and access assumptions drawn from their plausible ranges, one replication each),
   the probability that demand-driven is cheaper and that it leaves households worse off,
   what decides it and the break-even values of the two most influential assumptions;

and writes the report (HTML and Markdown, with both) and the tables to the output folder. The
report's headline leads with the probability and its drivers.

Run:  python examples/compare_regimes.py [--replications 10] [--households N] [--out out/]
      [--draws 32]
"""

from __future__ import annotations

import argparse
import time

import vraagvolgend as vv
from vraagvolgend.cli import one_line_errors
from vraagvolgend.comparison import mean_ci
from vraagvolgend.reports import write_report
from vraagvolgend.vocabulary import format_interval, format_number

#: The uncertainty analysis of the main job, sized to add about a minute on an idle 2-core
#: machine: draws (one replication each) of the inputs below, and break-even searches for the
#: two most influential of them (at most 3 comparisons of 3 replications each). With 2 draws
#: per input the drivers are read from rank correlations (drivers.sensitivity). A fuller
#: analysis varies every declared range: ``vraagvolgend compare --uncertainty 200``.
DRAWS = 32
#: The inputs the main job varies: every regime and access assumption with a plausible range
#: (the prices of provisions, which scale both regimes alike, stay at their values).
VARIED = ("policy.", "access.")

#: The switch's implementation cost: assumption, about EUR 10 per inhabitant (project team,
#: training, new contracts, a year of double running) for a municipality of about 57,000.
IMPLEMENTATION_COST = 570_000.0


def main(
    replications: int = 10,
    n_households: int | None = None,
    months: int = 60,
    out: str = "out/compare_regimes",
    seed: int = 0,
    decomposition_replications: int = 2,
    workers: int | None = None,
    draws: int = DRAWS,
) -> vv.Comparison:
    scenario = vv.Scenario.default()
    if n_households is not None:
        scenario = scenario.with_changes(n_households=n_households)
    supply, demand = vv.SupplyDriven(), vv.DemandDriven()
    switch = vv.PolicySwitch(
        supply,
        demand,
        at_month=24,
        ramp_months=12,
        name="switch at month 24",
        implementation_cost=IMPLEMENTATION_COST,
    )
    executor = "processes" if (workers or 0) > 1 else "serial"
    start = time.perf_counter()
    comparison = vv.compare(
        [supply, demand, switch],
        scenario,
        replications=replications,
        seed=seed,
        months=months,
        executor=executor,
        workers=workers,
    )
    elapsed = time.perf_counter() - start
    print(comparison)

    # 4. How sure: the same comparison over draws of its assumptions, then what decides it
    if draws:
        start = time.perf_counter()
        inputs = [u for u in vv.default_uncertainties(scenario, [supply, demand])
                  if u.name.startswith(VARIED)]  # fmt: skip
        vv.add_uncertainty(
            comparison,
            draws,
            uncertainties=inputs,
            policies=[supply.name, demand.name],  # the switch is not drawn
            replications=1,
            executor=executor,
            workers=workers,
            progress=False,
        )
        drawn = time.perf_counter() - start
        start = time.perf_counter()
        drivers = vv.drivers.analyse(
            comparison, break_even=2, replications=3, max_evaluations=3,
            executor=executor, workers=workers,
        )  # fmt: skip
        print(f"\nHow sure is the answer? ({draws} draws of {len(inputs)} assumptions, one "
              f"replication each: {drawn:.0f} s; drivers and break-even values: "
              f"{time.perf_counter() - start:.0f} s)")  # fmt: skip
        print(comparison.uncertainty)
        print(drivers.text)

    # 2. What drives the difference (fewer replications: 2^k coalitions each)
    start = time.perf_counter()
    decomposition = vv.decompose_comparison(
        comparison,
        alternative=demand.name,
        replications=min(decomposition_replications, replications),
        executor=executor,
        workers=workers,
        progress=False,
    )
    print()
    print(decomposition)
    print(f"(decomposed in {time.perf_counter() - start:.0f} s)")

    # 3. The switch, year by year
    yearly = comparison.details["yearly"]
    external = yearly[yearly["line"] != "benefit"].groupby(["policy", "replication", "year"])[
        "cost_eur"
    ]
    total = external.sum().unstack("policy")
    gap = (total[switch.name] - total[supply.name]).groupby("year")
    print(
        f"\nThe switch at month 24 (ramp-up 12 months, implementation cost "
        f"EUR {format_number(IMPLEMENTATION_COST)}), external cost against staying "
        "supply-driven, EUR thousand per year (95% interval):"
    )
    for year, g in gap:
        mean, lo, hi = mean_ci(g.to_numpy() / 1000)
        print(f"  year {year}: {format_number(mean, 0):>7}   ({format_interval(lo, hi, 0)})")

    comparison.save(out)
    report = write_report(comparison, out)
    runs = replications * (len(comparison.policies) + 1)
    print(f"\nReport written to {report} ({elapsed:.0f} s for about {runs} runs).")
    return comparison


if __name__ == "__main__":
    with one_line_errors(__file__):  # bad input: one line, no traceback
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--replications", type=int, default=10, help="default: 10")
        parser.add_argument("--households", type=int, default=None, help="default: the scenario's")
        parser.add_argument("--months", type=int, default=60, help="default: 60")
        parser.add_argument("--seed", type=int, default=0, help="default: 0")
        parser.add_argument(
            "--out", default="out/compare_regimes", help="default: out/compare_regimes"
        )
        parser.add_argument(
            "--decomposition-replications", type=int, default=2, help="default: 2 (each 2^k runs)"
        )
        parser.add_argument("--workers", type=int, default=2, help="worker processes; default: 2")
        parser.add_argument(
            "--draws", type=int, default=DRAWS, help=f"uncertainty draws (0: none); default {DRAWS}"
        )
        args = parser.parse_args()
        main(
            args.replications,
            args.households,
            args.months,
            args.out,
            args.seed,
            args.decomposition_replications,
            args.workers,
            args.draws,
        )
