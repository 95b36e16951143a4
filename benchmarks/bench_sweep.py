"""Sweep throughput: runs per minute, serial vs local process pool vs local Dask cluster.

The same experiment (both regimes × 2 scenario points × ``--replications``, default
municipality at ``--households``) runs on each executor into a fresh store, one after the
other in this process; the ratios against serial are measured in the same run.

Run:  .venv/bin/python benchmarks/bench_sweep.py [--households 10000] [--replications 4]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

import vraagvolgend as vv


def main(households: int, replications: int, months: int) -> None:
    scenario = vv.Scenario.default().with_changes(n_households=households)
    experiment = vv.Experiment(
        "throughput",
        ["supply-driven", "demand-driven"],
        [vv.Uncertainty("network.mean_degree", values=[6, 9])],
        replications=replications,
        months=months,
        scenario=scenario,
    )
    n_runs = len(experiment.runs())
    cores = len(os.sched_getaffinity(0))
    print(f"vraagvolgend {vv.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}")
    print(
        f"{n_runs} runs of {households:,} households ({scenario.burn_in_months} burn-in + "
        f"{months} months), {cores} cores\n"
    )
    print(f"{'executor':>10} {'seconds':>8} {'runs/min':>9} {'vs serial':>10}")
    serial = None
    for executor in ("serial", "processes", "dask"):
        with tempfile.TemporaryDirectory() as store:
            start = time.perf_counter()
            vv.run_experiment(experiment, store, executor=executor, progress=False)
            elapsed = time.perf_counter() - start
        serial = serial or elapsed
        print(
            f"{executor:>10} {elapsed:8.1f} {60 * n_runs / elapsed:9.1f} {serial / elapsed:9.2f}x",
            flush=True,
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000, help="default: 10000")
    parser.add_argument("--replications", type=int, default=4, help="default: 4")
    parser.add_argument("--months", type=int, default=60, help="default: 60")
    a = parser.parse_args()
    main(a.households, a.replications, a.months)
