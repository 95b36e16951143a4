"""The dashboard: its model-side parts, and the page itself in a real headless Chromium.

The browser test uses the system's Chromium through Playwright (``executable_path``; no
browser is ever downloaded). It blocks every request that leaves the machine and checks that
none was made: the page must render offline. It is skipped only where Chromium is missing
and ``CI`` is not set; on CI a missing browser fails it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest

import processes as children
import vraagvolgend as vv
from vraagvolgend.dashboard import (
    POLICY_DEFAULTS,
    SCENARIO_DEFAULTS,
    CompareJob,
    MonthlyHistory,
    build_policy,
    build_scenario,
    one_line,
)

CHROMIUM = shutil.which("chromium")
ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCRIPT = Path(sys.executable).parent / "vraagvolgend"


@pytest.fixture(scope="module")
def tiny() -> vv.Scenario:
    return vv.Scenario.default().with_changes(n_households=300, burn_in_months=12)


# --- controls ----------------------------------------------------------------------------------


def test_a_bad_control_value_gets_the_command_line_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("n_households = -5\n")
    done = children.run(
        [str(SCRIPT), "scenario", "--validate", str(bad)], capture_output=True, text=True
    )
    with pytest.raises(ValueError) as err:
        build_scenario({**SCENARIO_DEFAULTS, "n_households": -5})
    message = one_line(err.value)
    assert "\n" not in message and message.startswith("n_households")
    assert done.returncode == 2 and done.stderr.strip().endswith(message)
    with pytest.raises(ValueError) as err:
        build_policy({**POLICY_DEFAULTS, "contract": "hourly"})
    assert one_line(err.value).startswith("contract:") and "effort" in one_line(err.value)


def test_policy_controls_pick_the_regime_and_levers():
    p = build_policy({**POLICY_DEFAULTS, "regime": "demand-driven", "name": "dd", "outreach": 0.1})
    assert isinstance(p, vv.DemandDriven) and p.outreach == pytest.approx(0.1)
    assert p.changes_from(vv.DemandDriven())["outreach"] == (0.0, 0.1)


# --- the monthly history -----------------------------------------------------------------------


def test_monthly_history_agrees_with_a_run_of_the_library(tiny):
    h = MonthlyHistory(tiny, "supply-driven", seed=3)
    h.step(13)
    result = vv.run(tiny, "supply-driven", seed=3, months=13)
    f = h.frame()
    assert list(f["month"]) == list(range(14))
    # The cumulative cost per law at month 12 is the first year's cost of the same run
    # (the benefit apart), and it only grows.
    year1 = result.costs[result.costs["year"] == 1]
    benefit = year1["provision"] == "benefit"
    for law in ("jeugdwet", "wmo", "participatiewet", "collective", "access", "benefit"):
        mask = benefit if law == "benefit" else ~benefit & (year1["law"] == law)
        column = f[f"cumulative_cost_{law}"]
        assert column[f["month"] == 12].item() == pytest.approx(
            year1[mask]["cost_eur"].sum(), rel=1e-9, abs=1e-6
        )
        assert (np.diff(column.to_numpy()) >= 0).all() and column.iloc[0] == 0
    # The household's monthly problems pass through the model's year-end snapshot.
    snapshot = result.problems[(result.problems["year"] == 1)]
    for i in (0, 7, 150):
        mine = h.household_problems(i).loc[12]
        theirs = snapshot[snapshot["household_id"] == i].set_index("domain")["severity"]
        for domain, value in theirs.items():
            assert mine[domain] == pytest.approx(float(value), abs=1e-3)
        episodes = h.household_episodes(i)
        assert len(episodes) == len(result.household(i).episodes)
        assert episodes["cost_eur"].sum() == pytest.approx(result.household(i).total_eur)
    stacked = f[[f"households_{k}_problems" for k in ("0", "1", "2", "3plus")]].sum(axis=1)
    assert (stacked == tiny.n_households).all()
    with pytest.raises(IndexError, match="out of range"):
        h.household_problems(tiny.n_households)


# --- the comparison job ------------------------------------------------------------------------


def test_compare_job_reports_progress_and_a_result_folder(tiny):
    policies = [vv.SupplyDriven(), vv.DemandDriven()]
    job = CompareJob(tiny, policies, replications=2, months=12).start()
    seen = set()
    deadline = time.time() + 240
    while job.state == "running" and time.time() < deadline:
        seen.add(job.done)
        time.sleep(0.05)
    assert job.wait(60) == "done", job.error
    assert job.done == job.total == 4 and max(seen) <= 4
    c = job.comparison()
    assert [p.name for p in c.policies] == ["supply-driven", "demand-driven"]
    assert c.runs["replication"].nunique() == 2
    names = zipfile.ZipFile(BytesIO(job.zip_bytes())).namelist()
    assert "comparison/report.html" in names and "comparison/manifest.json" in names


def test_compare_job_failure_is_the_library_one_line_error(tiny):
    job = CompareJob(tiny, [vv.SupplyDriven(), vv.DemandDriven()], replications=0, months=12)
    assert job.start().wait(120) == "failed"
    assert job.error == "replications: 0 must be an integer ≥ 1"


# --- the page in a browser ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dashboard():
    """The dashboard served by the command line; yields its address."""
    port = _free_port()
    process = children.popen(
        [sys.executable, "-m", "vraagvolgend", "dashboard", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 60
        while True:
            assert process.poll() is None, "the dashboard server ended"
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                assert time.time() < deadline, "the dashboard did not answer"
                time.sleep(0.3)
        assert any(url in line for line in lines), lines  # it printed its address
        yield url
    finally:
        process.terminate()
        process.wait(10)
        reader.join(10)
        process.stdout.close()


def _browser_or_skip():
    if CHROMIUM is None and not ON_CI:
        pytest.skip("no system chromium (apt-get install chromium); CI installs it")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if ON_CI:
            raise
        pytest.skip("playwright is not installed (pip install '.[test]')")
    assert CHROMIUM is not None, "chromium is missing on CI: .ci/run installs it"
    return sync_playwright


def test_dashboard_in_a_headless_browser(dashboard, tmp_path):
    sync_playwright = _browser_or_skip()
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    outside: list[str] = []

    def only_local(route):
        if route.request.url.startswith(dashboard):
            route.continue_()
        else:  # offline: nothing may come from a CDN or anywhere else
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.route("**/*", only_local)
            page.goto(dashboard)

            # Municipality: move a control, reset, step; a bad value gets the one-line error.
            page.get_by_text("Municipality of").wait_for(timeout=90_000)
            households = page.get_by_label("Households", exact=True).first
            households.fill("300")
            households.press("Enter")
            page.get_by_role("button", name="Reset").click()
            page.get_by_text("Municipality of 300 households, month 0").wait_for(timeout=60_000)
            page.get_by_role("button", name="Step").click()
            page.get_by_text("Municipality of 300 households, month 1").wait_for(timeout=60_000)
            page.get_by_role("button", name="Play").click()
            page.get_by_text("Municipality of 300 households, month 3").wait_for(timeout=90_000)
            page.get_by_role("button", name="Pause").click()
            page.get_by_role("button", name="Play").wait_for(timeout=60_000)
            page.wait_for_timeout(1_000)  # let the last month's drawing finish
            assert page.get_by_text("Household inspector").count() == 1
            assert page.locator("img").count() >= 2  # the month plots and the household's
            error = page.get_by_text("n_households: -5 is out of range")
            for _ in range(3):  # a late redraw may overwrite a value being typed
                households.fill("-5")
                households.press("Enter")
                page.get_by_role("button", name="Reset").click()
                try:
                    error.wait_for(timeout=20_000)
                    break
                except PlaywrightTimeout:
                    continue
            error.wait_for(timeout=1_000)
            assert page.get_by_text("Traceback").count() == 0

            # Compare: a small comparison, its progress, tables and plots.
            page.get_by_role("tab", name="Compare").click()
            run = page.get_by_role("button", name="Run comparison")
            run.wait_for(timeout=30_000)
            for name, value in (
                ("Households", 300),
                ("Burn-in months", 12),
                ("Replications", 2),
                ("Months", 12),
            ):
                field = page.get_by_label(name, exact=True).last
                field.fill(str(value))
                field.press("Enter")
            run.click()
            page.get_by_text("Annual cost per law").wait_for(timeout=240_000)
            for text in ("Youth care (Jeugdwet)", "Wmo support", "Outcomes for households"):
                assert page.get_by_text(text).count() >= 1, text
            assert page.get_by_text("Household type").count() >= 1
            assert page.locator("table").count() >= 4
            assert page.locator("img").count() >= 2  # cost per year; cost per group
            assert page.get_by_text("Download the report").count() == 1
            assert page.get_by_text("Fewer than 3 replications").count() == 1
            page.wait_for_timeout(500)
            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot))
            print(f"dashboard screenshot: {shot}")
        finally:
            browser.close()
    assert outside == [], f"the page asked the network for {outside[:3]}"
    assert np.isfinite(shot.stat().st_size)
