"""One municipality month by month, with the monthly history the dashboard shows.

The model keeps year-end severity snapshots only; :class:`MonthlyHistory` steps the model and
records, after every month, the aggregates (``model.aggregates``) and every household's
severity, so that the household inspector can show a household's problems month by month. It
reads the model through its public surface only (``MunicipalityModel(scenario, policy,
rng=)``, ``step()``, ``severity``, ``aggregates``, ``household(i)``) and the episodes through
a :class:`~vraagvolgend.results.Result` of the model so far, and reads both defensively.

Example:
    >>> import vraagvolgend as vv
    >>> s = vv.Scenario.default().with_changes(n_households=200, burn_in_months=3)
    >>> h = MonthlyHistory(s, "supply-driven", seed=1)
    >>> h.step(3)
    >>> h.month, len(h.frame()), h.household_problems(0).shape
    (3, 4, (4, 7))
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd

from ..domains import DOMAINS
from ..model import MunicipalityModel

__all__ = ["LAWS", "MonthlyHistory"]

LAWS = ("jeugdwet", "wmo", "participatiewet", "collective", "access")
#: Severity history is kept as float16 up to this many bytes; older months are dropped.
MAX_HISTORY_BYTES = 256 * 2**20


class MonthlyHistory:
    """A model run month by month, with its monthly history.

    Args:
        scenario: The municipality.
        policy: The policy (or a name; ``None`` for no formal care).
        seed: The run's seed.
    """

    def __init__(self, scenario, policy, seed: int = 0):
        self.model = MunicipalityModel(scenario, policy, rng=seed)
        self.seed = seed
        self.scenario = scenario
        self.policy = policy
        self.rows: list[dict] = []
        self.severity: dict[int, np.ndarray] = {}
        # The dashboard steps in one thread and draws in another: one lock for both.
        self.lock = threading.RLock()
        self._record()

    @property
    def month(self) -> int:
        """Months simulated after burn-in."""
        return int(getattr(self.model, "month", getattr(self.model, "steps", 0)))

    @property
    def n_households(self) -> int:
        return int(np.asarray(self.model.severity).shape[1])

    def step(self, months: int = 1) -> None:
        """Advance the model and record each month."""
        for _ in range(months):
            with self.lock:
                self.model.step()
                self._record()

    def _record(self) -> None:
        row = {"month": self.month}
        row.update({k: v for k, v in dict(self.model.aggregates).items() if k != "month"})
        row.update(self._costs_so_far())
        self.rows.append(row)
        severity = np.asarray(self.model.severity, dtype=np.float16)
        self.severity[self.month] = severity
        while len(self.severity) * severity.nbytes > MAX_HISTORY_BYTES and len(self.severity) > 1:
            del self.severity[min(self.severity)]

    def _costs_so_far(self) -> dict[str, float]:
        """Cost per law booked since month 1, the social-assistance benefit on its own line
        (from the run's ``costs`` table; empty when it cannot be read)."""
        result = self.result() if self.month >= 1 else None
        if result is None:
            return {}
        try:
            costs = result.costs
            benefit = costs["provision"] == "benefit"
            by_law = costs[~benefit].groupby("law")["cost_eur"].sum()
        except (AttributeError, KeyError, TypeError):
            return {}
        out = {f"cumulative_cost_{law}": float(by_law.get(law, 0.0)) for law in LAWS}
        out["cumulative_cost_benefit"] = float(costs.loc[benefit, "cost_eur"].sum())
        return out

    def frame(self) -> pd.DataFrame:
        """One row per month (month 0 is the end of burn-in): the model's aggregates, plus
        ``cumulative_cost_<law>`` (EUR booked since month 1, burn-in not booked; the
        social-assistance benefit apart as ``cumulative_cost_benefit``)."""
        with self.lock:
            f = pd.DataFrame(list(self.rows))
        for law in (*LAWS, "benefit"):
            col = f"cumulative_cost_{law}"
            if col in f.columns:
                f[col] = f[col].fillna(0.0)
            else:  # fall back on the monthly aggregates (the benefit then in its law)
                monthly = f.get(f"cost_{law}", pd.Series(0.0, index=f.index))
                f[col] = monthly.where(f["month"] >= 1, 0.0).fillna(0.0).cumsum()
        for col in (
            "households_0_problems",
            "households_1_problems",
            "households_2_problems",
            "households_3plus_problems",
            "waiting_list",
            "carers_under_strain",
            *(f"served_{law}" for law in LAWS[:4]),
        ):
            if col not in f.columns:
                f[col] = 0
        return f

    def household_problems(self, household_id: int) -> pd.DataFrame:
        """Severity (0–1) per month (rows) and domain (columns) of one household."""
        self._check(household_id)
        with self.lock:
            months = sorted(self.severity)
            data = np.array([self.severity[m][:, household_id] for m in months], dtype=float)
        return pd.DataFrame(data, index=pd.Index(months, name="month"), columns=list(DOMAINS))

    def household_episodes(self, household_id: int) -> pd.DataFrame:
        """The household's provision episodes since month 1 (empty without formal care)."""
        self._check(household_id)
        with self.lock:
            result = self.result()
            e = None if result is None else result.episodes
        if e is None:
            return pd.DataFrame(
                columns=["provision", "law", "domain", "channel", "start_month", "end_month"]
            )
        return e[e["household_id"] == household_id].reset_index(drop=True)

    def household_info(self, household_id: int) -> dict:
        """Type, persons, income quintile and neighbourhood of one household."""
        self._check(household_id)
        view = self.model.household(household_id)
        out = {}
        for key in ("household_type", "n_persons", "n_children", "income_quintile"):
            out[key] = getattr(view, key, None)
        out["neighbourhood"] = getattr(view, "neighbourhood", None)
        return out

    def result(self):
        """A :class:`~vraagvolgend.results.Result` of the run so far (None without care)."""
        from ..results import Result

        m = self.model
        care = getattr(m, "care", None)
        if care is None:
            return None
        try:
            return Result(
                scenario=getattr(m, "params", self.scenario),
                policy=getattr(care, "policy", self.policy),
                seed=self.seed,
                months=self.month,
                households=m.households,
                snapshots=dict(getattr(m, "snapshots", {})),
                monthly=self.frame(),
                care=care,
            )
        except (AttributeError, TypeError):  # the model's insides changed: no episodes
            return None

    def _check(self, household_id: int) -> None:
        if not 0 <= household_id < self.n_households:
            raise IndexError(
                f"household_id {household_id} is out of range: 0 … {self.n_households - 1}"
            )
