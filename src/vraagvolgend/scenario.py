"""The scenario: an immutable, validated description of a municipality and its behaviour.

A :class:`Scenario` holds what is *uncertain or given* about a municipality (population profile,
neighbourhoods, problem dynamics, life events, the social network and informal support), as
opposed to a policy, which holds what the municipality *chooses*. Every parameter has a default
with its source (``calibration.md`` in the project's shared notes, or a stated assumption), an
allowed range, and is checked when the scenario is built.

Example:
    >>> from vraagvolgend import Scenario
    >>> s = Scenario.default()
    >>> s.n_households
    24000
    >>> small = s.with_changes(n_households=2000, **{"network.mean_degree": 6})
    >>> Scenario.from_toml(small.to_toml()) == small
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .domains import DOMAINS, HOUSEHOLD_TYPES
from .parameters import ParameterError, Section, load_toml, merge_partial, param, to_toml_lines
from .provisions import Catalogue
from .vocabulary import CHANNELS

__all__ = [
    "Access",
    "LifeEvent",
    "MunicipalBudget",
    "Neighbourhood",
    "Network",
    "Population",
    "Problems",
    "Scenario",
    "ScenarioError",
    "Support",
]

ScenarioError = ParameterError

CBS_37975 = "CBS StatLine 37975 (households 1 Jan 2024)"
ASSUMED = "assumption"
#: Default access budget per inhabitant (EUR): see ``MunicipalBudget.per_inhabitant``.
ACCESS_BUDGET = 16.1
CALIBRATED = "calibrated (scripts/calibration_check.py --fit, supply-driven): "
T = HOUSEHOLD_TYPES
D = DOMAINS


def _shares_sum_to_one(path: str, values: Mapping[str, float] | tuple) -> None:
    total = sum(values.values()) if isinstance(values, Mapping) else sum(values)
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ParameterError(path, f"shares sum to {total:.6g}; they must sum to 1")


@dataclass(frozen=True)
class Population(Section):
    """Who lives in the municipality: household types, children, income and vulnerability."""

    _path = "population"

    type_shares: Mapping[str, float] = param(
        {
            "single": 0.319,
            "single_75plus": 0.080,
            "couple": 0.285,
            "couple_children": 0.244,
            "single_parent": 0.072,
        },
        kind="map",
        keys=T,
        lo=0.0,
        hi=1.0,
        source=f"{CBS_37975}: one-person 39.9%, couple without children 28.5%, with children "
        "31.6%; the split of one-person households at age 75 and of households with children "
        "into couples and single parents is an assumption",
        doc="share of households of each type",
    )
    children_shares: tuple[float, ...] = param(
        (0.40, 0.42, 0.14, 0.04),
        kind="floats",
        lo=0.0,
        hi=1.0,
        source="assumption: shares of 1, 2, 3 and 4 children giving a mean household size of "
        "about 2.1 (RIVM vzinfo 2023)",
        doc="shares of households with children that have 1, 2, 3, 4 … children",
    )
    income_position: Mapping[str, float] = param(
        {
            "single": -0.4,
            "single_75plus": -0.5,
            "couple": 0.35,
            "couple_children": 0.45,
            "single_parent": -0.9,
        },
        kind="map",
        keys=T,
        lo=-5.0,
        hi=5.0,
        source="assumption: low income concentrates in single and single-parent households "
        "(SCP, Voorzieningen in 3D)",
        doc="mean of the latent income score per type (score sd 1; quintiles are its ranks)",
    )
    # Vulnerability is a log relative risk of problem onset, normalised so that the onset
    # multiplier averages 1 over the population (households.py): these gradients move *who*
    # gets problems, not how many. Fitted together with problems.onset_rate.parenting.
    vulnerability_income: float = param(
        0.1314,
        kind="float",
        lo=0.0,
        hi=3.0,
        source=f"{CALIBRATED}youth care in the lowest vs the highest income quintile about 2.5× "
        "(CBS 2022: 15.7% vs 6.3%), fitted with every other target (issue 17); household type, "
        "neighbourhood deprivation and spill-over from debt give most of the gradient",
        doc="vulnerability added per income quintile below the middle one",
    )
    vulnerability_type: Mapping[str, float] = param(
        {
            "single": 1.299,
            "single_75plus": 0.1,
            "couple": -0.1,
            "couple_children": -0.1,
            "single_parent": 0.039,
        },
        kind="map",
        keys=T,
        lo=-3.0,
        hi=3.0,
        source=f"single_parent and single {CALIBRATED}youth care of single-parent vs couple "
        "children about 2.1× (CBS 2016), social assistance 65% one-person, 18% single-parent, "
        "17% couples (CBS 2018); the rest assumption (SCP, Voorzieningen in 3D)",
        doc="vulnerability added per household type",
    )
    vulnerability_deprivation: float = param(
        0.0,
        kind="float",
        lo=0.0,
        hi=5.0,
        source="assumption: deprivation acts on onset once, through problems.deprivation_effect "
        "(it was counted twice, in vulnerability and in the hazard)",
        doc="vulnerability added per unit of neighbourhood deprivation (0–1)",
    )
    vulnerability_sd: float = param(
        1.0,
        kind="float",
        lo=0.0,
        hi=3.0,
        source="assumption: raised from 0.6 to 1.0 when the income gradient was calibrated "
        "down, so that problems still stack in some households beyond their income and type "
        "(3+ problems about 2.5× as common as with independent domains; SCP, Voorzieningen in "
        "3D); no public figure pins it",
        doc="standard deviation of the household-specific part of vulnerability",
    )

    def _check(self) -> None:
        missing = [t for t in T if t not in self.type_shares]
        if missing:
            raise ParameterError(f"{self._path}.type_shares.{missing[0]}", "is missing")
        _shares_sum_to_one(f"{self._path}.type_shares", self.type_shares)
        if not self.children_shares:
            raise ParameterError(f"{self._path}.children_shares", "must not be empty")
        _shares_sum_to_one(f"{self._path}.children_shares", self.children_shares)


@dataclass(frozen=True)
class Neighbourhood(Section):
    """A neighbourhood (wijk): its share of the households and its deprivation."""

    _path = "neighbourhoods"

    name: str = param("wijk", kind="str", source=ASSUMED, doc="name")
    share: float = param(0.1, kind="float", lo=0.0, hi=1.0, source=ASSUMED, doc="share of homes")
    deprivation: float = param(
        0.5,
        kind="float",
        lo=0.0,
        hi=1.0,
        source=ASSUMED,
        doc="deprivation index: housing quality, unemployment, poverty (0 least … 1 most)",
    )


_DEFAULT_NEIGHBOURHOODS = [
    # Ten neighbourhoods of a suburban municipality of about 57,000 inhabitants (reference
    # municipality A in calibration.md has eleven); shares and deprivation are assumptions that
    # give a realistic spread from a deprived post-war district to a rural fringe.
    {"name": "Centrum", "share": 0.10, "deprivation": 0.45},
    {"name": "Oost", "share": 0.12, "deprivation": 0.70},
    {"name": "West", "share": 0.11, "deprivation": 0.35},
    {"name": "Noord", "share": 0.09, "deprivation": 0.85},
    {"name": "Zuid", "share": 0.12, "deprivation": 0.25},
    {"name": "Dorp", "share": 0.08, "deprivation": 0.15},
    {"name": "Haven", "share": 0.10, "deprivation": 0.60},
    {"name": "Parkwijk", "share": 0.10, "deprivation": 0.30},
    {"name": "Nieuwbouw", "share": 0.12, "deprivation": 0.10},
    {"name": "Buitengebied", "share": 0.06, "deprivation": 0.05},
]


@dataclass(frozen=True)
class Network(Section):
    """The social network between households."""

    _path = "network"

    mean_degree: float = param(
        8.0,
        kind="float",
        lo=0.0,
        hi=100.0,
        source="assumption: about 6–10 supportive ties per household (design.md)",
        doc="mean number of ties per household",
    )
    within_neighbourhood: float = param(
        0.8,
        kind="float",
        lo=0.0,
        hi=1.0,
        source=ASSUMED,
        doc="share of ties to a household in the same neighbourhood",
    )
    homophily: float = param(
        0.6,
        kind="float",
        lo=0.0,
        hi=1.0,
        source=ASSUMED,
        doc="share of ties drawn among households of similar income and type",
    )
    homophily_window: int = param(
        40,
        kind="int",
        lo=1,
        hi=100_000,
        source=ASSUMED,
        doc="how many most-similar households a homophilous tie is drawn from (on either side)",
    )
    tie_strength_a: float = param(
        2.0, kind="float", lo=0.01, hi=100.0, source=ASSUMED, doc="Beta(a, b) tie strength: a"
    )
    tie_strength_b: float = param(
        3.0, kind="float", lo=0.01, hi=100.0, source=ASSUMED, doc="Beta(a, b) tie strength: b"
    )


@dataclass(frozen=True)
class Problems(Section):
    """Problem dynamics: onset, spill-over between domains, escalation and recovery (monthly)."""

    _path = "problems"

    threshold: float = param(
        0.4,
        kind="float",
        lo=0.05,
        hi=0.95,
        source="ZRM: severity 0.4 is ZRM level 3 (limited self-reliance)",
        doc="severity from which a domain counts as an active problem",
    )
    onset_rate: Mapping[str, float] = param(
        {
            "finances": 0.00169,
            "work": 0.00101,
            "housing": 0.000857,
            "mental_health": 0.00169,
            "physical_health": 0.003597,
            "parenting": 0.02852,
            "social_isolation": 0.00113,
        },
        kind="map",
        keys=D,
        lo=0.0,
        hi=1.0,
        source="hand-tuned: without formal care about 10% of households have an active debt "
        "problem (CBS: 8% registered problematic debt, with care in place); parenting "
        f"{CALIBRATED}youth care for 10.5% of young people (CBS Jeugdmonitor); other ratios "
        "assumption. Rescaled ×2.255 when vulnerability was normalised (same levels); "
        f"physical health {CALIBRATED}Wmo clients and household help per 1,000 (CBS 86050NED); "
        f"work {CALIBRATED}social assistance for 4.9% of households with its duration (CBS, "
        "BUIG); parenting, physical health and work refitted with every target (issue 17)",
        doc="monthly onset hazard at the population-average vulnerability (deprivation 0)",
    )
    type_risk: Mapping[str, Mapping[str, float]] = param(
        {
            "single": {
                "finances": 1.2,
                "housing": 1.2,
                "mental_health": 1.3,
                "physical_health": 0.8,
                "social_isolation": 1.8,
            },
            "single_75plus": {
                "finances": 0.5,
                "work": 0.3,
                "housing": 0.6,
                "physical_health": 4.0,
                "social_isolation": 2.5,
            },
            "couple": {
                "finances": 0.8,
                "work": 0.8,
                "housing": 0.7,
                "mental_health": 0.8,
                "physical_health": 1.3,
                "social_isolation": 0.7,
            },
            "couple_children": {
                "finances": 0.9,
                "work": 0.8,
                "housing": 0.8,
                "mental_health": 0.9,
                "physical_health": 0.6,
                "social_isolation": 0.5,
            },
            "single_parent": {
                "finances": 2.0,
                "work": 1.4,
                "housing": 1.6,
                "mental_health": 1.4,
                "physical_health": 0.8,
                "parenting": 1.6,
                "social_isolation": 1.2,
            },
        },
        kind="map2",
        keys=T,
        inner_keys=D,
        lo=0.0,
        hi=100.0,
        source="assumption: ADL problems concentrate at 75+, debt and parenting problems in "
        "single-parent households (SCP, Voorzieningen in 3D); a missing entry is 1",
        doc="relative onset risk by household type and domain",
    )
    vulnerability_effect: float = param(
        1.0, kind="float", lo=0.0, hi=5.0, source=ASSUMED, doc="onset hazard × exp(effect × vuln)"
    )
    deprivation_effect: float = param(
        0.7,
        kind="float",
        lo=0.0,
        hi=5.0,
        source=ASSUMED,
        doc="onset hazard × exp(effect × neighbourhood deprivation), on top of vulnerability",
    )
    income_effect: Mapping[str, float] = param(
        {"physical_health": 0.7967},
        kind="map",
        keys=D,
        lo=-5.0,
        hi=5.0,
        source="calibrated (scripts/calibration_check.py --fit) to household help by income: "
        "53 (low), 51 (middle), 6 (high) clients per 1,000 (CBS, first half 2020); a missing "
        "domain is 0",
        doc="onset hazard of a domain × exp(effect × (3 − income quintile) ÷ 2), on top of "
        "vulnerability: a domain-specific income gradient (health inequality)",
    )
    spillover: Mapping[str, Mapping[str, float]] = param(
        {
            "finances": {"mental_health": 1.125, "housing": 1.125, "parenting": 0.6},
            "work": {"finances": 1.125, "mental_health": 0.6, "social_isolation": 0.45},
            "housing": {"mental_health": 0.6, "finances": 0.375},
            "mental_health": {
                "work": 1.125,
                "finances": 0.6,
                "parenting": 0.75,
                "social_isolation": 0.9,
            },
            "physical_health": {"work": 0.9, "social_isolation": 0.75, "mental_health": 0.45},
            "parenting": {"mental_health": 0.45},
            "social_isolation": {"mental_health": 0.6},
        },
        kind="map2",
        keys=D,
        inner_keys=D,
        lo=0.0,
        hi=20.0,
        source="direction: debt ↔ mental health (CPB 2021), financial problems → anxiety and "
        "depression (Dutch longitudinal study, N=4,770), parental → youth problems (CBS, "
        "Doelgroepenanalyse 2021); magnitudes are assumptions",
        doc="onset hazard of the column domain × exp(coefficient × severity of the row domain)",
    )
    recovery_rate: Mapping[str, float] = param(
        {
            "finances": 0.025,
            "work": 0.04,
            "housing": 0.05,
            "mental_health": 0.04,
            "physical_health": 0.03,
            "parenting": 0.04,
            "social_isolation": 0.03,
        },
        kind="map",
        keys=D,
        lo=0.0,
        hi=1.0,
        source="assumption: spontaneous recovery is slow (problems last two to three years "
        "without help); about half of social assistance lasts 5+ years (BUIG)",
        doc="monthly probability that an active problem resolves by itself",
    )
    recovery_stacking: float = param(
        0.25,
        kind="float",
        lo=0.0,
        hi=10.0,
        source="assumption: financial problems slow recovery from anxiety/depression (Dutch "
        "longitudinal study, N=4,770)",
        doc="recovery ÷ (1 + stacking × (active problems − 1))",
    )
    escalation_rate: Mapping[str, float] = param(
        {d: 0.004 for d in D},
        kind="map",
        keys=D,
        lo=0.0,
        hi=1.0,
        source=ASSUMED,
        doc="monthly severity increase of an active problem in a one-problem household",
    )
    escalation_stacking: float = param(
        0.5,
        kind="float",
        lo=0.0,
        hi=10.0,
        source="assumption: escalation speeds up with the number of problems (design.md)",
        doc="escalation × (1 + stacking × (active problems − 1))",
    )
    onset_severity: tuple[float, ...] = param(
        (0.4, 0.65),
        kind="floats",
        lo=0.0,
        hi=1.0,
        source=ASSUMED,
        doc="range of the severity of a new problem (uniform)",
    )
    recovered_fraction: float = param(
        0.3,
        kind="float",
        lo=0.0,
        hi=0.99,
        source=ASSUMED,
        doc="after recovery the severity drops to this fraction of what it was",
    )
    residual_decay: float = param(
        0.1,
        kind="float",
        lo=0.0,
        hi=1.0,
        source=ASSUMED,
        doc="monthly fractional decay of severity below the threshold",
    )
    persistent_share: float = param(
        0.1329,
        kind="float",
        lo=0.0,
        hi=1.0,
        source="calibrated (scripts/calibration_check.py --fit): about half of social "
        "assistance lasts five years or more (CBS; BUIG)",
        doc="share of households whose problems in persistent_domains are persistent (a large "
        "distance to the labour market): they recover persistent_recovery times as fast",
    )
    persistent_domains: tuple[str, ...] = param(
        ["work"],
        kind="strs",
        keys=D,
        source="assumption: long-term social assistance reflects a lasting distance to the "
        "labour market (BUIG: about half stay five years or more); the benefit follows work",
        doc="domains in which a persistent household's problems are persistent",
    )
    persistent_recovery: float = param(
        0.02262,
        kind="float",
        lo=0.0,
        hi=1.0,
        source="calibrated (scripts/calibration_check.py --fit) with persistent_share to the "
        "benefit's duration (CBS; BUIG)",
        doc="every recovery (spontaneous, supported, by care) of a persistent problem × this",
    )

    def _check(self) -> None:
        lo_hi = self.onset_severity
        if len(lo_hi) != 2 or not lo_hi[0] < lo_hi[1]:
            raise ParameterError(f"{self._path}.onset_severity", f"{list(lo_hi)} must be [lo, hi]")
        for name in ("onset_rate", "recovery_rate", "escalation_rate"):
            missing = [d for d in D if d not in getattr(self, name)]
            if missing:
                raise ParameterError(f"{self._path}.{name}.{missing[0]}", "is missing")


@dataclass(frozen=True)
class LifeEvent(Section):
    """A life event (job loss, separation, serious illness, threat of eviction).

    An event strikes several domains at once: each domain's severity rises by ``impact``.
    """

    _path = "life_events"

    rate: float = param(0.001, kind="float", lo=0.0, hi=1.0, source=ASSUMED, doc="monthly hazard")
    household_types: tuple[str, ...] = param(
        list(T), kind="strs", keys=T, source=ASSUMED, doc="household types that can have it"
    )
    vulnerability_effect: float = param(
        0.5, kind="float", lo=0.0, hi=5.0, source=ASSUMED, doc="hazard × exp(effect × vuln)"
    )
    severity_effect: Mapping[str, float] = param(
        {},
        kind="map",
        keys=D,
        lo=0.0,
        hi=20.0,
        source=ASSUMED,
        doc="hazard × exp(coefficient × severity in that domain)",
    )
    impact: Mapping[str, float] = param(
        {},
        kind="map",
        keys=D,
        lo=0.0,
        hi=1.0,
        source=ASSUMED,
        doc="severity added per domain when the event strikes",
    )
    new: bool = param(
        False,
        kind="bool",
        source="-",
        doc="true for an event a user adds (a name without it must exist in the default)",
    )


# Rates ×1.5 when vulnerability was normalised to a mean relative risk of 1 (events use
# exp(0.5 × vulnerability), whose population mean fell by that factor): same event levels.
_DEFAULT_EVENTS = {
    "job_loss": {
        "rate": 0.003,
        "household_types": ["single", "couple", "couple_children", "single_parent"],
        "impact": {"work": 0.45, "finances": 0.25, "mental_health": 0.10},
    },
    "separation": {
        "rate": 0.00225,
        "household_types": ["couple", "couple_children"],
        "severity_effect": {"finances": 1.0, "mental_health": 1.0},
        "impact": {
            "finances": 0.30,
            "housing": 0.35,
            "mental_health": 0.25,
            "parenting": 0.25,
            "social_isolation": 0.15,
        },
    },
    "serious_illness": {
        "rate": 0.00225,
        "impact": {
            "physical_health": 0.50,
            "work": 0.25,
            "mental_health": 0.15,
            "social_isolation": 0.10,
        },
    },
    "eviction_threat": {
        "rate": 0.00015,
        "severity_effect": {"finances": 3.0},
        "impact": {"housing": 0.50, "finances": 0.15, "mental_health": 0.20},
    },
}


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


@dataclass(frozen=True)
class Scenario(Section):
    """A municipality and its behavioural parameters. Immutable; validated when built.

    Build the default with :meth:`default`, read one with :meth:`from_toml`, change one with
    :meth:`with_changes` (dotted keys reach into sections). :meth:`describe` lists every
    parameter with its value, allowed range and source.

    Example:
        >>> s = Scenario.default().with_changes({"support.enabled": False})
        >>> s.support.enabled
        False
    """

    name: str = param("default", kind="str", source=ASSUMED, doc="name of the scenario")
    n_households: int = param(
        24_000,
        kind="int",
        lo=10,
        hi=20_000_000,
        source="reference municipality A (Pijnacker-Nootdorp): about 23,000 households",
        doc="number of households",
    )
    burn_in_months: int = param(
        120,
        kind="int",
        lo=0,
        hi=1200,
        source=ASSUMED,
        doc="months simulated before month 1 so that problems start near their steady state",
    )
    income_sorting: float = param(
        1.5,
        kind="float",
        lo=0.0,
        hi=20.0,
        source="assumption: households sort into neighbourhoods by income",
        doc="strength with which low incomes concentrate in deprived neighbourhoods",
    )
    population: Population = param(Population, kind="section", section=Population, source="")
    neighbourhoods: tuple[Neighbourhood, ...] = param(
        _DEFAULT_NEIGHBOURHOODS, kind="sections", section=Neighbourhood, source=""
    )
    network: Network = param(Network, kind="section", section=Network, source="")
    problems: Problems = param(Problems, kind="section", section=Problems, source="")
    life_events: Mapping[str, LifeEvent] = param(
        _DEFAULT_EVENTS, kind="named", section=LifeEvent, source=""
    )
    support: Support = param(Support, kind="section", section=Support, source="")
    access: Access = param(Access, kind="section", section=Access, source="")
    provisions: Catalogue = param(Catalogue, kind="section", section=Catalogue, source="")
    budget: MunicipalBudget = param(
        MunicipalBudget, kind="section", section=MunicipalBudget, source=""
    )

    def _check(self) -> None:
        if not self.neighbourhoods:
            raise ParameterError("neighbourhoods", "at least one neighbourhood is needed")
        _shares_sum_to_one("neighbourhoods.share", tuple(n.share for n in self.neighbourhoods))
        names = [n.name for n in self.neighbourhoods]
        if len(set(names)) != len(names):
            raise ParameterError("neighbourhoods.name", "names must be unique")

    # --- construction and I/O --------------------------------------------------------------

    @classmethod
    def default(cls) -> Scenario:
        """The embedded default: a Dutch municipality of about 24,000 households."""
        return cls()

    @classmethod
    def from_toml(cls, source: str | Path) -> Scenario:
        """Read a scenario from a TOML file path or TOML text; keys left out keep their default.

        Raises:
            ParameterError: naming the file, the key, the value and what is allowed.
        """
        return load_toml(source, cls.from_partial_dict, "scenario")

    @classmethod
    def from_partial_dict(cls, data: Mapping[str, Any]) -> Scenario:
        """Build a scenario from a mapping that overrides some defaults.

        Tables merge into the default at every depth, so a file only needs the keys it
        changes (one provision's price, one household type's capacity); lists (such as
        ``neighbourhoods``) replace the default's list.
        """
        return cls.from_dict(merge_partial(cls, cls.default().to_dict(), data))

    def to_toml(self, path: str | Path | None = None) -> str:
        """Write the scenario as TOML (with the source of every value as a comment).

        Args:
            path: If given, the file to write.

        Returns:
            The TOML text.
        """
        text = "\n".join(["# vraagvolgend scenario", *to_toml_lines(self)]) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def describe(self) -> pd.DataFrame:
        """Every parameter with its value, allowed range, meaning and source."""
        return pd.DataFrame(self.provenance())
