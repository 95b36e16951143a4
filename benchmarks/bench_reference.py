"""The library against the object-per-agent Mesa reference, side by side in one run.

For each size (default 1,000, 10,000 and 100,000 households) and both regimes, both models are
built on the default scenario (only its size and burn-in changed) and the regime's default
policy, on the same seed, with a burn-in of ``--burn-in`` months (so that care is running),
then stepped in ``--months`` rounds, interleaved (``--block`` library months, then a reference
month, so that a change in the machine's load falls on both); the median time per simulated
month of each and their ratio (the speed-up) are printed, for the library twice: its months
right after a reference month (whose tens of thousands of Python objects have pushed the
library's arrays out of the caches: the measure of earlier rounds, ``--block 1``) and its
months after one of its own, as in a run. The reference (``benchmarks/reference_model.py``: one
``mesa.Agent`` per household, ``do("step")`` / ``do("advance")``) runs the same rules, the full
episode lifecycle included; ``tests/test_reference.py`` shows that both compute the same model
on this default configuration. ``--max-reference`` skips the reference above a size where it
would take too long.

Run:  .venv/bin/python benchmarks/bench_reference.py [--sizes 1000 10000 100000] [--months 3]
      [--block 4]
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


def interleaved(library, reference, months: int, block: int) -> dict[str, float]:
    """Median seconds per month: ``block`` library months, then a reference month, in turn.

    The first library month of each block follows a reference month, which has pushed the
    library's arrays out of the processor's caches (a reference month allocates and walks
    tens of thousands of Python objects): its median is ``cold``. The others follow a library
    month, as every month of a run does: ``warm`` (with ``block=1`` there are none).
    """
    cold, warm, ref = [], [], []
    for _ in range(months):
        for i in range(block):
            (warm if i else cold).append(month_time(library))
        if reference is not None:
            ref.append(month_time(reference))

    def median(x):
        return float(np.median(x)) if x else np.nan

    return {"cold": median(cold), "warm": median(warm), "reference": median(ref)}


def main(sizes, months: int, burn_in: int, max_reference: int, block: int) -> list[dict]:
    print(f"vraagvolgend {vv.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}")
    print(
        f"default scenario and policies; burn-in {burn_in} months, then the median of {months} "
        f"rounds of {block} library month(s) and one reference month; library months after a "
        "reference month (cold caches) and after a library month (warm, as in a run)\n"
    )
    header = (
        f"{'policy':>14} {'households':>11} {'reference s/month':>18} {'library cold':>13} "
        f"{'speed-up':>9} {'library warm':>13} {'speed-up':>9}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for policy in ("supply-driven", "demand-driven"):
        for n in sizes:
            scenario = vv.Scenario.default().with_changes(n_households=n, burn_in_months=burn_in)
            ref_model = ReferenceModel(scenario, policy, rng=1) if n <= max_reference else None
            lib_model = vv.MunicipalityModel(scenario, policy, rng=1)
            row = {"policy": policy, "households": n}
            row.update(interleaved(lib_model, ref_model, months, block))
            rows.append(row)
            reference = row["reference"]
            cells = [f"{reference:18.4f}" if np.isfinite(reference) else f"{'(skipped)':>18}"]
            for kind in ("cold", "warm"):
                library = row[kind]
                cells.append(f"{library:13.4f}" if np.isfinite(library) else f"{'':>13}")
                ratio = reference / library
                cells.append(f"{ratio:8.0f}x" if np.isfinite(ratio) else f"{'':>9}")
            print(f"{policy:>14} {n:>11,} {' '.join(cells)}", flush=True)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--months", type=int, default=3, help="default: 3")
    parser.add_argument("--burn-in", type=int, default=12, help="default: 12")
    parser.add_argument("--max-reference", type=int, default=100_000, help="default: 100000")
    parser.add_argument(
        "--block", type=int, default=4, help="library months per reference month (default: 4)"
    )
    args = parser.parse_args()
    main(args.sizes, args.months, args.burn_in, args.max_reference, args.block)
