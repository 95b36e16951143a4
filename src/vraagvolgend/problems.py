"""Problems and stacking: life events, onset, spill-over, escalation and recovery (monthly).

The state is a severity array of shape (domains, households), float32, one row per domain in
the order of :data:`~vraagvolgend.domains.DOMAINS`. A domain is an *active problem* while its
severity is at least ``threshold``. Each month, from the state at the start of the month:

1. Onset: an inactive domain becomes active with a hazard from the household's vulnerability,
   its neighbourhood's deprivation, its type, the severities of its other domains (the
   spill-over matrix) and its carer strain. A new problem gets a severity in ``onset_severity``.
2. Recovery: an active problem resolves with a probability that falls with the number of
   active problems; informal support (and later formal care) adds to it for light problems.
3. Escalation: an active problem that does not resolve worsens by a rate that grows with the
   number of active problems and shrinks with support coverage.
4. Severity below the threshold fades.

Then the month's life events (drawn by :mod:`vraagvolgend.events` from the state at the start
of the month) add their severity. Every random draw comes from full-population arrays drawn
every month whatever the state, so that two runs on one seed (say, two policies) see the same
life events and onset draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .domains import DOMAINS, HOUSEHOLD_TYPES, domain_index
from .households import Households
from .month import MonthState, Process
from .scenario import Scenario

__all__ = ["CareEffects", "ProblemDynamics", "ProblemState"]

F32 = np.float32
#: Households from which the state (:meth:`ProblemDynamics.read`) and the month's draws are
#: scanned one domain at a time (less memory and faster for a large state; slower below,
#: where the calls dominate).
ROWWISE_ABOVE = 100_000
EXP_MAX = 80.0  # exp(80) ≈ 5.5e34: any hazard this large is certain; float32 overflows at 88


def safe_exp(x):
    """``exp`` with the exponent clipped, so that hazards at extreme parameter values stay
    finite (a probability 1 − exp(−hazard) is 1 long before)."""
    x = np.asarray(x)
    return np.exp(np.minimum(x, x.dtype.type(EXP_MAX)))


_exp = safe_exp


def padded_mask(shape) -> np.ndarray:
    """A boolean array of ``shape`` whose flat buffer is zero-padded to whole 8-byte words,
    for :func:`true_positions` (write it with a ufunc's ``out=``)."""
    size = math.prod(shape)  # np.prod costs more than the mask itself on a small state
    return np.zeros(-(-size // 8) * 8, dtype=bool)[:size].reshape(shape)


def true_positions(mask: np.ndarray) -> np.ndarray:
    """``np.flatnonzero(mask)`` for a sparse :func:`padded_mask`, about twice as fast.

    At a few percent of entries set, numpy's scan for the set bytes mispredicts a branch per
    hit. Here it scans the 8-byte words instead (a third or so of them hold a hit: numpy's
    branch-free path), then the bytes of those words only. Same indices, same order.
    """
    words = mask.base.view(np.uint64)
    hit = (words != 0).nonzero()[0]
    pos = words[hit].view(bool).nonzero()[0]  # byte positions within the hit words
    out = hit[pos >> 3]
    out <<= 3
    out |= pos & 7
    return out


@dataclass
class ProblemState:
    """Which domains are active problems, read once at the start of a month."""

    active_index: np.ndarray  # flat indices of the active entries
    n_active: np.ndarray  # active problems per household (int8)
    load: np.ndarray  # summed severity per household (float32)
    # Per active entry, read once for every process: its domain, household and severity
    active_domain: np.ndarray | None = None
    active_household: np.ndarray | None = None
    active_severity: np.ndarray | None = None
    severity: np.ndarray | None = None  # the (domains, households) state read
    threshold: float = 0.0

    @property
    def active(self) -> np.ndarray:
        """(domains, households) bool: computed when asked (not kept: a byte per entry)."""
        return self.severity >= self.threshold


class CareEffects:
    """What formal care does to this month's problem dynamics.

    Care runs for few households, so its effects are kept per household in care (a table of
    added recovery per domain) and per running provision (escalation mitigation), and looked
    up at the entries that need them.

    Args:
        row_of: Per household: its row in ``recovery``, or −1 when not in care.
        recovery: (households in care + 1, domains) recovery probability added; the last
            row is zeros, read by the households not in care (row −1).
        mitigation: (flat row of the running provision per entry, −1 for none; mitigation
            per row, with a 0 appended for the entries without one).
        activation: Per household: extra pull on its network.
        stacking_relief: Per household: the fraction by which an integrated plan lowers the
            stacking penalty on its recovery and escalation (``None``: none anywhere).
    """

    def __init__(self, row_of, recovery, mitigation, activation, stacking_relief=None):
        self.row = row_of
        self.recovery = recovery
        self.mitigation = mitigation
        self.activation = activation
        self.stacking_relief = stacking_relief

    def recovery_at(self, domain: np.ndarray, household: np.ndarray) -> np.ndarray:
        """Recovery probability added at the given (domain, household) entries."""
        # Flat indices into the table; a household not in care (row −1) reads the zero row
        return self.recovery.ravel()[self.row[household] * len(DOMAINS) + domain]

    def mitigation_at(self, flat: np.ndarray) -> np.ndarray:
        """Escalation mitigation at the given flat (domain × household) entries."""
        row, per_row = self.mitigation
        return per_row[row[flat]]


class ProblemDynamics(Process):
    """The monthly problem dynamics of one municipality, with hazards precomputed (process
    ``problem_dynamics``; streams ``transitions`` and ``transitions_refine``).

    Reads the state at the start of the month, informal support coverage and the effects of
    formal care; writes the state at the end of the month (``state.severity_end``).
    """

    name = "problem_dynamics"
    onsets = recoveries = 0

    def init(self, model) -> None:
        super().init(model)
        self.setup(model.params, model.households, model.streams)

    def setup(self, scenario: Scenario, households: Households, streams) -> None:
        """Precompute the hazards (also usable without a model, for tests)."""
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
        household_factor = _exp(
            p.vulnerability_effect * households.vulnerability.astype(float)
            + p.deprivation_effect * households.deprivation.astype(float)
        )
        # Domain by domain (the float64 products of one row at a time, not of all seven)
        self.base_hazard = np.empty((len(DOMAINS), self.n), dtype=F32)
        for d in range(len(DOMAINS)):
            row = base[d] * type_risk[households.household_type, d]
            row *= household_factor
            self.base_hazard[d] = row
        self.base_hazard[self.parenting] *= self.has_children  # only households with children
        # A domain's own income gradient, beyond the one vulnerability carries for every domain
        centred = (3.0 - households.income_quintile.astype(float)) / 2.0
        for d, effect in p.income_effect.items():
            self.base_hazard[domain_index(d)] *= _exp(effect * centred).astype(F32)

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
        # Recovery and escalation per domain and number of active problems (0–7), with the
        # float32 arithmetic of the general case (a stacking relief), so a lookup gives the
        # same bits: row d, column k at d · stack_width + k.
        self.stack_width = len(DOMAINS) + 1
        stack = np.maximum(np.arange(self.stack_width, dtype=F32) - 1, 0)
        by_stack = 1 + F32(p.recovery_stacking) * stack
        self.recovery_by_stack = (self.recovery[:, None] / by_stack).ravel()
        by_stack = 1 + F32(p.escalation_stacking) * stack
        self.escalation_by_stack = (self.escalation[:, None] * by_stack).ravel()
        self.domains = np.arange(len(DOMAINS))
        self.domain_starts = np.arange(len(DOMAINS) + 1) * self.n

        # Upper bound of the monthly onset probability (every severity at 1, full strain):
        # draws above it cannot be an onset, whatever the state.
        worst = _exp(self.spillover_t.clip(min=0).sum(axis=1) + self.strain_effect.clip(min=0))
        self.spill_max = self.spillover_t.clip(min=0).max(axis=1)
        # As the largest 16-bit value a candidate's first 16 bits can take (u < bound ⇔
        # bits ≤ ceil(bound · 2^16) − 1); 1.0001: margin for float32 rounding. Domain by
        # domain, in place: float64 temporaries of one row only.
        self.onset_bound_bits = np.empty(self.base_hazard.size, dtype=np.uint16)
        for d, bits in enumerate(self.onset_bound_bits.reshape(self.base_hazard.shape)):
            bound = self.base_hazard[d].astype(float)
            bound *= worst[d]
            np.negative(bound, out=bound)
            np.expm1(bound, out=bound)
            np.negative(bound, out=bound)
            bound *= 1.0001
            bound *= 2.0**16
            np.ceil(bound, out=bound)
            bound -= 1
            bits[:] = np.clip(bound, 0, 2**16 - 1, out=bound)

        # Persistent problems: a household trait drawn once from its own stream (so that
        # drawing it shifts no other draw); recovery in those domains is slower. The chance
        # follows the household type's relative risk in those domains (mean 1 over the
        # population), so that a lasting distance to the labour market is as concentrated by
        # household type as the problems themselves (long spells on the benefit are
        # over-represented among single parents).
        risk = np.ones(self.n)
        if self.n and p.persistent_domains:
            columns = [domain_index(d) for d in p.persistent_domains]
            # Per type, then per household (not an (households × domains) gather first)
            by_type = type_risk[:, columns].mean(axis=1)[households.household_type]
            if by_type.mean() > 0:
                risk = by_type / by_type.mean()
        persistent = streams["persistence"].random(self.n) < p.persistent_share * risk
        self.persistent = persistent
        self.persistent_domain = np.isin(DOMAINS, p.persistent_domains)
        self.slow = F32(p.persistent_recovery)
        self.any_slow = bool(persistent.any() and self.persistent_domain.any())
        self.rng_transitions = streams["transitions"]
        self.rng_refine = streams["transitions_refine"]

    def initial_severity(self, rng: np.random.Generator) -> np.ndarray:
        """A starting state near the steady state of independent domains (burn-in does the rest).

        Each domain is active with probability a / (a + b), with a the onset and b the recovery
        probability of a one-problem household, at a severity drawn from the onset range.
        """
        # Row by row (one float64 row at a time): drawing (domains, households) uniforms is
        # drawing them one domain after another.
        lo, hi = self.params.onset_severity
        severity = np.empty(self.base_hazard.shape, dtype=F32)
        for row in severity:
            u = rng.random(self.n)
            u *= hi - lo
            u += lo
            row[:] = u
        for d, row in enumerate(severity):
            a = -np.expm1(-self.base_hazard[d].astype(float))
            ab = a + float(self.recovery[d])
            p_active = np.divide(a, ab, out=np.zeros_like(a), where=ab > 0)
            row[~(rng.random(self.n) < p_active)] = 0
        return severity

    def domain_runs(self, flat: np.ndarray) -> np.ndarray:
        """The domain of each of the sorted flat (domain × households) indices ``flat``.

        Sorted, they come domain by domain: each domain's run ends where the next begins
        (two searches and a repeat: cheaper than a division).
        """
        starts = np.searchsorted(flat, self.domain_starts)
        return np.repeat(self.domains, starts[1:] - starts[:-1])  # np.diff's wrapper costs more

    def read(self, severity: np.ndarray) -> ProblemState:
        """Which domains are active problems at the start of a month (shared by all processes)."""
        n = severity.shape[1]
        if n < ROWWISE_ABOVE:
            active = np.greater_equal(severity, self.threshold, out=padded_mask(severity.shape))
            idx = true_positions(active)
            n_active = active.sum(axis=0, dtype=np.int8)
            dom = self.domain_runs(idx)
            hh = idx - dom * n
        else:
            # Domain by domain, in one reused row of booleans: a byte per household instead
            # of per entry, and each row's booleans still in cache when they are scanned.
            n_active = np.zeros(n, dtype=np.int8)
            active = np.empty(n, dtype=bool)
            households = []
            for row in severity:
                np.greater_equal(row, self.threshold, out=active)
                households.append(np.flatnonzero(active))
                n_active += active
            dom = np.repeat(self.domains, [len(h) for h in households])
            hh = np.concatenate(households)
            idx = dom * n
            idx += hh
        return ProblemState(
            active_index=idx,
            n_active=n_active,
            load=severity.sum(axis=0, dtype=F32),
            active_domain=dom,
            active_household=hh,
            active_severity=severity.ravel()[idx],
            severity=severity,
            threshold=self.threshold,
        )

    def advance(
        self,
        severity: np.ndarray,
        state: ProblemState,
        strain: np.ndarray,
        coverage: np.ndarray,
        care: CareEffects | None = None,
    ) -> tuple[np.ndarray, int, int]:
        """Onset, recovery, escalation and fading for one month (synchronous update).

        Onset is computed only where the month's uniform draw falls below an upper bound of
        the onset probability (every other severity at 1, full carer strain); recovery and
        escalation only where a problem is active. Draws are full (domains × households)
        arrays every month, so runs that differ in care see the same onset draws.

        Args:
            severity: State at the start of the month, (domains, households).
            state: :meth:`read` of that state.
            strain: Carer strain per household at the start of the month.
            coverage: Informal support coverage per household (0–1).
            care: Effects of formal care (recovery added, escalation mitigated), if any.

        Returns:
            (new severity, number of onsets, number of recoveries).
        """
        n = self.n
        # One uniform per (domain, household), as 32 raw bits: an inactive entry uses it for
        # onset, an active one for recovery, so runs whose states differ still share the draw
        # of every entry. Bits are compared as integers and decoded only where needed.
        bits = self.rng_transitions.bit_generator.random_raw((severity.size + 3) // 4)
        bits = bits.view(np.uint16)[: severity.size]
        new = np.multiply(severity, F32(1 - self.params.residual_decay))  # below: fading

        # Onset, where it can happen at all. The first 16 bits of each entry's uniform are
        # compared with a fixed bound; the few entries below it (a set that does not depend on
        # the state, so runs still share their draws) get 16 more bits from a second stream.
        if n < ROWWISE_ABOVE:
            below = np.less_equal(bits, self.onset_bound_bits, out=padded_mask(bits.shape))
            cand = true_positions(below)
        else:  # domain by domain, in one reused row of booleans (as in read)
            below = np.empty(n, dtype=bool)
            cand = []
            for start in self.domain_starts[:-1]:
                span = slice(start, start + n)
                np.less_equal(bits[span], self.onset_bound_bits[span], out=below)
                found = np.flatnonzero(below)
                found += start
                cand.append(found)
            cand = np.concatenate(cand)
        low = self.rng_refine.bit_generator.random_raw((len(cand) + 3) // 4)
        low = low.view(np.uint16)[: len(cand)]
        inactive = (severity.ravel()[cand] < self.threshold).nonzero()[0]  # one pass, two takes
        cand, low = cand[inactive], low[inactive]
        # The uniform (high · 2^16 + low) · 2^-32 in float32: the 32-bit integer rounded to
        # float32, then scaled by a power of two (exact), is the float64 value rounded once.
        u_cand = (bits[cand].astype(np.uint32) << 16 | low).astype(F32)
        u_cand *= F32(2.0**-32)
        recovery_bits = bits[state.active_index]  # the rest of the draw is not needed again
        del bits
        dom = self.domain_runs(cand)
        hh = cand - dom * n
        # A tighter, household-specific bound: the spill-over exponent is at most the largest
        # coefficient into the domain times the household's summed severity.
        bound = self.base_hazard.ravel()[cand] * _exp(
            self.spill_max[dom] * state.load[hh] + self.strain_effect[dom] * strain[hh]
        )
        keep = (u_cand < F32(1.0001) * -np.expm1(-bound)).nonzero()[0]
        cand, dom, hh, u_cand = cand[keep], dom[keep], hh[keep], u_cand[keep]
        exponent = np.einsum("kd,dk->k", self.spillover_t[dom], severity[:, hh])
        exponent += self.strain_effect[dom] * strain[hh]
        p = -np.expm1(-self.base_hazard.ravel()[cand] * _exp(exponent))
        onset = u_cand < p
        lo, hi = self.params.onset_severity
        new.ravel()[cand[onset]] = F32(lo) + F32(hi - lo) * (u_cand[onset] / p[onset])

        # Active problems: recovery or escalation
        idx = state.active_index
        dom, hh, sev = state.active_domain, state.active_household, state.active_severity
        cov = coverage[hh]
        if care is None or care.stacking_relief is None:
            # Recovery and escalation per (domain, number of active problems), looked up
            key = dom * self.stack_width + state.n_active[hh]
            recover_p = self.recovery_by_stack[key]
            step = self.escalation_by_stack[key]
        else:
            stack = np.maximum(state.n_active[hh].astype(F32) - 1, 0)
            # Problems addressed together in one plan stack less (an integrated plan)
            stack *= 1 - care.stacking_relief[hh]
            recover_p = self.recovery[dom] / (1 + F32(self.params.recovery_stacking) * stack)
            step = self.escalation[dom] * (1 + F32(self.params.escalation_stacking) * stack)
        recover_p += (sev < self.light_limit) * (self.light_recovery * cov)
        step *= 1 - self.mitigation * cov
        if care is not None:
            recover_p += care.recovery_at(dom, hh)
            step *= 1 - care.mitigation_at(idx)
        if self.any_slow:
            slow = self.persistent[hh] & self.persistent_domain[dom]
            np.multiply(recover_p, self.slow, out=recover_p, where=slow)
        # u = (bits + ½) · 2^-16 < p, compared as bits + ½ < p · 2^16 (both sides exact)
        recover = recovery_bits + F32(0.5) < recover_p * F32(2.0**16)
        # Escalated (capped at 1), or recovered to a fraction of the severity
        step += sev
        np.minimum(step, 1, out=step)
        np.multiply(sev, F32(self.params.recovered_fraction), out=step, where=recover)
        new.ravel()[idx] = step
        return new, np.count_nonzero(onset), np.count_nonzero(recover)

    def finish(self, severity: np.ndarray, events) -> np.ndarray:
        """Add the month's life events' severity, within [0, 1] and only in applicable domains."""
        hh = events.households
        if len(hh):
            hit = severity[:, hh] + events.impact.T
            hit[self.parenting] *= self.has_children[hh]
            severity[:, hh] = np.minimum(hit, 1)
        return severity

    # --- the process --------------------------------------------------------------------------

    def step(self, state: MonthState) -> None:
        """Onset, recovery, escalation and fading; then the month's life events strike."""
        coverage = state.support.coverage
        new, onsets, recoveries = self.advance(
            state.severity, state.problems, state.strain, coverage, state.effects
        )
        state.severity_end = self.finish(new, state.events)
        self.onsets, self.recoveries = onsets, recoveries
        state.counts["new_problems"] = onsets
        state.counts["recoveries"] = recoveries

    def reporters(self) -> dict[str, float]:
        return {"new_problems": self.onsets, "recoveries": self.recoveries}
