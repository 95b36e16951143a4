"""A first run: the default municipality under supply-driven financing for five years.

Prints the indicators the model is calibrated to and the cost picture of the costliest
household.

Run:  python examples/first_run.py [--households N]
"""

from __future__ import annotations

import argparse

import vraagvolgend as vv
from vraagvolgend.cli import one_line_errors


def main(n_households: int | None = None, months: int = 60) -> vv.Result:
    scenario = vv.Scenario.default()
    if n_households:
        scenario = scenario.with_changes(n_households=n_households)
    result = vv.run(scenario, "supply-driven", seed=0, months=months)
    print(result.indicators().round(3).to_string(index=False))

    costs = result.costs.groupby(["year", "law"])["cost_eur"].sum().unstack() / 1e6
    print("\nCost per year and law (EUR million):")
    print(costs.round(2).to_string())

    # The household on which the system spends most, and why
    spend = result.episodes.groupby("household_id")["cost_eur"].sum()
    print()
    print(result.household(int(spend.idxmax())))
    return result


if __name__ == "__main__":
    with one_line_errors(__file__):  # bad input: one line, no traceback
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--households", type=int, default=None, help="default: the scenario's")
        parser.add_argument("--months", type=int, default=60, help="default: 60")
        a = parser.parse_args()
        main(a.households, a.months)
