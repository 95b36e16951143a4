"""Problems and stacking: life events, onset, spill-over, escalation and recovery (monthly).

The state is a severity array of shape (domains, households), float32, one row per domain in
the order of :data:`~vraagvolgend.domains.DOMAINS`. A domain is an *active problem* while its
severity is at least ``threshold``. Each month, from the state at the start of the month:

1. Life events strike (at most one per household per month); each raises several domains.
2. Onset: an inactive domain becomes active with a hazard from the household's vulnerability,
   its neighbourhood's deprivation, its type, the severities of its other domains (the
   spill-over matrix) and its carer strain. A new problem gets a severity in ``onset_severity``.
3. Recovery: an active problem resolves with a probability that falls with the number of
   active problems; informal support (and later formal care) adds to it for light problems.
4. Escalation: an active problem that does not resolve worsens by a rate that grows with the
   number of active problems and shrinks with support coverage.
5. Severity below the threshold fades.

Every random draw comes from full-population arrays drawn every month whatever the state, so
that two runs on one seed (say, two policies) see the same life events and onset draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .domains import DOMAINS, HOUSEHOLD_TYPES, domain_index
from .households import Households
from .scenario import Scenario

__all__ = ["MonthOfProblems", "ProblemDynamics"]

F32 = np.float32


@dataclass
class MonthOfProblems:
    """What the problem processes did in one month (for the monthly table)."""

    events: np.ndarray  # per household: index of the life event, or len(event_names) for none
    onsets: int
    recoveries: int


class ProblemDynamics:
    """The monthly problem processes of one municipality, with hazards precomputed.

    Args:
        scenario: The scenario (problems, life events, support sections are used).
        households: The population.
        streams: Mapping of stream name to generator; uses ``events``, ``onset`` and
            ``recovery``.
    """

    def __init__(self, scenario: Scenario, households: Households, streams):
        p = scenario.problems
        self.params = p
        self.n = households.n
        self.threshold = F32(p.threshold)
        self.parenting = domain_index("parenting")
        self.has_children = households.has_children.astype(F32)

        # Constant part of the onset hazard: base rate × type risk × exp(vulnerability, deprivation)
        base = np.array([p.onset_rate[d] for d in DOMAINS])
        type_risk = np.array(
            [[p.type_risk.get(t, {}).get(d, 1.0) for d in DOMAINS] for t in HOUSEHOLD_TYPES]
        )
        household_factor = np.exp(
            p.vulnerability_effect * households.vulnerability.astype(float)
            + p.deprivation_effect * households.deprivation.astype(float)
        )
        self.base_hazard = (
            base[:, None] * type_risk[households.household_type].T * household_factor[None, :]
        ).astype(F32)
        self.base_hazard[self.parenting] *= self.has_children  # only households with children

        # spillover_t[to, from]: so that spillover_t @ severity gives the exponent per domain
        self.spillover_t = np.array(
            [[p.spillover.get(src, {}).get(dst, 0.0) for src in DOMAINS] for dst in DOMAINS],
            dtype=F32,
        )
        s = scenario.support
        self.strain_effect = np.array([s.strain_effect.get(d, 0.0) for d in DOMAINS], dtype=F32)
        self.recovery = np.array([p.recovery_rate[d] for d in DOMAINS], dtype=F32)
        self.escalation = np.array([p.escalation_rate[d] for d in DOMAINS], dtype=F32)
        self.light_limit = F32(p.threshold + s.light_margin)
        self.light_recovery = F32(s.light_recovery)
        self.mitigation = F32(s.escalation_mitigation)

        # Life events: hazard constants per household and the severity each adds
        events = scenario.life_events
        self.event_names = tuple(events)
        vul = households.vulnerability.astype(float)
        self.event_base = np.array(
            [
                ev.rate
                * np.isin(
                    households.household_type,
                    [HOUSEHOLD_TYPES.index(t) for t in ev.household_types],
                )
                * np.exp(ev.vulnerability_effect * vul)
                for ev in events.values()
            ],
            dtype=F32,
        ).reshape(len(events), self.n)
        self.event_severity_effect = np.array(
            [[ev.severity_effect.get(d, 0.0) for d in DOMAINS] for ev in events.values()], dtype=F32
        ).reshape(len(events), len(DOMAINS))
        # One extra all-zero row: "no event"
        self.event_impact = np.zeros((len(events) + 1, len(DOMAINS)), dtype=F32)
        for i, ev in enumerate(events.values()):
            self.event_impact[i] = [ev.impact.get(d, 0.0) for d in DOMAINS]

        self.rng_events = streams["events"]
        self.rng_onset = streams["onset"]
        self.rng_recovery = streams["recovery"]

    def initial_severity(self, rng: np.random.Generator) -> np.ndarray:
        """A starting state near the steady state of independent domains (burn-in does the rest).

        Each domain is active with probability a / (a + b), with a the onset and b the recovery
        probability of a one-problem household, at a severity drawn from the onset range.
        """
        a = -np.expm1(-self.base_hazard.astype(float))
        b = self.recovery.astype(float)[:, None]
        p_active = np.divide(a, a + b, out=np.zeros_like(a), where=(a + b) > 0)
        lo, hi = self.params.onset_severity
        severity = lo + (hi - lo) * rng.random(a.shape)
        return np.where(rng.random(a.shape) < p_active, severity, 0.0).astype(F32)

    def life_events(self, severity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Draw this month's life events.

        Returns:
            (event index per household, with ``len(event_names)`` meaning none;
            severity increments of shape (domains, households)).
        """
        u = self.rng_events.random(self.n, dtype=F32)
        hazard = self.event_base * np.exp(self.event_severity_effect @ severity)
        cumulative = np.cumsum(-np.expm1(-hazard), axis=0)
        event = (u[None, :] >= cumulative).sum(axis=0)
        increments = self.event_impact[event].T
        return event, increments

    def advance(
        self,
        severity: np.ndarray,
        strain: np.ndarray,
        coverage: np.ndarray,
        extra_recovery: np.ndarray | float = 0.0,
        escalation_factor: np.ndarray | float = 1.0,
    ) -> tuple[np.ndarray, int, int]:
        """Onset, recovery, escalation and fading for one month (synchronous update).

        Args:
            severity: State at the start of the month, (domains, households).
            strain: Carer strain per household at the start of the month.
            coverage: Informal support coverage per household (0–1).
            extra_recovery: Recovery probability added by formal care, (domains, households)
                or a scalar.
            escalation_factor: Multiplier on escalation from formal care.

        Returns:
            (new severity, number of onsets, number of recoveries).
        """
        active = severity >= self.threshold
        n_active = active.sum(axis=0, dtype=np.int8).astype(F32)
        u_onset = self.rng_onset.random(severity.shape, dtype=F32)
        u_recovery = self.rng_recovery.random(severity.shape, dtype=F32)

        exponent = self.spillover_t @ severity
        exponent += self.strain_effect[:, None] * strain[None, :]
        onset_p = -np.expm1(-self.base_hazard * np.exp(exponent))
        onset = ~active & (u_onset < onset_p)

        stack = np.maximum(n_active - 1, 0)
        light = active & (severity < self.light_limit)
        recover_p = self.recovery[:, None] / (1 + self.params.recovery_stacking * stack)
        recover_p = recover_p + light * (self.light_recovery * coverage) + extra_recovery
        recover = active & (u_recovery < recover_p)

        step = self.escalation[:, None] * (1 + self.params.escalation_stacking * stack)
        step = step * (1 - self.mitigation * coverage) * escalation_factor

        lo, hi = self.params.onset_severity
        onset_severity = lo + (hi - lo) * (u_onset / np.maximum(onset_p, 1e-12))
        new = np.where(
            active,
            np.where(recover, severity * F32(self.params.recovered_fraction), severity + step),
            np.where(onset, onset_severity, severity * F32(1 - self.params.residual_decay)),
        )
        return new.astype(F32, copy=False), int(onset.sum()), int(recover.sum())

    def finish(self, severity: np.ndarray, increments: np.ndarray) -> np.ndarray:
        """Add life-event increments, keep severities in [0, 1] and ineligible domains at 0."""
        severity += increments
        np.clip(severity, 0.0, 1.0, out=severity)
        severity[self.parenting] *= self.has_children
        return severity
