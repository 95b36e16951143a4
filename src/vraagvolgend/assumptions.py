"""The table of assumptions: every parameter in which the regimes differ, every price and every
parameter that moves the answer, with its value in each regime, its plausible range and its
source (``docs/assumptions.md`` is generated from it by ``scripts/write_assumptions.py``)."""

from __future__ import annotations

from .financing import Policy, _flat
from .regimes import DemandDriven, SupplyDriven

__all__ = ["assumptions_markdown", "assumptions_table"]


# the table ------------------------------------------------------------------


def _range_text(plausible) -> str:
    if plausible is None:
        return ""
    low, high = plausible
    if isinstance(low, str):
        return f"{low} or {high}"
    return f"{low:g}–{high:g}"


def _value_text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def assumptions_table(supply: Policy | None = None, demand: Policy | None = None, scenario=None):
    """The regimes' assumptions: every parameter declared with a plausible range.

    One row per parameter in which ``supply`` and ``demand`` differ, per price or cost
    parameter, and per other parameter declared with a plausible range (those that move the
    default difference): its value under each regime, the plausible range and why, and the
    source of the default. A differing parameter declared without a range is listed with an
    empty range, so that a test can find it.

    Args:
        supply: The supply-driven policy (default :class:`SupplyDriven`).
        demand: The demand-driven policy (default :class:`DemandDriven`).
        scenario: The scenario whose price parameters are listed (default: the embedded one).

    Returns:
        A DataFrame: ``parameter``, ``supply_driven``, ``demand_driven``, ``range``, ``why``,
        ``source``, ``differs``.
    """
    import pandas as pd

    from .scenario import Scenario

    supply = SupplyDriven() if supply is None else supply
    demand = DemandDriven() if demand is None else demand
    scenario = Scenario.default() if scenario is None else scenario
    mine = {r["parameter"]: r for r in supply.assumptions()}
    theirs = {r["parameter"]: r for r in demand.assumptions()}
    differing = [k for k in demand.changes_from(supply) if k not in ("name", "regime")]
    sources = {r["parameter"]: r["source"] for r in supply.provenance()}
    sources_dd = {r["parameter"]: r["source"] for r in demand.provenance()}
    a, b = _flat(supply.to_dict()), _flat(demand.to_dict())
    rows = []
    for key in dict.fromkeys([*differing, *mine, *theirs]):
        ra, rb = mine.get(key), theirs.get(key)
        ranges = {_range_text(r["plausible"]) for r in (ra, rb) if r is not None}
        whys = [r["why"] for r in (ra, rb) if r is not None]
        if len(ranges) > 1:  # each regime declares its own range
            range_text = "; ".join(
                f"{label}: {_range_text(r['plausible'])}"
                for label, r in (("supply-driven", ra), ("demand-driven", rb))
                if r is not None
            )
            why = "; ".join(
                f"{label}: {r['why']}"
                for label, r in (("supply-driven", ra), ("demand-driven", rb))
                if r is not None
            )
        else:
            range_text = ranges.pop() if ranges else ""
            why = whys[0] if whys else ""
        source_a, source_b = sources.get(key), sources_dd.get(key)
        source = (
            source_a or source_b
            if source_a == source_b or not (source_a and source_b)
            else f"supply-driven: {source_a}; demand-driven: {source_b}"
        )
        rows.append(
            {
                "parameter": key,
                "supply_driven": _value_text(a.get(key)),
                "demand_driven": _value_text(b.get(key)),
                "range": range_text,
                "why": why,
                "source": source or "",
                "differs": key in differing,
            }
        )
    for r in scenario.assumptions():
        rows.append(
            {
                "parameter": r["parameter"],
                "supply_driven": _value_text(r["value"]),
                "demand_driven": _value_text(r["value"]),
                "range": _range_text(r["plausible"]),
                "why": r["why"],
                "source": r["source"],
                "differs": False,
            }
        )
    return pd.DataFrame(rows)


def assumptions_markdown(table=None) -> str:
    """The table of assumptions as the Markdown of ``docs/assumptions.md``."""
    table = assumptions_table() if table is None else table

    def cell(text) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = [
        "# The regimes' assumptions",
        "",
        "Generated by `scripts/write_assumptions.py` from the parameter declarations "
        "(`plausible`, `plausible_why` in `param()`; a provision's `cost_range`); do not edit by "
        "hand. Every parameter in which `SupplyDriven()` and `DemandDriven()` differ, every "
        "price, and the other parameters that move the default difference, each with the "
        "value under each regime, a plausible range with its reason, and the source of the "
        "default. The ranges are what the evidence supports, not the validation bounds; the "
        "uncertainty analysis samples them.",
        "",
        "| parameter | supply-driven | demand-driven | range | why this range | source of the "
        "default |",
        "|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        name = f"**{r.parameter}**" if r.differs else r.parameter
        lines.append(
            f"| {cell(name)} | {cell(r.supply_driven)} | {cell(r.demand_driven)} | "
            f"{cell(r.range)} | {cell(r.why)} | {cell(r.source)} |"
        )
    lines += ["", "Parameters in bold differ between the two regimes.", ""]
    return "\n".join(lines)
