"""Access: who seeks help, through which channel, and what the gatekeeper offers.

* A domain is a **need** when its severity is at least ``need_threshold`` and the household
  has no provision and no place on a waiting list for it.
* A household with a need **seeks help** with a monthly probability that rises with its worst
  need's severity; *avoiders* never do, so part of the need stays **hidden** until outreach
  finds it.
* It arrives through a **channel**: GP, municipal access (*wijkteam*), school (only for
  parenting needs) or self-referral; outreach is a channel of its own.
* The **gatekeeper** offers light needs (below ``collective_limit``) the domain's collective or
  light product, heavier needs an individual provision. GPs refer directly to an individual
  provision for a share of their patients; with practice support for youth (*POH-jeugd*), light
  parenting needs seen by the GP stay with the POH. Under effort-based contracts a share of
  households with light needs is referred to individual provisions anyway (supplier-induced
  referral).

Everything here works on the few households with a need this month, not on the population.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .domains import DOMAINS, domain_index
from .scenario import CHANNELS, Access

__all__ = [
    "ALL_CHANNELS",
    "HEAVY_PRODUCT",
    "LIGHT_PRODUCT",
    "AccessDraws",
    "Arrivals",
    "Uniforms",
    "gatekeeper",
    "seek_help",
]

#: Channels as recorded on episodes: the four access channels, then how else episodes start.
ALL_CHANNELS = (*CHANNELS, "outreach", "renewal", "escalation", "entitlement")

#: The product per domain for a light need (collective, or a light individual provision) ...
LIGHT_PRODUCT = {
    "finances": "debt_help",
    "work": "social_work",
    "housing": "social_work",
    "mental_health": "social_work",
    "physical_health": "aids",
    "parenting": "school_social_work",
    "social_isolation": "community_activities",
}
#: ... and for a heavy need (one catalogue product per domain, as a supply-driven counter has).
HEAVY_PRODUCT = {
    "finances": "individual_support",
    "work": "reintegration",
    "housing": "individual_support",
    "mental_health": "individual_support",
    "physical_health": "household_help",
    "parenting": "youth_ambulant",
    "social_isolation": "day_activities",
}

F32 = np.float32


class Uniforms:
    """One uniform per household, decoded on demand from 16 bits of a raw 64-bit draw.

    Index it like an array (``u[households]``): only the entries asked for are decoded, so a
    month pays for the draws of the few households that need them, while the raw bits are
    drawn for everyone (common random numbers).
    """

    __slots__ = ("raw", "shift")
    BITS = 16

    def __init__(self, raw: np.ndarray, shift: int):
        self.raw = raw
        self.shift = np.uint64(shift)

    def __getitem__(self, index) -> np.ndarray:
        bits = (self.raw[index] >> self.shift) & np.uint64((1 << self.BITS) - 1)
        return bits.astype(F32) * F32(2.0**-self.BITS)


class AccessDraws:
    """The month's uniform draws per household (drawn for everyone, every month)."""

    NAMES = ("seek", "outreach", "channel", "gp", "flexible", "rules", "upcode", "induced")

    def __init__(self, raw: np.ndarray):
        # Four 16-bit uniforms per 64-bit word: a resolution of 1.5e-5, ample for these
        # probabilities, at half the bits of float32 draws.
        for i, name in enumerate(self.NAMES):
            setattr(self, name, Uniforms(raw[i // 4], 16 * (i % 4)))

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


def seek_help(
    params: Access,
    need_index: np.ndarray,
    severity: np.ndarray,
    avoider: np.ndarray,
    has_children: np.ndarray,
    outreach: float,
    draws: AccessDraws,
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
    """
    n = severity.shape[1]
    dom, hh = np.divmod(need_index, n)
    # Worst need per household: the flat indices are sorted domain by domain, so within one
    # domain every household appears once and a plain maximum per domain suffices.
    worst = np.zeros(n, dtype=F32)
    sev = severity.ravel()[need_index]
    bounds = np.searchsorted(dom, np.arange(len(DOMAINS) + 1))
    for d in range(len(DOMAINS)):
        h, v = hh[bounds[d] : bounds[d + 1]], sev[bounds[d] : bounds[d + 1]]
        worst[h] = np.maximum(worst[h], v)
    needy = np.flatnonzero(worst > 0)
    p_seek = np.clip(
        params.seek_base + params.seek_slope * (worst[needy] - params.need_threshold), 0, 1
    )
    seeks = ~avoider[needy] & (draws.seek[needy] < p_seek)
    found = ~seeks & (draws.outreach[needy] < outreach)
    arrive = seeks | found
    households = needy[arrive]

    shares = np.array([params.channel_shares[c] for c in CHANNELS])
    without_school = shares * (np.array(CHANNELS) != "school")
    cum_all = np.cumsum(shares / shares.sum())
    cum_no_school = np.cumsum(without_school / without_school.sum())
    parenting_need = np.zeros(n, dtype=bool)
    parenting_need[hh[dom == domain_index("parenting")]] = True
    parenting_need &= has_children
    u = draws.channel[households]
    channel = np.where(
        parenting_need[households],
        np.searchsorted(cum_all, u, side="right"),
        np.searchsorted(cum_no_school, u, side="right"),
    ).clip(0, len(CHANNELS) - 1)
    found = found[arrive]
    channel = np.where(found, ALL_CHANNELS.index("outreach"), channel).astype(np.int8)
    return Arrivals(
        households=households, channel=channel, found=found, hidden=int((~arrive).sum())
    )


def gatekeeper(
    params: Access,
    treat: np.ndarray,
    severity: np.ndarray,
    channel: np.ndarray,
    product_index: dict[str, int],
    practice_support_youth: bool,
    induced_referral: float,
    u_gp: np.ndarray,
    u_induced: np.ndarray,
) -> np.ndarray:
    """The provision offered per treated domain: (domains, households) int16, −1 = none.

    All arguments are for the arriving households only: ``treat`` and ``severity`` are
    (domains, k), ``channel``, ``u_gp`` and ``u_induced`` have length k.
    """
    light = np.array([product_index[LIGHT_PRODUCT[d]] for d in DOMAINS], dtype=np.int16)
    heavy = np.array([product_index[HEAVY_PRODUCT[d]] for d in DOMAINS], dtype=np.int16)
    gp = channel == ALL_CHANNELS.index("gp")
    is_light = severity < F32(params.collective_limit)
    direct = gp & (u_gp < params.gp_direct_referral)
    induced = u_induced < induced_referral
    offer = np.where(is_light & ~(direct | induced)[None, :], light[:, None], heavy[:, None])

    p = domain_index("parenting")
    if practice_support_youth:
        poh = treat[p] & gp & is_light[p]
        offer[p] = np.where(poh, product_index["practice_support_youth"], offer[p])
    # Escalated needs go to the heavy end of the catalogue.
    offer[p] = np.where(
        severity[p] >= F32(params.residential_threshold),
        product_index["youth_residential"],
        offer[p],
    )
    h, m = domain_index("housing"), domain_index("mental_health")
    sheltered = (severity[h] >= F32(params.sheltered_threshold)) & (
        severity[m] >= F32(params.sheltered_mental_threshold)
    )
    offer[h] = np.where(sheltered, product_index["sheltered_housing"], offer[h])
    return np.where(treat, offer, -1).astype(np.int16)
