"""Reviews (process ``reviews``): the episode lifecycle at the end of the month.

From the state at the end of the month, for every running provision:

1. It ages a month (one month less until its review, one more month run).
2. Escalation: where the catalogue says a provision escalates (ambulant youth care to
   residential care) and the domain reached the target's need window, the episode ends and the
   heavier one starts next month in the same slot.
3. Review: an episode whose months until review ran out is reviewed by the regime that runs it
   (:meth:`~vraagvolgend.financing.Policy.review`): it ends when its goal is reached, or it
   continues — *renewed* (a new episode of the same provision from next month) or *prolonged*
   (the same episode, resized, until the next review), as the regime's ``continuation`` says.
   During a policy switch, reviews move over to the new way of working at the switch's pace.
   Reviews that the regime pays for are booked as access conversations.
"""

from __future__ import annotations

import numpy as np

from .episodes import open_episodes
from .month import MonthState, Process, Requests
from .vocabulary import ALL_CHANNELS

__all__ = ["Reviews"]

F32 = np.float32


class Reviews(Process):
    """Ages, escalates and reviews running episodes (process ``reviews``)."""

    name = "reviews"
    escalations = 0

    def init(self, model) -> None:
        super().init(model)
        self.care = model.care
        self.served = self.care.served()

    def step(self, state: MonthState) -> None:
        care, n, month = self.care, self.care.n, state.month
        severity = state.severity_end
        contract = care.contract(month)
        pos = care.running
        care.left.ravel()[pos] -= 1
        care.months_in.ravel()[pos] += 1
        self.escalate(state, pos, severity, contract)
        self.end_on_goal(state, severity)

        pos = care.running[care.slot.ravel()[care.running] >= 0]
        due = pos[care.left.ravel()[pos] <= 0]
        share_new = care.share_new(month)
        if share_new > 0:  # during a switch, reviews move over to the new way of working
            u = care.rng_care.random(n, dtype=F32)
            moving = due[u[due % n] < share_new]
            care.slot_rules.ravel()[moving] = len(care.regimes) - 1
        review_cost = 0.0
        for i, regime in enumerate(care.regimes):
            sel = due[care.slot_rules.ravel()[due] == i]
            if len(sel) == 0:
                continue
            keep, intensity = regime.review(severity.ravel()[sel])
            keep |= care.chronic.ravel()[sel] & (severity.ravel()[sel] >= care.chronic_exit)
            stop, go = sel[~keep], sel[keep]
            care.ledger.end(care.episode.ravel()[stop], month)
            care.slot.ravel()[stop] = -1
            review_cost += len(np.unique(sel % n)) * regime.review_units()
            if regime.continuation == "prolong":  # the same episode, resized, to the next review
                prov_go = care.slot.ravel()[go]
                months = np.asarray(regime.duration(care.duration[prov_go].astype(np.int64)))
                months, new_int = contract.response(
                    months, intensity[keep], care.billed_individually[prov_go]
                )
                care.left.ravel()[go] = months
                care.intensity.ravel()[go] = new_int
            else:  # renewed: a new episode of the same provision, from next month
                care.ledger.end(care.episode.ravel()[go], month)
                channel = np.full(len(go), ALL_CHANNELS.index("renewal"), dtype=np.int8)
                open_episodes(
                    care,
                    month + 1,
                    Requests(go, care.slot.ravel()[go].copy(), channel),
                    severity,
                    state.draws.upcode,
                    contract,
                    rules=np.full(len(go), i, dtype=np.int8),
                    renewal=True,
                )
        state.costs[care.line("conversation")] += review_cost * care.params.conversation_cost
        care.running = care.running[care.slot.ravel()[care.running] >= 0]  # drop the ended
        self.served = care.served()

    def end_on_goal(self, state: MonthState, severity) -> None:
        """End episodes whose goal has held for the regime's lag, without waiting for a review.

        Chronic needs (``access.chronic_domains`` of ``access.chronic_types``) are exempt:
        their episodes end only at a review, and only once the household is self-reliant.
        """
        care, month = self.care, state.month
        contract = care.contract(month)
        pos = care.running[care.slot.ravel()[care.running] >= 0]
        rule = care.slot_rules.ravel()[pos]
        for i, regime in enumerate(care.regimes):
            if not regime.end_on_goal:
                continue
            sel = pos[rule == i]
            chronic = care.chronic.ravel()[sel]
            reached = (severity.ravel()[sel] < F32(regime.exit_threshold)) & ~chronic
            held = np.where(reached, care.goal_months.ravel()[sel] + 1, 0)
            care.goal_months.ravel()[sel] = held
            # The contract's incentive applies to individual provisions only
            individual = care.billed_individually[care.slot.ravel()[sel]]
            lag = np.where(
                individual, contract.exit_lag(regime.exit_lag_months), regime.exit_lag_months
            )
            stop = sel[held > lag]
            care.ledger.end(care.episode.ravel()[stop], month)
            care.slot.ravel()[stop] = -1
            state.counts["ended_on_goal"] = state.counts.get("ended_on_goal", 0) + len(stop)

    def escalate(self, state: MonthState, pos, severity, contract) -> None:
        """Move running episodes to the provision they escalate to (from next month)."""
        care, month = self.care, state.month
        prov = care.slot.ravel()[pos]
        target = care.routing.escalates_to[prov]
        dom = pos // care.n
        escalate = (
            (target >= 0)
            & care.routing.serves[np.maximum(target, 0), dom]
            & (severity.ravel()[pos] >= care.routing.escalation_severity[prov])
        )
        esc = pos[escalate]
        self.escalations = len(esc)
        state.counts["escalations"] = len(esc)
        if len(esc):
            care.ledger.end(care.episode.ravel()[esc], month)
            channel = np.full(len(esc), ALL_CHANNELS.index("escalation"), dtype=np.int8)
            open_episodes(
                care,
                month + 1,  # billed from next month, like a renewal
                Requests(esc, target[escalate].astype(np.int16), channel),
                severity,
                state.draws.upcode,
                contract,
                rules=care.slot_rules.ravel()[esc],
                renewal=True,
            )

    def reporters(self) -> dict[str, float]:
        return {**self.served, "escalations_residential": self.escalations}
