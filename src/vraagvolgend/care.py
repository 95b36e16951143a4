"""Formal care: access, allocation under the policy's regime, episodes, their effects and costs.

The care engine keeps at most one running provision per household and domain, as arrays of
shape (domains, households): which provision, how many months until its end or review, its
intensity, its episode id in the ledger, and which regime started it. A waiting list is kept
the same way. One month, in two halves around the problem dynamics:

:meth:`Care.begin_month` (from the state at the start of the month)
    1. Access: needs, help-seeking, outreach, channels (:mod:`vraagvolgend.access`).
    2. Allocation: the regime picks which needs to treat now, the gatekeeper offers a provision.
    3. Capacity: collective provisions (and individual ones under task contracts) admit up to
       their capacity; a full collective provision refers on to an individual one, a full
       individual one puts the household on its waiting list.
    4. New episodes start; the flexible budget (demand-driven) pays one-off solutions.
    5. Costs of the month are booked per episode and per cost line.
    6. Effects: running provisions add recovery probability and slow escalation; demand-driven
       plans activate the household's network.

:meth:`Care.end_month` (from the state at the end of the month)
    7. Youth care escalates to residential care where parenting problems became acute.
    8. Episodes reaching their end are reviewed: supply-driven renews the product while the
       domain is not recovered (a new episode), demand-driven resizes the plan or ends it.
    9. Social assistance (an entitlement) starts and stops with the work domain.
   10. At a year end the budget rule is applied.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .access import ALL_CHANNELS, HEAVY_PRODUCT, gatekeeper, seek_help
from .budget import Budget, EpisodeLedger
from .domains import DOMAINS, domain_index
from .financing import Policy, PolicySwitch
from .households import Households
from .provisions import LAWS
from .scenario import Scenario

__all__ = ["Care", "CareEffects"]

F32 = np.float32
EXTRA_LINES = ("conversation", "outreach", "network_programme")


@dataclass
class CareEffects:
    """What formal care does to this month's problem dynamics."""

    extra_recovery: np.ndarray  # (domains, households)
    escalation_factor: np.ndarray  # (domains, households)
    activation: np.ndarray  # per household: extra pull on its network


class Care:
    """The care engine of one run.

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
        self.policy = policy
        self.regimes: tuple[Policy, ...] = (
            (policy.before, policy.after) if isinstance(policy, PolicySwitch) else (policy,)
        )
        cat = scenario.provisions
        self.names = cat.names
        self.index = {name: i for i, name in enumerate(self.names)}
        arrays = cat.arrays()
        n, d = households.n, len(DOMAINS)
        self.n = n
        self.law = arrays["law"]
        self.laws = [LAWS[c] for c in self.law]
        self.collective = self.law == LAWS.index("collective")
        self.effect = np.vstack([arrays["effect"], np.zeros((1, d), F32)])  # row −1: none
        self.mitigation = np.append(arrays["mitigation"], F32(0)).astype(F32)
        self.cost_month = arrays["cost_month"]
        self.duration = arrays["duration"]
        self.base_capacity = arrays["capacity_per_1000"] * n / 1000.0
        self.volunteer_share = arrays["volunteer_share"]
        self.benefit = self.index["benefit"]
        self.flex = self.index["flexible_budget"]
        self.billed_individually = ~self.collective
        self.billed_individually[[self.benefit, self.flex]] = False

        self.slot = np.full((d, n), -1, dtype=np.int16)
        self.left = np.zeros((d, n), dtype=np.int16)
        self.months_in = np.zeros((d, n), dtype=np.int16)
        self.intensity = np.zeros((d, n), dtype=F32)
        self.episode = np.full((d, n), -1, dtype=np.int32)
        self.slot_rules = np.zeros((d, n), dtype=np.int8)  # index into self.regimes
        self.upcoded = np.zeros((d, n), dtype=bool)
        self.waiting = np.full((d, n), -1, dtype=np.int16)
        self.wait_since = np.zeros((d, n), dtype=np.int32)
        self.wait_channel = np.zeros((d, n), dtype=np.int8)
        self.benefit_episode = np.full(n, -1, dtype=np.int32)

        self.rng_access = streams["access"]
        self.rng_care = streams["care"]
        self.avoider = streams["access_setup"].random(n) < self.params.avoider_share

        self.ledger = EpisodeLedger()
        lines = [*self.names, *(f"{x} (idle capacity)" for x in self.names), *EXTRA_LINES]
        line_laws = [*self.laws, *self.laws, "access", "access", "collective"]
        first = self.levers(1)
        inhabitants = households.n_inhabitants
        self.budget = Budget(
            lines,
            line_laws,
            {law: v * inhabitants for law, v in first.budget_per_inhabitant.items()},
        )
        self.collective_multiplier = 1.0
        self.intake_closed = False
        self._costs = np.zeros(len(lines))
        self.stats: dict[str, float] = {
            "arrivals": 0,
            "found_by_outreach": 0,
            "hidden_need": 0,
            "new_episodes": 0,
            **self._measure(0, escalations=0),
        }

    # --- policy in effect ---------------------------------------------------------------------

    def levers(self, month: int) -> Policy:
        """The policy whose contract, levers and budget rule apply in ``month``."""
        if isinstance(self.policy, PolicySwitch):
            return self.policy.policy_at(month)
        return self.policy

    def _share_new(self, month: int) -> float:
        return self.policy.share_new(month) if isinstance(self.policy, PolicySwitch) else 0.0

    def capacity(self, month: int) -> np.ndarray:
        """Concurrent places per provision this month (inf where not limited)."""
        pol = self.levers(month)
        cap = np.full(len(self.names), np.inf)
        cap[self.collective] = (
            self.base_capacity[self.collective]
            * pol.collective_capacity
            * self.collective_multiplier
        )
        if pol.contract == "task":
            limited = self.billed_individually
            cap[limited] = self.base_capacity[limited] * pol.contracts.task_capacity
        return cap

    # --- first half of the month --------------------------------------------------------------

    def begin_month(self, month: int, severity: np.ndarray) -> CareEffects:
        """Access, allocation, new episodes, costs and effects for ``month``."""
        n, d = self.n, len(DOMAINS)
        pol = self.levers(month)
        # Full-population draws every month, whatever the policy: common random numbers.
        u_seek, u_outreach, u_channel, u_gp, u_flex, u_rules, u_upcode = self.rng_access.random(
            (7, n), dtype=F32
        )
        u_induced = self.rng_care.random((d, n), dtype=F32)

        need = (severity >= F32(self.params.need_threshold)) & (self.slot < 0) & (self.waiting < 0)
        arrivals = seek_help(
            self.params,
            need,
            severity,
            self.avoider,
            self.households.has_children,
            pol.outreach,
            u_seek,
            u_outreach,
            u_channel,
        )
        rules = (
            (u_rules < self._share_new(month)).astype(np.int8)
            if len(self.regimes) > 1
            else (np.zeros(n, dtype=np.int8))
        )
        asking = need & arrivals.arrive[None, :]
        in_care = self.slot >= 0
        treat = self._by_rules(rules, lambda r: r.select_domains(asking, severity, in_care))
        induced = pol.contracts.effort_induced_referral if pol.contract == "effort" else 0.0
        offer = gatekeeper(
            self.params,
            treat,
            severity,
            arrivals.channel,
            self.index,
            pol.practice_support_youth,
            induced,
            u_gp,
            u_induced,
        )
        admitted = self._admit(month, offer, arrivals.channel, u_induced)
        self._start(month, admitted, severity, rules, arrivals.channel, u_upcode, pol)

        # One-off flexible-budget solutions in new integrated plans
        flex_share = self._by_rules(rules, lambda r: np.full(n, r.flexible_share(), F32))
        flex = treat.any(axis=0) & (u_flex < flex_share)
        flex_ids = np.flatnonzero(flex)
        if len(flex_ids):
            root = np.argmax(treat[:, flex_ids], axis=0)
            ids = self.ledger.start(flex_ids, self.flex, root, arrivals.channel[flex_ids], month)
            self.ledger.end(ids, month)
            self.ledger.add_cost(ids, np.full(len(ids), self.cost_month[self.flex]))

        costs = self._bill(month, pol, flex_ids)
        laws_per_household = np.zeros(n, dtype=np.int8)
        for code in np.unique(self.law):
            laws_per_household += (np.isin(offer, np.flatnonzero(self.law == code))).any(axis=0)
        units = self._by_rules(rules, lambda r: r.conversation_units(laws_per_household))
        costs[self._line("conversation")] += float(units.sum()) * self.params.conversation_cost
        found = arrivals.arrive & (arrivals.channel == ALL_CHANNELS.index("outreach"))
        costs[self._line("outreach")] += found.sum() * pol.outreach_cost
        costs[self._line("network_programme")] += (
            pol.network_programme * pol.network_programme_cost * n / 12.0
        )
        self._costs = costs

        running = self.slot >= 0
        extra = np.zeros((d, n), dtype=F32)
        for k in range(d):
            extra += (self.effect[self.slot[k]] * self.intensity[k][:, None]).T
        if len(flex_ids):
            extra[:, flex_ids] += self.effect[self.flex][:, None]
        escalation = 1 - self.mitigation[self.slot] * np.minimum(self.intensity, 1)
        integrated = np.array([r.integrated for r in self.regimes])[self.slot_rules] & running
        activation_by_rule = np.array([r.activation() for r in self.regimes], dtype=F32)
        in_plan = integrated.any(axis=0) | flex
        activation = np.where(in_plan, activation_by_rule[rules], 0).astype(F32)

        self.stats = {
            "arrivals": int(arrivals.arrive.sum()),
            "found_by_outreach": int(found.sum()),
            "hidden_need": int(arrivals.hidden.sum()),
            "new_episodes": int((admitted >= 0).sum() + len(flex_ids)),
        }
        return CareEffects(
            extra_recovery=extra, escalation_factor=escalation, activation=activation
        )

    def _by_rules(self, rules: np.ndarray, f):
        """Evaluate a regime rule per household: the first regime's, or the second's where
        ``rules`` is 1 (during a policy switch)."""
        first = f(self.regimes[0])
        if len(self.regimes) == 1 or not rules.any():
            return first
        return np.where(rules.astype(bool), f(self.regimes[1]), first)

    def _line(self, name: str) -> int:
        return len(self.names) * 2 + EXTRA_LINES.index(name)

    def _admit(self, month, offer, channel, tiebreak) -> np.ndarray:
        """Admit requests up to capacity; returns the admitted provision per (domain, household)
        (−1 where none). New requests that do not fit a full collective provision are referred
        to the domain's individual product; those that do not fit an individual one wait."""
        cap = self.capacity(month)
        pol = self.levers(month)
        if pol.budget_rule == "cap" and self.budget.individual_overrun({"benefit"}):
            self.intake_closed = True
        if self.intake_closed:
            cap[self.billed_individually] = 0
        running = np.bincount(self.slot[self.slot >= 0], minlength=len(self.names))
        free = cap - running
        heavy = np.array([self.index[HEAVY_PRODUCT[x]] for x in DOMAINS], dtype=np.int16)

        waiting = self.waiting >= 0
        request = np.where(offer >= 0, offer, self.waiting)
        admitted = np.full_like(request, -1)
        for collective_pass in (True, False):
            for p in np.flatnonzero(self.collective == collective_pass):
                flat = np.flatnonzero(request == p)
                if len(flat) == 0:
                    continue
                if np.isfinite(free[p]) and len(flat) > free[p]:
                    since = np.where(waiting.flat[flat], self.wait_since.flat[flat], month)
                    order = np.lexsort((tiebreak.flat[flat], since))
                    take = flat[order[: max(int(free[p]), 0)]]
                    rest = flat[order[max(int(free[p]), 0) :]]
                else:
                    take, rest = flat, flat[:0]
                admitted.flat[take] = p
                if collective_pass:  # refer on to the individual product
                    request.flat[rest] = heavy[rest // self.n]
                else:  # join (or stay on) the waiting list
                    new = ~waiting.flat[rest]
                    self.waiting.flat[rest] = p
                    self.wait_since.flat[rest[new]] = month
                    self.wait_channel.flat[rest[new]] = channel[rest[new] % self.n]
        took_waiting = waiting & (admitted >= 0)
        self.waiting[took_waiting] = -1
        self._admitted_from_waiting = took_waiting
        return admitted

    def _start(self, month, admitted, severity, rules, channel, u_upcode, pol, renewal=None):
        """Open episodes for every (domain, household) with a provision in ``admitted``."""
        flat = np.flatnonzero(admitted >= 0)
        if len(flat) == 0:
            return
        dom, hh = np.divmod(flat, self.n)
        prov = admitted.flat[flat]
        if renewal is not None:
            ch = np.full(len(flat), ALL_CHANNELS.index(renewal), dtype=np.int8)
        else:
            from_waiting = self._admitted_from_waiting.flat[flat]
            ch = np.where(from_waiting, self.wait_channel.flat[flat], channel[hh]).astype(np.int8)
        r = rules[hh] if rules.ndim == 1 else rules.flat[flat]
        sev = severity.flat[flat]
        intensity = np.ones(len(flat), dtype=F32)
        months = self.duration[prov].astype(np.int64)
        for i, regime in enumerate(self.regimes):
            sel = r == i
            intensity[sel] = regime.intensity(sev[sel])
            months[sel] = regime.duration(months[sel])
        individual = self.billed_individually[prov]
        months, intensity = self._contract_response(pol, individual, months, intensity)
        ids = self.ledger.start(hh, prov, dom, ch, month)
        self.slot.flat[flat] = prov
        self.left.flat[flat] = months
        self.months_in.flat[flat] = 0
        self.intensity.flat[flat] = intensity
        self.episode.flat[flat] = ids
        self.slot_rules.flat[flat] = r
        upcode = pol.contract == "output"
        self.upcoded.flat[flat] = (
            upcode & individual & (u_upcode[hh] < pol.contracts.output_upcoding)
        )

    @staticmethod
    def _contract_response(pol, individual, months, intensity):
        c = pol.contracts
        if pol.contract == "effort":
            factor = 1 + c.effort_prolongation
        elif pol.contract == "output":
            factor = 1 - c.output_shortening
        else:
            factor = 1.0
            intensity = np.where(individual, intensity * F32(1 - c.task_under_treatment), intensity)
        months = np.where(individual, np.maximum(np.rint(months * factor), 1), months)
        return months.astype(np.int16), intensity.astype(F32)

    def _bill(self, month: int, pol: Policy, flex_ids: np.ndarray) -> np.ndarray:
        """Book this month's costs on episodes and cost lines; returns the cost-line vector."""
        p_count = len(self.names)
        costs = np.zeros(len(self.budget.line_names))
        flat = np.flatnonzero(self.slot >= 0)
        prov = self.slot.flat[flat]
        amount = np.zeros(len(flat))
        indiv = self.billed_individually[prov]
        if pol.contract == "effort":
            c = pol.contracts
            amount[indiv] = (
                self.cost_month[prov[indiv]]
                * self.intensity.flat[flat[indiv]]
                * (1 + c.effort_over_provision)
            )
        elif pol.contract == "output":
            c = pol.contracts
            period = np.maximum(np.rint(self.duration[prov] * (1 - c.output_shortening)), 1)
            due = indiv & (self.months_in.flat[flat] % period == 0)
            price = self.cost_month[prov] * self.duration[prov]
            price = np.where(self.upcoded.flat[flat], price * c.output_upcode_factor, price)
            amount[due] = price[due]
        # Lump sums: collective provisions always, individual ones under task contracts.
        lump = self.collective.copy()
        if pol.contract == "task":
            lump |= self.billed_individually
        cap = self.capacity(month)
        lump_total = np.where(
            lump, np.nan_to_num(cap, posinf=0) * self.cost_month * (1 - self.volunteer_share), 0
        )
        running = np.bincount(prov, minlength=p_count)
        is_lump = lump[prov]
        amount[is_lump] = lump_total[prov[is_lump]] / running[prov[is_lump]]
        idle = lump & (running == 0)
        costs[p_count + np.flatnonzero(idle)] = lump_total[idle]
        # Social assistance lives outside the slots (one per household)
        on_benefit = self.benefit_episode[self.benefit_episode >= 0]
        if month >= 1:
            self.ledger.add_cost(self.episode.flat[flat], amount)
            self.ledger.add_cost(
                on_benefit, np.full(len(on_benefit), self.cost_month[self.benefit])
            )
        costs[:p_count] += np.bincount(prov, weights=amount, minlength=p_count)
        costs[self.benefit] += len(on_benefit) * self.cost_month[self.benefit]
        costs[self.flex] += len(flex_ids) * self.cost_month[self.flex]
        return costs

    # --- second half of the month -------------------------------------------------------------

    def end_month(self, month: int, severity: np.ndarray) -> None:
        """Escalations, reviews and renewals, social assistance, costs and the budget rule."""
        pol = self.levers(month)
        running = self.slot >= 0
        self.left[running] -= 1
        self.months_in[running] += 1

        # 7. Escalation of youth care to residential care
        p = domain_index("parenting")
        ambulant = self.slot[p] == self.index["youth_ambulant"]
        escalate = ambulant & (severity[p] >= F32(self.params.residential_threshold))
        esc_hh = np.flatnonzero(escalate)
        if len(esc_hh):
            self.ledger.end(self.episode[p, esc_hh], month)
            admitted = np.full_like(self.slot, -1)
            admitted[p, esc_hh] = self.index["youth_residential"]
            rules = self.slot_rules.copy()
            self._start(
                month,
                admitted,
                severity,
                rules,
                None,
                np.ones(self.n, F32),
                pol,
                renewal="escalation",
            )

        # 8. Reviews and renewals
        due = (self.slot >= 0) & (self.left <= 0)
        share_new = self._share_new(month)
        if share_new > 0:  # during a switch, reviews move over to the new way of working
            u = self.rng_care.random(self.n, dtype=F32)
            self.slot_rules[due & (u < share_new)[None, :]] = len(self.regimes) - 1
        n_reviews = 0
        for i, regime in enumerate(self.regimes):
            sel = due & (self.slot_rules == i)
            if not sel.any():
                continue
            keep, intensity = regime.review(severity[sel], self.threshold)
            flat = np.flatnonzero(sel)
            stop, go = flat[~keep], flat[keep]
            self.ledger.end(self.episode.flat[stop], month)
            self.slot.flat[stop] = -1
            if regime.integrated:  # the plan goes on, resized, until the next review
                n_reviews += len(np.unique(flat % self.n))
                prov = self.slot.flat[go]
                months = np.asarray(regime.duration(self.duration[prov].astype(np.int64)))
                months, new_int = self._contract_response(
                    pol, self.billed_individually[prov], months, intensity[keep]
                )
                self.left.flat[go] = months
                self.intensity.flat[go] = new_int
            else:  # a renewal is a new episode of the same product
                self.ledger.end(self.episode.flat[go], month)
                admitted = np.full_like(self.slot, -1)
                admitted.flat[go] = self.slot.flat[go]
                self.slot.flat[go] = -1
                self._start(
                    month + 1,
                    admitted,
                    severity,
                    self.slot_rules.copy(),
                    None,
                    np.ones(self.n, F32),
                    pol,
                    renewal="renewal",
                )
        review_units = sum(r.review_units() for r in self.regimes[-1:])
        self._costs[self._line("conversation")] += (
            n_reviews * review_units * self.params.conversation_cost
        )

        # 9. Social assistance: an entitlement that follows the work domain
        w = domain_index("work")
        eligible = (severity[w] >= F32(self.params.benefit_work_threshold)) & (
            self.households.income_quintile <= self.params.benefit_max_quintile
        )
        stop = (self.benefit_episode >= 0) & ~eligible
        self.ledger.end(self.benefit_episode[stop], month)
        self.benefit_episode[stop] = -1
        start = np.flatnonzero(eligible & (self.benefit_episode < 0))
        if len(start):
            ch = np.full(len(start), ALL_CHANNELS.index("entitlement"), dtype=np.int8)
            self.benefit_episode[start] = self.ledger.start(start, self.benefit, w, ch, month + 1)

        self.budget.add(month, self._costs)
        self.stats.update(self._measure(month, escalations=len(esc_hh)))

        # 10. Year end: the budget rule
        if month >= 1 and month % 12 == 0:
            overran = self.budget.close_year(month // 12, exclude={"benefit"})
            if overran and pol.budget_rule == "cut_collective":
                self.collective_multiplier *= 1 - pol.budget_cut
            self.intake_closed = False

    def _measure(self, month: int, escalations: int) -> dict[str, float]:
        out = {}
        running = self.slot >= 0
        for code, law in enumerate(LAWS):
            in_law = running & (self.law[np.maximum(self.slot, 0)] == code)
            out[f"served_{law}"] = int(in_law.any(axis=0).sum())
        out["on_benefit"] = int((self.benefit_episode >= 0).sum())
        waiting = self.waiting >= 0
        out["waiting_list"] = int(waiting.sum())
        out["mean_wait_months"] = (
            float((month - self.wait_since[waiting]).mean()) if waiting.any() else 0.0
        )
        out["escalations_residential"] = escalations
        out["collective_capacity_multiplier"] = self.collective_multiplier
        for law in (*LAWS, "access"):
            out[f"cost_{law}"] = float(self._costs[self.budget.line_laws == law].sum())
        return out
