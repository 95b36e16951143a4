"""The report's tables, rendered for both pages (HTML through pandas' Styler, Markdown)."""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..comparison import COST_LINES, Comparison
from .numbers import (
    GROUPS,
    OUTCOME_FORMAT,
    PLOTTED_LINES,
    _fmt_estimate,
    _names,
    _row,
    fmt_millions,
    fmt_number,
    fmt_share,
    label,
    paired_stats,
)


def _decomposition_table(c: Comparison) -> pd.DataFrame | None:
    """The decomposition of the difference by mechanism, when the comparison carries one."""
    dec = getattr(c, "decomposition", None)
    table = getattr(dec, "table", None)
    if not isinstance(table, pd.DataFrame) or table.empty:
        return None
    if not {"outcome", "mechanism", "mean", "lo", "hi"} <= set(table.columns):
        return None
    alternative = getattr(dec, "alternative", None)
    if isinstance(alternative, str) and "policy" not in table.columns:
        table = table.assign(policy=alternative)  # it explains this alternative only
    return table


#: Mechanisms shown by name in the report's decomposition table (the largest parts of the
#: external total); the others are summed on one row. The full table is in the data.
TOP_MECHANISMS = 5
DECOMPOSED_LINES = (*PLOTTED_LINES, "external_total")


def _decomposition_frame(d: pd.DataFrame) -> pd.DataFrame:
    """The decomposition for a person: one row per leading mechanism, one column per law and
    the external total (EUR million a year, 95% interval), the rest summed, and the total."""
    if "policy" in d.columns:
        d = d[d["policy"] == d["policy"].iloc[0]]
    d = d[d["mechanism"].astype(str) != "total"]
    cost = d[d["outcome"].isin([f"cost_{line}" for line in DECOMPOSED_LINES])]
    total = cost[cost["outcome"] == "cost_external_total"].set_index("mechanism")["mean"]
    order = list(total.abs().sort_values(ascending=False).index)
    shown, rest = order[:TOP_MECHANISMS], order[TOP_MECHANISMS:]
    rows = []
    for mechanism in shown:
        mine = cost[cost["mechanism"] == mechanism].set_index("outcome")
        row = {"Mechanism": label(mechanism)}
        for line in DECOMPOSED_LINES:
            r = mine.loc[f"cost_{line}"] if f"cost_{line}" in mine.index else None
            row[label(line).split(" (")[0]] = (
                "–" if r is None else _fmt_estimate(r["mean"], r["lo"], r["hi"], fmt_millions, True)
            )
        rows.append(row)
    for name, keys in (("Other mechanisms (means summed)", rest), ("Total", order)):
        if name.startswith("Other") and not keys:
            continue
        part = cost[cost["mechanism"].isin(keys)].groupby("outcome")["mean"].sum()
        row = {
            "Mechanism": name
            if not name.startswith("Other")
            else f"{len(keys)} {name[0].lower()}{name[1:]}"
        }
        for line in DECOMPOSED_LINES:
            row[label(line).split(" (")[0]] = fmt_millions(part.get(f"cost_{line}", 0.0), True)
        rows.append(row)
    return pd.DataFrame(rows)


# --- tables -------------------------------------------------------------------------------------


@dataclass
class _Table:
    """A table rendered for both pages."""

    html: str
    md: str


def _md_cell(value) -> str:
    return html.escape(str(value), quote=False).replace("|", "/")


def _table(frame: pd.DataFrame, text: bool = False) -> _Table:
    cells = frame.astype(str)
    styled = (
        cells.style.hide(axis="index")
        .format(escape="html")
        .format_index(escape="html", axis=1)  # headers carry users' policy names
        .set_table_attributes('class="table text"' if text else 'class="table"')
        .set_table_styles([{"selector": "th", "props": "text-align: left;"}])
    )
    # Markdown renders inline HTML: user-named text is escaped there too.
    md = ["| " + " | ".join(_md_cell(c) for c in cells.columns) + " |"]
    md.append("|" + "|".join("---" for _ in cells.columns) + "|")
    md += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in cells.to_numpy()]
    from markupsafe import Markup

    return _Table(styled.to_html(), Markup("\n".join(md)))


def _compared(stats: pd.DataFrame, key: str, names: list[str], fmt, fmt_diff, key_label: str):
    """A table with one row per key: each policy's mean (interval) and paired differences."""
    base = names[0]
    rows = []
    for k in stats[key].drop_duplicates():
        row = {key_label: label(k)}
        for name in names:
            r = _row(stats, key, k, name)
            row[name] = _fmt_estimate(r["mean"], r["ci_low"], r["ci_high"], fmt)
        for name in names[1:]:
            r = _row(stats, key, k, name)
            row[f"{name} − {base}"] = _fmt_estimate(
                r["difference"], r["difference_ci_low"], r["difference_ci_high"], fmt_diff, True
            )
        rows.append(row)
    return pd.DataFrame(rows)


def _cost_table(c: Comparison) -> pd.DataFrame:
    names = _names(c)
    return _compared(
        c.summary[c.summary["line"].isin(COST_LINES)],
        "line",
        names,
        fmt_millions,
        fmt_millions,
        "Cost line (EUR million a year)",
    )


def _outcome_table(c: Comparison) -> pd.DataFrame:
    names = _names(c)
    base = names[0]
    rows = []
    for outcome in c.outcomes["outcome"].drop_duplicates():
        unit, decimals, _ = OUTCOME_FORMAT.get(outcome, ("number", None, None))

        def fmt(x, signed=False, unit=unit, decimals=decimals):
            if unit == "share":
                return fmt_share(x, decimals, signed)
            return fmt_number(x, decimals, signed)

        row = {"Outcome": label(outcome)}
        for name in names:
            r = _row(c.outcomes, "outcome", outcome, name)
            row[name] = _fmt_estimate(r["mean"], r["ci_low"], r["ci_high"], fmt)
        for name in names[1:]:
            r = _row(c.outcomes, "outcome", outcome, name)
            row[f"{name} − {base}"] = _fmt_estimate(
                r["difference"], r["difference_ci_low"], r["difference_ci_high"], fmt, True
            )
        rows.append(row)
    return pd.DataFrame(rows)


def _zrm_stats(c: Comparison) -> pd.DataFrame:
    z = c.details["zrm"]
    low = (
        z.assign(low=np.where(z["zrm_level"] <= 2, z["share"], 0.0))
        .groupby(["domain", "policy", "replication"], as_index=False)["low"]
        .sum()
    )
    return paired_stats(low, ["domain"], "low", _names(c))


def _concentration_stats(c: Comparison) -> pd.DataFrame:
    stats = paired_stats(c.details["concentration"], ["top"], "share", _names(c))
    stats["top"] = stats["top"].map(lambda t: f"Costliest {fmt_number(100 * t, 0)}% of households")
    return stats


def _group_stats(c: Comparison) -> pd.DataFrame:
    g = c.details["groups"].copy()
    g["group"] = [_group_label(by, group) for by, group in zip(g["by"], g["group"], strict=True)]
    return paired_stats(g, ["by", "group"], "cost_per_household", _names(c))


def _group_label(by: str, group) -> str:
    if by == "income_quintile":
        q = str(group)
        extra = {"1": " (lowest income)", "5": " (highest income)"}.get(q, "")
        return f"Quintile {q}{extra}"
    return label(group)


def report_tables(comparison: Comparison) -> dict[str, _Table]:
    """The report's tables, formatted (labels, one number format, intervals), each with
    ``.html`` (pandas Styler) and ``.md``.

    Keys: ``costs``, ``outcomes``; with the comparison's details also ``zrm``,
    ``concentration`` and ``groups_<neighbourhood|household_type|income_quintile>``; and
    ``decomposition`` when the comparison carries one.
    """
    c = comparison
    names = _names(c)
    tables = {"costs": _table(_cost_table(c)), "outcomes": _table(_outcome_table(c))}
    if {"zrm", "concentration", "groups"} <= set(c.details):
        tables["zrm"] = _table(
            _compared(_zrm_stats(c), "domain", names, fmt_share, fmt_share, "Life domain")
        )
        tables["concentration"] = _table(
            _compared(
                _concentration_stats(c),
                "top",
                names,
                fmt_share,
                fmt_share,
                "Share of individual-provision cost in the",
            )
        )
        stats = _group_stats(c)

        def euros(x, signed=False):
            return fmt_number(x, 0, signed)

        for by in GROUPS:
            tables[f"groups_{by}"] = _table(
                _compared(stats[stats["by"] == by], "group", names, euros, euros, label(by))
            )
    decomposition = _decomposition_table(c)
    if decomposition is not None:
        tables["decomposition_full"] = decomposition  # the whole table: data, not the page
        frame = _decomposition_frame(decomposition)
        tables["decomposition"] = _table(frame)
    tables.pop("decomposition_full", None)
    return tables
