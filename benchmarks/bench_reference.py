"""The library against the object-per-agent Mesa reference, side by side in one run.

For each size (default 1,000, 10,000 and 100,000 households) and both regimes, both models are
built on the default scenario (only its size and burn-in changed) and the regime's default
policy, on the same seed, with a burn-in of ``--burn-in`` months (so that care is running),
then stepped ``--months`` months, interleaved (a library month, then a reference month, so that
a change in the machine's load falls on both); the median time per simulated month of each and
their ratio (the speed-up) are printed. The reference (``benchmarks/reference_model.py``: one
``mesa.Agent`` per household, ``do("step")`` / ``do("advance")``) runs the same rules, the full
episode lifecycle included; ``tests/test_reference.py`` shows that both compute the same model
on this default configuration. ``--max-reference`` skips the reference above a size where it
would take too long.

Run:  .venv/bin/python benchmarks/bench_reference.py [--sizes 1000 10000 100000] [--months 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import vraagvolgend as vv

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_model import ReferenceModel


def month_time(model) -> float:
    """Seconds to simulate one month."""
    start = time.perf_counter()
    model.run_for(1)
    return time.perf_counter() - start


def interleaved(library, reference, months: int) -> tuple[float, float]:
    """Median seconds per month of each model, their months taken in turn."""
    lib, ref = [], []
    for _ in range(months):
        lib.append(month_time(library))
        if reference is not None:
            ref.append(month_time(reference))
    return float(np.median(lib)), float(np.median(ref)) if ref else np.nan


def main(sizes, months: int, burn_in: int, max_reference: int) -> list[dict]:
    print(f"vraagvolgend {vv.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}")
    print(
        f"default scenario and policies; burn-in {burn_in} months, then the median of {months} "
        "months, library and reference months interleaved\n"
    )
    header = (
        f"{'policy':>14} {'households':>11} {'library s/month':>16} {'reference s/month':>18} "
        f"{'speed-up':>9}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for policy in ("supply-driven", "demand-driven"):
        for n in sizes:
            scenario = vv.Scenario.default().with_changes(n_households=n, burn_in_months=burn_in)
            ref_model = ReferenceModel(scenario, policy, rng=1) if n <= max_reference else None
            lib_model = vv.MunicipalityModel(scenario, policy, rng=1)
            library, reference = interleaved(lib_model, ref_model, months)
            row = {"policy": policy, "households": n, "library": library, "reference": reference}
            rows.append(row)
            ref = f"{reference:18.4f}" if np.isfinite(reference) else f"{'(skipped)':>18}"
            ratio = f"{reference / library:8.0f}x" if np.isfinite(reference) else f"{'':>9}"
            print(f"{policy:>14} {n:>11,} {library:16.4f} {ref} {ratio}", flush=True)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--months", type=int, default=3, help="default: 3")
    parser.add_argument("--burn-in", type=int, default=12, help="default: 12")
    parser.add_argument("--max-reference", type=int, default=100_000, help="default: 100000")
    args = parser.parse_args()
    main(args.sizes, args.months, args.burn_in, args.max_reference)
