"""The report's numbers: one number format, paired statistics of a comparison, labels."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..comparison import COST_LINES, Comparison, mean_ci
from ..outputs import OUTCOMES
from ..vocabulary import label as vocabulary_label

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
    from ..households import build_households

    return float(build_households(c.scenario, np.random.default_rng(0)).n_inhabitants)


def _row(table: pd.DataFrame, key: str, value: str, policy: str) -> pd.Series | None:
    hit = table[(table[key] == value) & (table["policy"] == policy)]
    return None if hit.empty else hit.iloc[0]


def _is_cost(outcome: str) -> bool:
    key = str(outcome).removeprefix("cost_")
    return key in COST_LINES or str(outcome).startswith("cost")


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
