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
_NO_MITIGATION = np.zeros(1, dtype=F32)


class CareEffectsProcess(Process):
    """Computes the effects of running care (process ``care_effects``)."""

    name = "care_effects"

    def init(self, model) -> None:
        super().init(model)
        self.care = model.care
        # Per domain a provision acts on: each provision's effect there (contiguous rows)
        self.acting = np.flatnonzero(self.care.effect.any(axis=0))
        self.effect_acting = np.ascontiguousarray(self.care.effect.T[self.acting])
        self.acting_offset = np.arange(len(self.acting))[:, None]

    def step(self, state: MonthState) -> None:
        care, n = self.care, self.care.n
        flex_hh, flex_rules = state.flexible
        run = care.run  # every row runs: the ended were dropped at the last month's end
        hh, prov, intensity = run.hh, run.prov, run.intensity
        # Added recovery per household in care and domain: the sum over its provisions of
        # each provision's effect on that domain, times its intensity (plus one-off flexible
        # solutions).
        in_care = np.zeros(n, dtype=bool)
        in_care[hh] = True
        in_care[flex_hh] = True
        households = in_care.nonzero()[0]
        row_of = np.full(n, -1, dtype=np.int32)
        row_of[households] = np.arange(len(households), dtype=np.int32)
        n_rows = len(households)
        # As intp once, not converted again in every gather and sum below
        rows, flex_rows = row_of.take(hh).astype(np.intp), row_of[flex_hh]
        provision = prov.astype(np.intp)
        # Every acting domain in one bincount, keyed (domain, row): each bin still sums its
        # row's provisions in their order, as one bincount per domain would.
        weights = self.effect_acting.take(provision, axis=1)
        weights *= intensity
        keys = self.acting_offset * n_rows + rows
        summed = np.bincount(keys.ravel(), weights.ravel(), minlength=len(self.acting) * n_rows)
        summed = summed.reshape(len(self.acting), n_rows)
        if len(flex_hh):  # one-off solutions (one per household) add after the provisions
            summed[:, flex_rows] += care.effect[care.flex, self.acting][:, None]
        # With a row of zeros last, read by the households not in care (row −1)
        table = np.zeros((n_rows + 1, len(DOMAINS)), dtype=F32)
        table[:n_rows, self.acting] = summed.T
        # Escalation mitigation per running provision, found at an entry through care.row,
        # and a 0 for the entries without one (row −1)
        per_row = care.mitigation[prov] * np.minimum(intensity, F32(1))
        mitigation = (care.row.ravel(), np.concatenate((per_row, _NO_MITIGATION)))

        # Network activation by the plans of regimes that activate it
        activation = np.zeros(n, dtype=F32)
        by_rule = care.activation
        rule = run.rule
        if len(by_rule) == 1:  # one regime: every plan activates alike (or none does)
            if by_rule[0] > 0:
                activation[hh] = by_rule[0]
        else:
            plan = by_rule[rule] > 0
            activation[hh[plan]] = by_rule[rule[plan]]
        if len(flex_hh):
            activation[flex_hh] = np.maximum(activation[flex_hh], by_rule[flex_rules])

        # Stacking relief of integrated plans, for households with an episode in one
        relief_by_rule = care.stacking_relief
        relief = None
        if relief_by_rule.any():
            relief = np.zeros(n, dtype=F32)
            if len(relief_by_rule) == 1:  # one regime (whose relief is > 0): every plan
                relief[hh] = relief_by_rule[0]
            else:
                with_relief = relief_by_rule[rule] > 0
                relief[hh[with_relief]] = relief_by_rule[rule[with_relief]]
        state.effects = CareEffects(row_of, table, mitigation, activation, relief)
