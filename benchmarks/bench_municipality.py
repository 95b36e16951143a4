"""How fast the municipality model builds and steps, and how much memory it needs per household.

For each size (default 10,000, 100,000 and 1,000,000 households) and each policy (default
supply-driven and demand-driven: the whole month, access, care and costs included; ``none`` runs
without formal care) this measures:

1. building the population (``build_households``) and the network (``build_network``), each
   timed on its own with ``rng = numpy.random.default_rng(0)``; plus the network's mean degree;
2. building the full model (``MunicipalityModel`` with ``burn_in_months=0``, so no burn-in is
   included) and stepping ``--months`` months with ``model.run_for(1)`` in a loop, timing every
   month; reported as the median seconds per simulated month (a month is the vectorised
   processes plus Mesa's data collection) and household-months per second at that median;
3. peak memory per household: every size runs in a fresh Python process, whose peak resident
   set size (``resource.getrusage(...).ru_maxrss``) at the end, minus the same reading taken
   right after the imports, is divided by the number of households. The standalone population
   and network of step 1 are freed before the model is built, so the peak is that of the larger
   of the two.

Machines are noisy, so besides the absolute numbers the script prints ratios taken in the same
run: the time per month at each size relative to the smallest size, divided by the size ratio
(1.00 means linear scaling, above 1 worse than linear).

Speed is measured here and never asserted in the tests.

Run (from the repository root)::

    .venv/bin/python benchmarks/bench_municipality.py
    .venv/bin/python benchmarks/bench_municipality.py --sizes 10000 100000 --months 24
    .venv/bin/python benchmarks/bench_municipality.py --sizes 8400000 --months 6  # all of NL

``resource`` is Unix-only, and ``ru_maxrss`` is read as KiB, as on Linux.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import vraagvolgend as vv

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure(n_households: int, months: int, policy: str = "supply-driven") -> dict[str, float]:
    """Every measurement for one size; meant to run in a fresh process (see ``--one``)."""
    baseline = peak_rss_bytes()  # right after the imports
    scenario = vv.Scenario.default().with_changes(n_households=n_households, burn_in_months=0)

    rng = np.random.default_rng(0)
    start = time.perf_counter()
    households = vv.build_households(scenario, rng)
    build_population = time.perf_counter() - start

    start = time.perf_counter()
    network = vv.build_network(households, scenario.network, rng)
    build_network = time.perf_counter() - start
    mean_degree = network.nnz / households.n  # symmetric: every tie is stored twice
    del households, network
    gc.collect()

    start = time.perf_counter()
    model = vv.MunicipalityModel(scenario, None if policy == "none" else policy, rng=0)
    build_model = time.perf_counter() - start

    month_times, cpu_times = [], []
    for _ in range(months):  # the same as model.run_for(months), one month at a time
        start, cpu = time.perf_counter(), time.process_time()
        model.run_for(1)
        month_times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu)
    assert model.month == months
    s_per_month = float(np.median(month_times))  # the median shrugs off a stray slow month

    return {
        "policy": policy,
        "households": n_households,
        "months": months,
        "build_population_s": build_population,
        "build_network_s": build_network,
        "mean_degree": mean_degree,
        "build_model_s": build_model,
        "s_per_month": s_per_month,
        "s_per_month_mean": float(np.mean(month_times)),
        "cpu_s_per_month": float(np.median(cpu_times)),
        "household_months_per_s": n_households / s_per_month,
        "peak_bytes_per_household": (peak_rss_bytes() - baseline) / n_households,
    }


def measure_in_subprocess(
    n_households: int, months: int, policy: str, source: str | None = None
) -> dict[str, float]:
    """Run :func:`measure` in a fresh interpreter, so that its peak memory is its own.

    ``source``: a ``src`` folder to import vraagvolgend from (another commit's), else the
    installed one."""
    command = [
        sys.executable,
        __file__,
        "--one",
        str(n_households),
        "--months",
        str(months),
        "--policies",
        policy,
    ]
    env = {**os.environ, "PYTHONPATH": source} if source else None
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        sys.exit(f"size {n_households:,} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


COLUMNS = [
    # (header, key, format)
    ("policy", "policy", "{}"),
    ("households", "households", "{:,.0f}"),
    ("build population s", "build_population_s", "{:.3f}"),
    ("build network s", "build_network_s", "{:.3f}"),
    ("mean degree", "mean_degree", "{:.2f}"),
    ("build model s", "build_model_s", "{:.3f}"),
    ("s per month", "s_per_month", "{:.4f}"),
    ("household-months/s", "household_months_per_s", "{:,.0f}"),
    ("peak bytes/household", "peak_bytes_per_household", "{:,.0f}"),
]


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain-text table, every column right-aligned to its widest cell."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.rjust(width) for cell, width in zip(cells, widths, strict=True))

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def results_table(results: list[dict[str, float]]) -> str:
    headers = [header for header, _, _ in COLUMNS]
    rows = [[fmt.format(r[key]) for _, key, fmt in COLUMNS] for r in results]
    return format_table(headers, rows)


def scaling_table(results: list[dict[str, float]]) -> str:
    """Time per month (and model build) relative to the smallest size, per unit of size."""
    first = results[0]
    headers = [
        "households",
        "size ratio",
        "month time ratio",
        "month efficiency",
        "build time ratio",
        "build efficiency",
    ]
    rows = []
    for r in results:
        if r["policy"] != first["policy"]:
            continue
        size_ratio = r["households"] / first["households"]
        month_ratio = r["s_per_month"] / first["s_per_month"]
        build_ratio = r["build_model_s"] / first["build_model_s"]
        rows.append(
            [
                f"{r['households']:,}",
                f"{size_ratio:,.0f}x",
                f"{month_ratio:,.1f}x",
                f"{month_ratio / size_ratio:.2f}",
                f"{build_ratio:,.1f}x",
                f"{build_ratio / size_ratio:.2f}",
            ]
        )
    return format_table(headers, rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=list(DEFAULT_SIZES),
        help="numbers of households (default: %(default)s)",
    )
    parser.add_argument(
        "--months", type=int, default=12, help="months to step (default: %(default)s)"
    )
    parser.add_argument(
        "--policies",
        nargs="+",
        default=["supply-driven", "demand-driven"],
        help="policies to run, or none for no formal care (default: %(default)s)",
    )
    parser.add_argument(
        "--against",
        metavar="COMMIT",
        help="also time another commit side by side (alternating runs) and print the ratio",
    )
    parser.add_argument(
        "--this",
        metavar="COMMIT",
        help="with --against: time this commit instead of the working tree",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="alternating runs per commit with --against"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # one size, as a JSON line
    args = parser.parse_args(argv)

    if args.one is not None:
        print(json.dumps(measure(args.one, args.months, args.policies[0])))
        return
    if args.against:
        compare_commits(args)
        return

    print(f"vraagvolgend {vv.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}")
    print(f"{args.months} months per size, each size in a fresh process\n")
    results = []
    for policy in args.policies:
        for n in args.sizes:
            print(f"  {policy}, {n:,} households ...", end="", flush=True)
            start = time.perf_counter()
            results.append(measure_in_subprocess(n, args.months, policy))
            print(f" {time.perf_counter() - start:.1f} s", flush=True)

    print()
    print(results_table(results))
    print()
    print(
        f"Scaling relative to {results[0]['households']:,} households "
        f"({results[0]['policy']}), measured in this run"
    )
    print("(efficiency = time ratio / size ratio: 1.00 is linear, above 1 worse than linear):\n")
    print(scaling_table(results))


def compare_commits(args) -> None:
    """Time this tree and another commit side by side: alternating fresh processes per size
    and policy, the median of ``--repeats`` runs each; ratio = other ÷ this (≥ 1: this tree is
    at least as fast). Also the CPU seconds per month (``time.process_time``), which other jobs
    on a shared machine disturb far less than wall time (run with ``VRAAGVOLGEND_THREADS=1``
    so that CPU time is the month's time), and each commit's peak bytes per household."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"other": args.against, "this": args.this}
        for name, commit in trees.items():
            if commit:
                subprocess.run(
                    [
                        "git",
                        "-C",
                        str(root),
                        "worktree",
                        "add",
                        "--detach",
                        f"{tmp}/{name}",
                        commit,
                    ],
                    check=True,
                    capture_output=True,
                )
        other = Path(tmp) / "other"
        here = Path(tmp) / "this" if args.this else root
        try:
            label = args.this or "this tree"
            print(f"{label} vs {args.against}: {args.months} months, {args.repeats} runs each")
            rows = []
            for policy in args.policies:
                for n in args.sizes:
                    this, that = [], []
                    for _ in range(args.repeats):
                        that.append(
                            measure_in_subprocess(n, args.months, policy, str(other / "src"))
                        )
                        this.append(
                            measure_in_subprocess(n, args.months, policy, str(here / "src"))
                        )
                    a, b, ca, cb, ma, mb = (
                        float(np.median([r[key] for r in runs]))
                        for key in ("s_per_month", "cpu_s_per_month", "peak_bytes_per_household")
                        for runs in (that, this)
                    )
                    wall = [f"{a:.4f}", f"{b:.4f}", f"{a / b:.2f}"]
                    cpu = [f"{ca:.4f}", f"{cb:.4f}", f"{ca / cb:.2f}"]
                    rows.append([policy, f"{n:,}", *wall, *cpu, f"{ma:,.0f}", f"{mb:,.0f}"])
                    print(f"  {policy}, {n:,}: {a:.4f} s vs {b:.4f} s", flush=True)
            headers = ["policy", "households", f"s/month {args.against}", "s/month this", "ratio"]
            headers += [f"CPU s/month {args.against}", "CPU s/month this", "CPU ratio"]
            headers += [f"B/household {args.against}", "B/household this"]
            print()
            print(format_table(headers, rows))
        finally:
            for name, commit in trees.items():
                if commit:
                    subprocess.run(
                        ["git", "-C", str(root), "worktree", "remove", "--force", f"{tmp}/{name}"],
                        check=False,
                        capture_output=True,
                    )


if __name__ == "__main__":
    main()
