"""Every output declared once: the cost lines and the outcomes, each with its one definition.

A comparison, a sweep, the EMA adapter, the decomposition, the report, the dashboard and the
command line all read what they show from here, so the same name always means the same number.

**Cost lines** (:data:`COST_LINES`): the individual provisions of each law, collective
provisions, access, the external total (everything the municipality pays from its social-domain
budget) and the social-assistance benefit (*bijstand*) on a line of its own. The benefit is
found by its *billing kind* in the catalogue (``billing = "entitlement"``), never by its name,
so a catalogue that renames it reports the same lines.

**Outcomes** (:data:`OUTCOMES`): each has a name, a label, a unit, the direction in which it is
better, a number format and one definition: its value *per year* of a result. The value a
comparison or a sweep reports is the **mean over the years** of the horizon, the same averaging
as the annual costs beside it. For the state outcomes (mean severity, households with 3+
problems), measured at each year end, this means that a policy that leaves households worse off
throughout counts more than one that does so only at the end, and the number is less noisy than
one year end. :data:`PRIMARY` is the outcome a verdict "better or worse off" is read from.

Example:
    >>> import vraagvolgend as vv
    >>> r = vv.run(vv.Scenario.default().with_changes(n_households=300, burn_in_months=6),
    ...            months=24)
    >>> s = summarise(r)
    >>> round(s["cost_external_total"]) == round(sum(s[f"cost_{k}"] for k in (
    ...     "jeugdwet", "wmo", "participatiewet", "collective", "access")))
    True
    >>> OUTCOMES[PRIMARY].better
    'lower'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .vocabulary import BENEFIT_LINE, LAWS, year_of

__all__ = [
    "COST_LINES",
    "OUTCOMES",
    "PRIMARY",
    "CostLine",
    "Outcome",
    "added_by",
    "annual_costs",
    "declared",
    "entitlements",
    "monthly",
    "outcomes_per_year",
    "summarise",
]


@dataclass(frozen=True)
class CostLine:
    """A line of the cost tables.

    Attributes:
        name: Its key (``cost_<name>`` in run tables).
        label: What a person reads.
        doc: What it holds.
        in_total: Whether it is part of the external total.
        reporter: For a line a process books: the column of the ``monthly`` table holding
            its cost each month (the process's reporter); ``None`` for the built-in lines.
    """

    name: str
    label: str
    doc: str
    in_total: bool = False
    reporter: str | None = None


#: Cost lines in the order of every table. ``external_total`` is the sum of the lines marked
#: ``in_total``; ``budget_rule`` is a part of it (the rule's effect), not an addition.
COST_LINES: dict[str, CostLine] = {
    line.name: line
    for line in (
        CostLine("jeugdwet", "Youth care (Jeugdwet)", "individual youth-care provisions", True),
        CostLine("wmo", "Wmo support", "individual Social Support Act provisions", True),
        CostLine(
            "participatiewet",
            "Participation services (without benefit)",
            "individual Participation Act services, the benefit apart",
            True,
        ),
        CostLine(
            "collective", "Collective provisions", "preventive (voorliggend) provisions", True
        ),
        CostLine(
            "access",
            "Access conversations, outreach and transition",
            "access and review conversations, outreach, the network programme, a switch's "
            "implementation",
            True,
        ),
        CostLine(
            "external_total",
            "External social-domain cost (all above)",
            "everything above: what the municipality pays from its social-domain budget",
        ),
        CostLine(
            BENEFIT_LINE,
            "Social-assistance benefit (national BUIG budget)",
            "entitlements (billing kind 'entitlement'): paid from a national budget",
        ),
        CostLine(
            "budget_rule",
            "Of which the budget rule's effect",
            "external cost with the budget rule minus without it, on the same seed",
        ),
    )
}


def declared(result) -> tuple[dict[str, CostLine], dict[str, Outcome]]:
    """The cost lines and outcomes of a run: the built-in ones and those its processes declare
    (a :class:`~vraagvolgend.month.Process` lists them in its ``outputs``)."""
    lines, outcomes = dict(COST_LINES), dict(OUTCOMES)
    for item in getattr(result, "process_outputs", ()):
        target = lines if isinstance(item, CostLine) else outcomes
        if item.name in target:
            raise ValueError(f"a process declares the output {item.name!r} twice or anew")
        target[item.name] = item
    return lines, outcomes


def added_by(processes) -> tuple[list[str], list[str]]:
    """The summary keys that processes add: their cost lines (``cost_<name>``) and outcomes."""
    items = [o for p in processes or () for o in getattr(p, "outputs", ())]
    lines = [f"cost_{o.name}" for o in items if isinstance(o, CostLine)]
    return lines, [o.name for o in items if not isinstance(o, CostLine)]


def entitlements(scenario) -> frozenset[str]:
    """Names of the provisions billed as entitlements (the benefit), by their billing kind."""
    catalogue = scenario.provisions
    routing = catalogue.routing()
    return frozenset(catalogue.names[i] for i in routing.entitlements)


def text_values(column: pd.Series) -> np.ndarray:
    """A column of names as an array of Python strings (a categorical through its few
    categories: converting every row to text is what took the time)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        names = np.asarray(column.cat.categories.astype(str), dtype=object)
        codes = column.cat.codes.to_numpy()
        return np.where(codes >= 0, names[np.maximum(codes, 0)], None)
    return column.astype(str).to_numpy(dtype=object)


def recode(values, codes: np.ndarray, categories: list) -> pd.Categorical:
    """``pd.Categorical(values[codes], categories)`` made from codes: each of the few
    ``values`` is looked up once, not every row. A value not among the categories, or a code
    −1, is missing."""
    lookup = np.array([categories.index(v) if v in categories else -1 for v in values] + [-1])
    return pd.Categorical.from_codes(lookup[codes], categories=categories)  # −1 reads the −1


def is_entitlement(provisions: pd.Series, scenario) -> np.ndarray:
    """Which rows of a ``provision`` column are entitlements (the benefit)."""
    return np.isin(text_values(provisions), list(entitlements(scenario)))


def annual_costs(result) -> pd.DataFrame:
    """Cost per year and line (columns ``year``, ``line``, ``cost_eur``): each law's
    provisions, ``collective``, ``access``, the entitlements on the benefit line, and the
    lines the run's processes book (from their monthly reporters)."""
    costs = result.costs
    is_benefit = is_entitlement(costs["provision"], result.scenario)
    line = np.where(is_benefit, BENEFIT_LINE, text_values(costs["law"]))
    out = costs.assign(line=line).groupby(["year", "line"], as_index=False)["cost_eur"].sum()
    booked = [o for o in getattr(result, "process_outputs", ()) if isinstance(o, CostLine)]
    if booked:
        m = result.monthly[result.monthly["month"] >= 1]
        year = m["month"].map(year_of)
        extra = [
            pd.DataFrame(
                {"year": years.index, "line": o.name, "cost_eur": years.to_numpy(dtype=float)}
            )
            for o in booked
            for years in [m[o.reporter].groupby(year).sum()]
        ]
        out = pd.concat([out, *extra], ignore_index=True)
    return out


@dataclass(frozen=True)
class Outcome:
    """An outcome: one definition, read by every table, plot and analysis.

    Attributes:
        name: Its key.
        label: What a person reads.
        unit: Its unit in words.
        better: ``"lower"``, ``"higher"`` or ``None`` (a level, neither better nor worse).
        format: ``"share"`` (shown as a percentage) or ``"number"``.
        decimals: Decimals shown.
        per_year: Its value in each year of a result (a Series indexed by year 1, 2, …).
        count: Whether it counts something (never negative).
    """

    name: str
    label: str
    unit: str
    better: str | None
    format: str
    decimals: int
    per_year: Callable[[object], pd.Series]
    count: bool = False

    @property
    def bounds(self) -> tuple[float, float]:
        """The values it can take: an interval of its mean is clipped to them."""
        if self.format == "share" or self.unit == "0–1 scale":
            return 0.0, 1.0
        return 0.0, float("inf")  # counts and rates are never negative

    def text(self, x: float, signed: bool = False) -> str:
        """One value as a person reads it: a share as a percentage, a number with the
        outcome's decimals."""
        from .vocabulary import format_number

        if not np.isfinite(x):
            return "–"
        if self.format == "share":
            return f"{100 * x:{'+' if signed else ''},.{self.decimals}f}%"
        text = format_number(x, self.decimals)
        return ("+" + text) if signed and not text.startswith("-") and text != "0" else text

    def value(self, result) -> float:
        """Its value over the horizon: the mean over the years (see the module's note)."""
        values = self.per_year(result).to_numpy(dtype=float)
        return float(values.mean()) if len(values) else float("nan")


def _indicator(name: str) -> Callable:
    def per_year(result) -> pd.Series:
        return result.indicators().set_index("year")[name]

    return per_year


def monthly(name: str, how: str = "mean") -> Callable:
    """An outcome's ``per_year`` from a column of the ``monthly`` table (a process's reporter
    included): its mean (``how="mean"``) or sum (``"sum"``) over each year's months."""

    def per_year(result) -> pd.Series:
        m = result.monthly
        m = m[m["month"] >= 1]
        return m.groupby(m["month"].map(year_of))[name].agg(how)

    return per_year


#: The primary outcome: whether households are better or worse off is read from it.
PRIMARY = "mean_severity"

OUTCOMES: dict[str, Outcome] = {
    o.name: o
    for o in (
        Outcome(
            "mean_severity",
            "Mean problem severity (0–1), year ends",
            "0–1 scale",
            "lower",
            "number",
            3,
            _indicator("mean_severity"),
        ),
        Outcome(
            "share_3plus_problems",
            "Households with 3+ problems, year ends",
            "share",
            "lower",
            "share",
            1,
            _indicator("share_3plus_problems"),
        ),
        Outcome(
            "youth_care_share",
            "Young people with youth care",
            "share",
            None,
            "share",
            1,
            _indicator("youth_care_share"),
        ),
        Outcome(
            "wmo_clients_per_1000",
            "Wmo clients per 1,000 inhabitants",
            "per 1,000",
            None,
            "number",
            1,
            _indicator("wmo_clients_per_1000"),
        ),
        Outcome(
            "social_assistance_share",
            "Households on social assistance",
            "share",
            None,
            "share",
            1,
            _indicator("social_assistance_share"),
        ),
        Outcome(
            "hidden_need",
            "Households with hidden need (monthly mean)",
            "households",
            "lower",
            "number",
            0,
            monthly("hidden_need", "mean"),
            count=True,
        ),
        Outcome(
            "waiting_list",
            "Places on waiting lists (monthly mean)",
            "places",
            "lower",
            "number",
            0,
            monthly("waiting_list", "mean"),
            count=True,
        ),
        Outcome(
            "carers_under_strain",
            "Carers under strain (monthly mean)",
            "households",
            "lower",
            "number",
            0,
            monthly("carers_under_strain", "mean"),
            count=True,
        ),
        Outcome(
            "escalations_residential",
            "Escalations to residential care per year",
            "per year",
            "lower",
            "number",
            0,
            monthly("escalations_residential", "sum"),
            count=True,
        ),
    )
}


def outcomes_per_year(result) -> pd.DataFrame:
    """Every outcome per year (one row per year, one column per outcome)."""
    columns = {name: o.per_year(result) for name, o in declared(result)[1].items()}
    frame = pd.DataFrame(columns)
    frame.index.name = "year"
    return frame.reset_index()


def summarise(result) -> dict[str, float]:
    """One run in numbers: the mean annual cost per cost line (``cost_<line>``) and every
    outcome's value over the horizon."""
    yearly = annual_costs(result)
    years = max(yearly["year"].nunique(), 1)
    by_line = yearly.groupby("line")["cost_eur"].sum() / years
    lines, outcomes = declared(result)
    out = {}
    for name, line in lines.items():
        if line.in_total or line.reporter is not None or name == BENEFIT_LINE:
            out[f"cost_{name}"] = float(by_line.get(name, 0.0))
    # the external total: every line in it, a process's included
    out["cost_external_total"] = float(
        sum(out[f"cost_{n}"] for n, line in lines.items() if line.in_total)
    )
    ordered = {f"cost_{n}": out[f"cost_{n}"] for n in lines if f"cost_{n}" in out}
    for name, outcome in outcomes.items():
        ordered[name] = outcome.value(result)
    return ordered


assert set(LAWS) <= set(COST_LINES), "every law has a cost line"
