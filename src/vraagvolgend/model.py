"""The Mesa model of one municipality: households as columns, one step per month.

:class:`MunicipalityModel` is a ``mesa.Model`` (Mesa 3.5: ``rng=``, ``model.time``,
``run_for``). Its households live in numpy arrays, so a month is a short sequence of vectorised
processes; read :meth:`MunicipalityModel.step` from top to bottom to follow one month.
"""

from __future__ import annotations

import copy
from functools import partial

import mesa
import numpy as np

from .access import Gatekeeper
from .allocation import Allocation
from .assistance import SocialAssistance
from .billing import Billing
from .budget import Budgeting
from .care import CareSystem
from .domains import DOMAINS, domain_index
from .effects import CareEffectsProcess
from .episodes import Episodes
from .events import LifeEvents
from .financing import resolve_policy
from .households import HouseholdView, build_households
from .month import MonthState, Pipeline, Process
from .network import build_network
from .problems import ProblemDynamics
from .reviews import Reviews
from .rng import SeedLike, Streams, as_seed_sequence
from .scenario import Scenario
from .strain import CarerStrain
from .support import InformalSupport

__all__ = ["CARE_PROCESSES", "PROCESSES", "MonthlyCollector", "MunicipalityModel"]

#: The month, in order: every process reads the state at the start of the month; the care
#: processes (marked) run only when there is formal care. This list is the one place the order
#: is declared; ``model.pipeline.plan()`` shows it with the time each process took.
PROCESSES: tuple[type[Process], ...] = (
    LifeEvents,  # 1. life events strike (applied at the end of the month)
    Gatekeeper,  # 2. access: needs, help-seeking, the regime's choice, the offer  [care]
    Allocation,  # 3. capacity, waiting lists, admission  [care]
    Episodes,  # 4. new episodes and flexible-budget solutions  [care]
    Billing,  # 5. this month's costs per episode and cost line  [care]
    CareEffectsProcess,  # 6. what running care does to this month's problems  [care]
    InformalSupport,  # 7. informal support over the network
    ProblemDynamics,  # 8. onset, recovery, escalation; life events add their severity
    CarerStrain,  # 9. carers' strain builds or fades
    Reviews,  # 10. episodes age, escalate, are reviewed: end, renew or prolong  [care]
    SocialAssistance,  # 11. entitlements follow the work domain  [care]
    Budgeting,  # 12. costs booked; at a year end the budget rule  [care]
)
CARE_PROCESSES = frozenset(
    {
        Gatekeeper,
        Allocation,
        Episodes,
        Billing,
        CareEffectsProcess,
        Reviews,
        SocialAssistance,
        Budgeting,
    }
)

ZRM2 = np.float32(0.6)  # severity from which a domain reads as ZRM level 2 or worse


def _aggregate(model: MunicipalityModel, name: str):
    return model.aggregates[name]


#: Values Mesa's deep copy would return unchanged: appended as they are.
_ATOMIC = frozenset({int, float, bool, str})


# The monthly table's census columns, per domain and per number of active problems
_MEAN_SEVERITY = tuple(f"mean_severity_{d}" for d in DOMAINS)
_SHARE_ZRM_LE2 = tuple(f"share_zrm_le2_{d}" for d in DOMAINS)
_STACKED = tuple(f"households_{label}_problems" for label in ("0", "1", "2", "3plus"))


class MonthlyCollector(mesa.DataCollector):
    """Mesa's ``DataCollector`` of the monthly aggregates (one model reporter per aggregate).

    Its ``collect`` appends ``model.aggregates`` straight to the columns: Mesa's calls one
    reporter per column and deep-copies each value, a fixed cost every month that costs more
    than the month's census. The table is the same. With reporters of one's own added,
    Mesa's ``collect`` runs as usual.

    Args:
        names: The aggregates' names (the ``monthly`` table's columns).
    """

    def __init__(self, names):
        reporters = {name: partial(_aggregate, name=name) for name in names}
        super().__init__(model_reporters=reporters)
        self._reporters, self._names = dict(reporters), tuple(reporters)

    def collect(self, model):
        if (
            self.agent_reporters
            or self.agenttype_reporters
            or self.model_reporters != self._reporters
        ):
            return super().collect(model)
        self._collection_steps.append(model.time)
        self._validated = True
        values, columns = model.aggregates, self.model_vars
        for name in self._names:
            v = values[name]
            columns[name].append(v if type(v) in _ATOMIC else copy.deepcopy(v))


class MunicipalityModel(mesa.Model):
    """A synthetic municipality whose households' problems evolve month by month.

    Building the model draws the population and the network and runs the scenario's burn-in,
    so that month 1 starts near the steady state. ``model.time`` counts months after burn-in.

    Args:
        scenario: The municipality; ``None`` for :meth:`Scenario.default`.
        policy: Formal care and its financing: a :class:`~vraagvolgend.financing.Policy`, a
            :class:`~vraagvolgend.financing.PolicySwitch` or a name (``"supply-driven"``, the
            default, or ``"demand-driven"``); only an explicit ``None`` means no formal care.
        rng: The run's seed (int or ``numpy.random.SeedSequence``). Every random draw comes
            from a per-process stream derived from it.
        processes: Processes of your own (:class:`~vraagvolgend.month.Process`), each inserted
            after the process its ``after`` names (``model.pipeline.plan()`` shows the order).

    Attributes:
        pipeline: The month's processes in order, with their timings.
        last_month: The :class:`~vraagvolgend.month.MonthState` of the last month simulated.

    Example:
        >>> import vraagvolgend as vv
        >>> m = vv.MunicipalityModel(vv.Scenario.default().with_changes(n_households=500), rng=3)
        >>> m.run_for(12)
        >>> int(m.time), len(m.datacollector.get_model_vars_dataframe())
        (12, 12)
    """

    def __init__(
        self,
        scenario: Scenario | None = None,
        policy="supply-driven",
        *,
        rng: SeedLike = None,
        processes: list[Process] | None = None,
    ):
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
        self.care = (
            None if policy is None else CareSystem(scenario, self.households, policy, self.streams)
        )
        self.pipeline = Pipeline(
            [p() for p in PROCESSES if policy is not None or p not in CARE_PROCESSES]
        )
        for process in processes or ():
            self.pipeline.insert(process)
        self.pipeline.init(self)
        self.problems: ProblemDynamics = self.pipeline["problem_dynamics"]
        self._use_severity(self.problems.initial_severity(self.streams["initial"]))
        self.strain = np.zeros(self.households.n, dtype=np.float32)
        # Households a domain can apply to (parenting: those with children), for the census
        self._eligible = np.full(len(DOMAINS), self.households.n, dtype=float)
        self._eligible[domain_index("parenting")] = max(
            np.count_nonzero(self.households.has_children), 1
        )
        self.snapshots: dict[int, np.ndarray] = {}

        # Burn-in months are numbered −burn_in + 1 … 0; their costs are not booked.
        for month in range(1 - scenario.burn_in_months, 1):
            self._advance_month(month)

        self.aggregates: dict[str, float] = self._measure()
        self.datacollector = MonthlyCollector(self.aggregates)

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
    def support(self) -> InformalSupport:
        """The informal-support process (its ``flow`` computes a month's support)."""
        return self.pipeline["informal_support"]

    @property
    def month(self) -> int:
        """Months simulated after burn-in (``model.time`` as an int)."""
        return int(self.time)

    def fork(self, policy=...) -> MunicipalityModel:
        """An independent copy of the whole model, to continue on its own.

        Everything is copied: households, network, problems, care (episodes, waiting lists,
        ledger, budget), the random streams' states and the state of every process, a user's
        included. Continuing the copy gives exactly what continuing this model would: running
        12 months, forking and running 12 more is bit-identical to running 24.

        Args:
            policy: Continue the copy under another policy (or switch) instead: the same
                municipality, from the same state, under other financing. Episodes running at
                the fork keep their indication and their months to the next review; from that
                review on, the new policy's rules decide (re-indication at the next review, an
                assumption). Care cannot be added to or removed from a model (``None`` to or
                from a policy).

        Example:
            >>> import vraagvolgend as vv
            >>> s = vv.Scenario.default().with_changes(n_households=300, burn_in_months=12)
            >>> today = vv.MunicipalityModel(s, "supply-driven", rng=1)
            >>> demand = today.fork("demand-driven")
            >>> demand.care.policy.name, today.care.policy.name
            ('demand-driven', 'supply-driven')
        """
        twin = copy.deepcopy(self)
        if policy is not ...:
            twin._adopt(resolve_policy(policy))
        return twin

    def set_budget(self, per_inhabitant: dict[str, float]) -> None:
        """Set the municipality's annual budget per inhabitant and law (EUR), as from now.

        The scenario the model reports (``model.params``) says the same.
        """
        self.params = self.params.with_changes({"budget.per_inhabitant": per_inhabitant})
        if self.care is not None:
            people = self.households.n_inhabitants
            self.care.budget.set_annual({law: v * people for law, v in per_inhabitant.items()})

    def _adopt(self, policy) -> None:
        if (policy is None) != (self.care is None):
            raise ValueError(
                "a fork cannot add or remove formal care: fork a model built with care (or "
                "without) for a policy with care (or without)"
            )
        self.policy = policy
        if policy is not None:
            self.care.adopt(policy)

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
        # Every process reads the state at the start of the month (a synchronous update) and
        # puts what it produces on the month's state; the month ends by committing the new
        # severity and strain.
        state = MonthState(
            month=month,
            severity=self._severity,
            problems=self._state,
            strain=self.strain,
            policy=self.care.levers(month) if self.care is not None else None,
        )
        # Last month's state is let go first, so that its arrays are not held during this one
        self.last_month = None
        self.pipeline.step(state)
        self.strain = state.strain_end
        self._use_severity(state.severity_end)
        self.last_month = state

    def _collect(self) -> None:
        self.aggregates = self._measure()
        self.datacollector.collect(self)

    def _measure(self) -> dict[str, float]:
        """The monthly aggregates (one row of the ``monthly`` table): the state's census,
        then what each process reports."""
        s = self.severity
        h = self.households
        eligible = self._eligible
        state = self._state  # ZRM ≤ 2 problems are among the active ones
        k = state.n_active
        stacked = [np.count_nonzero(k == x) for x in (0, 1, 2)]  # faster than bool sums
        stacked.append(h.n - sum(stacked))
        mean_sev = s.sum(axis=1) / eligible  # float32 pairwise sums: ample for a mean
        # Severe active entries per domain, counted in one call
        severe = state.active_domain[state.active_severity >= ZRM2]
        zrm_le2 = np.bincount(severe, minlength=len(DOMAINS)) / eligible
        agg = {"month": self.month}
        # The columns' names made once; tolist gives the same Python floats as float()
        means, shares = mean_sev.tolist(), zrm_le2.tolist()
        for mean_name, share_name, mean, share in zip(
            _MEAN_SEVERITY, _SHARE_ZRM_LE2, means, shares, strict=True
        ):
            agg[mean_name] = mean
            agg[share_name] = share
        agg.update(zip(_STACKED, map(int, stacked), strict=True))
        agg.update(self.pipeline.reporters())
        return agg
