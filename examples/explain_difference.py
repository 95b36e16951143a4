"""Why does demand-driven financing cost what it costs? A decomposition by mechanism.

Supply- and demand-driven financing are compared on common random numbers, and their paired
difference is split into the mechanisms that separate them (Shapley values): every group of
declared settings in which the two differ (the episode lifecycle: reviews and continuation;
conversations; network activation; flexible budget) and every rule of the regimes that
differs, with its parameters (the integrated plan's choice of domains; packages sized to
need). A rule of your own (a subclass that overrides a rule method) is a mechanism of its own.
The parts add up to the total difference.

Run:  python examples/explain_difference.py [--replications 2] [--households N] [--months M]
      [--out DIR] [--burn-in MONTHS]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import vraagvolgend as vv
from vraagvolgend.cli import one_line_errors


def main(
    replications: int = 2,
    n_households: int | None = None,
    months: int = 60,
    out: str = "out/explain_difference",
    burn_in: int | None = None,
):
    scenario = vv.Scenario.default()
    if n_households:
        scenario = scenario.with_changes(n_households=n_households)
    if burn_in is not None:
        scenario = scenario.with_changes(burn_in_months=burn_in)
    policies = [vv.SupplyDriven(), vv.DemandDriven()]
    comparison = vv.compare(policies, scenario, replications=replications, months=months)
    # The comparison's own runs are reused for both ends; only the mixed policies are run
    # (six mechanisms: 62 of them per replication). Give groups={"label": [field names,
    # "rule:<method>", ...]} to take mechanisms together, or groups="regime" to keep the
    # regimes' rules as one.
    decomposition = vv.decompose_comparison(comparison)
    print(decomposition)
    # The comparison folder keeps the decomposition (decomposition/), and the report shows it.
    folder = comparison.save(Path(out))
    decomposition.plot().savefig(folder / "decomposition.png", dpi=120)
    print(f"\nSaved to {folder}")
    return decomposition


if __name__ == "__main__":
    with one_line_errors(__file__):  # bad input: one line, no traceback
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--replications", type=int, default=2, help="default: 2")
        parser.add_argument("--households", type=int, default=None, help="default: the scenario's")
        parser.add_argument("--months", type=int, default=60, help="default: 60")
        parser.add_argument("--out", default="out/explain_difference", help="comparison folder")
        parser.add_argument("--burn-in", type=int, default=None, help="default: the scenario's")
        a = parser.parse_args()
        main(a.replications, a.households, a.months, a.out, a.burn_in)
