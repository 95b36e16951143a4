"""Access: who seeks help, through which channel, and what the gatekeeper offers.

* A domain is a **need** when its severity is at least ``need_threshold`` and the household
  has no provision and no place on a waiting list for it.
* A household with a need **seeks help** with a monthly probability that rises with its worst
  need's severity; *avoiders* never do, so part of the need stays **hidden** until outreach
  finds it.
* It arrives through a **channel**: GP, municipal access (*wijkteam*), school (only for
  parenting needs) or self-referral; outreach is a channel of its own.
* The **gatekeeper** offers light needs (below ``collective_limit``) the domain's collective or
  light provision, heavier needs an individual provision, as the catalogue's routing declares
  (:class:`~vraagvolgend.provisions.Routing`): no provision is named in code. GPs refer
  directly to an individual provision for a share of their patients; lever- or channel-gated
  offers (practice support for youth, *POH-jeugd*, only via the GP and only when funded),
  offers that need two domains (sheltered housing) and heavier offers for acute needs are
  declared on the provisions. Under effort-based contracts a share of light needs is referred
  to an individual provision anyway (supplier-induced referral).

Everything here works on the few households with a need this month, not on the population.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .domains import DOMAINS, domain_index
from .month import MonthState, Process, Requests
from .provisions import Routing
from .scenario import Access
from .vocabulary import ALL_CHANNELS, CHANNELS

__all__ = [
    "ALL_CHANNELS",
    "AccessDraws",
    "Arrivals",
    "Gatekeeper",
    "Uniforms",
    "gatekeeper",
    "seek_help",
]

F32 = np.float32
_PARENTING_RUN = np.array([domain_index("parenting"), domain_index("parenting") + 1])


class Uniforms:
    """One uniform per household, decoded on demand from 16 bits of a raw 64-bit draw.

    Index it like an array (``u[households]``): only the entries asked for are decoded, so a
    month pays for the draws of the few households that need them, while the raw bits are
    drawn for everyone (common random numbers).

    Args:
        bits: The 16-bit word of every household's draw (a strided view of the raw draws: a
            gather reads it directly, instead of gathering 64 bits and shifting and masking).
    """

    __slots__ = ("bits",)
    BITS = 16
    SCALE = F32(2.0**-BITS)

    def __init__(self, bits: np.ndarray):
        self.bits = bits

    def __getitem__(self, index) -> np.ndarray:
        # 16-bit integers times a float32 power of two are float32 (exact), without an astype
        return self.bits[index] * self.SCALE


class AccessDraws:
    """The month's uniform draws per household (drawn for everyone, every month)."""

    NAMES = ("seek", "outreach", "channel", "gp", "flexible", "rules", "upcode", "induced")

    def __init__(self, raw: np.ndarray):
        # Four 16-bit uniforms per 64-bit word: a resolution of 1.5e-5, ample for these
        # probabilities, at half the bits of float32 draws. Uniform i is the word at bit
        # 16 · (i mod 4) of row i // 4; one 16-bit view of both rows serves all eight.
        words = raw.view(np.uint16)
        for i, name in enumerate(self.NAMES):
            word = i % 4 if np.little_endian else 3 - i % 4
            setattr(self, name, Uniforms(words[i // 4, word::4]))

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int) -> AccessDraws:
        return cls(rng.bit_generator.random_raw((2, n)))


@dataclass
class Arrivals:
    """Households that reach help this month, and how."""

    households: np.ndarray  # sorted household ids
    channel: np.ndarray  # int8 index into ALL_CHANNELS, per arriving household
    found: np.ndarray  # bool per arriving household: found by outreach
    hidden: int  # households with a need that did not reach help


def channel_cumulative(params: Access) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative channel shares: with the school, and without it."""
    shares = np.array([params.channel_shares[c] for c in CHANNELS])
    without_school = shares * (np.array(CHANNELS) != "school")
    return np.cumsum(shares / shares.sum()), np.cumsum(without_school / without_school.sum())


def seek_help(
    params: Access,
    need_index: np.ndarray,
    severity: np.ndarray,
    avoider: np.ndarray,
    has_children: np.ndarray,
    outreach: float,
    draws: AccessDraws,
    cumulative: tuple[np.ndarray, np.ndarray] | None = None,
    need_entries: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> Arrivals:
    """Decide who seeks help (or is found by outreach) and through which channel.

    Args:
        params: The scenario's access section.
        need_index: Flat (domain × households) indices of the needs.
        severity: (domains, households) severities.
        avoider: Households that never seek help themselves.
        has_children: Households with children.
        outreach: Monthly probability that outreach finds a household with hidden need.
        draws: The month's uniform draws.
        cumulative: :func:`channel_cumulative` of ``params``, if already at hand.
        need_entries: The needs' domains, households and severities, if already at hand.
    """
    n = severity.shape[1]
    if need_entries is None:
        dom, hh = np.divmod(need_index, n)
        sev = severity.ravel()[need_index]
    else:
        dom, hh, sev = need_entries
    # Worst need per household, in one unbuffered maximum (a maximum is exact in any order)
    worst = np.zeros(n, dtype=F32)
    np.maximum.at(worst, hh, sev)
    needy = (worst > 0).nonzero()[0]
    p_seek = params.seek_base + params.seek_slope * (worst[needy] - params.need_threshold)
    p_seek = np.minimum(np.maximum(p_seek, 0), 1)  # np.clip's wrapper costs more than this
    seeks = ~avoider[needy] & (draws.seek[needy] < p_seek)
    found = ~seeks & (draws.outreach[needy] < outreach)
    arrive = seeks | found
    arriving = arrive.nonzero()[0]  # gathered with takes: numpy's boolean gathers are slower
    households = needy.take(arriving)

    cum_all, cum_no_school = cumulative if cumulative is not None else channel_cumulative(params)
    parenting_need = np.zeros(n, dtype=bool)
    # The needs are sorted domain by domain: the parenting needs are one run of them
    first, last = np.searchsorted(dom, _PARENTING_RUN).tolist()
    parenting_need[hh[first:last]] = True
    parenting_need &= has_children
    u = draws.channel[households]
    channel = np.minimum(  # searchsorted gives ≥ 0: only the top needs clipping
        np.where(
            parenting_need[households],
            np.searchsorted(cum_all, u, side="right"),
            np.searchsorted(cum_no_school, u, side="right"),
        ),
        len(CHANNELS) - 1,
    )
    found = found.take(arriving)
    channel = np.where(found, ALL_CHANNELS.index("outreach"), channel).astype(np.int8)
    return Arrivals(
        households=households, channel=channel, found=found, hidden=len(needy) - len(arriving)
    )


def gatekeeper(
    params: Access,
    treat: np.ndarray,
    severity: np.ndarray,
    channel: np.ndarray,
    routing: Routing,
    policy,
    induced_referral: float,
    u_gp: np.ndarray,
    u_induced: np.ndarray,
) -> np.ndarray:
    """The provision offered per treated domain: (domains, households) int16, −1 = none.

    All arguments are for the arriving households only: ``treat`` and ``severity`` are
    (domains, k), ``channel``, ``u_gp`` and ``u_induced`` have length k. The catalogue's
    routing decides: the domain's light default for a light need that was not referred on,
    its heavy default otherwise, and a provision with a higher priority wherever its
    conditions hold (need window, channel, lever, other domains).
    """
    gp = channel == ALL_CHANNELS.index("gp")
    is_light = severity < F32(params.collective_limit)
    direct = gp & (u_gp < params.gp_direct_referral)
    induced = u_induced < induced_referral
    light, heavy = routing.light, routing.heavy
    offer = np.where(is_light & ~(direct | induced)[None, :], light[:, None], heavy[:, None])
    for code, tier, domains, (lo, hi), channels, lever, also in routing.overrides:
        if lever is not None and not getattr(policy, lever):
            continue
        via = True if channels is None else channels[channel]  # a lookup per channel code
        for d in domains:
            applies = treat[d] & via & (severity[d] >= lo) & (severity[d] <= hi)
            if tier == "light":
                applies &= is_light[d]
            for other, at_least in also:
                applies &= severity[other] >= at_least
            offer[d] = np.where(applies, code, offer[d])
    return np.where(treat, offer, -1).astype(np.int16)


class Gatekeeper(Process):
    """Access (process ``access``): needs, help-seeking, the regime's choice, the offer.

    Draws the month's access uniforms for every household (common random numbers), finds the
    needs (active problems above ``need_threshold`` with no provision and no waiting place),
    lets households seek help or be found by outreach, lets the regime in charge choose which
    domains to treat now, and asks the gatekeeper what to offer. Pays the access conversations
    and outreach. Writes ``state.draws``, ``arrivals``, ``rules``, ``treat``, ``requests``
    and starts ``state.costs``.
    """

    name = "access"
    arrivals = found = hidden = 0

    def init(self, model) -> None:
        super().init(model)
        self.care = model.care
        self.has_children = model.households.has_children
        self.cumulative = channel_cumulative(self.care.params)
        # Per offer (the last entry: none), its law's bit (4 laws: 8 bits are ample)
        self.law_bit = np.append(np.left_shift(1, self.care.law), 0).astype(np.uint8)

    def step(self, state: MonthState) -> None:
        care, n, month = self.care, self.care.n, state.month
        severity, pol = state.severity, state.policy
        draws = state.draws = AccessDraws.draw(care.rng_access, n)

        problems = state.problems
        idx = problems.active_index
        free = care.row.ravel()[idx] < 0
        if len(care.waiting_at):  # places on the waiting list are exactly ``waiting_at``
            free &= care.waiting.ravel()[idx] < 0
        free &= problems.active_severity >= F32(care.params.need_threshold)
        free = free.nonzero()[0]  # indices: one mask pass for the four reads below
        need = idx.take(free)
        # The needs' domains, households and severities: read off the active entries'
        # instead of divided out and gathered from the population's arrays
        entries = [problems.active_domain, problems.active_household, problems.active_severity]
        entries = None if entries[0] is None else tuple(e.take(free) for e in entries)
        arrivals = state.arrivals = seek_help(
            care.params,
            need,
            severity,
            care.avoider,
            self.has_children,
            pol.outreach,
            draws,
            self.cumulative,
            entries,
        )

        # The regime's choice, on the arriving households only: (domains, k) sub-arrays
        hh = arrivals.households
        k = len(hh)
        asking = np.zeros((len(DOMAINS), n), dtype=bool)
        asking.ravel()[need] = True
        # take along the households: faster than fancy indexing of the columns
        asking = asking.take(hh, axis=1)
        sub_severity = severity.take(hh, axis=1)
        in_care = care.row.take(hh, axis=1) >= 0
        state.rules = care.rules(month, draws.rules)
        rules = state.rules[hh]
        treat = state.treat = care.by_rules(
            rules, lambda r: r.select_domains(asking, sub_severity, in_care)
        )
        offer = gatekeeper(
            care.params,
            treat,
            sub_severity,
            arrivals.channel,
            care.routing,
            pol,
            care.contract(month).induced_referral(),
            draws.gp[hh],
            draws.induced[hh],
        )
        dom, col = np.nonzero(offer >= 0)
        state.requests = Requests(
            dom.astype(np.int64) * n + hh[col], offer[dom, col], arrivals.channel[col]
        )

        # Access costs: conversations (per law involved, or one integrated conversation)
        state.costs = np.zeros(len(care.budget.line_names))
        # Laws involved per household: one bit per law, or-ed over the domains, then counted
        law_bits = np.bitwise_or.reduce(self.law_bit[offer], axis=0)
        laws_per_household = np.bitwise_count(law_bits).astype(np.int8)
        units = care.by_rules(rules, lambda r: r.conversation_units(laws_per_household))
        state.costs[care.line("conversation")] += float(units.sum()) * care.params.conversation_cost
        n_found = int(arrivals.found.sum())
        state.costs[care.line("outreach")] += n_found * pol.outreach_cost
        self.arrivals, self.found, self.hidden = k, n_found, arrivals.hidden

    def reporters(self) -> dict[str, float]:
        return {
            "arrivals": self.arrivals,
            "found_by_outreach": self.found,
            "hidden_need": self.hidden,
        }
