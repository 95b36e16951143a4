"""The report: a headline that follows the numbers, intervals everywhere, human labels, one
number format, and plots readable at the page's width."""

from __future__ import annotations

import re
from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

import vraagvolgend as vv
from vraagvolgend.comparison import COST_LINES, OUTCOMES, Comparison
from vraagvolgend.reports import (
    MIN_FONT_PT,
    PAGE_WIDTH_IN,
    headline,
    report_figures,
    write_report,
)

INHABITANTS = 50_000


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    s = vv.Scenario.default().with_changes(n_households=400, burn_in_months=12)
    task = vv.SupplyDriven().with_changes(contract="task", name="task")
    return vv.compare(
        ["supply-driven", "demand-driven", task], s, replications=2, months=24, progress=False
    )


@pytest.fixture(scope="module")
def report(comparison, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    write_report(comparison, out)
    return out


def synthetic(shift: float, noise: float, reps: int = 6, hidden_shift: float = 0.0):
    """A comparison whose alternative costs ``shift`` EUR a year more, with paired noise of
    size ``noise`` (alternating sign, so the mean difference is exactly ``shift``)."""
    rng = np.random.default_rng(1)
    rows = []
    for r in range(reps):
        base = {f"cost_{line}": 1e6 * (1 + rng.random()) for line in COST_LINES}
        base.update({key: 0.1 + 0.01 * rng.random() for key in OUTCOMES})
        rows.append({"policy": "supply-driven", "replication": r, **base})
        alt = dict(base)
        wiggle = noise * (1 if r % 2 else -1)
        alt["cost_external_total"] += shift + wiggle
        alt["cost_wmo"] += shift + wiggle
        alt["hidden_need"] += hidden_shift
        rows.append({"policy": "demand-driven", "replication": r, **alt})
    return Comparison(
        pd.DataFrame(rows),
        [vv.SupplyDriven(), vv.DemandDriven()],
        vv.Scenario.default().with_changes(n_households=500),
        24,
        0,
    )


def test_headline_follows_sign_and_significance():
    more = headline(synthetic(2e6, 1e5), INHABITANTS)[0]
    assert more.startswith("'demand-driven' costs €2.00 million a year more than")
    assert "€40 more per inhabitant" in more  # 2,000,000 / 50,000
    less = headline(synthetic(-2e6, 1e5), INHABITANTS)[0]
    assert "€2.00 million a year less" in less and "€40 less per inhabitant" in less
    unclear = headline(synthetic(1e5, 3e6), INHABITANTS)[0]
    assert "is not established" in unclear and "includes zero" in unclear
    assert " costs €" not in unclear
    # Outcomes: less hidden need is better for households, more is worse.
    assert (
        "better on households with hidden need"
        in headline(synthetic(2e6, 1e5, hidden_shift=-0.05), INHABITANTS)[0]
    )
    assert (
        "worse on households with hidden need"
        in headline(synthetic(2e6, 1e5, hidden_shift=0.05), INHABITANTS)[0]
    )
    assert "No difference in household outcomes is established" in more
    # What drives it: the cost line with the largest difference, or the decomposition.
    assert "Most of why it costs more is in Wmo support (+2.00 million" in more
    c = synthetic(2e6, 1e5)
    c.decomposition = SimpleNamespace(
        table=pd.DataFrame(
            {
                "outcome": ["cost_external_total"] * 2,
                "mechanism": ["network_activation", "induced_referral"],
                "mean": [-0.5e6, 2.5e6],
                "lo": [-0.9e6, 2.0e6],
                "hi": [-0.1e6, 3.0e6],
            }
        )
    )
    text = headline(c, INHABITANTS)[0]
    # the largest part in the direction of the difference, and the largest against it
    assert "Most of why it costs more is the mechanism 'induced referral' (+2.50 million" in text
    assert "The largest part the other way is the mechanism 'network activation' (−0.50" in text


def test_fewer_than_three_replications_are_flagged(report, tmp_path):
    assert "Only 2 replications" in (report / "report.html").read_text()
    write_report(synthetic(2e6, 1e5), tmp_path, plots=False)
    assert "replication" not in (tmp_path / "report.html").read_text().split("In short")[0]


def _visible_text(html: str) -> str:
    html = re.sub(r'src="data:image/png;base64,[^"]*"', 'src=""', html)
    return html


def test_no_raw_identifiers_or_reprs(report):
    for name in ("report.html", "report.md"):
        text = _visible_text((report / name).read_text())
        for raw in (
            "couple_children",
            "mental_health",
            "single_parent",
            "None",
            "nan",
            "mappingproxy",
            "2e+03",
            "e+0",
            "cut_collective",
            "capacity_per_1000",
            "{'",
        ):
            pattern = rf"\b{raw}\b" if raw.isalpha() else re.escape(raw)
            assert re.search(pattern, text) is None, (name, raw)
    html = (report / "report.html").read_text()
    assert "Couple with children" in html and "Mental health" in html


def _md_tables(text: str, until: str) -> list[list[list[str]]]:
    """Markdown tables before the heading ``until``: rows of cells (header first)."""
    tables, current = [], []
    for line in text.split(until)[0].splitlines():
        if line.startswith("|"):
            if not line.startswith("|---"):
                current.append([cell.strip() for cell in line.strip("|").split(" | ")])
        elif current:
            tables.append(current)
            current = []
    return tables


INTERVAL = re.compile(r"^[+−]?[\d,.]+(%| pp)?\s\([+−]?[\d,.]+(%| pp)? to [+−]?[\d,.]+(%| pp)?\)$")


def test_every_compared_number_has_an_interval(report, comparison):
    text = (report / "report.md").read_text().replace("\u00a0", " ")
    tables = _md_tables(text, "## The assumptions")
    names = [p.name for p in comparison.policies]
    compared = [t for t in tables if set(names) <= set(t[0])]
    # costs, outcomes, ZRM levels, concentration and three groupings
    assert len(compared) == 7
    for table in compared:
        for row in table[1:]:
            for cell in row[1:]:
                assert INTERVAL.match(cell), (table[0][0], row[0], cell)
    outcomes = next(t for t in compared if t[0][0] == "Outcome")
    assert len(outcomes) - 1 == len(OUTCOMES)


def test_one_number_format(report):
    # Numbers (not years in the sources) have thousands separators and no exponent.
    text = (report / "report.md").read_text().replace("\u00a0", " ")
    numbers = text.split("## The assumptions")[0]
    assert re.search(r"\b\d{4,}\b", numbers) is None
    assert re.search(r"\d,\d{3}\b", numbers)  # some number of a thousand or more


def test_plots_are_readable_at_the_page_width(comparison, report):
    backend = dict.__getitem__(matplotlib.rcParams, "backend")
    figures = report_figures(comparison)
    assert set(figures) == {"costs_by_year.png", "zrm.png", "lorenz.png", "by_group.png"}
    for name, fig in figures.items():
        width, _ = fig.get_size_inches()
        assert width <= PAGE_WIDTH_IN + 1e-9, name
        scale = min(1.0, PAGE_WIDTH_IN / width)
        FigureCanvasAgg(fig).draw()
        texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
        assert len(texts) > 5, name
        for t in texts:
            assert t.get_fontsize() * scale >= MIN_FONT_PT, (name, t.get_text(), t.get_fontsize())
        # one legend for the figure, or one in every panel that has several lines
        assert fig.legends or any(ax.get_legend() for ax in fig.axes), name
    html = (report / "report.html").read_text()
    widths = [
        int(w) for w in re.findall(r'<img src="data:image/png;base64,[^"]*" width="(\d+)"', html)
    ]
    assert len(widths) == 4 and max(widths) <= PAGE_WIDTH_IN * 96
    assert f"max-width: {round(PAGE_WIDTH_IN * 96)}px" in html
    assert dict.__getitem__(matplotlib.rcParams, "backend") == backend  # never switched


def test_report_names_assumptions_sources_and_files(report):
    html = (report / "report.html").read_text()
    for text in (
        "Access regime",
        "Source",
        "Limitations",
        'href="scenario.toml"',
        'href="policies/01.toml"',
        "Access conversations, outreach and transition",
        "budget",
    ):
        assert text in html, text
    assert (report / "policies" / "01.toml").exists()


def test_a_policy_name_with_markup_is_escaped_everywhere(tmp_path):
    """A user-named policy appears as text, never as markup, in the HTML and Markdown pages."""
    evil = "<img src=x onerror=alert(1)>"
    s = vv.Scenario.default().with_changes(n_households=300, burn_in_months=3)
    c = vv.compare(
        [vv.SupplyDriven(), vv.DemandDriven(name=evil)],
        s,
        replications=2,
        months=12,
        progress=False,
    )
    write_report(c, tmp_path, plots=False)
    for page in ("report.html", "report.md"):
        text = (tmp_path / page).read_text(encoding="utf-8")
        assert "<img" not in text, page
        assert "&lt;img src=x onerror=alert(1)&gt;" in text, page
