"""The report's pages: HTML and Markdown from jinja2 templates, with the plots and tables."""

from __future__ import annotations

import base64
import datetime
import html
import io
from pathlib import Path

from ..comparison import Comparison
from .assumptions import _assumption_tables, _mechanism_table
from .figures import CAPTIONS, report_figures
from .numbers import GROUPS, PAGE_WIDTH_IN, _inhabitants, _names, _replications, fmt_number, label
from .tables import _table, report_tables
from .text import LIMITATIONS, _budget_notes, _decomposition_note, _waiting_note, headline
from .uncertainty import lead, plane_figure, uncertainty_context


def _start_note(c) -> str:
    """Which question the numbers answer: from today's municipality, or the steady state."""
    if getattr(c, "burn_in", "each") == "baseline":
        return (
            f"All policies start from one municipality: burnt in under '{_names(c)[0]}', "
            "the municipality as it is today, and continued under each financing. The numbers "
            f"answer: from today, what does each financing cost over the next {c.months} "
            "months? (For the steady state each financing leads to, compare with "
            'burn_in="each".)'
        )
    return (
        "Each policy burnt in under itself: the numbers answer what each financing costs once "
        "it has shaped the municipality (the steady state), not the transition from today."
    )


def _md_text(value):
    """Every value put into the Markdown page: plain text escaped (Markdown renders inline
    HTML), tables already escaped (marked safe) left as they are."""
    from markupsafe import Markup

    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return html.escape(value, quote=False)


def _environment(markdown: bool = False):
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("vraagvolgend", "templates"),
        autoescape=jinja2.select_autoescape(["html.j2"], default_for_string=False),
        finalize=_md_text if markdown else None,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def _files(c: Comparison, out: Path) -> dict:
    """Scenario and policy files beside the report (written when missing), for the links."""
    scenario = out / "scenario.toml"
    if not scenario.exists():
        c.scenario.to_toml(scenario)
    policies = []
    for i, policy in enumerate(c.policies):
        path = out / "policies" / f"{i:02d}.toml"
        if not path.exists() and hasattr(policy, "to_toml"):
            path.parent.mkdir(parents=True, exist_ok=True)
            policy.to_toml(path)
        if path.exists():
            policies.append({"name": policy.name, "file": f"policies/{path.name}"})
    return {"scenario": "scenario.toml", "policies": policies}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("vraagvolgend")
    except PackageNotFoundError:  # a source tree that is not installed
        return "unknown"


def write_report(comparison: Comparison, directory: str | Path, plots: bool = True) -> Path:
    """Write ``report.html``, ``report.md``, PNG plots and CSV tables into ``directory``.

    The HTML page is self-contained (its plots are embedded); the Markdown page links the PNG
    files beside it. Both link the scenario and policy files (written beside the report when
    they are not there yet).

    Args:
        comparison: The result of :func:`~vraagvolgend.comparison.compare`.
        directory: Output folder (created if missing).
        plots: Draw the plots (needs matplotlib; skipped with a note when it is missing).

    Returns:
        The path of the HTML report.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    c = comparison
    names = _names(c)
    reps = _replications(c)
    s = c.scenario
    people = _inhabitants(c)
    has_details = {"yearly", "lorenz", "groups", "zrm", "concentration"} <= set(c.details)

    figures, plot_note = [], None
    if plots and has_details:
        try:
            drawn = report_figures(c)
            if getattr(c, "uncertainty", None) is not None and len(c.uncertainty.draws):
                drawn["plane.png"] = plane_figure(c)
        except ImportError:
            drawn, plot_note = {}, "Plots were skipped: install matplotlib (vraagvolgend[plots])."
        for file, fig in drawn.items():
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=100)
            (out / file).write_bytes(buffer.getvalue())
            width, _ = fig.get_size_inches()
            figures.append(
                {
                    "file": file,
                    "caption": CAPTIONS[file],
                    "width_px": round(width * 96),
                    "data": base64.b64encode(buffer.getvalue()).decode("ascii"),
                }
            )
    figure = {f["file"]: f for f in figures}

    warnings = []
    if reps < 3:
        warnings.append(
            f"Only {reps} replication{'s' if reps != 1 else ''}: the intervals are unreliable "
            "(or missing). Use at least 3, better 10, before quoting a number."
        )

    tables = report_tables(c)
    sections: dict[str, object] = {k: v for k, v in tables.items() if not k.startswith("groups_")}
    if has_details:
        sections["groups"] = [(label(by), tables[f"groups_{by}"]) for by in GROUPS]
    mechanisms = _mechanism_table(c)
    context = {
        "title": "Financing the social domain: comparison of policies",
        "scenario_name": s.name,
        "households": fmt_number(s.n_households, 0),
        "inhabitants": fmt_number(people, 0),
        "policies": names,
        "base": names[0],
        "reps": reps,
        "months": c.months,
        "burn_in": s.burn_in_months,
        "seed": html.escape(str(c.seed)),
        "headline": [p for p in (lead(c), *headline(c, people)) if p],
        "uncertainty": uncertainty_context(c, _table),
        "warnings": warnings,
        "sections": sections,
        "figure": figure,
        "plot_note": plot_note,
        "budget_notes": _budget_notes(c, people),
        "decomposition_note": _decomposition_note(c),
        "start_note": _start_note(c),
        "waiting_note": _waiting_note(c),
        "assumptions": [
            (title, _table(frame, text=True)) for title, frame in _assumption_tables(c)
        ],
        "mechanisms": None if mechanisms is None else _table(mechanisms, text=True),
        "limitations": LIMITATIONS,
        "version": _version(),
        "date": datetime.date.today().isoformat(),
        "files": _files(c, out),
        "page_width_px": round(PAGE_WIDTH_IN * 96),
    }
    env = _environment()
    markdown = _environment(markdown=True).get_template("report.md.j2").render(context)
    (out / "report.md").write_text(markdown, "utf-8")
    report = out / "report.html"
    report.write_text(env.get_template("report.html.j2").render(context), encoding="utf-8")
    c.summary.to_csv(out / "summary.csv", index=False)
    c.outcomes.to_csv(out / "outcomes.csv", index=False)
    c.runs.to_csv(out / "runs.csv", index=False)
    return report
