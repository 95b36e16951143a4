"""The dashboard: its model-side parts, and the page itself in a real headless Chromium.

The browser test uses the system's Chromium through Playwright (``executable_path``; no
browser is ever downloaded). It blocks every request that leaves the machine and checks that
none was made: the page must render offline. It is skipped only where Chromium is missing
and ``CI`` is not set; on CI a missing browser fails it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from dataclasses import dataclass
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
from vraagvolgend.dashboard.certainty import drivers, interval_table, probabilities
from vraagvolgend.dashboard.controls import check_uncertainty
from vraagvolgend.dashboard.plots import HouseholdPlot, MonthPlots, plane_png
from vraagvolgend.uncertainty import Uncertainty

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


def test_month_plots_draw_month_0_on_axes_from_zero(tiny):
    h = MonthlyHistory(tiny, "supply-driven", seed=1)
    plots = MonthPlots()
    assert plots.png(h.frame()).startswith(b"\x89PNG")
    # Month 0 alone: the first year on the x axis, every y axis from 0 to above the data
    # (not the degenerate ±0.045 of an axis with a single point).
    for name, (x, y) in plots.limits().items():
        assert x == (-0.5, 12.5), name
        assert y[0] == 0 and y[1] >= 0.1, (name, y)
    assert plots.limits()["households"][1][1] >= tiny.n_households
    h.step(14)
    plots.png(h.frame())  # the same figure, redrawn with the new months
    assert plots.limits()["households"][0] == (-0.5, 14.5)
    household = HouseholdPlot()
    assert household.png(h.household_problems(0)).startswith(b"\x89PNG")


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
    # told replication by replication (a tqdm bar counting replications, not runs, once
    # left the page at 0 until the end)
    assert job.events == [("replications", n, 2) for n in range(3)]
    c = job.comparison()
    assert [p.name for p in c.policies] == ["supply-driven", "demand-driven"]
    assert c.runs["replication"].nunique() == 2
    names = zipfile.ZipFile(BytesIO(job.zip_bytes())).namelist()
    assert "comparison/report.html" in names and "comparison/manifest.json" in names


def test_compare_job_runs_an_uncertainty_analysis_draw_by_draw(tiny):
    policies = [vv.SupplyDriven(), vv.DemandDriven()]
    job = CompareJob(tiny, policies, replications=1, months=12, draws=3, draw_replications=1)
    assert job.total == (1 + 3) * 2  # runs: a policy in a replication of the plain or a draw
    assert job.start().wait(240) == "done", job.error
    assert job.events == [
        ("replications", 0, 1),
        ("replications", 1, 1),
        *[("uncertainty", n, 3) for n in range(4)],
    ]
    assert job.phase == "uncertainty" and job.draws_done == 3 and job.done == job.total
    u = job.comparison().uncertainty  # saved by the worker, read back
    assert len(u.draws) == 3 and u.info["replications"] == 1
    assert u.quadrants("demand-driven").sum() == pytest.approx(1.0)
    assert plane_png(u, "demand-driven").startswith(b"\x89PNG")
    told = probabilities(u, "demand-driven")
    cheaper = round(100 * u.probability_cheaper("demand-driven"))
    assert told[0].startswith("The probability that demand-driven is cheaper")
    assert f"{cheaper}% of 3 parameter draws" in told[0] and "worse off" in told[1]
    table = interval_table(u, "demand-driven")
    assert list(table["Difference"]) == [
        "External cost (EUR thousand a year)",
        vv.outputs.OUTCOMES["mean_severity"].label,
        vv.outputs.OUTCOMES["share_3plus_problems"].label,
    ]
    # 3 draws: too few to read the drivers, and the page says how many it needs
    assert drivers(u, "demand-driven").note.startswith(
        "What decides the answer needs at least 10 draws (31 inputs varied)"
    )


def test_the_drivers_name_the_varied_inputs_once_each(tiny):
    """An input with a range per policy has a column per policy; it is one driver."""
    inputs = [
        Uncertainty("access.conversation_cost", 100, 600),
        Uncertainty(
            "policy.review_factor",
            by_policy={"supply-driven": (0.5, 1.0), "demand-driven": (0.25, 1.0)},
        ),
    ]
    c = vv.compare(
        ["supply-driven", "demand-driven"], tiny, replications=1, months=12, progress=False,
        uncertainty=12, uncertainties=inputs,
    )  # fmt: skip
    found = drivers(c.uncertainty, "demand-driven")
    assert found.note == "" and found.sentences.endswith(".")
    assert sorted(found.table["Path"]) == ["access.conversation_cost", "policy.review_factor"]
    assert "The price of an access conversation" in list(found.table["Parameter"])


@pytest.mark.parametrize(
    ("draws", "per_draw", "says"),
    [
        (-1, 1, "uncertainty: -1 must be an integer from 1 to 100,000 draws"),
        (100_001, 1, "uncertainty: 100001 must be an integer from 1 to 100,000 draws"),
        (4, 0, "draw_replications: 0 must be an integer ≥ 1"),
    ],
)
def test_bad_draw_counts_are_refused_in_one_line_before_any_run(draws, per_draw, says):
    pytest.importorskip("solara")
    from vraagvolgend.dashboard import app

    before = dict(app.compare_settings.value)
    try:
        app.compare_settings.set({**before, "draws": draws, "draw_replications": per_draw})
        app._run_comparison()
        assert app.compare_error.value == says
        assert app.job.value is None  # nothing started
    finally:
        app.compare_settings.set(before)
        app.compare_error.set(None)
    scenario, policies = build_scenario(SCENARIO_DEFAULTS), [build_policy(POLICY_DEFAULTS)] * 2
    check_uncertainty(0, 0, scenario, policies)  # 0 draws: no analysis, nothing to refuse


def test_compare_job_failure_is_the_library_one_line_error(tiny):
    job = CompareJob(tiny, [vv.SupplyDriven(), vv.DemandDriven()], replications=0, months=12)
    assert job.start().wait(120) == "failed"
    assert job.error == "replications: 0 must be an integer ≥ 1"


# --- the page in a browser ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    """A dashboard server of a test: its address and what it wrote on stderr."""

    url: str
    log: Path

    def errors(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def resources(self) -> dict:
        """Solara's own account of its kernels and threads (``/resourcez``)."""
        with urllib.request.urlopen(self.url + "resourcez", timeout=10) as response:
            return json.load(response)


@pytest.fixture
def dashboard(tmp_path):
    """The dashboard served by the command line; yields a :class:`Served`."""
    port = _free_port()
    log = tmp_path / "server-stderr.txt"
    with open(log, "wb") as stderr:
        process = children.popen(
            [sys.executable, "-m", "vraagvolgend", "dashboard", "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=stderr,
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
        yield Served(url, log)
    finally:
        process.terminate()
        process.wait(10)
        reader.join(10)
        process.stdout.close()


#: True once the header shows month ``month`` and the month plots (the page's first image)
#: have loaded an image other than ``before``: the month is drawn on the screen.
MONTH_SHOWN = """([month, before]) => {
    const header = [...document.querySelectorAll('h3')].find(
        h => h.textContent.includes('Municipality of'));
    if (!header || !header.textContent.includes(`month ${month}`)) return false;
    const img = document.querySelector('img');
    return !!img && img.src !== before && img.complete && img.naturalWidth > 0;
}"""
#: Records every month the header shows, in order, in ``window.monthsShown``.
WATCH_MONTHS = """() => {
    window.monthsShown = [];
    const seen = () => {
        const header = [...document.querySelectorAll('h3')].find(
            h => h.textContent.includes('Municipality of'));
        const m = header && header.textContent.match(/month (\\d+)/);
        const last = window.monthsShown[window.monthsShown.length - 1];
        if (m && Number(m[1]) !== last) window.monthsShown.push(Number(m[1]));
    };
    new MutationObserver(seen).observe(
        document.body, {subtree: true, childList: true, characterData: true});
    seen();
}"""


def _watch_console(page) -> list[str]:
    """Every console error and uncaught page error of ``page``, as they come."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    return errors


def _in_view(page, locator) -> bool:
    """Whether the element is wholly inside the viewport with the page scrolled to the top."""
    box = locator.bounding_box()
    size = page.viewport_size
    return (
        box is not None
        and box["y"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and box["x"] + box["width"] <= size["width"]
    )


def _comes_into_view(page, locator, timeout: float = 30) -> bool:
    """Whether the element is (or, once a tab has slid in, comes) wholly into view."""
    deadline = time.time() + timeout
    while not _in_view(page, locator):
        if time.time() > deadline:
            return False
        page.wait_for_timeout(100)
    return True


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


@contextlib.contextmanager
def _chromium(sync_playwright):
    """The system's Chromium, headless, closed afterwards (``sync_playwright`` from
    :func:`_browser_or_skip`)."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def test_dashboard_in_a_headless_browser(dashboard, tmp_path):
    sync_playwright = _browser_or_skip()
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    outside: list[str] = []
    url = dashboard.url

    def only_local(route):
        if route.request.url.startswith(url):
            route.continue_()
        else:  # offline: nothing may come from a CDN or anywhere else
            outside.append(route.request.url)
            route.abort()

    with _chromium(sync_playwright) as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        console = _watch_console(page)
        page.route("**/*", only_local)
        page.goto(url)

        # At load the month plots of month 0 are drawn, and the buttons are in view.
        page.wait_for_function(MONTH_SHOWN, arg=[0, ""], timeout=120_000)
        for name in ("Reset", "Play", "Step"):
            assert _comes_into_view(page, page.get_by_role("button", name=name)), name

        # Municipality: move a control, reset, step; a bad value gets the one-line error.
        households = page.get_by_label("Households", exact=True).first
        households.fill("300")
        households.press("Enter")
        page.get_by_role("button", name="Reset").click()
        page.get_by_text("Municipality of 300 households, month 0").wait_for(timeout=60_000)
        before = page.evaluate("() => document.querySelector('img').src")
        start = time.perf_counter()
        page.get_by_role("button", name="Step").click()
        page.wait_for_function(MONTH_SHOWN, arg=[1, before], timeout=60_000)
        print(f"dashboard step (300 households, drawn): {time.perf_counter() - start:.2f} s")

        # Play shows the months one by one, not only where it stops.
        page.evaluate(WATCH_MONTHS)
        page.get_by_role("button", name="Play").click()
        page.get_by_text("Municipality of 300 households, month 4").wait_for(timeout=90_000)
        page.get_by_role("button", name="Pause").click()
        page.get_by_role("button", name="Play").wait_for(timeout=60_000)
        shown = page.evaluate("() => window.monthsShown")
        assert shown[: shown.index(4) + 1] == [1, 2, 3, 4], shown
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
        page.evaluate("() => window.scrollTo(0, 0)")
        assert _comes_into_view(page, error), error.bounding_box()
        assert page.get_by_text("Traceback").count() == 0

        # Compare: a small comparison, its progress, tables and plots.
        page.get_by_role("tab", name="Compare").click()
        run = page.get_by_role("button", name="Run comparison")
        run.wait_for(timeout=30_000)
        page.evaluate("() => window.scrollTo(0, 0)")
        assert _comes_into_view(page, run), run.bounding_box()
        for name, value in (
            ("Households", 300),
            ("Burn-in months", 12),
            ("Replications", 2),
            ("Months", 12),
            ("Parameter draws (0 = none)", 3),
            ("Replications per draw", 1),
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
        # the uncertainty analysis: the probabilities, both intervals, the plane
        page.get_by_text("How sure is the answer?").wait_for(timeout=30_000)
        text = page.inner_text("body")
        assert "The probability that demand-driven is cheaper" in text
        assert "probability" in text and "worse off" in text
        assert "95% interval, simulation only" in text
        assert "95% interval, parameters and simulation" in text
        assert "What decides the answer needs at least" in text  # 3 draws are too few
        plane = page.locator("img.vv-plane")
        plane.wait_for(timeout=30_000)
        assert plane.evaluate("img => img.complete && img.naturalWidth > 0")
        page.wait_for_timeout(500)
        shot = tmp_path / "dashboard.png"
        page.screenshot(path=str(shot))
        print(f"dashboard screenshot: {shot}")
    assert outside == [], f"the page asked the network for {outside[:3]}"
    assert console == [], console
    assert np.isfinite(shot.stat().st_size)
    assert "Traceback" not in dashboard.errors(), dashboard.errors()


def test_closing_a_playing_page_stops_it_without_a_traceback_on_the_server(dashboard):
    sync_playwright = _browser_or_skip()

    def wait_for(condition, what: str) -> dict:
        deadline = time.time() + 60
        while True:
            resources = dashboard.resources()
            if condition(resources):
                return resources
            assert time.time() < deadline, (what, resources["threads"], resources["kernels"])
            time.sleep(0.2)

    def open_and_play(browser):
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors = _watch_console(page)
        page.goto(dashboard.url)
        page.wait_for_function(MONTH_SHOWN, arg=[0, ""], timeout=120_000)
        running = dashboard.resources()["threads"]["running"]  # before Play
        page.get_by_role("button", name="Play").click()
        page.get_by_text("month 2").first.wait_for(timeout=90_000)
        return page, errors, running

    with _chromium(sync_playwright) as browser:
        # A page that goes away without a word (a closed laptop, a lost connection): its
        # kernel waits for a reconnect, but its play thread stops.
        page, console, running = open_and_play(browser)
        page.close()
        wait_for(lambda r: r["threads"]["running"] <= running, "the play thread to stop")
        # A page left normally: the browser tells the server, which closes its kernel
        # while the play thread is stepping.
        page, errors, running = open_and_play(browser)
        kernels = dashboard.resources()["kernels"]["total"]
        page.goto("about:blank")
        wait_for(
            lambda r: r["kernels"]["total"] == kernels - 1 and r["threads"]["running"] <= running,
            "the kernel to close and the play thread to stop",
        )
    assert console + errors == [], console + errors
    log = dashboard.errors()
    assert "Traceback" not in log and "Exception in ASGI" not in log, log


# --- the report, rendered in the browser -------------------------------------------------------


def test_the_reports_budget_section_and_regime_rows_render_in_a_browser(tmp_path):
    """The report as a person sees it: its budget section says how the budget was set and
    what the rule did, and the mechanism table has the rows of the parameters in which the
    demand-driven regime differs (both were silently empty once)."""
    from vraagvolgend.reports import write_report

    sync_playwright = _browser_or_skip()
    s = vv.Scenario.default().with_changes({"budget.margin": -0.3}, n_households=1500)
    s = s.with_changes(burn_in_months=12)
    c = vv.compare(["supply-driven", "demand-driven"], s, replications=2, months=24, progress=False)
    page_file = write_report(c, tmp_path, plots=False)
    with _chromium(sync_playwright) as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors = _watch_console(page)
        page.goto(page_file.as_uri())
        text = page.inner_text("body")
    assert not errors, errors
    budget = text.split("The budget rule", 1)[1].split("\n\n", 3)
    assert "One budget for every policy" in text and "set from the year-1 spending" in text
    assert "budget rule" in " ".join(budget)
    # the demand-driven regime's own parameters, with both values
    assert "Months between reviews" in text and "prolong" in text


def test_the_reports_uncertainty_section_renders_in_a_browser(tmp_path):
    """The section for a policy adviser: it names the probability and the break-even value and
    shows the cost-effectiveness plane (an image that loads), with no console errors."""
    from vraagvolgend.reports import write_report

    sync_playwright = _browser_or_skip()
    s = vv.Scenario.default().with_changes(n_households=600, burn_in_months=12)
    inputs = [
        vv.Uncertainty("access.conversation_cost", 150, 500),
        vv.Uncertainty("policy.conversation_factor", 2, 5),
    ]
    c = vv.compare(
        ["supply-driven", "demand-driven"], s, replications=2, months=12, progress=False,
        uncertainty=14, uncertainties=inputs, draw_replications=1,
    )  # fmt: skip
    vv.drivers.analyse(c, break_even=1, replications=2, max_evaluations=3, bootstrap=100)
    page_file = write_report(c, tmp_path)
    with _chromium(sync_playwright) as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors = _watch_console(page)
        page.goto(page_file.as_uri())
        text = page.inner_text("body")
        plane = page.locator('img[alt^="The cost-effectiveness plane"]')
        loaded = plane.evaluate("img => img.complete && img.naturalWidth > 0")
    assert not errors, errors
    section = text.split("How sure is the answer?", 1)[1].split("Annual cost per law", 1)[0]
    assert "probability that 'demand-driven' is cheaper" in section
    assert "Break-even values" in section and "What decides it" in section
    assert loaded
    shares = [
        int(x) for x in re.findall(r"(?:cheaper|dearer) and (?:better|worse)\t(\d+)%", section)
    ]
    assert len(shares) == 4 and abs(sum(shares) - 100) <= 2  # rounded shares of one plane
