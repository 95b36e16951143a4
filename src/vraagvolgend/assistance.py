"""Social assistance (process ``social_assistance``): entitlements that follow a domain.

An entitlement provision of the catalogue (``billing = "entitlement"``: the social-assistance
benefit, *bijstand*) is not offered by a gatekeeper: a household is on it while the domain it
serves is within its need window and its income quintile is at most ``max_income_quintile``.
It starts the month after the household qualifies and ends when it no longer does; billing
pays it monthly on its own line (the benefit comes from a national budget, not the municipal
social-domain budget).
"""

from __future__ import annotations

import numpy as np

from .domains import DOMAINS
from .month import MonthState, Process
from .vocabulary import ALL_CHANNELS

__all__ = ["SocialAssistance"]

F32 = np.float32


class SocialAssistance(Process):
    """Starts and stops entitlement episodes (process ``social_assistance``)."""

    name = "social_assistance"

    def init(self, model) -> None:
        super().init(model)
        self.care = care = model.care
        catalogue = model.params.provisions
        self.rules = []
        for code in care.entitlements:
            p = catalogue[care.names[code]]
            if len(p.serves) != 1:
                raise ValueError(
                    f"provisions.{care.names[code]}.serves: an entitlement follows one domain"
                )
            quintile_ok = model.households.income_quintile <= p.max_income_quintile
            window = (F32(p.need_window[0]), F32(p.need_window[1]))
            self.rules.append((code, DOMAINS.index(p.serves[0]), window, quintile_ok))

    def step(self, state: MonthState) -> None:
        care, month, severity = self.care, state.month, state.severity_end
        channel = ALL_CHANNELS.index("entitlement")
        for k, (code, d, (lo, hi), quintile_ok) in enumerate(self.rules):
            on = care.entitled[k]
            running = on >= 0
            eligible = severity[d] >= lo
            eligible &= severity[d] <= hi
            eligible &= quintile_ok
            # Only households whose eligibility changed start or stop: find those once
            change = (eligible != running).nonzero()[0]
            stop = change[running[change]]
            start = change[eligible[change]]
            care.ledger.end(on[stop], month)
            on[stop] = -1
            if len(start):
                ch = np.full(len(start), channel, dtype=np.int8)
                on[start] = care.ledger.start(start, code, d, ch, month + 1)

    def reporters(self) -> dict[str, float]:
        return {"on_benefit": np.count_nonzero((self.care.entitled >= 0).any(axis=0))}
