"""The state of formal care that outlives a month: slots, waiting lists, ledger, budget, regimes.

:class:`CareSystem` holds no behaviour of its own beyond looking things up; the month's care
processes (:mod:`~vraagvolgend.access`, :mod:`~vraagvolgend.allocation`,
:mod:`~vraagvolgend.episodes`, :mod:`~vraagvolgend.billing`, :mod:`~vraagvolgend.effects`,
:mod:`~vraagvolgend.reviews`, :mod:`~vraagvolgend.assistance`, :mod:`~vraagvolgend.budget`)
read and change it.

A household has at most one running provision per domain. Running provisions are kept one row
per episode (:class:`Running`): its flat (domain × households) position, household, domain,
provision, months until its end or review, months it has run, months its goal has held, its
intensity, its episode id in the ledger, which regime runs it (``rule``, an index into
``regimes``), whether it is billed at the heavier tariff and whether its need is chronic. Every
care process works on these rows, so no month gathers or scatters population-sized arrays; one
dense map, ``row`` (domains, households), says which row runs at a position (−1: none). The
dense views of the old layout (``slot``, ``left``, ``intensity``, …) are built on demand, for
inspection and tests. The waiting list is kept as (domains, households) arrays and a list of
its positions.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .budget import BUDGET_RULES, Budget, BudgetRule
from .contracts import CONTRACTS, Contract
from .domains import DOMAINS, HOUSEHOLD_TYPES
from .episodes import EpisodeLedger
from .financing import Policy, PolicySwitch
from .households import Households
from .scenario import Scenario
from .vocabulary import LAWS

__all__ = ["EXTRA_LINES", "CareSystem", "Running"]

F32 = np.float32
#: Cost lines besides the provisions and their idle capacity.
EXTRA_LINES = ("conversation", "outreach", "network_programme", "implementation")


class Running:
    """Running provisions, one row per episode, in the order they started.

    The order matters: costs and effects are summed in it, so keeping it keeps the results
    bit for bit. Rows of episodes that ended this month have ``prov`` −1 until
    :meth:`CareSystem.drop_ended` removes them at the month's end.
    """

    COLUMNS: ClassVar[dict[str, type]] = {
        "pos": np.int64,  # flat (domain × households) position
        "hh": np.int64,  # household
        "dom": np.int8,  # domain
        "prov": np.int16,  # provision, −1 once ended
        "left": np.int16,  # months until its end or review
        "months_in": np.int16,  # months it has run
        "goal_months": np.int16,  # months its goal has held without a break
        "intensity": F32,
        "episode": np.int32,  # id in the ledger
        "rule": np.int8,  # index into care.regimes
        "upcoded": bool,  # billed at the heavier tariff
        "chronic": bool,  # a chronic need
    }

    def __init__(self):
        # Each column is a view of the first len(self) entries of a buffer with room to
        # grow, so that starting episodes writes only the new rows (no copy of every column)
        self._size = 0
        self._buffers = {name: np.zeros(0, dtype=dtype) for name, dtype in self.COLUMNS.items()}
        self._expose()

    def _expose(self) -> None:
        for name, buffer in self._buffers.items():
            setattr(self, name, buffer[: self._size])

    def __len__(self) -> int:
        return self._size

    def append(self, **columns) -> None:
        start, k = self._size, len(columns["pos"])
        if start + k > len(self._buffers["pos"]):  # grow: room for as many again
            room = max(start + k, 2 * len(self._buffers["pos"]), 256)
            for name, buffer in self._buffers.items():
                grown = np.zeros(room, dtype=buffer.dtype)
                grown[:start] = buffer[:start]
                self._buffers[name] = grown
        for name, buffer in self._buffers.items():
            buffer[start : start + k] = columns[name]  # casts as astype(dtype) would
        self._size = start + k
        self._expose()

    def keep(self, rows: np.ndarray) -> None:
        """Keep only ``rows`` (indices, in order)."""
        for buffer in self._buffers.values():
            buffer[: len(rows)] = buffer[rows]
        self._size = len(rows)
        self._expose()

    def __getstate__(self) -> dict:
        # The columns only (copies and pickles hold no views, and no spare room)
        return {name: getattr(self, name).copy() for name in self.COLUMNS}

    def __setstate__(self, state: dict) -> None:
        self._buffers = dict(state)
        self._size = len(state["pos"])
        self._expose()


class CareSystem:
    """Formal care of one run: the catalogue, running provisions, waiting lists, money.

    Args:
        scenario: The municipality (access section, provision catalogue).
        households: The population.
        policy: A :class:`~vraagvolgend.financing.Policy` or
            :class:`~vraagvolgend.financing.PolicySwitch`.
        streams: Named random streams; uses ``access``, ``care`` and ``access_setup``.
    """

    def __init__(self, scenario: Scenario, households: Households, policy, streams):
        self.params = scenario.access
        self.threshold = scenario.problems.threshold
        self.households = households

        # The catalogue as arrays, and its routing rules
        cat = scenario.provisions
        self.routing = cat.routing()
        self.names = cat.names
        self.index = {name: i for i, name in enumerate(self.names)}
        arrays = cat.arrays()
        self.law = arrays["law"]
        self.laws = [LAWS[c] for c in self.law]
        # Per provision: its law's offset in a flat (laws × households) array
        self.law_offset = self.law.astype(np.int64) * households.n
        self.collective = self.law == LAWS.index("collective")
        self.effect = arrays["effect"]
        self.mitigation = arrays["mitigation"]
        self.cost_month = arrays["cost_month"]
        # Clients an episode bills for: each child for a provision priced per young person
        self.per_young_person = arrays["per_young_person"]
        self.children = np.maximum(households.n_children, 1).astype(np.float64)
        self.duration = arrays["duration"]
        self.volunteer_share = arrays["volunteer_share"]
        self.billed_individually = self.routing.billed_individually
        self.flex = self.routing.one_off
        self.entitlements = self.routing.entitlements
        self.adopt(policy)

        n, d = households.n, len(DOMAINS)
        self.n = n
        self.base_capacity = arrays["capacity_per_1000"] * n / 1000.0
        self.base_capacity.flags.writeable = False  # capacity() builds on it once per policy

        # Running provisions: one row per episode, and the row at each (domain, household)
        self.run = Running()
        self.row = np.full((d, n), -1, dtype=np.int32)
        # Waiting list, one place per (domain, household)
        self.waiting = np.full((d, n), -1, dtype=np.int16)
        self.wait_since = np.zeros((d, n), dtype=np.int16)
        self.wait_channel = np.zeros((d, n), dtype=np.int8)
        self.waiting_at = np.zeros(0, dtype=np.int64)
        # Entitlements (social assistance): one episode per household and entitlement
        self.entitled = np.full((len(self.entitlements), n), -1, dtype=np.int32)

        # Chronic needs: episodes that no review or reached goal ends while the household is
        # not self-reliant (household help and aids of the oldest households)
        self.chronic_household = np.isin(
            households.household_type, [HOUSEHOLD_TYPES.index(t) for t in self.params.chronic_types]
        )
        self.chronic_domain = np.isin(DOMAINS, self.params.chronic_domains)
        self.chronic_exit = F32(self.params.chronic_exit_severity)

        self.rng_access = streams["access"]
        self.rng_care = streams["care"]
        self.avoider = streams["access_setup"].random(n) < self.params.avoider_share

        # Money: the ledger of episodes, the cost lines and the budget
        self.ledger = EpisodeLedger()
        lines = [*self.names, *(f"{x} (idle capacity)" for x in self.names), *EXTRA_LINES]
        line_laws = [*self.laws, *self.laws, "access", "access", "collective", "access"]
        inhabitants = households.n_inhabitants
        self.budget = Budget(
            lines,
            line_laws,
            {law: v * inhabitants for law, v in scenario.budget.per_inhabitant.items()},
            excluded=[self.names[c] for c in self.entitlements],
        )
        self.collective_multiplier = 1.0
        self.intake_closed = False

    # --- the policy in effect -----------------------------------------------------------------

    def adopt(self, policy) -> None:
        """Put ``policy`` (a policy or a switch) in effect from now on.

        Running episodes keep their slot's rule index, which now points into the new policy's
        regimes: the new rules decide from each episode's next review on. An episode of a
        switch's new way of working (index 1) continues under a single policy as that
        policy's (index 0): it has no other regime.
        """
        regimes = (policy.before, policy.after) if isinstance(policy, PolicySwitch) else (policy,)
        for lever in self.routing.levers:
            for regime in regimes:
                if not isinstance(getattr(regime, lever, None), bool):
                    raise ValueError(
                        f"provisions: lever {lever!r} is not a true/false policy lever"
                    )
        self.policy = policy
        self.regimes: tuple[Policy, ...] = regimes
        running = getattr(self, "run", None)  # none yet when the system is built
        if running is not None and len(running):
            np.minimum(running.rule, len(regimes) - 1, out=running.rule)
        # Per regime (an episode's ``rule``), the lifecycle's parameters, read every month
        self.exit_threshold = np.array([r.exit_threshold for r in regimes], dtype=F32)
        self.end_on_goal = np.array([r.end_on_goal for r in regimes], dtype=bool)
        self.activation = np.array([r.activation() for r in regimes], dtype=F32)
        self.stacking_relief = np.array([r.plan_stacking_relief for r in regimes], dtype=F32)
        self._contract = (None, None)
        self._capacity = (None, None, None)

    def levers(self, month: int) -> Policy:
        """The policy whose contract, levers and budget rule apply in ``month``."""
        if isinstance(self.policy, PolicySwitch):
            return self.policy.policy_at(month)
        return self.policy

    def contract(self, month: int) -> Contract:
        """The contract in effect in ``month``."""
        pol = self.levers(month)
        if self._contract[0] is not pol:  # one per policy: processes may key work on it
            self._contract = (pol, CONTRACTS[pol.contract](pol.contracts))
        return self._contract[1]

    def budget_rule(self, month: int) -> BudgetRule:
        """The budget rule in effect in ``month``."""
        pol = self.levers(month)
        return BUDGET_RULES[pol.budget_rule](pol)

    def share_new(self, month: int) -> float:
        """During a switch: the share of decisions that follow the new policy."""
        return self.policy.share_new(month) if isinstance(self.policy, PolicySwitch) else 0.0

    def rules(self, month: int, u) -> np.ndarray:
        """Which regime decides for each household (1 = the new one, during a switch)."""
        if len(self.regimes) == 1:
            return np.zeros(self.n, dtype=np.int8)
        return (u[:] < self.share_new(month)).astype(np.int8)

    def by_rules(self, rules: np.ndarray, f):
        """Evaluate a regime rule: the first regime's, or the second's where ``rules`` is 1."""
        first = f(self.regimes[0])
        if len(self.regimes) == 1 or not rules.any():
            return first
        return np.where(rules.astype(bool), f(self.regimes[1]), first)

    def capacity(self, month: int) -> np.ndarray:
        """Concurrent places per provision this month (inf where not limited); a new array."""
        pol = self.levers(month)
        # Built once per policy and collective multiplier (all it depends on besides the
        # read-only base capacity: the contract is the policy's), and copied: the caller may
        # change its copy
        pol_, multiplier, cap = self._capacity
        if pol_ is not pol or multiplier != self.collective_multiplier:
            cap = self._build_capacity(month, pol)
            self._capacity = (pol, self.collective_multiplier, cap)
        return cap.copy()

    def _build_capacity(self, month: int, pol: Policy) -> np.ndarray:
        cap = np.full(len(self.names), np.inf)
        cap[self.collective] = (
            self.base_capacity[self.collective]
            * pol.collective_capacity
            * self.collective_multiplier
        )
        limited = self.billed_individually
        cap[limited] = self.contract(month).capacity(self.base_capacity[limited])
        return cap

    def line(self, name: str) -> int:
        """The cost line of an extra line (conversation, outreach, network programme)."""
        return len(self.names) * 2 + EXTRA_LINES.index(name)

    # --- running provisions ------------------------------------------------------------------

    def add_running(self, pos: np.ndarray, **columns) -> None:
        """Start running provisions at free positions ``pos`` (columns as in :class:`Running`,
        without ``pos``; ``hh``, ``dom`` and ``chronic`` follow from the position unless
        given)."""
        if "hh" not in columns:
            dom, hh = np.divmod(pos, self.n)
            columns.update(
                dom=dom, hh=hh, chronic=self.chronic_domain[dom] & self.chronic_household[hh]
            )
        start = len(self.run)
        self.run.append(pos=pos, **columns)
        self.row.ravel()[pos] = np.arange(start, start + len(pos), dtype=np.int32)

    def rows_at(self, pos: np.ndarray) -> np.ndarray:
        """The rows of the provisions running at flat positions ``pos``."""
        return self.row.ravel()[pos]

    def end_rows(self, rows: np.ndarray) -> None:
        """Free the positions of ended rows (removed at the month's end by :meth:`drop_ended`)."""
        self.run.prov[rows] = -1
        self.row.ravel()[self.run.pos[rows]] = -1

    def drop_ended(self) -> None:
        """Remove the rows of ended episodes, keeping the order of the others."""
        ended = self.run.prov < 0
        if not ended.any():
            return
        self.run.keep((~ended).nonzero()[0])  # indices: one mask pass for every column
        self.row.ravel()[self.run.pos] = np.arange(len(self.run), dtype=np.int32)

    @property
    def running(self) -> np.ndarray:
        """Flat positions of the running provisions, in the order they started."""
        return self.run.pos[self.run.prov >= 0]

    def _dense(self, column: str, fill, dtype) -> np.ndarray:
        out = np.full((len(DOMAINS), self.n), fill, dtype=dtype)
        on = self.run.prov >= 0
        out.ravel()[self.run.pos[on]] = getattr(self.run, column)[on]
        return out

    # Dense (domains, households) views of the running provisions, built on demand (copies)
    slot = property(lambda self: self._dense("prov", -1, np.int16), doc="provision, −1: none")
    left = property(lambda self: self._dense("left", 0, np.int16), doc="months to review")
    months_in = property(lambda self: self._dense("months_in", 0, np.int16), doc="months run")
    goal_months = property(lambda self: self._dense("goal_months", 0, np.int16))
    intensity = property(lambda self: self._dense("intensity", 0, F32), doc="intensity")
    episode = property(lambda self: self._dense("episode", -1, np.int32), doc="ledger id")
    slot_rules = property(lambda self: self._dense("rule", 0, np.int8), doc="regime index")
    upcoded = property(lambda self: self._dense("upcoded", False, bool), doc="upcoded")

    @property
    def chronic(self) -> np.ndarray:
        """(domains, households): a provision there would be for a chronic need."""
        return self.chronic_domain[:, None] & self.chronic_household[None, :]

    # --- census -------------------------------------------------------------------------------

    def served(self) -> dict[str, int]:
        """Households with a running provision, per law."""
        on = self.run.prov >= 0
        n = self.n
        # One flag per (law, household), set at once, counted law by law
        served = np.zeros(len(LAWS) * n, dtype=bool)
        served[self.law_offset[self.run.prov[on]] + self.run.hh[on]] = True
        return {
            f"served_{name}": int(np.count_nonzero(served[code * n : (code + 1) * n]))
            for code, name in enumerate(LAWS)
        }
