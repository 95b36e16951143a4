"""Informal support, access to formal care and the municipal budget."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..parameters import ParameterError, Section, param
from ..vocabulary import CHANNELS
from .common import ACCESS_BUDGET, ASSUMED, D, T, _shares_sum_to_one


@dataclass(frozen=True)
class Support(Section):
    """Informal support (mantelzorg and neighbourly help) over the network, and carer strain."""

    _path = "support"

    enabled: bool = param(True, kind="bool", source=ASSUMED, doc="switch informal support on/off")
    capacity: Mapping[str, float] = param(
        {
            "single": 0.8,
            "single_75plus": 0.4,
            "couple": 1.0,
            "couple_children": 0.7,
            "single_parent": 0.4,
        },
        kind="map",
        keys=T,
        lo=0.0,
        hi=10.0,
        source="assumption scaled to SCP, Voor elkaar? (2017): 32% of adults give informal "
        "care, 4.7% intensively; informal care is about 3/4 of home-care hours",
        doc="support a problem-free household can give per month (units of need)",
    )
    load_scale: float = param(
        1.0,
        kind="float",
        lo=0.01,
        hi=10.0,
        source=ASSUMED,
        doc="spare capacity × max(0, 1 − own total severity / load_scale)",
    )
    need_saturation: float = param(
        1.0,
        kind="float",
        lo=0.01,
        hi=100.0,
        source=ASSUMED,
        doc="need around a giver at which it offers all its spare capacity",
    )
    escalation_mitigation: float = param(
        0.6,
        kind="float",
        lo=0.0,
        hi=1.0,
        source=ASSUMED,
        doc="escalation × (1 − mitigation × coverage)",
    )
    light_recovery: float = param(
        0.08,
        kind="float",
        lo=0.0,
        hi=1.0,
        source=ASSUMED,
        doc="extra monthly recovery of a light problem at full support coverage",
    )
    light_margin: float = param(
        0.15,
        kind="float",
        lo=0.0,
        hi=1.0,
        source=ASSUMED,
        doc="a problem is light while its severity is below threshold + margin",
    )
    strain_threshold: float = param(
        0.45,
        kind="float",
        lo=0.0,
        hi=10.0,
        source="assumption: about 1 in 10 carers is heavily burdened (SCP)",
        doc="monthly giving above which carer strain builds",
    )
    strain_gain: float = param(
        0.3, kind="float", lo=0.0, hi=10.0, source=ASSUMED, doc="strain per unit of excess giving"
    )
    strain_recovery: float = param(
        0.1, kind="float", lo=0.0, hi=1.0, source=ASSUMED, doc="monthly fractional strain decay"
    )
    strain_effect: Mapping[str, float] = param(
        {"mental_health": 1.2, "physical_health": 0.6, "social_isolation": 0.6},
        kind="map",
        keys=D,
        lo=0.0,
        hi=10.0,
        source="assumption: overloaded informal carers get problems of their own (SCP)",
        doc="giver's onset hazard × exp(effect × strain)",
    )
    strain_level: float = param(
        0.25,
        kind="float",
        lo=0.0,
        hi=1.0,
        source=ASSUMED,
        doc="strain from which a carer counts as 'under strain' in the outputs",
    )


@dataclass(frozen=True)
class Access(Section):
    """How households reach formal help: help-seeking, channels, gatekeeping thresholds."""

    _path = "access"

    need_threshold: float = param(
        0.45,
        kind="float",
        lo=0.0,
        hi=1.0,
        source=ASSUMED,
        doc="severity from which a problem is a need for formal help",
    )
    seek_base: float = param(
        0.08,
        kind="float",
        lo=0.0,
        hi=1.0,
        source=ASSUMED,
        doc="monthly probability of seeking help at the need threshold",
    )
    seek_slope: float = param(
        0.5,
        kind="float",
        lo=0.0,
        hi=10.0,
        source=ASSUMED,
        doc="added monthly help-seeking probability per unit of severity above the threshold",
    )
    avoider_share: float = param(
        0.25,
        kind="float",
        lo=0.0,
        hi=1.0,
        source="assumption: some need stays hidden; active neighbourhood teams found hidden "
        "need among low-income and migrant-background youth (CPB)",
        doc="share of households that do not seek help themselves (found only by outreach)",
    )
    channel_shares: Mapping[str, float] = param(
        {"gp": 0.40, "wijkteam": 0.35, "school": 0.10, "self": 0.15},
        kind="map",
        keys=CHANNELS,
        lo=0.0,
        hi=1.0,
        source="CBS 85096NED (2021 referrals to youth care): GP 36%, municipal access 31%, "
        "none/self 15%; school and the rest assumption",
        doc="channel through which help is sought (school only for parenting needs)",
    )
    gp_direct_referral: float = param(
        0.7,
        kind="float",
        lo=0.0,
        hi=1.0,
        source="assumption: GPs may refer directly to youth care and other specialist help",
        doc="share of GP contacts referred straight to an individual provision",
    )
    collective_limit: float = param(
        0.6,
        kind="float",
        lo=0.0,
        hi=1.0,
        source=ASSUMED,
        doc="the gatekeeper offers collective support to needs below this severity",
    )
    conversation_cost: float = param(
        150.0,
        kind="float",
        lo=0.0,
        hi=10_000.0,
        source="assumption: about two hours of a professional at about EUR 75/hour",
        doc="cost of one access conversation (keukentafelgesprek) at one counter (EUR)",
        plausible=(150.0, 500.0),
        plausible_why="one municipality about EUR 500 (NRC Next 2014, via parliamentary questions "
        "2015Z00110); EUR 150 is two hours at EUR 75 (calibration notes: EUR 150-500)",
    )

    chronic_types: tuple[str, ...] = param(
        ["single_75plus"],
        kind="strs",
        keys=T,
        source=ASSUMED,
        doc="household types whose needs in chronic_domains are chronic",
    )
    chronic_domains: tuple[str, ...] = param(
        ["physical_health"],
        kind="strs",
        keys=D,
        source=ASSUMED,
        doc="domains in which the needs of chronic_types are chronic: their care ends at a "
        "review only once the household is self-reliant, never on an early goal",
    )
    chronic_exit_severity: float = param(
        0.2,
        kind="float",
        lo=0.0,
        hi=1.0,
        source="ZRM 5 (fully self-reliant) below 0.2 (domains.py)",
        doc="chronic care ends at a review only below this severity",
    )

    def _check(self) -> None:
        missing = [c for c in CHANNELS if c not in self.channel_shares]
        if missing:
            raise ParameterError(f"{self._path}.channel_shares.{missing[0]}", "is missing")
        _shares_sum_to_one(f"{self._path}.channel_shares", self.channel_shares)


#: What the municipality's budget covers: the lines a budget holder controls.
BUDGET_LINES: tuple[str, ...] = ("jeugdwet", "wmo", "participatiewet", "access")


@dataclass(frozen=True)
class MunicipalBudget(Section):
    """The municipality's annual budget (the same for every policy).

    It covers every line a budget holder controls: the individual provisions of each law (the
    benefit excluded) and access (conversations, reviews, outreach). A single run uses
    ``per_inhabitant``; a line left out of it is not budgeted.
    :func:`~vraagvolgend.comparison.compare` sets one budget for all the policies it compares
    from the baseline policy's spending (:func:`~vraagvolgend.comparison.municipal_budget`).
    """

    _path = "budget"

    per_inhabitant: Mapping[str, float] = param(
        {"jeugdwet": 293.8, "wmo": 146.9, "participatiewet": 12.9, "access": ACCESS_BUDGET},
        kind="map",
        keys=BUDGET_LINES,
        lo=0.0,
        hi=100_000.0,
        source="reference municipality A, budget 2021: EUR 27.0M on 57,000 inhabitants (realised "
        "25.8M), split over the laws as realised (youth 16M, Wmo 8M, participation 0.7M net); "
        "access (outside those accounts): the default supply-driven year-1 access spending "
        "plus the margin (derived from the model)",
        doc="annual budget per inhabitant per law for individual provisions, and for access (EUR)",
    )
    set_from_baseline: bool = param(
        True,
        kind="bool",
        source="design: one budget for every policy compared",
        doc="compare() sets the budget from the baseline policy's year-1 spending (individual "
        "provisions and access) plus margin",
    )
    margin: float = param(
        0.0465,
        kind="float",
        lo=-0.5,
        hi=1.0,
        source="reference municipality A, 2021: budget EUR 27.0M against EUR 25.8M realised",
        doc="budget above the baseline's spending, as a fraction",
    )
