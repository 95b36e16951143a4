"""The output vocabulary: laws, cost lines, outcomes, labels, units, the calendar, numbers.

Everything a table, a report, the command line or the dashboard names lives here once, so that
they agree: the laws in one order, the cost lines of a summary (the social-assistance benefit on
a line of its own), the outcomes with a human label and a unit, human labels for domains,
household types and channels, the month/year calendar, and one number format.

Example:
    >>> from vraagvolgend.vocabulary import label, year_of, format_number
    >>> label("couple_children"), year_of(13), format_number(12345.6)
    ('Couple with children', 2, '12,346')
"""

from __future__ import annotations

import math

__all__ = [
    "ALL_CHANNELS",
    "BENEFIT_LAW",
    "BENEFIT_LINE",
    "BENEFIT_PROVISION",
    "CHANNELS",
    "FIRST_MONTH",
    "INDIVIDUAL_LAWS",
    "LABELS",
    "LAWS",
    "TABLE_LAWS",
    "fmt_eur",
    "fmt_share",
    "format_interval",
    "format_number",
    "is_year_end",
    "label",
    "months_text",
    "plural",
    "text_table",
    "year_of",
]

#: Laws in one order: collective (preventive, *voorliggend*) provisions first, then the Youth
#: Act (*Jeugdwet*), the Social Support Act (*Wmo 2015*) and the Participation Act
#: (*Participatiewet*). Provision codes and cost tables follow this order.
LAWS: tuple[str, ...] = ("collective", "jeugdwet", "wmo", "participatiewet")
INDIVIDUAL_LAWS: tuple[str, ...] = ("jeugdwet", "wmo", "participatiewet")

#: Access channels a household arrives through, then how else an episode starts.
CHANNELS: tuple[str, ...] = ("gp", "wijkteam", "school", "self")
ALL_CHANNELS: tuple[str, ...] = (*CHANNELS, "outreach", "renewal", "escalation", "entitlement")

#: The social-assistance benefit (*bijstand*) is paid from a national budget (BUIG), not from
#: the municipal social-domain budget: it is reported on its own line, never inside
#: ``participatiewet``, and budget rules do not count it.
BENEFIT_LINE = "benefit"

#: Months are numbered from 1 after burn-in (burn-in months are −burn_in + 1 … 0 and are
#: never booked or shown); year y holds months 12 (y − 1) + 1 … 12 y.
FIRST_MONTH = 1


def year_of(month: int) -> int:
    """The year (1, 2, …) a month (1, 2, …) belongs to."""
    return (month - 1) // 12 + 1


def is_year_end(month: int) -> bool:
    """Whether a simulated month (≥ 1) closes a year."""
    return month >= FIRST_MONTH and month % 12 == 0


#: The provision that is the social-assistance benefit (Participatiewet *bijstand*).
BENEFIT_PROVISION = "benefit"
#: The law under which user-facing tables file the benefit: on a line of its own, apart from
#: participation services (a benefit payment is income support, not a service).
BENEFIT_LAW = "social_assistance"
#: Laws of the user-facing cost tables, in order (the benefit apart from participation).
TABLE_LAWS = ("jeugdwet", "wmo", "participatiewet", BENEFIT_LAW, "collective", "access")


def format_number(x, decimals: int | None = None) -> str:
    """One number format for the terminal: thousands separators, never scientific notation.

    Numbers of 100 and more get no decimals, smaller ones a few (``decimals`` overrides).

    Example:
        >>> format_number(14660.4), format_number(0.01234), format_number(float("nan"))
        ('14,660', '0.0123', '–')
    """
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not _finite(x):
        return "–"
    if decimals is None:
        size = abs(x)
        decimals = 0 if size >= 100 else 2 if size >= 1 else 4
    text = f"{x:,.{decimals}f}"
    return "0" if text.lstrip("-").strip("0.,") == "" and decimals == 0 else text


def format_interval(low, high, decimals: int | None = None) -> str:
    """An interval as ``5,750 – 6,200`` (empty when a bound is missing)."""
    if not (_finite(low) and _finite(high)):
        return ""
    if decimals is None:
        size = max(abs(low), abs(high))
        decimals = 0 if size >= 100 else 2 if size >= 1 else 4
    return f"{format_number(low, decimals)} – {format_number(high, decimals)}"


def text_table(rows: list[dict]) -> str:
    """Rows of text as a left-aligned table for the terminal (two spaces between columns).

    Example:
        >>> print(text_table([{"a": "x", "bb": "1"}, {"a": "yyy", "bb": "22"}]))
        a    bb
        x    1
        yyy  22
    """
    if not rows:
        return ""
    columns = list(rows[0])
    widths = [max(len(str(c)), *(len(str(r[c])) for r in rows)) for c in columns]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(columns, widths, strict=True))]
    for r in rows:
        lines.append("  ".join(str(r[c]).ljust(w) for c, w in zip(columns, widths, strict=True)))
    return "\n".join(line.rstrip() for line in lines)


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 person``, ``2 persons`` (with thousands separators).

    Example:
        >>> plural(1, "month"), plural(1200, "household")
        ('1 month', '1,200 households')
    """
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def _finite(x) -> bool:
    return math.isfinite(float(x))


#: Human labels of every identifier a table or report shows.
LABELS: dict[str, str] = {
    # cost lines and outcomes: their labels are declared in vraagvolgend.outputs
    # the other annual indicators (Result.indicators)
    "any_individual_share": "Households with any individual provision",
    "external_cost_per_inhabitant": "External cost per inhabitant (EUR)",
    "benefit_cost_per_inhabitant": "Benefit per inhabitant (EUR)",
    # domains
    "finances": "Finances and debt",
    "work": "Work and daytime activity",
    "housing": "Housing",
    "mental_health": "Mental health",
    "physical_health": "Physical health and ADL",
    "parenting": "Parenting and youth",
    "social_isolation": "Social isolation",
    # household types
    "single": "One person under 75",
    "single_75plus": "One person 75+",
    "couple": "Couple without children",
    "couple_children": "Couple with children",
    "single_parent": "Single parent",
    # channels
    "gp": "GP",
    "wijkteam": "Neighbourhood team",
    "school": "School",
    "self": "Self-referral",
    "outreach": "Outreach",
    "renewal": "Renewal",
    "escalation": "Escalation",
    "entitlement": "Entitlement",
    # policies, contracts, budget rules
    "supply-driven": "Supply-driven (aanbodgericht)",
    "demand-driven": "Demand-driven (vraagvolgend)",
    "regime": "Access regime",
    "effort": "Effort-based (price × hours)",
    "output": "Output-based (price per trajectory)",
    "task": "Task-based (lump sum for a capacity)",
    "none": "No budget rule",
    "cut_collective": "Cut collective provisions after an overrun",
    "cap": "Cap individual intake at the budget",
    # groupings
    "neighbourhood": "Neighbourhood",
    "household_type": "Household type",
    "income_quintile": "Income quintile",
}


def label(key) -> str:
    """The human label of an identifier (the identifier itself, tidied, when it has none);
    outcomes and cost lines carry theirs in :mod:`vraagvolgend.outputs`."""
    from .outputs import COST_LINES as LINES
    from .outputs import OUTCOMES

    key = str(key)
    if key in OUTCOMES:
        return OUTCOMES[key].label
    if key in LINES:
        return LINES[key].label
    return LABELS.get(key, key.replace("_", " "))


def months_text(n: int) -> str:
    """``1 month``, ``12 months``."""
    return plural(n, "month")


def fmt_eur(x: float) -> str:
    """An amount in euros: ``€1,234,567``; millions as ``€12.3M``."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    sign = "−" if x < 0 else ""
    a = abs(float(x))
    if a >= 1e6:
        return f"{sign}€{a / 1e6:,.1f}M"
    return f"{sign}€{a:,.0f}"


def fmt_share(x: float, decimals: int = 1) -> str:
    """A share as a percentage: ``0.123`` → ``12.3%`` (percentages only for shares)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{100 * float(x):,.{decimals}f}%"
