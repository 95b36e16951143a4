"""The municipality's budget: monthly costs per cost line, annual budgets, and the budget rule.

* :class:`Budget` keeps the monthly cost per cost line (each provision, its idle capacity, the
  access conversations, outreach and the network programme) and the annual budget per law.
* A **budget rule** (a small class, registered by name) says what the municipality does when
  individual costs overrun the budget: :class:`NoRule` (nothing), :class:`CutCollective` (cut
  collective capacity the next year) or :class:`CapIntake` (close intake to individual
  provisions for the rest of the year). A user's own rule subclasses :class:`BudgetRule` and
  registers with :func:`register_budget_rule`.
* :class:`Budgeting` is the month's last process: it books the month's costs and, at a year
  end, closes the year and applies the rule.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from .month import MonthState, Process
from .registry import Registry
from .vocabulary import LAWS, is_year_end

__all__ = [
    "BUDGET_RULES",
    "Budget",
    "BudgetRule",
    "Budgeting",
    "CapIntake",
    "CutCollective",
    "NoRule",
    "register_budget_rule",
]


class Budget:
    """Monthly costs per cost line, annual budgets per law, and the year-end budget rule.

    Args:
        line_names: Name of each cost line.
        line_laws: Law (or ``access``) of each cost line.
        annual_budget: Annual budget per law for individual provisions (EUR).
        excluded: Lines the budget does not count (the entitlements' lines).
    """

    def __init__(
        self, line_names, line_laws, annual_budget: dict[str, float], excluded=("benefit",)
    ):
        self.line_names = list(line_names)
        #: Lines no budget counts: entitlements (the benefit is paid from a national budget).
        self.excluded = set(excluded)
        self.line_laws = np.asarray(line_laws, dtype=object)
        self.set_annual(annual_budget)
        self.by_year: dict[int, np.ndarray] = {}
        self.year_to_date = np.zeros(len(self.line_names))
        self.records: list[dict] = []

    def set_annual(self, annual_budget: dict[str, float]) -> None:
        """Set the annual budget per law (EUR): the lines of those laws are budgeted."""
        self.annual_budget = dict(annual_budget)
        self._individual = np.isin(self.line_laws, list(annual_budget))

    def add(self, month: int, costs: np.ndarray) -> None:
        """Book one month of costs (only months ≥ 1 count; burn-in is not booked)."""
        if month < 1:
            return
        year = (month - 1) // 12 + 1
        if year not in self.by_year:
            self.by_year[year] = np.zeros(len(self.line_names))
        self.by_year[year] += costs
        self.year_to_date += costs

    def individual_overrun(self, exclude: set[str] | None = None) -> bool:
        """Whether this year's individual costs (less ``exclude`` lines) exceed the budget.

        The three laws are taken together, as a municipality's social-domain budget is: an
        overspend on one law that another law's underspend covers is no overrun.
        """
        exclude = self.excluded if exclude is None else exclude
        keep = self._individual & ~np.isin(self.line_names, list(exclude))
        return bool(self.year_to_date[keep].sum() > sum(self.annual_budget.values()))

    def close_year(self, year: int, exclude: set[str] | None = None) -> bool:
        """Record budget, spending and deficit per law; return whether individual costs overran."""
        spent = self.year_to_date
        exclude = self.excluded if exclude is None else exclude
        keep = ~np.isin(self.line_names, list(exclude))
        for law, budget in self.annual_budget.items():
            s = float(spent[(self.line_laws == law) & keep].sum())
            self.records.append(
                {
                    "year": year,
                    "law": law,
                    "budget_eur": budget,
                    "spent_eur": s,
                    "deficit_eur": s - budget,
                }
            )
        overran = self.individual_overrun(exclude)
        self.year_to_date = np.zeros(len(self.line_names))
        return overran

    def frame(self) -> pd.DataFrame:
        """The ``costs`` table: year, law, provision (cost line), cost_eur."""
        rows = []
        for year, costs in sorted(self.by_year.items()):
            for name, law, c in zip(self.line_names, self.line_laws, costs, strict=True):
                rows.append({"year": year, "law": law, "provision": name, "cost_eur": float(c)})
        return pd.DataFrame(rows, columns=["year", "law", "provision", "cost_eur"])


#: Registered budget rules by name.
BUDGET_RULES = Registry("budget rule")


#: Class decorator: register a :class:`BudgetRule` subclass under a name.
register_budget_rule = BUDGET_RULES.register


class BudgetRule:
    """What the municipality does about an overrun of its individual-provision budget.

    Args:
        policy: The policy whose ``budget_cut`` and other levers the rule reads.
    """

    name: ClassVar[str] = "rule"

    def __init__(self, policy):
        self.policy = policy

    def closes_intake(self, budget: Budget) -> bool:
        """Checked every month before admission: close intake to individual provisions?"""
        return False

    def at_year_end(self, care, overran: bool) -> None:
        """Applied at each year end (``overran``: individual costs exceeded the budget)."""


BUDGET_RULES.base = BudgetRule


@register_budget_rule("none")
class NoRule(BudgetRule):
    """Nothing happens: the deficit is paid from reserves."""


@register_budget_rule("cut_collective")
class CutCollective(BudgetRule):
    """After an overrun year, collective capacity is cut by ``budget_cut`` (compounding)."""

    def at_year_end(self, care, overran):
        if overran:
            care.collective_multiplier *= 1 - self.policy.budget_cut


@register_budget_rule("cap")
class CapIntake(BudgetRule):
    """Once this year's individual costs exceed the budget, intake to individual provisions
    closes until the year ends (running episodes continue)."""

    def closes_intake(self, budget):
        return budget.individual_overrun()


class Budgeting(Process):
    """Books the month's costs; at a year end closes the year and applies the budget rule
    (process ``budget``)."""

    name = "budget"

    def init(self, model) -> None:
        super().init(model)
        self.care = model.care
        self.costs = np.zeros(len(self.care.budget.line_names))
        self.multiplier = 1.0
        self.intake_closed = False
        # Each law's cost lines, found once (comparing the object array monthly is slow)
        laws = self.care.budget.line_laws
        self.law_lines = [(f"cost_{law}", np.flatnonzero(laws == law)) for law in (*LAWS, "access")]

    def step(self, state: MonthState) -> None:
        care = self.care
        care.budget.add(state.month, state.costs)
        self.costs = state.costs
        self.multiplier = care.collective_multiplier  # in effect this month
        self.intake_closed = care.intake_closed
        if is_year_end(state.month):
            overran = care.budget.close_year(state.month // 12)
            care.budget_rule(state.month).at_year_end(care, overran)
            care.intake_closed = False

    def reporters(self) -> dict[str, float]:
        out = {
            "collective_capacity_multiplier": self.multiplier,
            "intake_closed": int(self.intake_closed),
        }
        for name, lines in self.law_lines:
            out[name] = float(self.costs[lines].sum())
        return out
