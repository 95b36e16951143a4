"""The Mesa model of one municipality: households as columns, one step per month.

:class:`MunicipalityModel` is a ``mesa.Model`` (Mesa 3.5: ``rng=``, ``model.time``,
``run_for``). Its households live in numpy arrays, so a month is a short sequence of vectorised
processes; read :meth:`MunicipalityModel.step` from top to bottom to follow one month.
"""

from __future__ import annotations

from functools import partial

import mesa
import numpy as np

from .care import Care
from .domains import DOMAINS, domain_index
from .financing import resolve_policy
from .households import HouseholdView, build_households
from .network import build_network
from .problems import ProblemDynamics
from .rng import SeedLike, Streams, as_seed_sequence
from .scenario import Scenario
from .support import InformalSupport, SupportFlow

__all__ = ["MunicipalityModel"]

ZRM2 = np.float32(0.6)  # severity from which a domain reads as ZRM level 2 or worse


def _aggregate(model: MunicipalityModel, name: str):
    return model.aggregates[name]


class MunicipalityModel(mesa.Model):
    """A synthetic municipality whose households' problems evolve month by month.

    Building the model draws the population and the network and runs the scenario's burn-in,
    so that month 1 starts near the steady state. ``model.time`` counts months after burn-in.

    Args:
        scenario: The municipality; ``None`` for :meth:`Scenario.default`.
        policy: Formal care and its financing: a :class:`~vraagvolgend.financing.Policy`, a
            :class:`~vraagvolgend.financing.PolicySwitch` or a name (``"supply-driven"``,
            ``"demand-driven"``); ``None`` means no formal care at all.
        rng: The run's seed (int or ``numpy.random.SeedSequence``). Every random draw comes
            from a per-process stream derived from it.

    Example:
        >>> import vraagvolgend as vv
        >>> m = vv.MunicipalityModel(vv.Scenario.default().with_changes(n_households=500), rng=3)
        >>> m.run_for(12)
        >>> int(m.time), len(m.datacollector.get_model_vars_dataframe())
        (12, 12)
    """

    def __init__(self, scenario: Scenario | None = None, policy=None, *, rng: SeedLike = None):
        scenario = Scenario.default() if scenario is None else scenario
        if not isinstance(scenario, Scenario):
            raise TypeError(f"scenario must be a vraagvolgend.Scenario, not {type(scenario)!r}")
        policy = resolve_policy(policy)
        seed_sequence = as_seed_sequence(rng)
        super().__init__(rng=int(seed_sequence.generate_state(1)[0]))
        self.params = scenario
        self.policy = policy
        self.streams = Streams(seed_sequence)

        self.households = build_households(scenario, self.streams["population"])
        self.network = build_network(self.households, scenario.network, self.streams["network"])
        self.problems = ProblemDynamics(scenario, self.households, self.streams)
        self.support = InformalSupport(
            scenario.support, self.households, self.network, scenario.problems.threshold
        )
        self.care = (
            None if policy is None else Care(scenario, self.households, policy, self.streams)
        )
        self._use_severity(self.problems.initial_severity(self.streams["initial"]))
        self.strain = np.zeros(self.households.n, dtype=np.float32)
        self.snapshots: dict[int, np.ndarray] = {}
        n = self.households.n
        no_events = np.zeros(len(self.problems.event_names), dtype=np.int64)
        zeros = np.zeros(n, np.float32)
        self._month = (no_events, SupportFlow(zeros, zeros), 0, 0)

        # Burn-in months are numbered −burn_in + 1 … 0; their costs are not booked.
        for month in range(1 - scenario.burn_in_months, 1):
            self._advance_month(month)

        self.aggregates: dict[str, float] = self._measure()
        self.datacollector = mesa.DataCollector(
            model_reporters={name: partial(_aggregate, name=name) for name in self.aggregates}
        )

    @property
    def severity(self) -> np.ndarray:
        """Severity per domain and household, shape (domains, households); read-only.

        To change it (in a custom rule or an experiment), assign a new array:
        ``model.severity = new``; it is validated and copied.
        """
        return self._severity

    @severity.setter
    def severity(self, value) -> None:
        new = np.array(value, dtype=np.float32)
        if new.shape != self._severity.shape:
            raise ValueError(f"severity must have shape {self._severity.shape}, not {new.shape}")
        if not np.isfinite(new).all() or new.min() < 0 or new.max() > 1:
            raise ValueError("severity must lie between 0 and 1")
        self._use_severity(new)

    def _use_severity(self, severity: np.ndarray) -> None:
        # Read-only, so that the state read from it (shared by the month's processes and the
        # data collection) cannot go stale.
        severity.flags.writeable = False
        self._severity = severity
        self._state = self.problems.read(severity)

    @property
    def month(self) -> int:
        """Months simulated after burn-in (``model.time`` as an int)."""
        return int(self.time)

    def household(self, household_id: int) -> HouseholdView:
        """A read-only view of one household."""
        return HouseholdView(self, household_id)

    def step(self) -> None:
        """One month."""
        self._advance_month(self.steps)
        self._collect()
        if (self.steps % 12) == 0:
            self.snapshots[self.steps // 12] = self.severity.copy()

    def _advance_month(self, month: int) -> None:
        # Every process reads the state at the start of the month (a synchronous update).
        start, state = self._severity, self._state
        care = self.care

        # 1. Life events strike several domains at once (applied at the end of the month).
        events = self.problems.life_events(start)

        # 2. Formal care: access, allocation under the policy, new episodes, costs, effects.
        effects = care.begin_month(month, start, state) if care is not None else None

        # 3. Informal support flows over the network (demand-driven plans activate it).
        boost = care.levers(month).network_programme if care is not None else 0.0
        activation = effects.activation if effects is not None else None
        support = self.support.flow(start, state, self.strain, activation, boost)

        # 4. Problems: onset (with spill-over and carer strain), recovery, escalation.
        severity, onsets, recoveries = self.problems.advance(
            start, state, self.strain, support.coverage, effects
        )
        severity = self.problems.finish(severity, events)

        # 5. Givers' strain builds or fades.
        self.strain = self.support.update_strain(self.strain, support.given)
        self._use_severity(severity)

        # 6. Formal care: reviews, renewals, escalations, social assistance, the budget rule.
        if care is not None:
            care.end_month(month, severity)
        self._month = (events.counts, support, onsets, recoveries)

    def _collect(self) -> None:
        self.aggregates = self._measure()
        self.datacollector.collect(self)

    def _measure(self) -> dict[str, float]:
        """The monthly aggregates (one row of the ``monthly`` table)."""
        event_counts, support, onsets, recoveries = self._month
        s = self.severity
        h = self.households
        n_with_children = max(int(h.has_children.sum()), 1)
        eligible = np.full(len(DOMAINS), h.n, dtype=float)
        eligible[domain_index("parenting")] = n_with_children
        state = self._state  # ZRM ≤ 2 problems are among the active ones
        k = state.n_active
        stacked = [int((k == 0).sum()), int((k == 1).sum()), int((k == 2).sum())]
        stacked.append(h.n - sum(stacked))
        mean_sev = s.sum(axis=1) / eligible  # float32 pairwise sums: ample for a mean
        idx = state.active_index
        severe = idx[s.ravel()[idx] >= ZRM2]
        zrm_le2 = np.bincount(severe // h.n, minlength=len(DOMAINS)) / eligible
        agg = {"month": self.month}
        for i, d in enumerate(DOMAINS):
            agg[f"mean_severity_{d}"] = float(mean_sev[i])
            agg[f"share_zrm_le2_{d}"] = float(zrm_le2[i])
        for k, label in enumerate(("0", "1", "2", "3plus")):
            agg[f"households_{label}_problems"] = int(stacked[k])
        agg["informal_support_given"] = float(support.given.sum(dtype=np.float64))
        agg["households_supported"] = int((support.coverage > 0).sum())
        agg["carers_under_strain"] = int((self.strain >= self.params.support.strain_level).sum())
        agg["new_problems"] = onsets
        agg["recoveries"] = recoveries
        for i, name in enumerate(self.problems.event_names):
            agg[f"events_{name}"] = int(event_counts[i])
        if self.care is not None:
            agg.update(self.care.stats)
        return agg
