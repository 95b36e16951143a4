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
  light needs is referred to an individual provision anyway (supplier-induced referral).
"""

from __future__ import annotations

import numpy as np

from .domains import DOMAINS, domain_index
from .scenario import CHANNELS, Access

__all__ = ["ALL_CHANNELS", "HEAVY_PRODUCT", "LIGHT_PRODUCT", "Arrivals", "gatekeeper", "seek_help"]

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


class Arrivals:
    """Households that reach help this month, and how."""

    def __init__(self, arrive: np.ndarray, channel: np.ndarray, hidden: np.ndarray):
        self.arrive = arrive  # bool per household
        self.channel = channel  # int8 index into ALL_CHANNELS per household
        self.hidden = hidden  # bool per household: need, no help, not arriving


def seek_help(
    params: Access,
    need: np.ndarray,
    severity: np.ndarray,
    avoider: np.ndarray,
    has_children: np.ndarray,
    outreach: float,
    u_seek: np.ndarray,
    u_outreach: np.ndarray,
    u_channel: np.ndarray,
) -> Arrivals:
    """Decide who seeks help (or is found by outreach) and through which channel.

    Args:
        params: The scenario's access section.
        need: (domains, households) bool: needs without a provision or waiting place.
        severity: (domains, households) severities.
        avoider: Households that never seek help themselves.
        has_children: Households with children.
        outreach: Monthly probability that outreach finds a household with hidden need.
        u_seek, u_outreach, u_channel: Uniform draws per household.
    """
    any_need = need.any(axis=0)
    worst = np.where(need, severity, 0).max(axis=0)
    p_seek = np.clip(params.seek_base + params.seek_slope * (worst - params.need_threshold), 0, 1)
    seeks = any_need & ~avoider & (u_seek < p_seek)
    found = any_need & ~seeks & (u_outreach < outreach)
    arrive = seeks | found

    shares = np.array([params.channel_shares[c] for c in CHANNELS])
    parenting_need = need[domain_index("parenting")] & has_children
    without_school = shares * (np.array(CHANNELS) != "school")
    cum_all = np.cumsum(shares / shares.sum())
    cum_no_school = np.cumsum(without_school / without_school.sum())
    channel = np.where(
        parenting_need,
        np.searchsorted(cum_all, u_channel, side="right"),
        np.searchsorted(cum_no_school, u_channel, side="right"),
    ).clip(0, len(CHANNELS) - 1)
    channel = np.where(found, ALL_CHANNELS.index("outreach"), channel).astype(np.int8)
    return Arrivals(arrive=arrive, channel=channel, hidden=any_need & ~arrive)


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
    """The provision offered per treated domain: (domains, households) int16, −1 = none."""
    light = np.array([product_index[LIGHT_PRODUCT[d]] for d in DOMAINS], dtype=np.int16)
    heavy = np.array([product_index[HEAVY_PRODUCT[d]] for d in DOMAINS], dtype=np.int16)
    gp = channel == ALL_CHANNELS.index("gp")
    is_light = severity < F32(params.collective_limit)
    direct = gp[None, :] & (u_gp[None, :] < params.gp_direct_referral)
    induced = u_induced < induced_referral
    offer = np.where(is_light & ~direct & ~induced, light[:, None], heavy[:, None])

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
    sheltered = (severity[h] >= F32(params.sheltered_threshold)) & (severity[m] >= F32(0.6))
    offer[h] = np.where(sheltered, product_index["sheltered_housing"], offer[h])
    return np.where(treat, offer, -1).astype(np.int16)
