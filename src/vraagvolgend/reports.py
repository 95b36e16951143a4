"""Reports: a Markdown report of a comparison that a policy adviser can read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import __name__ as _package
from .experiments import COST_LINES, Comparison

__all__ = ["write_report"]

_LINE_LABELS = {
    "jeugdwet": "Youth care (Jeugdwet)",
    "wmo": "Wmo support",
    "participatiewet": "Participation services (without benefit)",
    "collective": "Collective provisions",
    "access": "Access conversations and outreach",
    "external_total": "External social-domain cost (all above)",
    "benefit": "Social-assistance benefit (national BUIG budget)",
}


def _eur(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{x / 1e6:,.2f}"


def _interval(lo: float, hi: float, signed: bool = False) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return ""
    f = (lambda v: f"{v / 1e6:+,.2f}") if signed else (lambda v: f"{v / 1e6:,.2f}")
    return f"{f(lo)} … {f(hi)}"


def _markdown_table(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.to_numpy()]
    return "\n".join([header, rule, *body])


def write_report(comparison: Comparison, directory: str | Path) -> Path:
    """Write ``report.md`` and ``summary.csv``/``outcomes.csv``/``runs.csv`` into ``directory``.

    Returns:
        The path of the Markdown report.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    c = comparison
    names = [p.name for p in c.policies]
    reps = c.runs["replication"].nunique()
    base = names[0]
    s = c.scenario

    lines = [
        "# Financing the social domain: comparison of policies",
        "",
        f"**Question.** What does the social domain of municipality *{s.name}* "
        f"({s.n_households:,} households) cost per year under {', '.join(names)}, and how do "
        "the outcomes for households differ? Every policy is run on the same households and the "
        f"same life events ({reps} replications, {c.months} months after a burn-in of "
        f"{s.burn_in_months} months, root seed {c.seed}); differences are paired.",
        "",
        "## Annual cost per law (EUR million; mean and 95% confidence interval)",
        "",
    ]
    rows = []
    for line in COST_LINES:
        row = {"cost line": _LINE_LABELS[line]}
        for name in names:
            r = c.summary[(c.summary["policy"] == name) & (c.summary["line"] == line)].iloc[0]
            row[name] = f"{_eur(r['mean'])} ({_interval(r['ci_low'], r['ci_high'])})"
            if name != base:
                row[f"{name} − {base}"] = (
                    f"{r['difference'] / 1e6:+,.2f} "
                    f"({_interval(r['difference_ci_low'], r['difference_ci_high'], True)})"
                )
        rows.append(row)
    lines += [_markdown_table(pd.DataFrame(rows)), ""]

    lines += ["## Outcomes (mean over replications; paired difference)", ""]
    rows = []
    for outcome in c.outcomes["outcome"].unique():
        row = {"outcome": outcome}
        for name in names:
            r = c.outcomes[(c.outcomes["policy"] == name) & (c.outcomes["outcome"] == outcome)]
            r = r.iloc[0]
            row[name] = f"{r['mean']:,.4g}"
            if name != base:
                row[f"{name} − {base}"] = f"{r['difference']:+,.3g}"
        rows.append(row)
    lines += [_markdown_table(pd.DataFrame(rows)), ""]

    lines += ["## Assumptions that differ between the policies", ""]
    for policy in c.policies[1:]:
        changes = policy.changes_from(c.policies[0]) if hasattr(policy, "changes_from") else {}
        lines.append(f"*{policy.name}* against *{base}*:")
        lines.append("")
        for key, (old, new) in changes.items():
            lines.append(f"- `{key}`: {old!r} → {new!r}")
        lines.append("")
    lines += [
        "Every parameter's value and source: `Scenario.default().describe()` and the policy's "
        "`to_toml()`. Neither regime is built to win: the mechanisms and their strengths are "
        "assumptions that can be varied.",
        "",
        f"*Written by {_package}.*",
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    c.summary.to_csv(out / "summary.csv", index=False)
    c.outcomes.to_csv(out / "outcomes.csv", index=False)
    c.runs.to_csv(out / "runs.csv", index=False)
    return path
