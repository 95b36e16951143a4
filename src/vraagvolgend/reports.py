"""Reports: a self-contained HTML report (and the same in Markdown) of a comparison.

The report answers the question a policy adviser asks: what does each policy cost, per law
and per year, with what certainty, what does it do for households, where do the costs land,
and which assumptions drive the difference. Plots are drawn with matplotlib (an optional
extra, ``pip install 'vraagvolgend[plots]'``) and saved as PNG next to the report; without
matplotlib the report has the tables only.

Example:
    >>> import vraagvolgend as vv, tempfile
    >>> s = vv.Scenario.default().with_changes(n_households=400, burn_in_months=6)
    >>> c = vv.compare(["supply-driven", "demand-driven"], s, replications=2, months=12,
    ...                progress=False)
    >>> write_report(c, tempfile.mkdtemp()).name
    'report.html'
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from .comparison import COST_LINES, Comparison

__all__ = ["write_report"]

LINE_LABELS = {
    "jeugdwet": "Youth care (Jeugdwet)",
    "wmo": "Wmo support",
    "participatiewet": "Participation services (without benefit)",
    "collective": "Collective provisions",
    "access": "Access conversations and outreach",
    "external_total": "External social-domain cost (all above)",
    "benefit": "Social-assistance benefit (national BUIG budget)",
    "budget_rule": "Of which the budget rule's effect",
}
OUTCOME_LABELS = {
    "mean_severity": "Mean problem severity (0–1), last year end",
    "share_3plus_problems": "Households with 3+ problems, last year end",
    "youth_care_share": "Young people with youth care",
    "wmo_clients_per_1000": "Wmo clients per 1,000 inhabitants",
    "social_assistance_share": "Households on social assistance",
    "hidden_need": "Households with hidden need (monthly mean)",
    "waiting_list": "Places on waiting lists (monthly mean)",
    "carers_under_strain": "Carers under strain (monthly mean)",
    "escalations_residential": "Escalations to residential care per year",
}
GROUP_LABELS = {
    "neighbourhood": "neighbourhood",
    "household_type": "household type",
    "income_quintile": "income quintile",
}


def _m(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{x / 1e6:,.2f}"


def _interval(lo: float, hi: float, signed: bool = False) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return ""
    f = (lambda v: f"{v / 1e6:+,.2f}") if signed else (lambda v: f"{v / 1e6:,.2f}")
    return f"{f(lo)} … {f(hi)}"


def _number(x: float) -> str:
    if not np.isfinite(x):
        return "–"
    return f"{x:.1%}" if abs(x) < 1 and x != 0 else f"{x:,.3g}"


class _Doc:
    """Builds the same report as Markdown and as HTML."""

    def __init__(self):
        self.md: list[str] = []
        self.html: list[str] = []

    def heading(self, text: str, level: int = 2) -> None:
        self.md += [f"{'#' * level} {text}", ""]
        self.html.append(f"<h{level}>{html.escape(text)}</h{level}>")

    def paragraph(self, text: str) -> None:
        self.md += [text, ""]
        self.html.append(f"<p>{html.escape(text)}</p>")

    def table(self, frame: pd.DataFrame) -> None:
        cells = frame.astype(str)
        self.md.append("| " + " | ".join(cells.columns) + " |")
        self.md.append("|" + "|".join("---" for _ in cells.columns) + "|")
        self.md += ["| " + " | ".join(row) + " |" for row in cells.to_numpy()]
        self.md.append("")
        self.html.append(cells.to_html(index=False, border=0, classes="table", escape=True))

    def image(self, file: str | None, caption: str) -> None:
        if file is None:
            return
        self.md += [f"![{caption}]({file})", ""]
        self.html.append(
            f'<figure><img src="{html.escape(file)}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _plot_yearly(c: Comparison, plt, out: Path) -> str:
    y = c.yearly()
    lines = ["jeugdwet", "wmo", "participatiewet", "collective"]
    fig, axes = plt.subplots(1, len(lines), figsize=(4 * len(lines), 3.4), sharex=True)
    for ax, line in zip(axes, lines, strict=True):
        for policy in [p.name for p in c.policies]:
            d = y[(y["policy"] == policy) & (y["line"] == line)].sort_values("year")
            ax.plot(d["year"], d["mean"] / 1e6, marker="o", label=policy)
            ax.fill_between(d["year"], d["ci_low"] / 1e6, d["ci_high"] / 1e6, alpha=0.2)
        ax.set_title(LINE_LABELS[line], fontsize=10)
        ax.set_xticks(sorted(y["year"].unique()))
        ax.set_xlabel("year")
        ax.set_ylabel("EUR million")
        ax.set_ylim(bottom=0)
    axes[0].legend(fontsize=8)
    fig.suptitle("Cost per law per year: mean and 95% interval over replications", fontsize=11)
    fig.tight_layout()
    fig.savefig(out / "costs_by_year.png", dpi=110)
    plt.close(fig)
    return "costs_by_year.png"


def _plot_lorenz(c: Comparison, plt, out: Path) -> str:
    lorenz = c.details["lorenz"].groupby(["policy", "households"], as_index=False)["cost"].mean()
    fig, ax = plt.subplots(figsize=(4.5, 4.2))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="equal spread")
    for policy in [p.name for p in c.policies]:
        d = lorenz[lorenz["policy"] == policy]
        ax.plot(d["households"], d["cost"], label=policy)
    ax.set_xlabel("share of households (cheapest first)")
    ax.set_ylabel("share of individual-provision cost")
    ax.set_title("Cost concentration (Lorenz curve)", fontsize=11)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "lorenz.png", dpi=110)
    plt.close(fig)
    return "lorenz.png"


def _plot_groups(c: Comparison, plt, out: Path) -> str:
    g = (
        c.details["groups"]
        .groupby(["by", "group", "policy"], as_index=False)["cost_per_household"]
        .mean()
    )
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    names = [p.name for p in c.policies]
    for ax, by in zip(axes, GROUP_LABELS, strict=True):
        d = g[g["by"] == by].pivot(index="group", columns="policy", values="cost_per_household")
        d = d[names]
        x = np.arange(len(d))
        width = 0.8 / len(names)
        for i, policy in enumerate(names):
            ax.bar(x + i * width, d[policy], width, label=policy)
        ax.set_xticks(x + 0.4 - width / 2, d.index, rotation=45, ha="right", fontsize=8)
        ax.set_title(f"by {GROUP_LABELS[by]}", fontsize=10)
        ax.set_ylabel("EUR per household per year")
    axes[0].legend(fontsize=8)
    fig.suptitle("Individual-provision cost per household", fontsize=11)
    fig.tight_layout()
    fig.savefig(out / "by_group.png", dpi=110)
    plt.close(fig)
    return "by_group.png"


def _plot_zrm(c: Comparison, plt, out: Path) -> str:
    z = c.details["zrm"]
    z = z[z["zrm_level"] <= 2].groupby(["policy", "replication", "domain"])["share"].sum()
    z = z.groupby(["policy", "domain"]).mean().unstack("policy")[[p.name for p in c.policies]]
    fig, ax = plt.subplots(figsize=(7, 3.6))
    z.plot.bar(ax=ax)
    ax.set_ylabel("share of households")
    ax.set_xlabel("")
    ax.set_title("Households at ZRM level 1–2 (not self-reliant), last year end", fontsize=11)
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    fig.savefig(out / "zrm.png", dpi=110)
    plt.close(fig)
    return "zrm.png"


def write_report(comparison: Comparison, directory: str | Path, plots: bool = True) -> Path:
    """Write ``report.html``, ``report.md``, PNG plots and CSV tables into ``directory``.

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
    names = [p.name for p in c.policies]
    base = names[0]
    reps = c.runs["replication"].nunique()
    s = c.scenario
    plt = _pyplot() if plots else None
    has_details = {"yearly", "lorenz", "groups", "zrm", "concentration"} <= set(c.details)
    doc = _Doc()

    doc.heading("Financing the social domain: comparison of policies", 1)
    doc.paragraph(
        f"Question. What does the social domain of municipality '{s.name}' "
        f"({s.n_households:,} households) cost per year under {', '.join(names)}, and what "
        "does each do for households? Every policy is run on the same households and the same "
        f"life events ({reps} replications, {c.months} months after a burn-in of "
        f"{s.burn_in_months} months, root seed {c.seed}); differences are paired, so their "
        f"intervals are narrower than those of the means. Differences are against '{base}'."
    )

    doc.heading("Headline: annual cost per law (EUR million; mean and 95% interval)")
    rows = []
    for line in COST_LINES:
        row = {"cost line": LINE_LABELS[line]}
        for name in names:
            r = c.summary[(c.summary["policy"] == name) & (c.summary["line"] == line)].iloc[0]
            row[name] = f"{_m(r['mean'])} ({_interval(r['ci_low'], r['ci_high'])})"
            if name != base:
                row[f"{name} − {base}"] = (
                    f"{r['difference'] / 1e6:+,.2f} "
                    f"({_interval(r['difference_ci_low'], r['difference_ci_high'], True)})"
                )
        rows.append(row)
    doc.table(pd.DataFrame(rows))
    doc.paragraph(
        "Collective provisions are paid as budgets with a capacity, so they vary only when a "
        "budget rule cuts them; access covers the conversations (one per counter under "
        "supply-driven access, one longer integrated conversation and reviews under "
        "demand-driven access) and outreach. The benefit itself is paid from a national budget "
        "and is left out of the external total, as municipal accounts do."
    )
    if has_details and plt is not None:
        doc.image(_plot_yearly(c, plt, out), "Cost per law per year with 95% intervals")

    doc.heading("Outcomes for households")
    rows = []
    for outcome in c.outcomes["outcome"].unique():
        row = {"outcome": OUTCOME_LABELS.get(outcome, outcome)}
        for name in names:
            r = c.outcomes[(c.outcomes["policy"] == name) & (c.outcomes["outcome"] == outcome)]
            row[name] = _number(r.iloc[0]["mean"])
            if name != base:
                row[f"{name} − {base}"] = f"{r.iloc[0]['difference']:+,.3g}"
        rows.append(row)
    doc.table(pd.DataFrame(rows))
    doc.paragraph(
        "Unmet need is hidden need (a need for help that has not reached any counter) plus "
        "places on waiting lists; carer strain counts informal carers whose giving has worn "
        "them down, which raises their own problems."
    )
    if has_details and plt is not None:
        doc.image(_plot_zrm(c, plt, out), "Households at ZRM level 1–2 per domain")

    if has_details:
        doc.heading("Where the costs land: concentration")
        conc = c.details["concentration"].groupby(["policy", "top"])["share"].mean().unstack()
        conc = conc.loc[names]
        table = pd.DataFrame(
            {
                "policy": names,
                **{
                    f"share in costliest {t:.0%} of households": [f"{v:.0%}" for v in conc[t]]
                    for t in conc.columns
                },
            }
        )
        doc.table(table)
        if plt is not None:
            doc.image(_plot_lorenz(c, plt, out), "Lorenz curve of individual-provision cost")

        doc.heading("Differences between groups of households")
        g = (
            c.details["groups"]
            .groupby(["by", "group", "policy"], as_index=False)[
                ["cost_per_household", "share_with_individual"]
            ]
            .mean()
        )
        for by, label in GROUP_LABELS.items():
            d = g[g["by"] == by].pivot(
                index="group", columns="policy", values="cost_per_household"
            )[names]
            d = d.map(lambda v: f"{v:,.0f}").reset_index().rename(columns={"group": label})
            doc.paragraph(f"Individual-provision cost per household per year (EUR), by {label}:")
            doc.table(d)
        if plt is not None:
            doc.image(_plot_groups(c, plt, out), "Cost per household by group")

    doc.heading("The assumptions that drive the result")
    doc.paragraph(
        "Neither regime is built to win: each mechanism has its strength as a parameter. "
        "These are the parameters in which the policies differ; every scenario parameter, "
        "with its source, is in scenario.toml next to this report."
    )
    for policy in c.policies[1:]:
        changes = policy.changes_from(c.policies[0]) if hasattr(policy, "changes_from") else {}
        frame = pd.DataFrame(
            [{"parameter": k, base: repr(a), policy.name: repr(b)} for k, (a, b) in changes.items()]
        )
        if len(frame):
            doc.table(frame)
    if plt is None and plots:
        doc.paragraph("Plots were skipped: install matplotlib (pip install 'vraagvolgend[plots]').")

    (out / "report.md").write_text("\n".join(doc.md) + "\n", encoding="utf-8")
    style = (
        "body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;"
        "color:#222}table{border-collapse:collapse;margin:0.5rem 0 1.5rem}"
        "th,td{padding:0.25rem 0.6rem;border-bottom:1px solid #ddd;text-align:right}"
        "th:first-child,td:first-child{text-align:left}img{max-width:100%}"
        "figcaption{color:#555;font-size:0.9rem}"
    )
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>vraagvolgend report</title><style>{style}</style></head><body>"
        + "\n".join(doc.html)
        + "</body></html>\n"
    )
    report = out / "report.html"
    report.write_text(page, encoding="utf-8")
    c.summary.to_csv(out / "summary.csv", index=False)
    c.outcomes.to_csv(out / "outcomes.csv", index=False)
    c.runs.to_csv(out / "runs.csv", index=False)
    return report
