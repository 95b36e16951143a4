"""Episodes of care: the ledger, and the episode lifecycle (start, review, end, renew, prolong).

* :class:`EpisodeLedger` keeps every provision episode (household, provision, domain, channel,
  start, end, cost) in growable columnar buffers: no Python object per episode.
* :func:`open_episodes` starts episodes: the regime sizes the intensity and sets the months
  until the first review, the contract responds (prolongs, shortens, under-treats, upcodes).
* :class:`Episodes` (process ``episodes``) opens the episodes admitted this month and the
  one-off flexible-budget solutions of new plans.

Reviews, ending, renewal and prolongation are the month's later step
(:mod:`vraagvolgend.reviews`); both regimes go through the same lifecycle, with their own
parameters (:class:`~vraagvolgend.financing.Policy`).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from .month import MonthState, Process, Requests
from .outputs import recode
from .vocabulary import INDIVIDUAL_LAWS

__all__ = ["EpisodeLedger", "Episodes", "next_review", "open_episodes"]

F32 = np.float32


class EpisodeLedger:
    """Episodes as growable columns; an episode's id is its row."""

    _COLUMNS: ClassVar[dict[str, type]] = {
        "household": np.int32,
        "provision": np.int16,
        "domain": np.int8,
        "channel": np.int8,
        "start": np.int32,
        "end": np.int32,
        "cost": np.float64,
    }

    def __init__(self, capacity: int = 1024):
        self.n = 0
        self._cols = {k: np.zeros(capacity, dtype=t) for k, t in self._COLUMNS.items()}

    def _grow(self, extra: int) -> None:
        need = self.n + extra
        size = len(self._cols["household"])
        if need <= size:
            return
        new = max(need, 2 * size)
        for k, col in self._cols.items():
            grown = np.zeros(new, dtype=col.dtype)
            grown[: self.n] = col[: self.n]
            self._cols[k] = grown

    def start(self, household, provision, domain, channel, month: int) -> np.ndarray:
        """Open episodes; returns their ids."""
        k = len(household)
        self._grow(k)
        new = slice(self.n, self.n + k)  # the next k rows: slices, not an index array
        c = self._cols
        c["household"][new] = household
        c["provision"][new] = provision
        c["domain"][new] = domain
        c["channel"][new] = channel
        c["start"][new] = month
        c["end"][new] = -(2**31)  # open
        c["cost"][new] = 0.0
        self.n += k
        return np.arange(new.start, new.stop, dtype=np.int32)

    def end(self, ids: np.ndarray, month: int) -> None:
        self._cols["end"][ids] = month

    def add_cost(self, ids: np.ndarray, amounts: np.ndarray) -> None:
        """Add costs to episodes (``ids`` must be unique within one call)."""
        self._cols["cost"][ids] += amounts

    def column(self, name: str) -> np.ndarray:
        return self._cols[name][: self.n]

    def frame(
        self,
        provision_names,
        provision_laws,
        domain_names,
        channel_names,
        first_month: int = 1,
    ) -> pd.DataFrame:
        """The ``episodes`` table: episodes running at some point from ``first_month`` on."""
        c = {k: v[: self.n] for k, v in self._cols.items()}
        is_open = c["end"] == -(2**31)
        keep = is_open | (c["end"] >= first_month)
        prov = c["provision"][keep]
        end = pd.array(np.where(is_open[keep], 0, c["end"][keep]), dtype="Int32")
        end[is_open[keep]] = pd.NA
        laws = [*INDIVIDUAL_LAWS, "collective"]
        return pd.DataFrame(
            {
                "household_id": c["household"][keep].astype(np.int64),
                "provision": pd.Categorical.from_codes(prov, categories=list(provision_names)),
                "law": recode(provision_laws, prov, laws),
                "domain": pd.Categorical.from_codes(
                    c["domain"][keep], categories=list(domain_names)
                ),
                "channel": pd.Categorical.from_codes(
                    c["channel"][keep], categories=list(channel_names)
                ),
                "start_month": c["start"][keep],
                "end_month": end,
                "cost_eur": c["cost"][keep],
            }
        )


def next_review(regime, standard: np.ndarray, chronic: np.ndarray) -> np.ndarray:
    """Months until an episode's next review under ``regime``, before the contract's response.

    Episodes for a chronic need follow the regime's ``chronic_review_months``, every other
    episode its ``review_months`` (:meth:`~vraagvolgend.financing.Policy.duration`).

    Args:
        regime: The :class:`~vraagvolgend.financing.Policy` running the episodes.
        standard: The provision's typical duration per episode.
        chronic: Per episode: the need is chronic.
    """
    months = np.asarray(regime.duration(standard))
    if chronic.any():
        months = np.where(chronic, np.asarray(regime.chronic_duration(standard)), months)
    return months


def open_episodes(
    care, month: int, requests: Requests, severity, u_upcode, contract, rules, renewal: bool = False
) -> int:
    """Open episodes for ``requests`` (their slots must be free, or be reused by a renewal).

    Args:
        care: The :class:`~vraagvolgend.care.CareSystem`.
        month: The first month billed.
        requests: Positions, provisions and channels of the new episodes.
        severity: The state the regime sizes the package from.
        u_upcode: The month's upcoding uniforms (per household).
        contract: The :class:`~vraagvolgend.contracts.Contract` in effect.
        rules: Per request, which regime runs the episode.
        renewal: The slots are already running (a renewal or an escalation).

    Returns:
        The number of episodes opened.
    """
    pos, prov, channel = requests.positions, requests.provisions, requests.channels
    if len(pos) == 0:
        return 0
    sev = severity.ravel()[pos]
    intensity = np.ones(len(pos), dtype=F32)
    months = care.duration[prov].astype(np.int64)
    rows = care.rows_at(pos) if renewal else None
    if renewal:  # the rows know their domain and household (no division)
        dom, hh, chronic = care.run.dom[rows], care.run.hh[rows], care.run.chronic[rows]
    else:
        dom, hh = np.divmod(pos, care.n)
        chronic = care.chronic_domain[dom] & care.chronic_household[hh]
    for i, regime in enumerate(care.regimes):
        sel = slice(None) if len(care.regimes) == 1 else rules == i  # one regime: every request
        if len(care.regimes) == 1 or sel.any():
            intensity[sel] = regime.intensity(sev[sel])
            months[sel] = next_review(regime, months[sel], chronic[sel])
    individual = care.billed_individually[prov]
    months, intensity = contract.response(months, intensity, individual)
    ids = care.ledger.start(hh, prov, dom, channel, month)
    upcoded = contract.upcoded(individual, u_upcode[hh])
    if renewal:  # renewals and escalations reuse a running row; the goal's months carry over
        run = care.run
        run.prov[rows] = prov
        run.left[rows] = months
        run.months_in[rows] = 0
        run.intensity[rows] = intensity
        run.episode[rows] = ids
        run.rule[rows] = rules
        run.upcoded[rows] = upcoded
    else:
        zero = np.zeros(len(pos), dtype=np.int16)
        care.add_running(
            pos,
            hh=hh,
            dom=dom,
            chronic=chronic,
            prov=prov,
            left=months,
            months_in=zero,
            goal_months=zero,
            intensity=intensity,
            episode=ids,
            rule=np.asarray(rules),
            upcoded=upcoded,
        )
    return len(pos)


class Episodes(Process):
    """Opens the month's admitted episodes and flexible-budget solutions (process ``episodes``).

    A new integrated plan uses the flexible budget (a one-off, non-catalogue solution booked
    as an episode that starts and ends this month, for the plan's first domain) with the
    regime's ``flexible_share``.
    """

    name = "episodes"
    started = 0

    def init(self, model) -> None:
        super().init(model)
        self.care = model.care

    def step(self, state: MonthState) -> None:
        care, draws = self.care, state.draws
        contract = care.contract(state.month)
        admitted = state.admitted
        started = open_episodes(
            care,
            state.month,
            admitted,
            state.severity,
            draws.upcode,
            contract,
            rules=state.rules[admitted.positions % care.n],
        )
        # Flexible-budget solutions in new plans: one-off, outside the slots
        hh = state.arrivals.households
        rules = state.rules[hh]
        flex_share = care.by_rules(rules, lambda r: np.full(len(hh), r.flexible_share(), F32))
        flex_col = (state.treat.any(axis=0) & (draws.flexible[hh] < flex_share)).nonzero()[0]
        if care.flex < 0:
            flex_col = flex_col[:0]
        flex_hh = hh[flex_col]
        if len(flex_hh):
            root = np.argmax(state.treat[:, flex_col], axis=0)
            channel = state.arrivals.channel[flex_col]
            ids = care.ledger.start(flex_hh, care.flex, root, channel, state.month)
            care.ledger.end(ids, state.month)
            care.ledger.add_cost(ids, np.full(len(ids), care.cost_month[care.flex]))
        state.flexible = (flex_hh, rules[flex_col])
        self.started = started + len(flex_hh)
        state.counts["new_episodes"] = self.started

    def reporters(self) -> dict[str, float]:
        return {"new_episodes": self.started}
