"""A custom scenario from TOML: a municipality with weaker networks and more deprivation.

Writes the default scenario to TOML (every value with its source as a comment), reads back a
file that changes a few keys, and compares both regimes on it. A file only needs the keys it
changes.

Run:  python examples/custom_scenario.py [--households N] [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import vraagvolgend as vv
from vraagvolgend.cli import one_line_errors

CHANGES = """
name = "weak networks"
n_households = {n}

[network]
mean_degree = 5            # fewer ties than the default 8
within_neighbourhood = 0.9

[support.capacity]
single = 0.4
single_75plus = 0.2
couple = 0.5
couple_children = 0.35
single_parent = 0.2
"""


def main(
    n_households: int = 24_000,
    out: str = "out/custom_scenario",
    replications: int = 3,
    months: int = 36,
):
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    vv.Scenario.default().to_toml(folder / "default_scenario.toml")  # to read and copy from
    path = folder / "weak_networks.toml"
    path.write_text(CHANGES.format(n=n_households), encoding="utf-8")
    scenario = vv.Scenario.from_toml(path)
    print(
        f"{scenario.name}: mean degree {scenario.network.mean_degree}, "
        f"{scenario.n_households:,} households"
    )
    comparison = vv.compare(
        ["supply-driven", "demand-driven"], scenario, replications=replications, months=months
    )
    print(comparison.table(labels=True).to_string())
    return comparison


if __name__ == "__main__":
    with one_line_errors(__file__):  # bad input: one line, no traceback
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--households", type=int, default=24_000, help="default: 24000")
        parser.add_argument(
            "--out", default="out/custom_scenario", help="default: out/custom_scenario"
        )
        parser.add_argument("--replications", type=int, default=3, help="default: 3")
        parser.add_argument("--months", type=int, default=36, help="default: 36")
        a = parser.parse_args()
        main(a.households, a.out, a.replications, a.months)
