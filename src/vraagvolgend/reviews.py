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
    """Ages, escalates and reviews running episodes (process ``reviews``).

    Works on the rows of the running provisions (:class:`~vraagvolgend.care.Running`); the
    helpers take row numbers.
    """

    name = "reviews"
    escalations = 0

    def init(self, model) -> None:
        super().init(model)
        self.care = model.care
        self.served = self.care.served()
        self._lags = (None, None, None)  # (contract, regimes, lag_table)

    def step(self, state: MonthState) -> None:
        care, n, month = self.care, self.care.n, state.month
        run = care.run  # every row runs: the ended were dropped at the last month's end
        severity = state.severity_end
        sev = severity.ravel().take(run.pos)  # each episode's domain at the month's end
        contract = care.contract(month)
        run.left -= 1
        run.months_in += 1
        review_cost = self.escalate(state, sev, severity, contract)
        self.track_goal(sev)
        self.end_on_goal(state)

        due = ((run.prov >= 0) & (run.left <= 0)).nonzero()[0]
        # One exit rule: an episode whose goal is reached but has not yet held for the lag is
        # not reviewed now; its review waits until the lag has passed (or the goal is lost),
        # so that a review never ends care sooner than the rule between reviews would.
        waiting = self.goal_reached(due) & ~self.exit_due(due, contract)
        wait = due[waiting]
        run.left[wait] = self.lag(wait, contract) + 1 - run.goal_months[wait]
        due = due[~waiting]
        share_new = care.share_new(month)
        if share_new > 0:  # during a switch, reviews move over to the new way of working
            u = care.rng_care.random(n, dtype=F32)
            moving = due[u[run.hh[due]] < share_new]
            run.rule[moving] = len(care.regimes) - 1
        for i, regime in enumerate(care.regimes):
            sel = due[run.rule[due] == i]
            if len(sel) == 0:
                continue
            keep, intensity = regime.review(sev[sel])
            chronic = run.chronic[sel]
            # Chronic needs end on their own goal (self-reliance), by the same exit rule
            keep = np.where(chronic, True, keep) & ~self.exit_due(sel, contract)
            stop, go = sel[~keep], sel[keep]
            care.ledger.end(run.episode[stop], month)
            care.end_rows(stop)
            review_cost += self.review_price(sel, regime)
            if regime.continuation == "prolong":  # the same episode, resized, to the next review
                prov_go = run.prov[go]
                months = next_review(
                    regime, care.duration[prov_go].astype(np.int64), run.chronic[go]
                )
                months, new_int = contract.response(
                    months, intensity[keep], care.billed_individually[prov_go]
                )
                run.left[go] = months
                run.intensity[go] = new_int
            else:  # renewed: a new episode of the same provision, from next month
                care.ledger.end(run.episode[go], month)
                channel = np.full(len(go), ALL_CHANNELS.index("renewal"), dtype=np.int8)
                open_episodes(
                    care,
                    month + 1,
                    Requests(run.pos[go], run.prov[go].copy(), channel),
                    severity,
                    state.draws.upcode,
                    contract,
                    rules=np.full(len(go), i, dtype=np.int8),
                    renewal=True,
                )
        state.costs[care.line("conversation")] += review_cost * care.params.conversation_cost
        care.drop_ended()
        self.served = care.served()

    def review_price(self, rows, regime) -> float:
        """Conversation units paid for reviewing (renewing, re-indicating) ``rows``.

        The one pricing rule of the lifecycle: each household whose episodes are reviewed
        together pays one review, ``review_units()`` conversations of the regime running them,
        whether the review prolongs, renews, ends or escalates.
        """
        if len(rows) == 0:
            return 0 * regime.review_units()
        households = np.zeros(self.care.n, dtype=bool)  # distinct households, without a sort
        households[self.care.run.hh[rows]] = True
        return np.count_nonzero(households) * regime.review_units()

    def track_goal(self, sev) -> None:
        """Count, per running episode, the months its goal has held without a break.

        The goal is the regime's ``exit_threshold``; for a chronic need it is self-reliance
        (``access.chronic_exit_severity``).

        Args:
            sev: Per running episode, its domain's severity at the end of the month.
        """
        care, run = self.care, self.care.run
        threshold = np.where(run.chronic, care.chronic_exit, care.exit_threshold[run.rule])
        run.goal_months += 1  # in place: a month more where reached, 0 where not
        run.goal_months *= sev < threshold

    def goal_reached(self, rows) -> np.ndarray:
        """Per episode: its goal holds this month."""
        return self.care.run.goal_months[rows] > 0

    def lag(self, rows, contract) -> np.ndarray:
        """Months the goal must hold before each episode ends: the regime's
        ``exit_lag_months``, under the contract's incentive for individual provisions."""
        run = self.care.run
        return self.lag_table(contract)[run.rule[rows], run.prov[rows]]

    def lag_table(self, contract) -> np.ndarray:
        """:meth:`lag` per (regime, provision), built once per contract and set of regimes."""
        care = self.care
        if self._lags[0] is contract and self._lags[1] is care.regimes:
            return self._lags[2]
        table = np.array(
            [
                np.where(
                    care.billed_individually,
                    contract.exit_lag(r.exit_lag_months),
                    r.exit_lag_months,
                )
                for r in care.regimes
            ],
            dtype=np.int64,
        )
        self._lags = (contract, care.regimes, table)
        return table

    def exit_due(self, rows, contract) -> np.ndarray:
        """The exit rule: per episode, its goal has held for longer than the lag."""
        return self.care.run.goal_months[rows] > self.lag(rows, contract)

    def end_on_goal(self, state: MonthState) -> None:
        """End episodes whose goal has held for the regime's lag, without waiting for a review.

        Chronic needs (``access.chronic_domains`` of ``access.chronic_types``) are exempt:
        their episodes end only at a review (every ``chronic_review_months``), by the same
        exit rule.
        """
        care, run, month = self.care, self.care.run, state.month
        contract = care.contract(month)
        if self.lag_table(contract).min() >= 0:  # only goals that hold can be due: few rows
            sel = (run.goal_months > 0).nonzero()[0]
        else:
            sel = np.arange(len(run))
        sel = sel[care.end_on_goal[run.rule[sel]] & ~run.chronic[sel]]
        stop = sel[self.exit_due(sel, contract)]
        care.ledger.end(run.episode[stop], month)
        care.end_rows(stop)
        state.counts["ended_on_goal"] = state.counts.get("ended_on_goal", 0) + len(stop)

    def escalate(self, state: MonthState, sev, severity, contract) -> float:
        """Move running episodes to the provision they escalate to (from next month).

        Args:
            sev: Per running episode, its domain's severity at the end of the month.
            severity: The state at the end of the month.

        Returns:
            The conversation units of the re-indications (priced as reviews).
        """
        care, run, month = self.care, self.care.run, state.month
        routing = care.routing
        # Episodes of provisions that escalate at all (few), then the target and the severity
        esc = (routing.escalates_to[run.prov] >= 0).nonzero()[0]
        prov = run.prov[esc]
        target = routing.escalates_to[prov]
        ok = routing.serves[target, run.dom[esc]] & (sev[esc] >= routing.escalation_severity[prov])
        esc, target = esc[ok], target[ok]
        self.escalations = len(esc)
        state.counts["escalations"] = len(esc)
        units = 0.0
        if len(esc):
            rule = run.rule[esc]
            for i, regime in enumerate(care.regimes):
                units += self.review_price(esc[rule == i], regime)
            care.ledger.end(run.episode[esc], month)
            channel = np.full(len(esc), ALL_CHANNELS.index("escalation"), dtype=np.int8)
            open_episodes(
                care,
                month + 1,  # billed from next month, like a renewal
                Requests(run.pos[esc], target.astype(np.int16), channel),
                severity,
                state.draws.upcode,
                contract,
                rules=run.rule[esc],
                renewal=True,
            )
        return units

    def reporters(self) -> dict[str, float]:
        return {**self.served, "escalations_residential": self.escalations}
