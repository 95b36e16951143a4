"""The main job (``make demo``: ``examples/compare_regimes.py``), timed against another commit.

Each commit's main job runs as a fresh process (``python examples/compare_regimes.py``, with
the commit's own ``src`` first on the path, from a temporary git worktree), alternating the two
commits ``--repeats`` times, so that both see the same machine; the ratio of the medians is the
speed-up. Wall time of the whole job: the comparison (3 policies × 10 replications), its
decomposition (2 replications) and the report; this tree's job runs both without its
uncertainty analysis (``--draws 0``: the like-for-like job) and with it, so that what the
analysis adds is stated apart.

Run:  .venv/bin/python benchmarks/bench_main_job.py --against 0fd389e [--repeats 1]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _time(tree: Path, out: Path, workers: int, extra: tuple[str, ...] = ()) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            str(tree / "examples" / "compare_regimes.py"),
            "--out",
            str(out),
            "--workers",
            str(workers),
            *extra,
        ],
        cwd=tree,
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


@contextlib.contextmanager
def worktree(commit: str, folder: Path):
    """A temporary git worktree of ``commit`` at ``folder`` (removed afterwards)."""
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(folder), commit],
        check=True,
        capture_output=True,
    )
    try:
        yield folder
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(folder)],
            check=False,
            capture_output=True,
        )


def main(against: str, repeats: int, workers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, worktree(against, Path(tmp) / "other") as other:
        # this tree twice: without its uncertainty analysis (the like-for-like job), and whole
        runs = ((against, other, ()), ("this", ROOT, ("--draws", "0")), ("this, whole", ROOT, ()))
        times: dict[str, list[float]] = {label: [] for label, _, _ in runs}
        for i in range(repeats):
            for k, (label, tree, extra) in enumerate(runs):
                seconds = _time(tree, Path(tmp) / f"out-{k}-{i}", workers, extra)
                times[label].append(seconds)
                print(f"{label}: {seconds:.1f} s", flush=True)
    median = {label: statistics.median(t) for label, t in times.items()}
    before, after, whole = median[against], median["this"], median["this, whole"]
    print(
        f"\nmain job, {workers} workers, median of {repeats}: {against} {before:.1f} s, "
        f"this without its uncertainty analysis {after:.1f} s (ratio {before / after:.2f}); "
        f"with it {whole:.1f} s (the analysis adds {whole - after:.0f} s)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="0fd389e", help="the other commit (default 0fd389e)")
    parser.add_argument("--repeats", type=int, default=1, help="alternating runs per commit")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    a = parser.parse_args()
    main(a.against, a.repeats, a.workers)
