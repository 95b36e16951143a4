"""Check the default municipality against the public levels it is calibrated to.

Runs the default scenario under the default supply-driven policy for several seeds and prints,
per indicator, the mean over years 2–5 (year 1 is a further burn-in), the spread over seeds and
the target range from ``calibration.md``, with PASS or FAIL.

How the defaults were calibrated (a documented hand procedure, not an optimiser: the targets are
ranges and the parameters that move them are few and nearly separable):

1. Without formal care (``examples/municipality_without_care.py``), the onset rates were scaled
   so that about 10% of households have an active debt problem and about 7% three or more
   problems (problematic debt is 8% with care in place, CBS).
2. With the default supply-driven policy, the parenting/youth onset rate was raised until youth
   care reached about 10% of young people (CBS Jeugdmonitor: 10.5%); it then gives
   parenting/youth problems in about a quarter of families (CBS: psychological problems in 23% of
   households with minor children).
3. The work-domain threshold for social assistance was lowered until about 4–5% of households
   were on a benefit (CBS/BUIG: 4.9%).
4. The thresholds for residential youth care and sheltered housing were lowered until those
   provisions appeared at all (the national shares are 8% of youth care and 1.4 per 1,000
   inhabitants); they remain below the national level (noted, not tuned further).
Wmo clients, the share of households with any individual provision and the cost per inhabitant
were not tuned: they follow from the catalogue's prices and durations.

Run:  python scripts/calibration_check.py [--seeds 3] [--households N]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import vraagvolgend as vv

TARGETS = {
    # indicator: (low, high, what, source)
    "youth_care_share": (0.08, 0.13, "young people with youth care", "CBS Jeugdmonitor 10.5%"),
    "wmo_clients_per_1000": (55, 90, "Wmo clients per 1,000 inhabitants", "CBS 86050NED: 72"),
    "social_assistance_share": (0.035, 0.065, "households on social assistance", "CBS/BUIG 4.9%"),
    "any_individual_share": (0.18, 0.28, "households with any individual provision", "SCP 23%"),
    "external_cost_per_inhabitant": (
        350,
        600,
        "external social-domain cost per inhabitant (EUR)",
        "reference municipality A: about 460",
    ),
}


def check(seeds: int = 3, n_households: int | None = None, months: int = 60) -> bool:
    scenario = vv.Scenario.default()
    if n_households:
        scenario = scenario.with_changes(n_households=n_households)
    per_seed = []
    for seed in range(seeds):
        result = vv.run(scenario, policy="supply-driven", seed=seed, months=months)
        per_seed.append(result.indicators().query("year >= 2").mean())
    ok = True
    print(f"Default municipality, supply-driven, {seeds} seeds, years 2–{months // 12}:\n")
    print(f"{'indicator':48} {'mean':>9} {'seed range':>21} {'target':>15}  result")
    for key, (lo, hi, what, source) in TARGETS.items():
        values = np.array([s[key] for s in per_seed])
        mean = values.mean()
        passed = lo <= mean <= hi
        ok &= passed
        fmt = (lambda x: f"{x:.1%}") if hi < 1 else (lambda x: f"{x:.1f}")
        spread = f"{fmt(values.min())} … {fmt(values.max())}"
        print(
            f"{what:48} {fmt(mean):>9} {spread:>21} {fmt(lo) + '–' + fmt(hi):>15}  "
            f"{'PASS' if passed else 'FAIL'}   ({source})"
        )
    return ok


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="default: 3")
    parser.add_argument("--households", type=int, default=None, help="default: the scenario's")
    args = parser.parse_args()
    sys.exit(0 if check(args.seeds, args.households) else 1)
