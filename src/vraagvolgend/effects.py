"""Care effects (process ``care_effects``): what running provisions do to this month's problems.

A running provision adds recovery probability to the domains it acts on (the catalogue's effect
per domain, times the episode's intensity) and slows the escalation of its domain
(mitigation); one-off flexible-budget solutions add their effect this month. A regime's plan
may activate the household's network (``network_activation``), which
:mod:`vraagvolgend.support` reads, and lower the stacking penalty on the household's recovery
and escalation while it runs (``plan_stacking_relief``: problems addressed together), which
:mod:`vraagvolgend.problems` reads. Only households in care get a row in the effects table.
"""

from __future__ import annotations

import numpy as np

from .domains import DOMAINS
from .month import MonthState, Process
from .problems import CareEffects

__all__ = ["CareEffectsProcess"]

F32 = np.float32


class CareEffectsProcess(Process):
    """Computes the effects of running care (process ``care_effects``)."""

    name = "care_effects"

    def init(self, model) -> None:
        super().init(model)
        self.care = model.care
        # The catalogue's effects as (provision → domain, effect) pairs, provision by
        # provision (a sparse row per provision): each provides for one to a few domains
        effect = self.care.effect
        acts = effect != 0
        self.pairs = np.concatenate([[0], np.cumsum(acts.sum(axis=1))])  # first pair per provision
        self.pair_domain = np.nonzero(acts)[1]
        self.pair_effect = effect[acts]

    def step(self, state: MonthState) -> None:
        care, n, d = self.care, self.care.n, len(DOMAINS)
        flex_hh, flex_rules = state.flexible
        run = care.run  # every row runs: the ended were dropped at the last month's end
        hh, prov, intensity = run.hh, run.prov, run.intensity
        # Added recovery per household in care and domain: the sum over its provisions of
        # each provision's effect on that domain, times its intensity (plus one-off flexible
        # solutions).
        in_care = np.zeros(n, dtype=bool)
        in_care[hh] = True
        in_care[flex_hh] = True
        households = np.flatnonzero(in_care)
        row_of = np.full(n, -1, dtype=np.int32)
        row_of[households] = np.arange(len(households), dtype=np.int32)
        n_rows = len(households)
        # One (episode, domain) pair per domain its provision acts on, episode by episode, so
        # that every (household, domain) sum adds its terms in the episodes' order
        first = self.pairs[prov]
        count = self.pairs[prov + 1] - first
        ends = np.cumsum(count)
        pair = np.arange(ends[-1] if len(ends) else 0) + np.repeat(first - (ends - count), count)
        keys = [np.repeat(row_of[hh].astype(np.int64) * d, count) + self.pair_domain[pair]]
        weights = [self.pair_effect[pair] * np.repeat(intensity, count)]
        if care.flex >= 0 and len(flex_hh):  # then the one-off solutions, each on its domains
            lo, hi = self.pairs[care.flex], self.pairs[care.flex + 1]
            keys.append((row_of[flex_hh][:, None] * d + self.pair_domain[lo:hi]).ravel())
            weights.append(np.tile(self.pair_effect[lo:hi], len(flex_hh)))
        table = np.bincount(
            np.concatenate(keys), np.concatenate(weights), minlength=n_rows * d
        ).reshape(n_rows, d)
        table = table.astype(F32)
        # Escalation mitigation per running provision, found at an entry through care.row
        per_row = care.mitigation[prov] * np.minimum(intensity, F32(1))
        mitigation = (care.row.ravel(), np.append(per_row, F32(0)))

        # Network activation by the plans of regimes that activate it
        activation = np.zeros(n, dtype=F32)
        by_rule = care.activation
        rule = run.rule
        plan = by_rule[rule] > 0
        activation[hh[plan]] = by_rule[rule[plan]]
        if len(flex_hh):
            activation[flex_hh] = np.maximum(activation[flex_hh], by_rule[flex_rules])

        # Stacking relief of integrated plans, for households with an episode in one
        relief_by_rule = care.stacking_relief
        relief = None
        if relief_by_rule.any():
            relief = np.zeros(n, dtype=F32)
            with_relief = relief_by_rule[rule] > 0
            relief[hh[with_relief]] = relief_by_rule[rule[with_relief]]
        state.effects = CareEffects(row_of, table, mitigation, activation, relief)
