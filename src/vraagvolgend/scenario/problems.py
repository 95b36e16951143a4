"""Problems in the life domains (onset, recovery, escalation, spill-over, stacking) and the
life events that strike households."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..parameters import ParameterError, Section, param
from .common import ASSUMED, CALIBRATED, D, T


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
            "work": 0.0006103,
            "housing": 0.000857,
            "mental_health": 0.00169,
            "physical_health": 0.003712,
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
        "BUIG); parenting, physical health and work refitted with every target (issue 17); "
        "work refitted with the benefit's block when persistence followed household type",
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
                "work": 2.629,
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
        "single-parent households (SCP, Voorzieningen in 3D); a missing entry is 1. "
        f"single_parent.work {CALIBRATED}single parents' 18% of social assistance (CBS 2018)",
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
        0.1189,
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
        0.01435,
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
