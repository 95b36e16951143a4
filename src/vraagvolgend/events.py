"""Life events: job loss, separation, serious illness, eviction threat (declared as data).

Each event type (``scenario.life_events``) has a monthly hazard for the household types it can
strike, raised by the household's vulnerability and by its severity in some domains; when it
strikes, it raises several domains at once. At most one event strikes a household per month.
Events are drawn from the state at the start of the month and applied at its end, after the
problem dynamics (:class:`~vraagvolgend.problems.ProblemDynamics` adds their impact).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .domains import DOMAINS, HOUSEHOLD_TYPES
from .month import MonthState, Process
from .problems import safe_exp as _exp

__all__ = ["EventDraw", "LifeEvents"]

F32 = np.float32


@dataclass
class EventDraw:
    """This month's life events: who, which event, and how many of each."""

    households: np.ndarray
    event: np.ndarray  # index into LifeEvents.names, per household in ``households``
    counts: np.ndarray  # per event type
    impact: np.ndarray  # (households struck, domains): severity each event adds


class LifeEvents(Process):
    """Draws the month's life events (process ``life_events``; stream ``events``)."""

    name = "life_events"

    def init(self, model) -> None:
        super().init(model)
        scenario, households = model.params, model.households
        events = scenario.life_events
        self.names = tuple(events)
        self.n = households.n
        vul = households.vulnerability.astype(float)
        self.base = np.array(
            [
                ev.rate
                * np.isin(
                    households.household_type,
                    [HOUSEHOLD_TYPES.index(t) for t in ev.household_types],
                )
                * _exp(ev.vulnerability_effect * vul)
                for ev in events.values()
            ],
            dtype=F32,
        ).reshape(len(events), self.n)
        self.severity_effect = np.array(
            [[ev.severity_effect.get(d, 0.0) for d in DOMAINS] for ev in events.values()], dtype=F32
        ).reshape(len(events), len(DOMAINS))
        # One extra all-zero row: "no event"
        self.impact = np.zeros((len(events) + 1, len(DOMAINS)), dtype=F32)
        for i, ev in enumerate(events.values()):
            self.impact[i] = [ev.impact.get(d, 0.0) for d in DOMAINS]
        # An upper bound of the monthly event probability (every severity at 1): draws above
        # it cannot be an event, whatever the state.
        max_effect = _exp(self.severity_effect.clip(min=0).sum(axis=1))
        bound = -np.expm1(-(self.base * max_effect[:, None]).astype(float)).sum(axis=0)
        self.bound = (bound * 1.0001).astype(F32)
        self.rng = model.streams["events"]
        none = np.zeros(0, np.int64)
        self.last = EventDraw(none, none, np.zeros(len(self.names), np.int64), self.impact[:0])

    def step(self, state: MonthState) -> None:
        """Draw this month's life events (at most one per household).

        One uniform per household is drawn every month, whatever the state. Only households
        whose draw falls below the bound can have an event, so the exact hazards are computed
        for those few alone.
        """
        severity = state.severity
        u = self.rng.random(self.n, dtype=F32)
        candidates = (u < self.bound).nonzero()[0]
        # The base rates by take (faster than fancy indexing the columns); the severities
        # keep their fancy-indexed layout: the matrix product's rounding depends on it
        hazard = self.base.take(candidates, axis=1)
        hazard *= _exp(self.severity_effect @ severity[:, candidates])
        cumulative = np.cumsum(-np.expm1(-hazard), axis=0)
        event = (u[candidates][None, :] >= cumulative).sum(axis=0)
        hit = event < len(self.names)
        state.events = self.last = EventDraw(
            households=candidates[hit],
            event=event[hit],
            counts=np.bincount(event[hit], minlength=len(self.names)),
            impact=self.impact[event[hit]],
        )

    def reporters(self) -> dict[str, float]:
        return {
            f"events_{name}": int(c) for name, c in zip(self.names, self.last.counts, strict=True)
        }
