"""Costs, the episode ledger and the annual budget with its rule.

* :class:`EpisodeLedger` keeps every provision episode (household, provision, domain, channel,
  start, end, cost) in growable columnar buffers: no Python object per episode.
* :class:`Budget` keeps the monthly cost per cost line (each provision, its idle capacity, the
  access conversations, outreach and the network programme), the annual budget per law, and
  applies the policy's budget rule at each year end.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

__all__ = ["Budget", "EpisodeLedger"]


class EpisodeLedger:
    """Episodes as growable columns; an episode's id is its row."""

    _COLUMNS: ClassVar[dict[str, type]] = {
        "household": np.int32,
        "provision": np.int16,
        "domain": np.int8,
        "channel": np.int8,
        "start": np.int32,
        "end": np.int32,
        "cost": np.float64,
    }

    def __init__(self, capacity: int = 1024):
        self.n = 0
        self._cols = {k: np.zeros(capacity, dtype=t) for k, t in self._COLUMNS.items()}

    def _grow(self, extra: int) -> None:
        need = self.n + extra
        size = len(self._cols["household"])
        if need <= size:
            return
        new = max(need, 2 * size)
        for k, col in self._cols.items():
            grown = np.zeros(new, dtype=col.dtype)
            grown[: self.n] = col[: self.n]
            self._cols[k] = grown

    def start(self, household, provision, domain, channel, month: int) -> np.ndarray:
        """Open episodes; returns their ids."""
        k = len(household)
        self._grow(k)
        ids = np.arange(self.n, self.n + k, dtype=np.int32)
        c = self._cols
        c["household"][ids] = household
        c["provision"][ids] = provision
        c["domain"][ids] = domain
        c["channel"][ids] = channel
        c["start"][ids] = month
        c["end"][ids] = -(2**31)  # open
        c["cost"][ids] = 0.0
        self.n += k
        return ids

    def end(self, ids: np.ndarray, month: int) -> None:
        self._cols["end"][ids] = month

    def add_cost(self, ids: np.ndarray, amounts: np.ndarray) -> None:
        """Add costs to episodes (``ids`` must be unique within one call)."""
        self._cols["cost"][ids] += amounts

    def column(self, name: str) -> np.ndarray:
        return self._cols[name][: self.n]

    def frame(
        self,
        provision_names,
        provision_laws,
        domain_names,
        channel_names,
        first_month: int = 1,
    ) -> pd.DataFrame:
        """The ``episodes`` table: episodes running at some point from ``first_month`` on."""
        c = {k: v[: self.n] for k, v in self._cols.items()}
        is_open = c["end"] == -(2**31)
        keep = is_open | (c["end"] >= first_month)
        prov = c["provision"][keep]
        end = pd.array(np.where(is_open[keep], 0, c["end"][keep]), dtype="Int32")
        end[is_open[keep]] = pd.NA
        return pd.DataFrame(
            {
                "household_id": c["household"][keep].astype(np.int64),
                "provision": pd.Categorical.from_codes(prov, categories=list(provision_names)),
                "law": pd.Categorical(
                    np.asarray(provision_laws, dtype=object)[prov],
                    categories=["jeugdwet", "wmo", "participatiewet", "collective"],
                ),
                "domain": pd.Categorical.from_codes(
                    c["domain"][keep], categories=list(domain_names)
                ),
                "channel": pd.Categorical.from_codes(
                    c["channel"][keep], categories=list(channel_names)
                ),
                "start_month": c["start"][keep],
                "end_month": end,
                "cost_eur": c["cost"][keep],
            }
        )


class Budget:
    """Monthly costs per cost line, annual budgets per law, and the year-end budget rule.

    Args:
        line_names: Name of each cost line.
        line_laws: Law (or ``access``) of each cost line.
        annual_budget: Annual budget per law for individual provisions (EUR).
    """

    def __init__(self, line_names, line_laws, annual_budget: dict[str, float]):
        self.line_names = list(line_names)
        self.line_laws = np.asarray(line_laws, dtype=object)
        self.annual_budget = dict(annual_budget)
        self._individual = np.isin(self.line_laws, list(annual_budget))
        self.by_year: dict[int, np.ndarray] = {}
        self.year_to_date = np.zeros(len(self.line_names))
        self.records: list[dict] = []

    def add(self, month: int, costs: np.ndarray) -> None:
        """Book one month of costs (only months ≥ 1 count; burn-in is not booked)."""
        if month < 1:
            return
        year = (month - 1) // 12 + 1
        if year not in self.by_year:
            self.by_year[year] = np.zeros(len(self.line_names))
        self.by_year[year] += costs
        self.year_to_date += costs

    def individual_overrun(self, exclude: set[str]) -> bool:
        """Whether this year's individual costs (less ``exclude`` lines) exceed the budget.

        The three laws are taken together, as a municipality's social-domain budget is: an
        overspend on one law that another law's underspend covers is no overrun.
        """
        keep = self._individual & ~np.isin(self.line_names, list(exclude))
        return bool(self.year_to_date[keep].sum() > sum(self.annual_budget.values()))

    def close_year(self, year: int, exclude: set[str]) -> bool:
        """Record budget, spending and deficit per law; return whether individual costs overran."""
        spent = self.year_to_date
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
