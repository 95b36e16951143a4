"""Reliability figures for the README: what survives, what leaks, what peaks.

Four measurements, each a fresh subprocess where it matters:

* ``dask``: a real ``dask scheduler`` and two ``dask worker`` processes *with nannies* on
  127.0.0.1; a sweep through ``vraagvolgend sweep --scheduler``; one worker process (the child
  of its nanny) is killed with SIGKILL ``--kills`` times while runs remain; the final store
  must be identical to a serial run of the same experiment.
* ``threads``: one run of ``--households`` (default 1,000,000) households with 1 and with 2
  threads (``VRAAGVOLGEND_THREADS``), side by side in fresh processes: wall and CPU seconds,
  and whether the two results are identical.
* ``repeat``: 50 runs in one process; resident memory after each, to see whether it grows.
* ``peak``: peak resident memory (``ru_maxrss``) of one run of 1,000,000 households × 60
  months, with and without saving its tables, in fresh processes.

Run:  .venv/bin/python benchmarks/bench_reliability.py [dask threads repeat peak]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

import vraagvolgend as vv
from vraagvolgend.store import ResultStore

BIN = Path(sys.executable).parent


def _child(code: str, env: dict | None = None) -> dict:
    """Run Python code in a fresh process; it prints one JSON line."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


ONE_RUN = """
import json, resource, tempfile, time, hashlib, vraagvolgend as vv
s = vv.Scenario.default().with_changes(n_households={n})
wall, cpu = time.perf_counter(), time.process_time()
r = vv.run(s, "supply-driven", seed=0, months={months}, check_memory=False)
costs = r.annual_costs()
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
if {save}:
    r.save(tempfile.mkdtemp())
digest = hashlib.sha256(costs.to_csv().encode() + r.monthly.to_csv().encode()).hexdigest()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"wall": wall, "cpu": cpu, "peak_mb": peak, "digest": digest}}))
"""


def threads(n: int, months: int) -> None:
    print(f"## {n:,} households × {months} months, 1 and 2 threads (fresh processes)\n")
    print("| threads | wall s | CPU s | peak MB |")
    print("| ---: | ---: | ---: | ---: |")
    digests = set()
    for k in (1, 2, 1, 2):
        out = _child(
            ONE_RUN.format(n=n, months=months, save=False), {"VRAAGVOLGEND_THREADS": str(k)}
        )
        digests.add(out["digest"])
        print(f"| {k} | {out['wall']:.1f} | {out['cpu']:.1f} | {out['peak_mb']:.0f} |", flush=True)
    print(f"\nIdentical results with 1 and 2 threads: {len(digests) == 1}\n")


def peak(n: int, months: int) -> None:
    print(f"## Peak resident memory, {n:,} households × {months} months\n")
    for save in (False, True):
        out = _child(ONE_RUN.format(n=n, months=months, save=save))
        what = "run and save its tables" if save else "run (tables in memory)"
        per = out["peak_mb"] * 2**20 / n
        print(f"- {what}: {out['peak_mb']:,.0f} MB ({per:,.0f} B per household)", flush=True)
    print()


def repeat(runs: int) -> None:
    print(f"## Memory over {runs} runs in one process (2,000 households × 60 months)\n")
    s = vv.Scenario.default().with_changes(n_households=2000)
    rss = []
    for i in range(runs):
        vv.run(s, "demand-driven", seed=i, months=60).annual_costs()
        with open("/proc/self/statm") as f:
            rss.append(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20)
    first, tenth, last = rss[0], rss[9], rss[-1]
    print(
        f"resident MB after run 1: {first:.0f}, run 10: {tenth:.0f}, run {runs}: {last:.0f} "
        f"(growth from run 10 to {runs}: {last - tenth:+.1f} MB)\n",
        flush=True,
    )


EXPERIMENT = """
name = "nanny"
policies = ["supply-driven", "demand-driven"]
replications = 4
months = 24
scenario = "small.toml"
[[uncertainties]]
name = "network.mean_degree"
values = [5, 7, 9]
"""


def _worker_pids(nanny_pids: list[int]) -> list[int]:
    """The worker processes (children of the nannies)."""
    out = []
    for pid in nanny_pids:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        out += [int(c) for c in children]
    return out


def dask(kills: int) -> None:
    print(f"## A real Dask cluster with nanny workers, {kills} worker kills\n")
    folder = Path(tempfile.mkdtemp())
    (folder / "small.toml").write_text("n_households = 4000\nburn_in_months = 24\n")
    (folder / "e.toml").write_text(EXPERIMENT)
    address_file = folder / "scheduler.json"
    log = open(folder / "cluster.log", "w")  # noqa: SIM115 - closed below
    dask_cli = str(BIN / "dask")
    processes = [
        subprocess.Popen(
            [
                dask_cli,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(address_file),
            ],
            stdout=log,
            stderr=log,
        )
    ]
    try:
        while not address_file.exists() or not address_file.read_text().strip():
            time.sleep(0.1)
        address = json.loads(address_file.read_text())["address"]
        nannies = [
            subprocess.Popen(
                [
                    dask_cli,
                    "worker",
                    address,
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                ],
                stdout=log,
                stderr=log,
            )
            for _ in range(2)
        ]
        processes += nannies
        from dask.distributed import Client

        with Client(address) as client:
            client.wait_for_workers(2, timeout=60)
        store = folder / "dask"
        start = time.perf_counter()
        sweep = subprocess.Popen(
            [
                str(BIN / "vraagvolgend"),
                "sweep",
                str(folder / "e.toml"),
                "--store",
                str(store),
                "--scheduler",
                address,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        done_kills = 0
        total = 24
        while sweep.poll() is None and done_kills < kills:
            stored = len(list((store / "nanny").glob("*.parquet")))
            target = (done_kills + 1) * total // (kills + 2)
            if stored >= target:
                pids = _worker_pids([p.pid for p in nannies])
                if pids:
                    os.kill(pids[done_kills % len(pids)], signal.SIGKILL)
                    done_kills += 1
            time.sleep(0.05)
        _out, _err = sweep.communicate(timeout=1800)
        elapsed = time.perf_counter() - start
    finally:
        for p in processes:
            p.terminate()
        for p in processes:
            p.wait(30)
        log.close()
    serial = folder / "serial"
    subprocess.run(
        [
            str(BIN / "vraagvolgend"),
            "sweep",
            str(folder / "e.toml"),
            "--store",
            str(serial),
            "--executor",
            "serial",
        ],
        check=True,
        capture_output=True,
    )
    keys = ["point", "policy", "replication", "year", "kind", "variable"]
    a = ResultStore(store).load("nanny").sort_values(keys, ignore_index=True)
    b = ResultStore(serial).load("nanny").sort_values(keys, ignore_index=True)
    try:
        pd.testing.assert_frame_equal(a, b)
        same = True
    except AssertionError:
        same = False
    runs = a[["point", "policy", "replication"]].drop_duplicates().shape[0]
    print(
        f"{done_kills} worker processes killed during a sweep of {total} runs ({elapsed:.0f} s); "
        f"exit status {sweep.returncode}; {runs} runs stored; identical to the serial store: "
        f"{same}\n",
        flush=True,
    )


def main(parts: list[str], households: int, months: int, kills: int, runs: int) -> None:
    print(f"vraagvolgend {vv.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print(f"ru_maxrss unit check: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss} kB now\n")
    if "dask" in parts:
        dask(kills)
    if "threads" in parts:
        threads(households, months)
    if "repeat" in parts:
        repeat(runs)
    if "peak" in parts:
        peak(households, months)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "parts",
        nargs="*",
        default=["dask", "threads", "repeat", "peak"],
        help="which measurements (default: all)",
    )
    parser.add_argument("--households", type=int, default=1_000_000, help="default: 1000000")
    parser.add_argument("--months", type=int, default=60, help="default: 60")
    parser.add_argument("--kills", type=int, default=4, help="default: 4")
    parser.add_argument("--runs", type=int, default=50, help="default: 50")
    a = parser.parse_args()
    main(a.parts, a.households, a.months, a.kills, a.runs)
