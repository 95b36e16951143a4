"""The comparison at the heart of the README's main job: both regimes on the default municipality.

Times ``vv.compare([SupplyDriven(), DemandDriven()], replications=10, months=60)`` on the default
scenario (24,000 households, 120 burn-in months per run; one reference run per replication sets
the municipal budget) plus writing the report, and prints seconds in all and per run. ``make
demo`` (``examples/compare_regimes.py``) also runs the switch and the decomposition (2
replications, 64 coalitions): about 2 minutes in all on 2 cores (measured 1 min 55 s, 2026-12-01).

Run:  .venv/bin/python benchmarks/bench_main_job.py [--replications 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import vraagvolgend as vv
from vraagvolgend.reports import write_report


def main(replications: int = 10) -> float:
    start = time.perf_counter()
    comparison = vv.compare(
        [vv.SupplyDriven(), vv.DemandDriven()],
        replications=replications,
        months=60,
        progress=False,
    )
    with tempfile.TemporaryDirectory() as out:
        write_report(comparison, Path(out))
    elapsed = time.perf_counter() - start
    runs = 2 * replications
    print(f"vraagvolgend {vv.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}")
    print(
        f"main job: {elapsed:.1f} s for {runs} runs ({elapsed / runs:.2f} s per run of "
        f"{vv.Scenario.default().burn_in_months} + 60 months, 24,000 households)"
    )
    return elapsed


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=10, help="default: 10")
    main(parser.parse_args().replications)
