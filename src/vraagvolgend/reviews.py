"""Reviews (process ``reviews``): the episode lifecycle at the end of the month.

From the state at the end of the month, for every running provision:

1. It ages a month (one month less until its review, one more month run).
2. Escalation: where the catalogue says a provision escalates (ambulant youth care to
   residential care) and the domain reached the target's need window, the episode ends and the
   heavier one starts next month in the same slot.
3. Goal: every episode counts the months its goal (severity below the regime's
   ``exit_threshold``; for a chronic need, self-reliance) has held without a break.
4. The exit rule, one for every way of ending: an episode ends once its goal has held for
   longer than ``exit_lag_months``, whether that is found between reviews (regimes with
   ``end_on_goal``; never for a chronic need) or at a review.
5. Review: an episode whose months until review ran out is reviewed by the regime that runs it
   (:meth:`~vraagvolgend.financing.Policy.review`): it ends by the exit rule, or it
   continues — *renewed* (a new episode of the same provision from next month) or *prolonged*
   (the same episode, resized, until the next review), as the regime's ``continuation`` says.
   A review that finds the goal reached but not yet held for the lag waits until it has.
   Episodes for chronic needs are reviewed every ``chronic_review_months``, others every
   ``review_months``. During a policy switch, reviews move over to the new way of working at
   the switch's pace.

Every review, renewal and re-indication (escalation) is priced by one rule: one review per
household reviewed that month, ``review_factor`` conversations of the regime running the
episodes, booked as access conversations.
"""

from __future__ import annotations

import numpy as np

from .episodes import next_review, open_episodes
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
        review_cost = self.escalate(state, pos, severity, contract)
        self.track_goal(severity)
        self.end_on_goal(state)

        pos = care.running[care.slot.ravel()[care.running] >= 0]
        due = pos[care.left.ravel()[pos] <= 0]
        # One exit rule: an episode whose goal is reached but has not yet held for the lag is
        # not reviewed now; its review waits until the lag has passed (or the goal is lost),
        # so that a review never ends care sooner than the rule between reviews would.
        waiting = self.goal_reached(due) & ~self.exit_due(due, contract)
        care.left.ravel()[due[waiting]] = (
            self.lag(due[waiting], contract) + 1 - (care.goal_months.ravel()[due[waiting]])
        )
        due = due[~waiting]
        share_new = care.share_new(month)
        if share_new > 0:  # during a switch, reviews move over to the new way of working
            u = care.rng_care.random(n, dtype=F32)
            moving = due[u[due % n] < share_new]
            care.slot_rules.ravel()[moving] = len(care.regimes) - 1
        for i, regime in enumerate(care.regimes):
            sel = due[care.slot_rules.ravel()[due] == i]
            if len(sel) == 0:
                continue
            keep, intensity = regime.review(severity.ravel()[sel])
            chronic = care.chronic.ravel()[sel]
            # Chronic needs end on their own goal (self-reliance), by the same exit rule
            keep = np.where(chronic, True, keep) & ~self.exit_due(sel, contract)
            stop, go = sel[~keep], sel[keep]
            care.ledger.end(care.episode.ravel()[stop], month)
            care.slot.ravel()[stop] = -1
            review_cost += self.review_price(sel, regime)
            if regime.continuation == "prolong":  # the same episode, resized, to the next review
                prov_go = care.slot.ravel()[go]
                months = next_review(
                    regime, care.duration[prov_go].astype(np.int64), care.chronic.ravel()[go]
                )
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

    def review_price(self, positions, regime) -> float:
        """Conversation units paid for reviewing (renewing, re-indicating) ``positions``.

        The one pricing rule of the lifecycle: each household whose episodes are reviewed
        together pays one review, ``review_units()`` conversations of the regime running them,
        whether the review prolongs, renews, ends or escalates.
        """
        return len(np.unique(positions % self.care.n)) * regime.review_units()

    def track_goal(self, severity) -> None:
        """Count, per running episode, the months its goal has held without a break.

        The goal is the regime's ``exit_threshold``; for a chronic need it is self-reliance
        (``access.chronic_exit_severity``).
        """
        care = self.care
        pos = care.running[care.slot.ravel()[care.running] >= 0]
        sev = severity.ravel()[pos]
        rule = care.slot_rules.ravel()[pos]
        threshold = np.empty(len(pos), dtype=F32)
        for i, regime in enumerate(care.regimes):
            threshold[rule == i] = F32(regime.exit_threshold)
        threshold = np.where(care.chronic.ravel()[pos], care.chronic_exit, threshold)
        reached = sev < threshold
        care.goal_months.ravel()[pos] = np.where(reached, care.goal_months.ravel()[pos] + 1, 0)

    def goal_reached(self, positions) -> np.ndarray:
        """Per episode: its goal holds this month."""
        return self.care.goal_months.ravel()[positions] > 0

    def lag(self, positions, contract) -> np.ndarray:
        """Months the goal must hold before each episode ends: the regime's
        ``exit_lag_months``, under the contract's incentive for individual provisions."""
        care = self.care
        rule = care.slot_rules.ravel()[positions]
        individual = care.billed_individually[care.slot.ravel()[positions]]
        out = np.zeros(len(positions), dtype=np.int64)
        for i, regime in enumerate(care.regimes):
            sel = rule == i
            own = regime.exit_lag_months
            out[sel] = np.where(individual[sel], contract.exit_lag(own), own)
        return out

    def exit_due(self, positions, contract) -> np.ndarray:
        """The exit rule: per episode, its goal has held for longer than the lag."""
        return self.care.goal_months.ravel()[positions] > self.lag(positions, contract)

    def end_on_goal(self, state: MonthState) -> None:
        """End episodes whose goal has held for the regime's lag, without waiting for a review.

        Chronic needs (``access.chronic_domains`` of ``access.chronic_types``) are exempt:
        their episodes end only at a review (every ``chronic_review_months``), by the same
        exit rule.
        """
        care, month = self.care, state.month
        contract = care.contract(month)
        pos = care.running[care.slot.ravel()[care.running] >= 0]
        rule = care.slot_rules.ravel()[pos]
        on_goal = np.zeros(len(pos), dtype=bool)
        for i, regime in enumerate(care.regimes):
            on_goal[rule == i] = regime.end_on_goal
        sel = pos[on_goal & ~care.chronic.ravel()[pos]]
        stop = sel[self.exit_due(sel, contract)]
        care.ledger.end(care.episode.ravel()[stop], month)
        care.slot.ravel()[stop] = -1
        state.counts["ended_on_goal"] = state.counts.get("ended_on_goal", 0) + len(stop)

    def escalate(self, state: MonthState, pos, severity, contract) -> float:
        """Move running episodes to the provision they escalate to (from next month).

        Returns:
            The conversation units of the re-indications (priced as reviews).
        """
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
        units = 0.0
        if len(esc):
            rule = care.slot_rules.ravel()[esc]
            for i, regime in enumerate(care.regimes):
                units += self.review_price(esc[rule == i], regime)
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
        return units

    def reporters(self) -> dict[str, float]:
        return {**self.served, "escalations_residential": self.escalations}
