"""Sweep throughput: runs per minute, serial vs local process pool vs local Dask cluster;
or runs per hour against another commit.

The same experiment (both regimes × 2 scenario points × ``--replications``, default
municipality at ``--households``) runs on each executor into a fresh store, one after the
other in this process; the ratios against serial are measured in the same run.

With ``--against COMMIT`` the sweep of issue 19 is timed instead: ``--households`` (default
24,000) × 180 months in all (the commit's default burn-in plus the months after it), both
regimes × ``--levels`` values of the lever ``outreach`` (1: no lever) × ``--replications``, on
serially (default: ``--executor serial``; on a shared machine the CPU time of the process is
the steadier measure, runs per CPU-hour) or on a local process pool of ``--workers``, in fresh
processes with each commit's own ``src`` (the other commit from a temporary git worktree),
alternating ``--repeats`` times; this tree runs with ``burn_in="each"`` (one burn-in per run,
as before) and ``"baseline"`` (one per replication, forked for every variant). Runs per hour
are the runs over the wall time of ``run_experiment`` (a pool's start included).

Run:  .venv/bin/python benchmarks/bench_sweep.py [--households 10000] [--replications 4]
      .venv/bin/python benchmarks/bench_sweep.py --against 0fd389e [--replications 2 --levels 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import vraagvolgend as vv
from bench_main_job import ROOT, worktree


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


#: One timed sweep, run in a fresh process with a commit's ``src`` first on the path; it
#: passes ``burn_in`` only where given (older commits have no such option).
CHILD = """
import json, sys, tempfile, time
import vraagvolgend as vv
households, replications, levels, workers, burn_in, executor = json.loads(sys.argv[1])
scenario = vv.Scenario.default().with_changes(n_households=households)
options = {} if burn_in is None else {"burn_in": burn_in}
levers = [vv.Lever("outreach", values=[0.0, 0.1, 0.2][:levels])] if levels > 1 else []
e = vv.Experiment("bench", ["supply-driven", "demand-driven"], levers=levers,
                  replications=replications, months=180 - scenario.burn_in_months,
                  scenario=scenario, **options)
with tempfile.TemporaryDirectory() as store:
    start, cpu = time.perf_counter(), time.process_time()
    out = vv.run_experiment(e, store, executor=executor, workers=workers, progress=False)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
assert "error" not in out.columns
print(json.dumps({"runs": len(e.runs()), "seconds": seconds, "cpu": cpu,
                  "burn_in": scenario.burn_in_months}))
"""


def _time(tree: Path, args: list) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(args)],
        cwd=tree,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def against(
    commit: str,
    households: int,
    replications: int,
    levels: int,
    workers: int,
    repeats: int,
    executor: str,
) -> None:
    variants = 2 * max(levels, 1)
    print(f"vraagvolgend {vv.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}")
    where = "serially, in one process" if executor == "serial" else f"{workers} workers"
    print(
        f"{households:,} households × 180 months, 2 regimes × {max(levels, 1)} outreach "
        f"level(s) × {replications} replications = {variants * replications} runs, {where}, "
        f"{len(os.sched_getaffinity(0))} cores, {repeats} repeat(s)\n"
    )
    serial = executor == "serial"
    with tempfile.TemporaryDirectory() as tmp, worktree(commit, Path(tmp) / "other") as other:
        configs = [
            (commit, other, None),
            ("this, burn_in=each", ROOT, "each"),
            ("this, burn_in=baseline", ROOT, "baseline"),
        ]
        rates: dict[str, list[tuple[float, float]]] = {label: [] for label, _, _ in configs}
        for _ in range(repeats):
            for label, tree, burn_in in configs:
                r = _time(tree, [households, replications, levels, workers, burn_in, executor])
                wall = 3600 * r["runs"] / r["seconds"]
                cpu = 3600 * r["runs"] / r["cpu"] if serial else float("nan")
                rates[label].append((wall, cpu))
                print(
                    f"{label:>24}: {r['runs']} runs ({r['burn_in']} burn-in + "
                    f"{180 - r['burn_in']} months) in {r['seconds']:.1f} s "
                    f"({r['cpu']:.1f} CPU s in this process): {wall:,.0f} runs/hour"
                    + (f", {cpu:,.0f} runs per CPU-hour" if serial else ""),
                    flush=True,
                )
    print(f"\nmedians, ratio against {commit}:")
    before = [statistics.median(v[i] for v in rates[commit]) for i in (0, 1)]
    for label, values in rates.items():
        wall, cpu = (statistics.median(v[i] for v in values) for i in (0, 1))
        line = f"{label:>24}: {wall:8,.0f} runs/hour {wall / before[0]:.2f}x"
        if serial:
            line += f", {cpu:8,.0f} runs per CPU-hour {cpu / before[1]:.2f}x"
        print(line)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=None, help="default: 10000 (24000)")
    parser.add_argument("--replications", type=int, default=None, help="default: 4 (2)")
    parser.add_argument("--months", type=int, default=60, help="default: 60")
    parser.add_argument("--against", metavar="COMMIT", help="runs per hour against COMMIT")
    parser.add_argument("--levels", type=int, default=1, help="with --against: outreach levels")
    parser.add_argument("--workers", type=int, default=2, help="with --against: default 2")
    parser.add_argument("--repeats", type=int, default=1, help="with --against: default 1")
    parser.add_argument(
        "--executor",
        default="serial",
        choices=["serial", "processes"],
        help="with --against: serial (default; CPU time is measured too) or processes",
    )
    a = parser.parse_args()
    if a.against:
        against(
            a.against,
            a.households or 24_000,
            a.replications or 2,
            a.levels,
            a.workers,
            a.repeats,
            a.executor,
        )
    else:
        main(a.households or 10_000, a.replications or 4, a.months)
