"""Formal care: access, allocation under the policy's regime, episodes, their effects and costs.

The care engine keeps at most one running provision per household and domain, as arrays of
shape (domains, households): which provision, how many months until its end or review, its
intensity, its episode id in the ledger, and which regime started it. A waiting list is kept
the same way. Work is done on the few entries that matter (the running provisions, the needs,
the households that reach help), never on the whole population. One month, in two halves
around the problem dynamics:

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

import numpy as np

from .access import ALL_CHANNELS, HEAVY_PRODUCT, AccessDraws, gatekeeper, seek_help
from .budget import Budget, EpisodeLedger
from .domains import DOMAINS, domain_index
from .financing import Policy, PolicySwitch
from .households import Households
from .problems import CareEffects, ProblemState
from .provisions import LAWS
from .scenario import Scenario

__all__ = ["Care"]

F32 = np.float32
EXTRA_LINES = ("conversation", "outreach", "network_programme")


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
        self.effect = arrays["effect"]
        self.mitigation = arrays["mitigation"]
        self.cost_month = arrays["cost_month"]
        self.duration = arrays["duration"]
        self.base_capacity = arrays["capacity_per_1000"] * n / 1000.0
        self.volunteer_share = arrays["volunteer_share"]
        self.benefit = self.index["benefit"]
        self.flex = self.index["flexible_budget"]
        self.billed_individually = ~self.collective
        self.billed_individually[[self.benefit, self.flex]] = False
        self.heavy = np.array([self.index[HEAVY_PRODUCT[x]] for x in DOMAINS], dtype=np.int16)

        self.slot = np.full((d, n), -1, dtype=np.int16)
        self.left = np.zeros((d, n), dtype=np.int16)
        self.months_in = np.zeros((d, n), dtype=np.int16)
        self.intensity = np.zeros((d, n), dtype=F32)
        self.episode = np.full((d, n), -1, dtype=np.int32)
        self.slot_rules = np.zeros((d, n), dtype=np.int8)  # index into self.regimes
        self.upcoded = np.zeros((d, n), dtype=bool)
        self.waiting = np.full((d, n), -1, dtype=np.int16)
        self.wait_since = np.zeros((d, n), dtype=np.int16)
        self.wait_channel = np.zeros((d, n), dtype=np.int8)
        self.benefit_episode = np.full(n, -1, dtype=np.int32)
        self.running = np.zeros(0, dtype=np.int64)  # flat indices of running provisions
        self.waiting_at = np.zeros(0, dtype=np.int64)  # flat indices of the waiting list

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
        self.left_waiting = 0
        self._costs = np.zeros(len(lines))
        self.stats: dict[str, float] = {
            "arrivals": 0,
            "found_by_outreach": 0,
            "hidden_need": 0,
            "new_episodes": 0,
            "left_waiting_list_recovered": 0,
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

    def begin_month(self, month: int, severity: np.ndarray, state: ProblemState) -> CareEffects:
        """Access, allocation, new episodes, costs and effects for ``month``."""
        n = self.n
        pol = self.levers(month)
        # Full-population draws every month, whatever the policy: common random numbers.
        draws = self._draws = AccessDraws.draw(self.rng_access, n)

        # 1. Needs: active problems above the need threshold without provision or waiting place
        idx = state.active_index
        free = (self.slot.ravel()[idx] < 0) & (self.waiting.ravel()[idx] < 0)
        need = idx[free & (severity.ravel()[idx] >= F32(self.params.need_threshold))]
        arrivals = seek_help(
            self.params,
            need,
            severity,
            self.avoider,
            self.households.has_children,
            pol.outreach,
            draws,
        )

        # 2. Allocation, on the arriving households only: (domains, k) sub-arrays
        hh = arrivals.households
        k = len(hh)
        asking = np.zeros((len(DOMAINS), n), dtype=bool)
        asking.ravel()[need] = True
        asking = asking[:, hh]
        sub_severity = severity[:, hh]
        in_care = self.slot[:, hh] >= 0
        rules_all = self._rules(month, draws.rules)
        rules = rules_all[hh]
        treat = self._by_rules(rules, lambda r: r.select_domains(asking, sub_severity, in_care))
        induced = pol.contracts.effort_induced_referral if pol.contract == "effort" else 0.0
        offer = gatekeeper(
            self.params,
            treat,
            sub_severity,
            arrivals.channel,
            self.index,
            pol.practice_support_youth,
            induced,
            draws.gp[hh],
            draws.induced[hh],
        )

        # 3.–4. Capacity, waiting list, new episodes
        dom, col = np.nonzero(offer >= 0)
        new_pos = dom.astype(np.int64) * n + hh[col]
        new_prov = offer[dom, col]
        admitted = self._admit(
            month, new_pos, new_prov, arrivals.channel[col], draws.rules, severity
        )
        started = self._start(
            month, admitted, severity, draws.upcode, pol, rules=rules_all[admitted[0] % n]
        )

        # Flexible-budget solutions in new integrated plans: one-off, outside the slots
        flex_share = self._by_rules(rules, lambda r: np.full(k, r.flexible_share(), F32))
        flex_col = np.flatnonzero(treat.any(axis=0) & (draws.flexible[hh] < flex_share))
        flex_hh = hh[flex_col]
        if len(flex_hh):
            root = np.argmax(treat[:, flex_col], axis=0)
            ids = self.ledger.start(flex_hh, self.flex, root, arrivals.channel[flex_col], month)
            self.ledger.end(ids, month)
            self.ledger.add_cost(ids, np.full(len(ids), self.cost_month[self.flex]))

        # 5. Costs
        costs = self._bill(month, pol, len(flex_hh))
        law_of_offer = np.append(self.law, -1)[offer]  # offer −1 (none) → law −1
        laws_per_household = np.zeros(k, dtype=np.int8)
        for code in range(len(LAWS)):
            laws_per_household += (law_of_offer == code).any(axis=0)
        units = self._by_rules(rules, lambda r: r.conversation_units(laws_per_household))
        costs[self._line("conversation")] += float(units.sum()) * self.params.conversation_cost
        n_found = int(arrivals.found.sum())
        costs[self._line("outreach")] += n_found * pol.outreach_cost
        costs[self._line("network_programme")] += (
            pol.network_programme * pol.network_programme_cost * n / 12.0
        )
        self._costs = costs

        # 6. Effects of the running provisions (sparse: only where care runs)
        effects = self._effects(flex_hh, rules[flex_col])
        self.stats = {
            "arrivals": k,
            "found_by_outreach": n_found,
            "hidden_need": arrivals.hidden,
            "new_episodes": started + len(flex_hh),
            "left_waiting_list_recovered": self.left_waiting,
        }
        return effects

    def _rules(self, month: int, u) -> np.ndarray:
        """Which regime decides for each household (1 = the new one, during a switch)."""
        if len(self.regimes) == 1:
            return np.zeros(self.n, dtype=np.int8)
        return (u[:] < self._share_new(month)).astype(np.int8)

    def _by_rules(self, rules: np.ndarray, f):
        """Evaluate a regime rule: the first regime's, or the second's where ``rules`` is 1."""
        first = f(self.regimes[0])
        if len(self.regimes) == 1 or not rules.any():
            return first
        return np.where(rules.astype(bool), f(self.regimes[1]), first)

    def _line(self, name: str) -> int:
        return len(self.names) * 2 + EXTRA_LINES.index(name)

    def _admit(self, month, new_pos, new_prov, new_channel, tiebreak, severity):
        """Admit requests (new ones and the waiting list) up to capacity.

        New requests that do not fit a full collective provision are referred to the domain's
        individual product; requests that do not fit an individual provision wait, oldest
        first. A household whose need fell below the need threshold while it waited leaves the
        list. Returns (flat positions, provisions, channels) of the admitted requests.
        """
        n = self.n
        cap = self.capacity(month)
        pol = self.levers(month)
        if pol.budget_rule == "cap" and self.budget.individual_overrun({"benefit"}):
            self.intake_closed = True
        if self.intake_closed:
            cap[self.billed_individually] = 0
        free = cap - np.bincount(self.slot.ravel()[self.running], minlength=len(self.names))

        # Who recovered while waiting leaves the list (the place would otherwise block the slot)
        recovered = severity.ravel()[self.waiting_at] < F32(self.params.need_threshold)
        self.waiting.ravel()[self.waiting_at[recovered]] = -1
        self.left_waiting = int(recovered.sum())
        wait_pos = self.waiting_at = self.waiting_at[~recovered]
        pos = np.concatenate([wait_pos, new_pos])
        prov = np.concatenate([self.waiting.ravel()[wait_pos], new_prov]).astype(np.int16)
        since = np.concatenate(
            [self.wait_since.ravel()[wait_pos], np.full(len(new_pos), month)]
        ).astype(np.int64)
        channel = np.concatenate([self.wait_channel.ravel()[wait_pos], new_channel])
        admitted = np.zeros(len(pos), dtype=bool)
        limited = np.isfinite(free)
        for collective_pass in (True, False):
            if not collective_pass:  # provisions without a capacity take everyone at once
                admitted |= ~limited[prov]
            pending = np.unique(prov[~admitted])
            for p in pending[(self.collective[pending] == collective_pass) & limited[pending]]:
                rows = np.flatnonzero((prov == p) & ~admitted)
                if len(rows) > free[p]:
                    order = np.lexsort((tiebreak[pos[rows] % n], since[rows]))
                    take = rows[order[: max(int(free[p]), 0)]]
                    rest = rows[order[max(int(free[p]), 0) :]]
                else:
                    take, rest = rows, rows[:0]
                admitted[take] = True
                if collective_pass:  # a full collective provision refers on
                    prov[rest] = self.heavy[pos[rest] // n]
        waiting = ~admitted
        # The waiting list is rebuilt: who still waits, for what, since when
        self.waiting.ravel()[wait_pos] = -1
        self.waiting.ravel()[pos[waiting]] = prov[waiting]
        self.wait_since.ravel()[pos[waiting]] = since[waiting]
        self.wait_channel.ravel()[pos[waiting]] = channel[waiting]
        self.waiting_at = pos[waiting]
        return pos[admitted], prov[admitted], channel[admitted]

    def _start(self, month, admitted, severity, u_upcode, pol, rules, renewal=False):
        """Open episodes for admitted requests ``(flat positions, provisions, channels)``.

        ``rules`` gives per position which regime runs the episode. Returns the number of
        episodes started.
        """
        pos, prov, channel = admitted
        if len(pos) == 0:
            return 0
        dom, hh = np.divmod(pos, self.n)
        r = rules
        sev = severity.ravel()[pos]
        intensity = np.ones(len(pos), dtype=F32)
        months = self.duration[prov].astype(np.int64)
        for i, regime in enumerate(self.regimes):
            sel = r == i
            if sel.any():
                intensity[sel] = regime.intensity(sev[sel])
                months[sel] = regime.duration(months[sel])
        individual = self.billed_individually[prov]
        months, intensity = self._contract_response(pol, individual, months, intensity)
        ids = self.ledger.start(hh, prov, dom, channel, month)
        self.slot.ravel()[pos] = prov
        self.left.ravel()[pos] = months
        self.months_in.ravel()[pos] = 0
        self.intensity.ravel()[pos] = intensity
        self.episode.ravel()[pos] = ids
        self.slot_rules.ravel()[pos] = r
        self.upcoded.ravel()[pos] = (
            (pol.contract == "output") & individual & (u_upcode[hh] < pol.contracts.output_upcoding)
        )
        if not renewal:  # renewals and escalations reuse a running slot
            self.running = np.concatenate([self.running, pos])
        return len(pos)

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

    def _effects(self, flex_hh, flex_rules) -> CareEffects:
        n = self.n
        pos = self.running
        hh = pos % n
        prov = self.slot.ravel()[pos]
        intensity = self.intensity.ravel()[pos]
        # Added recovery per household in care and domain: the sum over its provisions of
        # each provision's effect on that domain, times its intensity (plus one-off flexible
        # solutions). Households in care get a row in a small table.
        in_care = np.zeros(n, dtype=bool)
        in_care[hh] = True
        in_care[flex_hh] = True
        row_of = (np.cumsum(in_care, dtype=np.int32) - 1).astype(np.int32)
        row_of[~in_care] = -1
        n_rows = int(row_of.max()) + 1 if n else 0
        rows = np.concatenate([row_of[hh], row_of[flex_hh]])
        table = np.zeros((n_rows, len(DOMAINS)), dtype=F32)
        for d in np.flatnonzero(self.effect.any(axis=0)):
            weights = np.concatenate(
                [self.effect[prov, d] * intensity, np.full(len(flex_hh), self.effect[self.flex, d])]
            )
            table[:, d] = np.bincount(rows, weights=weights, minlength=n_rows)
        # Mitigation is looked up from the slots themselves (provision −1: none → 0)
        mitigation = (np.append(self.mitigation, F32(0)), self.slot.ravel(), self.intensity.ravel())

        activation = np.zeros(n, dtype=F32)
        by_rule = np.array([r.activation() for r in self.regimes], dtype=F32)
        integrated = np.array([r.integrated for r in self.regimes])
        rule = self.slot_rules.ravel()[pos]
        plan = integrated[rule]
        activation[hh[plan]] = by_rule[rule[plan]]
        if len(flex_hh):
            activation[flex_hh] = np.maximum(activation[flex_hh], by_rule[flex_rules])
        return CareEffects(row_of, table, mitigation, activation)

    def _bill(self, month: int, pol: Policy, n_flex: int) -> np.ndarray:
        """Book this month's costs on episodes and cost lines; returns the cost-line vector."""
        p_count = len(self.names)
        costs = np.zeros(len(self.budget.line_names))
        pos = self.running
        prov = self.slot.ravel()[pos]
        amount = np.zeros(len(pos))
        indiv = self.billed_individually[prov]
        c = pol.contracts
        if pol.contract == "effort":
            amount[indiv] = (
                self.cost_month[prov[indiv]]
                * self.intensity.ravel()[pos[indiv]]
                * (1 + c.effort_over_provision)
            )
        elif pol.contract == "output":
            # A price per trajectory, billed at its start and again after every (shortened)
            # standard duration that the episode runs on.
            period = np.maximum(np.rint(self.duration[prov] * (1 - c.output_shortening)), 1)
            due = indiv & (self.months_in.ravel()[pos] % period == 0)
            price = self.cost_month[prov] * self.duration[prov]
            price = np.where(self.upcoded.ravel()[pos], price * c.output_upcode_factor, price)
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
            self.ledger.add_cost(self.episode.ravel()[pos], amount)
            self.ledger.add_cost(
                on_benefit, np.full(len(on_benefit), self.cost_month[self.benefit])
            )
        costs[:p_count] += np.bincount(prov, weights=amount, minlength=p_count)
        costs[self.benefit] += len(on_benefit) * self.cost_month[self.benefit]
        costs[self.flex] += n_flex * self.cost_month[self.flex]
        return costs

    # --- second half of the month -------------------------------------------------------------

    def end_month(self, month: int, severity: np.ndarray) -> None:
        """Escalations, reviews and renewals, social assistance, costs and the budget rule."""
        n = self.n
        pol = self.levers(month)
        pos = self.running
        self.left.ravel()[pos] -= 1
        self.months_in.ravel()[pos] += 1
        dom = pos // n
        prov = self.slot.ravel()[pos]

        # 7. Escalation of youth care to residential care (a new episode in the same slot)
        escalate = (
            (prov == self.index["youth_ambulant"])
            & (dom == domain_index("parenting"))
            & (severity.ravel()[pos] >= F32(self.params.residential_threshold))
        )
        esc = pos[escalate]
        if len(esc):
            self.ledger.end(self.episode.ravel()[esc], month)
            residential = np.full(len(esc), self.index["youth_residential"], dtype=np.int16)
            channel = np.full(len(esc), ALL_CHANNELS.index("escalation"), dtype=np.int8)
            self._start(
                month + 1,  # billed from next month, like a renewal
                (esc, residential, channel),
                severity,
                self._draws.upcode,
                pol,
                rules=self.slot_rules.ravel()[esc],
                renewal=True,
            )

        # 8. Reviews and renewals
        due = pos[self.left.ravel()[pos] <= 0]
        share_new = self._share_new(month)
        if share_new > 0:  # during a switch, reviews move over to the new way of working
            u = self.rng_care.random(n, dtype=F32)
            moving = due[u[due % n] < share_new]
            self.slot_rules.ravel()[moving] = len(self.regimes) - 1
        review_cost = 0.0
        for i, regime in enumerate(self.regimes):
            sel = due[self.slot_rules.ravel()[due] == i]
            if len(sel) == 0:
                continue
            keep, intensity = regime.review(severity.ravel()[sel], self.threshold)
            stop, go = sel[~keep], sel[keep]
            self.ledger.end(self.episode.ravel()[stop], month)
            self.slot.ravel()[stop] = -1
            if regime.integrated:  # the plan goes on, resized, until the next review
                review_cost += len(np.unique(sel % n)) * regime.review_units()
                prov_go = self.slot.ravel()[go]
                months = np.asarray(regime.duration(self.duration[prov_go].astype(np.int64)))
                months, new_int = self._contract_response(
                    pol, self.billed_individually[prov_go], months, intensity[keep]
                )
                self.left.ravel()[go] = months
                self.intensity.ravel()[go] = new_int
            else:  # a renewal is a new episode of the same product, from next month
                self.ledger.end(self.episode.ravel()[go], month)
                channel = np.full(len(go), ALL_CHANNELS.index("renewal"), dtype=np.int8)
                renew = (go, self.slot.ravel()[go].copy(), channel)
                self._start(
                    month + 1,
                    renew,
                    severity,
                    self._draws.upcode,
                    pol,
                    rules=np.full(len(go), i, dtype=np.int8),
                    renewal=True,
                )
        self._costs[self._line("conversation")] += review_cost * self.params.conversation_cost

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

        self.running = self.running[self.slot.ravel()[self.running] >= 0]  # drop the ended
        self.budget.add(month, self._costs)
        self.stats.update(self._measure(month, escalations=len(esc)))

        # 10. Year end: the budget rule
        if month >= 1 and month % 12 == 0:
            overran = self.budget.close_year(month // 12, exclude={"benefit"})
            if overran and pol.budget_rule == "cut_collective":
                self.collective_multiplier *= 1 - pol.budget_cut
            self.intake_closed = False

    def _measure(self, month: int, escalations: int) -> dict[str, float]:
        out = {}
        pos = self.running
        hh = pos % self.n
        law = self.law[self.slot.ravel()[pos]]
        served = np.zeros(self.n, dtype=bool)
        for code, name in enumerate(LAWS):
            served[:] = False
            served[hh[law == code]] = True
            out[f"served_{name}"] = int(served.sum())
        out["on_benefit"] = int((self.benefit_episode >= 0).sum())
        waiting = self.waiting_at
        out["waiting_list"] = len(waiting)
        out["mean_wait_months"] = (
            float((month - self.wait_since.ravel()[waiting]).mean()) if len(waiting) else 0.0
        )
        out["escalations_residential"] = escalations
        out["collective_capacity_multiplier"] = self.collective_multiplier
        for law_name in (*LAWS, "access"):
            out[f"cost_{law_name}"] = float(self._costs[self.budget.line_laws == law_name].sum())
        return out
