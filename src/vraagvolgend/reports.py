"""Reports: an HTML report (and the same in Markdown) of a comparison, for a policy adviser.

The report opens with a plain-language headline generated from the numbers and their 95%
intervals: what each alternative costs per year against the baseline (in total and per
inhabitant), whether households are better or worse off, and what drives the difference; a
difference whose interval includes zero is called "not established". Every compared number
carries its interval (costs, outcomes, ZRM levels, concentration, groups of households). The
pages are rendered from jinja2 templates (package data) with tables from pandas' Styler; plots
are drawn with matplotlib's object API (an optional extra, ``pip install
'vraagvolgend[plots]'``), so the user's matplotlib backend is never changed, and sized for the
page's width with text of at least 10 pt.

Example:
    >>> import vraagvolgend as vv, tempfile
    >>> s = vv.Scenario.default().with_changes(n_households=400, burn_in_months=6)
    >>> c = vv.compare(["supply-driven", "demand-driven"], s, replications=2, months=12,
    ...                progress=False)
    >>> write_report(c, tempfile.mkdtemp()).name
    'report.html'
"""

from __future__ import annotations

import base64
import datetime
import html
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .comparison import COST_LINES, Comparison, mean_ci
from .outputs import OUTCOMES
from .vocabulary import LABELS
from .vocabulary import label as vocabulary_label

__all__ = [
    "LABELS",
    "MIN_FONT_PT",
    "PAGE_WIDTH_IN",
    "headline",
    "label",
    "report_figures",
    "report_tables",
    "write_report",
]

#: Width of the report's text column in inches (CSS: 96 px per inch); figures are drawn at
#: most this wide and shown at their natural size, so their font sizes hold on the page.
PAGE_WIDTH_IN = 10.0
#: Smallest font size of any text in a plot, in points at the page's width.
MIN_FONT_PT = 10.0

#: for households and None for indicators of use (neither better nor worse in themselves).
#: How each outcome is shown: (format, decimals, lower is better; None: neither), from its
#: declaration in :mod:`vraagvolgend.outputs`.
OUTCOME_FORMAT: dict[str, tuple[str, int, bool | None]] = {
    name: (o.format, o.decimals, None if o.better is None else o.better == "lower")
    for name, o in OUTCOMES.items()
}
GROUPS = ("neighbourhood", "household_type", "income_quintile")
PLOTTED_LINES = ("jeugdwet", "wmo", "participatiewet", "collective", "access")
INDIVIDUAL_LINES = ("jeugdwet", "wmo", "participatiewet")
#: The lines the municipal budget covers (individual provisions and access).
BUDGET_LINES = (*INDIVIDUAL_LINES, "access")
MINUS = "−"
PROPER_NAMES = {"Wmo", "GP"}


def label(key) -> str:
    """The human label of an identifier (the identifier tidied when it has no label)."""
    text = str(key)
    tidy = text.replace("_", " ")
    known = vocabulary_label(text)
    return known if known != tidy else tidy.replace(".", ": ")


# --- one number format -------------------------------------------------------------------------


def _finite(*xs) -> bool:
    return all(x is not None and math.isfinite(float(x)) for x in xs)


def fmt_number(x, decimals: int | None = None, signed: bool = False) -> str:
    """Thousands separators, never scientific notation; a typographic minus."""
    if not _finite(x):
        return "–"
    x = float(x)
    if decimals is None:
        a = abs(x)
        decimals = 0 if a >= 100 else 1 if a >= 10 else 2 if a >= 1 else 3
    text = f"{abs(x):,.{decimals}f}"
    if text.strip("0.,") == "":
        return text
    sign = MINUS if x < 0 else ("+" if signed else "")
    return sign + text


def fmt_share(x, decimals: int = 1, signed: bool = False) -> str:
    """A share as a percentage (shares only); differences of shares in percentage points."""
    if not _finite(x):
        return "–"
    if signed:
        return fmt_number(100 * float(x), decimals, signed=True) + " pp"
    return fmt_number(100 * float(x), decimals) + "%"


def fmt_millions(x, signed: bool = False) -> str:
    """An amount in EUR million with two decimals."""
    return fmt_number(float(x) / 1e6, 2, signed) if _finite(x) else "–"


NBSP = "\u00a0"


def _with_interval(value: str, lo: str, hi: str, ok: bool) -> str:
    # Non-breaking spaces inside the value and inside the interval: a narrow cell wraps
    # between the two only.
    value = value.replace(" ", NBSP)
    if not ok:
        return f"{value} (no{NBSP}interval)"
    return f"{value} " + f"({lo} to {hi})".replace(" ", NBSP)


def _fmt_estimate(mean, lo, hi, fmt, signed: bool = False) -> str:
    return _with_interval(
        fmt(mean, signed=signed), fmt(lo, signed=signed), fmt(hi, signed=signed), _finite(lo, hi)
    )


def _established(lo, hi) -> bool:
    return _finite(lo, hi) and (lo > 0 or hi < 0)


# --- the numbers -------------------------------------------------------------------------------


def _names(c: Comparison) -> list[str]:
    """The policies' names, the baseline first (the differences are taken against it)."""
    names = [p.name for p in c.policies]
    base = getattr(c, "baseline", names[0])
    return [base, *(n for n in names if n != base)]


def _replications(c: Comparison) -> int:
    return int(c.runs["replication"].nunique())


def paired_stats(
    frame: pd.DataFrame, keys: list[str], value: str, names: list[str]
) -> pd.DataFrame:
    """Mean and 95% interval per policy over replications, and the paired difference against
    the first policy with its interval, for every combination of ``keys``.

    Args:
        frame: One row per (keys, policy, replication) with a column ``value``.
        keys: Columns that identify a compared quantity (e.g. ``["by", "group"]``).
        value: The column to compare.
        names: Policies in order; the first is the baseline.
    """
    wide = frame.pivot_table(
        index=[*keys, "replication"], columns="policy", values=value, aggfunc="mean"
    )
    wide = wide.reindex(columns=names).fillna(0.0)
    rows = []
    for key, g in wide.groupby(level=list(range(len(keys))), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        base = g[names[0]].to_numpy(dtype=float)
        for name in names:
            x = g[name].to_numpy(dtype=float)
            mean, lo, hi = mean_ci(x)
            d, dlo, dhi = mean_ci(x - base)
            rows.append(
                {
                    **dict(zip(keys, key, strict=True)),
                    "policy": name,
                    "mean": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                    "difference": d,
                    "difference_ci_low": dlo,
                    "difference_ci_high": dhi,
                }
            )
    return pd.DataFrame(rows)


def _inhabitants(c: Comparison) -> float:
    """Inhabitants of the municipality (the population of replication 0's draw)."""
    if "inhabitants" in c.runs.columns:
        return float(c.runs["inhabitants"].mean())
    from .households import build_households

    return float(build_households(c.scenario, np.random.default_rng(0)).n_inhabitants)


def _row(table: pd.DataFrame, key: str, value: str, policy: str) -> pd.Series | None:
    hit = table[(table[key] == value) & (table["policy"] == policy)]
    return None if hit.empty else hit.iloc[0]


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


def _waiting_note(c: Comparison) -> str | None:
    """Why no waiting list formed, when none did (by design, not a defect)."""
    if "waiting_list" not in c.runs or (c.runs["waiting_list"] > 0).any():
        return None
    return (
        "No waiting list formed under any of the policies compared. That is by design: "
        "individual provisions are limited in capacity only under task-based contracts (a "
        "contracted capacity), and a collective provision that is full refers households on "
        "to individual care rather than letting them wait. Waiting lists form under a "
        "task-based contract, or when a budget rule caps the intake."
    )


def _decomposition_note(c: Comparison) -> str | None:
    """What the decomposition rests on, and how its total relates to the headline's."""
    dec = getattr(c, "decomposition", None)
    if dec is None or _decomposition_table(c) is None:
        return None
    n, total_reps = int(dec.replications), _replications(c)
    table = dec.table
    mine = table[(table["outcome"] == "cost_external_total") & (table["mechanism"] != "total")]
    parts = float(mine["mean"].sum())
    headline_d = _row(c.summary, "line", "external_total", dec.alternative)
    how = (
        f"all {2 ** len(dec.mechanisms)} combinations of its {len(dec.mechanisms)} mechanisms"
        if dec.permutations is None
        else f"{dec.permutations} sampled orders of its {len(dec.mechanisms)} mechanisms "
        "(the parts carry that sampling error too)"
    )
    text = (
        f"The difference between '{dec.alternative}' and '{dec.baseline}', split into "
        f"mechanisms (Shapley values over {how}), on {n} of the comparison's {total_reps} "
        f"replications; each part's interval is over those replications. Its parts add up to "
        f"{fmt_millions(parts, True)} million euro a year"
    )
    if headline_d is not None:
        if n == total_reps:
            text += ", the headline's difference."
        else:
            text += (
                f"; the headline's {fmt_millions(headline_d['difference'], True)} million is "
                f"the mean over all {total_reps} replications, so the two differ by "
                "simulation noise."
            )
    return text + " The five largest mechanisms are shown; the full table is in the data."


def _is_cost(outcome: str) -> bool:
    key = str(outcome).removeprefix("cost_")
    return key in COST_LINES or str(outcome).startswith("cost")


def headline(comparison: Comparison, inhabitants: float | None = None) -> list[str]:
    """The report's opening paragraphs in plain language, generated from the numbers.

    One paragraph per alternative policy: its annual external social-domain cost against the
    baseline (the first policy), in total and per inhabitant, with 95% intervals; whether
    household outcomes are better or worse; and what drives the difference (the decomposition
    by mechanism when the comparison has one, the cost line with the largest difference
    otherwise). A difference whose interval includes zero is "not established".

    Args:
        comparison: The comparison.
        inhabitants: Inhabitants, for the cost per inhabitant (default: drawn from the
            scenario's population).
    """
    c = comparison
    names = _names(c)
    base = names[0]
    if len(names) < 2:
        return [f"Only one policy ('{base}') was run, so there is no difference to report."]
    people = _inhabitants(c) if inhabitants is None else float(inhabitants)
    decomposition = _decomposition_table(c)
    paragraphs = []
    for alt in names[1:]:
        r = _row(c.summary, "line", "external_total", alt)
        d, lo, hi = r["difference"], r["difference_ci_low"], r["difference_ci_high"]
        if _established(lo, hi):
            more = "more" if d > 0 else "less"
            text = (
                f"'{alt}' costs {fmt_eur_millions(abs(d))} a year {more} than '{base}' in "
                f"external social-domain cost (95% interval {fmt_millions(lo, True)} to "
                f"{fmt_millions(hi, True)} million euro), about {fmt_eur(abs(d) / people)} "
                f"{more} per inhabitant (95% interval {fmt_number(lo / people, 0, True)} to "
                f"{fmt_number(hi / people, 0, True)} euro)."
            )
        elif _finite(lo, hi):
            text = (
                f"Whether '{alt}' costs more or less than '{base}' is not established: the "
                f"estimated difference in external social-domain cost is "
                f"{fmt_millions(d, True)} million euro a year, but its 95% interval "
                f"({fmt_millions(lo, True)} to {fmt_millions(hi, True)} million) includes zero."
            )
        else:
            text = (
                f"The estimated difference in external social-domain cost of '{alt}' against "
                f"'{base}' is {fmt_millions(d, True)} million euro a year; with a single "
                "replication it has no interval, so it is not established."
            )
        better, worse = [], []
        for outcome, (_, _, lower_better) in OUTCOME_FORMAT.items():
            o = _row(c.outcomes, "outcome", outcome, alt)
            if o is None or lower_better is None:
                continue
            if _established(o["difference_ci_low"], o["difference_ci_high"]):
                good = (o["difference"] < 0) == lower_better
                (better if good else worse).append(_short(outcome))
        if better or worse:
            parts = []
            if better:
                parts.append("better on " + _join(better))
            if worse:
                parts.append("worse on " + _join(worse))
            text += (
                " For households, outcomes are "
                + " and ".join(parts)
                + "; other differences in outcomes are not established."
            )
        else:
            text += " No difference in household outcomes is established."
        text += " " + _driver(c, alt, decomposition)
        paragraphs.append(text)
    return paragraphs


def _short(key: str) -> str:
    """A label inside a sentence: no qualifiers, lower case unless it starts an acronym."""
    text = label(key).split(" (")[0].split(",")[0]
    if text[1:2].isupper() or text.split()[0] in PROPER_NAMES:
        return text
    return text[:1].lower() + text[1:]


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def fmt_eur(x) -> str:
    """Whole euros with a euro sign: ``€1,234``."""
    return "–" if not _finite(x) else ("−" if x < 0 else "") + f"€{abs(float(x)):,.0f}"


def fmt_eur_millions(x) -> str:
    """``€1.23 million``."""
    return "–" if not _finite(x) else ("−" if x < 0 else "") + f"€{abs(x) / 1e6:,.2f} million"


def _driver(c: Comparison, alt: str, decomposition: pd.DataFrame | None) -> str:
    """What drives the difference in cost: the largest contribution in the direction of the
    difference, and the largest one against it (mechanisms when there is a decomposition,
    cost lines otherwise)."""
    total = _row(c.summary, "line", "external_total", alt)
    direction = np.sign(total["difference"]) if total is not None else 0.0
    if decomposition is not None and (
        "policy" not in decomposition.columns or (decomposition["policy"] == alt).any()
    ):
        d = decomposition
        if "policy" in d.columns:
            d = d[d["policy"] == alt]
        cost = d[d["outcome"].map(_is_cost)]
        if not cost.empty:
            in_total = cost[cost["outcome"].astype(str).str.contains("external_total")]
            d = in_total if not in_total.empty else cost
            parts = [
                (row["mechanism"], row["mean"], row["lo"], row["hi"]) for _, row in d.iterrows()
            ]
            return _drivers(parts, direction, "the mechanism", "mechanism")
    parts = []
    for line in PLOTTED_LINES:
        r = _row(c.summary, "line", line, alt)
        if r is not None:
            parts.append((line, r["difference"], r["difference_ci_low"], r["difference_ci_high"]))
    return _drivers(parts, direction, "", "line")


def _drivers(parts: list[tuple], direction: float, prefix: str, kind: str) -> str:
    """One or two sentences: the largest part with the difference, the largest against it."""
    if not parts or direction == 0:
        return ""

    def phrase(part) -> str:
        key, mean, lo, hi = part
        name = f"{prefix} '{label(key)}'" if kind == "mechanism" else _short(key)
        status = "" if _established(lo, hi) else ", not established"
        return (
            f"{name} ({fmt_millions(mean, True)} million euro a year, 95% interval "
            f"{fmt_millions(lo, True)} to {fmt_millions(hi, True)}{status})"
        )

    way = "more" if direction > 0 else "less"
    along = [p for p in parts if np.sign(p[1]) == direction]
    against = [p for p in parts if np.sign(p[1]) == -direction]
    text = ""
    if along:
        top = max(along, key=lambda p: abs(p[1]))
        where = "in " if kind == "line" else ""
        text = f"Most of why it costs {way} is {where}{phrase(top)}."
    if against:
        top = max(against, key=lambda p: abs(p[1]))
        where = "in " if kind == "line" else ""
        text += f" The largest part the other way is {where}{phrase(top)}."
    return text.strip()


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


def _value_text(value) -> str:
    if value is None:
        return "not used"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        text = f"{float(value):,.3f}".rstrip("0").rstrip(".")
        return text.replace("-", MINUS)
    if isinstance(value, list | tuple):
        return ", ".join(label(v) for v in value)
    return label(value)


def _prose(text: str) -> str:
    """Declared parameter texts may name identifiers (``capacity_per_1000``): spell them."""
    return re.sub(r"(?<=\w)_(?=\w)", " ", text)


def _provenance(policy) -> dict[str, dict]:
    try:
        return {row["parameter"]: row for row in policy.provenance()}
    except (AttributeError, TypeError):
        return {}


def _describe_parameter(key: str, prov: dict[str, dict]) -> tuple[str, str]:
    """(meaning, source) of a dotted parameter, from the longest declared prefix."""
    parts = key.split(".")
    for i in range(len(parts), 0, -1):
        row = prov.get(".".join(parts[:i]))
        if row is not None:
            meaning = _prose(row["meaning"])
            if i < len(parts):
                meaning += f" ({label(parts[i])})"
            return meaning[:1].upper() + meaning[1:], row["source"] or "assumption"
    return label(key), "assumption"


def _assumption_tables(c: Comparison) -> list[tuple[str, pd.DataFrame]]:
    by_name = {p.name: p for p in c.policies}
    names = _names(c)
    base = by_name[names[0]]
    out = []
    for policy in (by_name[n] for n in names[1:]):
        if not hasattr(policy, "changes_from") or not hasattr(base, "to_dict"):
            continue
        prov = {**_provenance(base), **_provenance(policy)}
        rows = []
        for key, (a, b) in policy.changes_from(base).items():
            if key == "name":
                continue
            if key == "regime":
                meaning, source = "Access regime", "the policies compared"
            else:
                meaning, source = _describe_parameter(key, prov)
            rows.append(
                {
                    "Parameter": meaning,
                    base.name: _value_text(a),
                    policy.name: _value_text(b),
                    "Source": source,
                }
            )
        if rows:
            out.append((f"'{policy.name}' against '{base.name}'", pd.DataFrame(rows)))
    return out


def _mechanism_table(c: Comparison) -> pd.DataFrame | None:
    """Strengths of the mechanisms at work in the compared policies, with their sources: the
    active contract's response parameters, and every parameter in which the policies differ
    (the regimes' own rules: package sizing, integrated plans, conversations, lifecycle)."""
    provenance = [_provenance(p) for p in c.policies]
    paths = [p for p in dict.fromkeys(k for prov in provenance for k in prov) if p != "name"]
    rows = {}
    for path in paths:
        values = [_value_text(getattr_path(p, path)) for p in c.policies if _has_path(p, path)]
        differ = len(set(values)) > 1
        for policy, prov in zip(c.policies, provenance, strict=True):
            if path not in prov:
                continue
            contract = getattr(policy, "contract", None)
            active = contract is not None and path.startswith(f"contracts.{contract}_")
            if active or differ:
                row = prov[path]
                entry = rows.setdefault(
                    path,
                    {
                        "Mechanism": _prose(row["meaning"][:1].upper() + row["meaning"][1:]),
                        "sources": [],
                    },
                )
                entry[policy.name] = _value_text(getattr_path(policy, path))
                source = row["source"] or "assumption"
                if source not in entry["sources"]:  # each regime's value has its own source
                    entry["sources"].append(source)
    if not rows:
        return None
    for entry in rows.values():
        entry["Source"] = "; ".join(entry.pop("sources"))
    frame = pd.DataFrame(list(rows.values()))
    cols = ["Mechanism", *[n for n in _names(c) if n in frame.columns], "Source"]
    return frame[cols].fillna("not used")


def _has_path(obj, path: str) -> bool:
    try:
        getattr_path(obj, path)
    except AttributeError:
        return False
    return True


def getattr_path(obj, path: str):
    """Follow a dotted attribute path."""
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _budget_notes(c: Comparison, people: float) -> list[str]:
    """How the budget was set, and where the budget rule bit: years whose spending on the
    budgeted lines (individual provisions and access) overran it, and what the rule did."""
    notes = []
    runs = c.runs
    baseline = _names(c)[0]
    budget = float(runs["budget_eur"].mean()) if "budget_eur" in runs else float("nan")
    if c.scenario.budget.set_from_baseline:
        notes.append(
            f"One budget for every policy: {fmt_eur_millions(budget)} a year, set from the "
            f"year-1 spending of '{baseline}' (run without its budget rule, on the same seed) on "
            "every line a budget holder controls (the individual provisions of each law, the "
            "benefit excluded, and access: conversations, reviews and outreach), plus a margin "
            f"of {fmt_share(c.scenario.budget.margin, 1)}. Collective provisions are funded as a "
            "capacity of their own, which a budget rule may cut."
        )
    else:
        notes.append(
            f"One budget for every policy: {fmt_eur_millions(budget)} a year, the scenario's "
            "own (individual provisions and access)."
        )
    y = c.details.get("yearly")
    reps = int(runs["replication"].nunique())
    for policy in c.policies:
        rule = getattr(policy, "budget_rule", None)
        if rule is None:
            continue
        if rule == "none":
            notes.append(f"'{policy.name}' has no budget rule: overruns are simply paid.")
            continue
        what = (
            f"cuts collective provisions by {fmt_share(policy.budget_cut, 0)} the next year"
            if rule == "cut_collective"
            else "caps the intake of individual provisions at the budget the next year"
        )
        mine_runs = runs[runs["policy"] == policy.name]
        acted = int((mine_runs["cost_budget_rule"] != 0).sum()) if len(mine_runs) else 0
        effect = float(mine_runs["cost_budget_rule"].mean()) if len(mine_runs) else 0.0
        did = (
            f" It acted in {acted} of {reps} replications and changed the external cost by "
            f"{fmt_eur_millions(effect)} a year on average (against the same policy without "
            "the rule, same seeds)."
            if acted
            else ""
        )
        if y is None or y.empty:
            notes.append(
                f"Under '{policy.name}' the budget rule {what} after an overrun year.{did}"
            )
            continue
        mine = y[(y["policy"] == policy.name) & y["line"].isin(BUDGET_LINES)]
        spent = mine.groupby(["year", "replication"])["cost_eur"].sum().groupby("year").mean()
        over = [int(year) for year, v in spent.items() if v > budget]
        last = int(spent.index.max()) if len(spent) else 0
        bites = [year for year in over if year < last]
        if bites:
            notes.append(
                f"Under '{policy.name}' the budgeted costs exceeded the budget on average in "
                f"year {_join([str(b) for b in bites])}, so the budget rule bites: it {what}. "
                "This lowers the costs of the following years and shows in the outcomes "
                "(collective provisions prevent and catch light problems; a cap leaves "
                f"households on waiting lists).{did}"
            )
        elif over:
            notes.append(
                f"Under '{policy.name}' the budgeted costs exceeded the budget on average only "
                f"in the last simulated year, so the budget rule would bite after the period "
                f"shown.{did}"
            )
        else:
            notes.append(
                f"Under '{policy.name}' the budgeted costs stayed within the budget on average, "
                f"so the budget rule ({label(rule).lower()}) did not bite on average.{did}"
            )
    return notes


LIMITATIONS = (
    "The municipality is synthetic: its households, network and problems are drawn from "
    "public shares and assumptions, not from a real population register.",
    "Provider behaviour under each contract (prolonging, upcoding, under-treatment) and the "
    "effects of care are assumptions with exposed strengths, not measured effects; vary them "
    "(vraagvolgend sweep) before drawing conclusions.",
    "Intervals cover the randomness of the simulation (replications), not the uncertainty in "
    "the parameters; with few replications they are wide.",
    "Costs are external costs of the social domain; the social-assistance benefit is shown apart "
    "and costs outside the social domain (health insurance, police, schools) are not modelled.",
    "Prices and budgets are those of the scenario and policy files, in euros of the reference "
    "year, without inflation or indexation.",
)


# --- plots --------------------------------------------------------------------------------------

_RC = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10.5,
    "ytick.labelsize": 10.5,
    "legend.fontsize": 11,
    "figure.titlesize": 13,
    # one number format: no offsets, no scientific notation on the axes
    "axes.formatter.useoffset": False,
    "axes.formatter.limits": (-9, 9),
}


def _colours(n: int) -> list:
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"]
    return [palette[i % len(palette)] for i in range(n)]


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(min(width, PAGE_WIDTH_IN), height), layout="constrained")


def _shared_legend(fig, handles, labels) -> None:
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4))


def _plot_yearly(c: Comparison):
    y = c.yearly()
    names = _names(c)
    fig = _figure(PAGE_WIDTH_IN, 6.4)
    axes = fig.subplots(2, 3).ravel()
    handles = []
    for ax, line in zip(axes, PLOTTED_LINES, strict=False):
        for name, colour in zip(names, _colours(len(names)), strict=True):
            d = y[(y["policy"] == name) & (y["line"] == line)].sort_values("year")
            (h,) = ax.plot(d["year"], d["mean"] / 1e6, marker="o", color=colour)
            if d["ci_low"].notna().all():
                ax.fill_between(
                    d["year"], d["ci_low"] / 1e6, d["ci_high"] / 1e6, color=colour, alpha=0.2
                )
            if line == PLOTTED_LINES[0]:
                handles.append(h)
        ax.set_title(label(line).replace(" (", "\n("), fontsize=11)
        ax.set_xticks(sorted(y["year"].unique()))
        ax.set_xlabel("Year")
        ax.set_ylabel("EUR million")
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=10.5)
    axes[-1].set_axis_off()
    axes[-1].text(
        0.0,
        0.5,
        "Lines: mean over replications.\nBands: 95% interval.\n"
        "Access: conversations\nand outreach.",
        fontsize=11,
        va="center",
    )
    _shared_legend(fig, handles, names)
    fig.suptitle("Cost per law per year")
    return fig


def _plot_zrm(c: Comparison):
    stats = _zrm_stats(c)
    names = _names(c)
    domains = list(stats["domain"].drop_duplicates())
    fig = _figure(PAGE_WIDTH_IN, 4.6)
    ax = fig.subplots()
    x = np.arange(len(domains))
    width = 0.8 / len(names)
    for i, (name, colour) in enumerate(zip(names, _colours(len(names)), strict=True)):
        s = stats[stats["policy"] == name].set_index("domain").loc[domains]
        err = np.vstack([s["mean"] - s["ci_low"], s["ci_high"] - s["mean"]]) * 100
        ax.bar(
            x + i * width,
            s["mean"] * 100,
            width,
            yerr=np.nan_to_num(err),
            capsize=3,
            color=colour,
            label=name,
        )
    ax.set_xticks(x + 0.4 - width / 2, [label(d) for d in domains], rotation=20, ha="right")
    ax.set_ylabel("% of households")
    ax.tick_params(labelsize=10.5)
    ax.legend(loc="upper right")
    ax.set_title("Households at ZRM level 1–2 (not self-reliant), last year end; 95% intervals")
    return fig


def _plot_lorenz(c: Comparison):
    lorenz = c.details["lorenz"].groupby(["policy", "households"], as_index=False)["cost"].mean()
    fig = _figure(6.0, 4.8)
    ax = fig.subplots()
    ax.plot([0, 100], [0, 100], color="grey", linestyle=":", label="Equal spread")
    for name, colour in zip(_names(c), _colours(len(c.policies)), strict=True):
        d = lorenz[lorenz["policy"] == name]
        ax.plot(d["households"] * 100, d["cost"] * 100, color=colour, label=name)
    ax.set_xlabel("% of households (cheapest first)")
    ax.set_ylabel("% of individual-provision cost")
    ax.tick_params(labelsize=10.5)
    ax.set_title("Cost concentration (Lorenz curve)")
    ax.legend(loc="upper left")
    return fig


def _plot_groups(c: Comparison):
    stats = _group_stats(c)
    names = _names(c)
    fig = _figure(PAGE_WIDTH_IN, 10.5)
    axes = fig.subplots(3, 1)
    handles = []
    for ax, by in zip(axes, GROUPS, strict=True):
        s = stats[stats["by"] == by]
        groups = list(s["group"].drop_duplicates())
        x = np.arange(len(groups))
        width = 0.8 / len(names)
        for i, (name, colour) in enumerate(zip(names, _colours(len(names)), strict=True)):
            d = s[s["policy"] == name].set_index("group").loc[groups]
            err = np.vstack([d["mean"] - d["ci_low"], d["ci_high"] - d["mean"]])
            bars = ax.bar(
                x + i * width, d["mean"], width, yerr=np.nan_to_num(err), capsize=2, color=colour
            )
            if by == GROUPS[0]:
                handles.append(bars)
        ax.set_xticks(x + 0.4 - width / 2, groups, rotation=15, ha="right")
        ax.set_title(f"By {label(by).lower()}")
        ax.set_ylabel("EUR per household\nper year")
        ax.yaxis.set_major_formatter("{x:,.0f}")
        ax.tick_params(labelsize=10.5)
    _shared_legend(fig, handles, names)
    fig.suptitle("Individual-provision cost per household, with 95% intervals")
    return fig


def report_figures(comparison: Comparison) -> dict[str, object]:
    """The report's plots as matplotlib :class:`~matplotlib.figure.Figure` objects.

    Keys are the PNG file names. The figures are built with the object API (no pyplot), so
    the user's backend and open figures are untouched; none is wider than
    :data:`PAGE_WIDTH_IN` and no text is smaller than :data:`MIN_FONT_PT`.
    """
    import matplotlib

    c = comparison
    if not {"yearly", "lorenz", "groups", "zrm"} <= set(c.details):
        return {}
    with matplotlib.rc_context(_RC):
        return {
            "costs_by_year.png": _plot_yearly(c),
            "zrm.png": _plot_zrm(c),
            "lorenz.png": _plot_lorenz(c),
            "by_group.png": _plot_groups(c),
        }


CAPTIONS = {
    "costs_by_year.png": "Cost per law per year, including access conversations and outreach, "
    "with 95% intervals over replications.",
    "zrm.png": "Households at ZRM level 1–2 per life domain at the last year end.",
    "lorenz.png": "How individual-provision cost is spread over households.",
    "by_group.png": "Individual-provision cost per household by neighbourhood, household type "
    "and income quintile.",
}


# --- the page ----------------------------------------------------------------------------------


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
        "headline": headline(c, people),
        "warnings": warnings,
        "sections": sections,
        "figure": figure,
        "plot_note": plot_note,
        "budget_notes": _budget_notes(c, people),
        "decomposition_note": _decomposition_note(c),
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
