"""How long the dashboard takes to answer, measured in a real headless browser.

Serves the dashboard (``python -m vraagvolgend dashboard``) on a free port, opens it in the
system's Chromium through Playwright (as ``tests/test_dashboard.py`` does; no browser is
downloaded) at 1280×800, and measures on the *Municipality* page with its default 2,000
households:

* **first plots**: from opening the page until the month plots of month 0 are on screen;
* **step**: from clicking *Step* until the page shows the next month *and* the month plots'
  new image has loaded in the browser (the redraw included); the median (and the range) of
  ``--steps`` steps;
* **play**: months shown per second while *Play* runs for ``--play`` seconds.

With ``--against COMMIT`` the same measurements are taken of the dashboard of that commit
(its ``src/`` from ``git archive``, put first on ``PYTHONPATH``) and of the working tree,
alternating, ``--repeats`` times each, so that both see the same machine.

Speed is measured here and never asserted in the tests.

Run (from the repository root)::

    .venv/bin/python benchmarks/bench_dashboard.py
    .venv/bin/python benchmarks/bench_dashboard.py --against a2dc56e --repeats 2
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run"]

#: True once the header shows ``month`` and the first image (the month plots) has loaded a
#: source other than ``before``: the redraw has reached the screen.
SHOWN = """([month, before]) => {
    const header = [...document.querySelectorAll('h3')].find(
        h => h.textContent.includes('Municipality of'));
    if (!header || !header.textContent.includes(`month ${month}`)) return false;
    const img = document.querySelector('img');
    return !!img && img.src !== before && img.complete && img.naturalWidth > 0;
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(pythonpath: str | None) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    process = subprocess.Popen(
        [sys.executable, "-m", "vraagvolgend", "dashboard", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return process, url
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("the dashboard did not answer within 120 s")


def _first_src(page) -> str:
    return page.evaluate("() => document.querySelector('img')?.src ?? ''")


def measure(pythonpath: str | None, steps: int, play: float) -> dict[str, object]:
    """One server, one browser page: first plots, steps and play."""
    from playwright.sync_api import sync_playwright

    process, url = _serve(pythonpath)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                start = time.perf_counter()
                page.goto(url)
                page.wait_for_function(SHOWN, arg=[0, ""], timeout=180_000, polling=20)
                first = time.perf_counter() - start
                times = []
                for k in range(1, steps + 1):
                    before = _first_src(page)
                    start = time.perf_counter()
                    page.get_by_role("button", name="Step").click()
                    page.wait_for_function(SHOWN, arg=[k, before], timeout=120_000, polling=20)
                    times.append(time.perf_counter() - start)
                month = steps
                page.get_by_role("button", name="Play").click()
                start = time.perf_counter()
                page.wait_for_timeout(play * 1000)
                page.get_by_role("button", name="Pause").click()
                elapsed = time.perf_counter() - start
                header = page.locator("h3", has_text="Municipality of").inner_text()
                played = int(header.rsplit("month ", 1)[1].split()[0]) - month
            finally:
                browser.close()
    finally:
        process.terminate()
        process.wait(30)
    return {"first": first, "steps": times, "play": played / elapsed}


def _export(commit: str, into: Path) -> str:
    """The commit's ``src/`` under ``into``; returns the folder to put on PYTHONPATH."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit, "src"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return str(into / "src")


def _line(name: str, m: dict[str, object]) -> str:
    steps = m["steps"]
    return (
        f"{name:>16}  first plots {m['first']:6.2f} s"
        f"   step median {statistics.median(steps):5.2f} s"
        f" (min {min(steps):.2f}, max {max(steps):.2f}, n={len(steps)})"
        f"   play {m['play']:4.2f} months/s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=7, help="steps to time (default 7)")
    parser.add_argument("--play", type=float, default=10.0, help="seconds of Play (default 10)")
    parser.add_argument("--against", metavar="COMMIT", help="also time this commit, alternating")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each (default 1)")
    args = parser.parse_args(argv)
    if CHROMIUM is None:
        print("no system chromium (apt-get install chromium)", file=sys.stderr)
        return 2
    import vraagvolgend

    print(
        f"vraagvolgend {vraagvolgend.__version__}, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cores; 2,000 households, 1280×800"
    )
    with tempfile.TemporaryDirectory(prefix="vv-bench-dash-") as tmp:
        runs: list[tuple[str, str | None]] = [("working tree", None)]
        if args.against:
            runs.insert(0, (args.against, _export(args.against, Path(tmp))))
        results: dict[str, list[dict]] = {name: [] for name, _ in runs}
        for _ in range(args.repeats):
            for name, path in runs:
                m = measure(path, args.steps, args.play)
                results[name].append(m)
                print(_line(name, m), flush=True)
    if args.repeats > 1 or args.against:
        print("\nall runs together:")
        for name, ms in results.items():
            merged = {
                "first": statistics.median(m["first"] for m in ms),
                "steps": [t for m in ms for t in m["steps"]],
                "play": statistics.median(m["play"] for m in ms),
            }
            print(_line(name, merged))
    return 0


if __name__ == "__main__":
    sys.exit(main())
