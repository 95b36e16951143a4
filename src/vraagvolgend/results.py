"""The result of a run: tidy tables built from the model's arrays on first use."""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from .domains import DOMAINS, domain_index, zrm_level
from .households import Households
from .scenario import Scenario

__all__ = ["Result"]


class Result:
    """What one run produced.

    Attributes:
        scenario: The scenario that was run.
        policy: The policy (``None``: no formal care).
        seed: The run's seed.
        months: Number of months simulated after burn-in.

    Tables (pandas DataFrames, built on first access):
        households: ``household_id``, ``household_type``, ``n_persons``, ``n_children``,
            ``income_quintile``, ``neighbourhood`` (and the latent ``vulnerability``).
        problems: one row per household, applicable domain and year end: ``household_id``,
            ``year``, ``domain``, ``severity``, ``zrm_level``. The parenting domain appears only
            for households with children.
        monthly: one row per month with the aggregates: ``mean_severity_<domain>`` and
            ``share_zrm_le2_<domain>`` (parenting over households with children),
            ``households_{0,1,2,3plus}_problems``, ``informal_support_given``,
            ``households_supported``, ``carers_under_strain``, ``new_problems``, ``recoveries``
            and ``events_<life event>``.
    """

    def __init__(
        self,
        *,
        scenario: Scenario,
        policy,
        seed,
        months: int,
        households: Households,
        snapshots: dict[int, np.ndarray],
        monthly: pd.DataFrame,
    ):
        self.scenario = scenario
        self.policy = policy
        self.seed = seed
        self.months = months
        self._households = households
        self._snapshots = snapshots
        self.monthly = monthly

    @cached_property
    def households(self) -> pd.DataFrame:
        return self._households.to_frame()

    @cached_property
    def problems(self) -> pd.DataFrame:
        h = self._households
        parenting = domain_index("parenting")
        frames = []
        for year, severity in sorted(self._snapshots.items()):
            for d, name in enumerate(DOMAINS):
                ids = np.flatnonzero(h.has_children) if d == parenting else np.arange(h.n)
                sev = severity[d, ids]
                frames.append(
                    pd.DataFrame(
                        {
                            "household_id": ids,
                            "year": np.int16(year),
                            "domain": name,
                            "severity": sev,
                            "zrm_level": zrm_level(sev),
                        }
                    )
                )
        columns = ["household_id", "year", "domain", "severity", "zrm_level"]
        if not frames:
            return pd.DataFrame(columns=columns)
        out = pd.concat(frames, ignore_index=True)
        out["domain"] = pd.Categorical(out["domain"], categories=list(DOMAINS))
        return out.sort_values(["household_id", "year", "domain"], ignore_index=True)[columns]

    def prevalence(self) -> pd.DataFrame:
        """Share of (eligible) households per domain at each ZRM level, by year end."""
        p = self.problems
        table = pd.crosstab([p["year"], p["domain"]], p["zrm_level"], normalize="index")
        return table.rename(columns=lambda z: f"zrm_{z}")

    def active_problems(self, year: int | None = None) -> np.ndarray:
        """Number of active problems per household at a year end (default: the last one)."""
        if not self._snapshots:
            raise ValueError("the run was shorter than a year: there is no year-end state")
        year = max(self._snapshots) if year is None else year
        if year not in self._snapshots:
            raise ValueError(f"year {year} is not available: years {sorted(self._snapshots)}")
        threshold = np.float32(self.scenario.problems.threshold)
        return (self._snapshots[year] >= threshold).sum(axis=0)

    def stacking(self, by: str | None = None, year: int | None = None) -> pd.DataFrame:
        """Share of households with 0, 1, 2 and 3+ active problems at a year end.

        Args:
            by: Optional column of :attr:`households` to break down by (e.g.
                ``"household_type"``, ``"income_quintile"``, ``"neighbourhood"``).
            year: Year end (default: the last).

        Example:
            >>> import vraagvolgend as vv
            >>> r = vv.run(vv.Scenario.default().with_changes(n_households=300), months=12)
            >>> list(r.stacking().columns)
            ['0', '1', '2', '3+']
        """
        n = np.minimum(self.active_problems(year), 3)
        labels = pd.Categorical.from_codes(n, categories=["0", "1", "2", "3+"])
        if by is None:
            shares = pd.Series(labels).value_counts(normalize=True, sort=False)
            return shares.to_frame().T.reset_index(drop=True).rename_axis(columns=None)
        if by not in self.households.columns:
            raise ValueError(
                f"by={by!r} is not a household column: {list(self.households.columns)}"
            )
        table = pd.crosstab(self.households[by], labels, normalize="index", dropna=False)
        return table.rename_axis(columns=None)

    def __repr__(self) -> str:
        return (
            f"<Result {self.scenario.name!r}: {self._households.n} households, "
            f"{self.months} months, seed {self.seed}, policy {self.policy!r}>"
        )
