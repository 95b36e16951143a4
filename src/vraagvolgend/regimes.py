"""The two financing regimes: supply-driven (*aanbodgericht*) and demand-driven
(*vraagvolgend*), each a :class:`~vraagvolgend.financing.Policy` with its own parameters and
rules; both go through the one lifecycle the policy declares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .domains import DOMAINS, domain_index
from .financing import ASSUMED, CONTINUATIONS, F32, Policy
from .parameters import ParameterError, param

__all__ = ["DemandDriven", "SupplyDriven"]


@dataclass(frozen=True)
class SupplyDriven(Policy):
    """Supply-driven (*aanbodgericht*) access: a counter per law and a product per domain.

    Every needy domain of a household that reaches help gets its own catalogue product at the
    standard intensity, indicated for the provision's typical duration; one access
    conversation per law involved. At the end of the indication it is reviewed: renewed (a new
    episode) while the goal is not reached, ended when it is. The network is not activated and
    there is no flexible budget. The lifecycle parameters are those of :class:`Policy`.

    Example:
        >>> SupplyDriven().with_changes(contract="task", collective_capacity=1.5).contract
        'task'
    """

    regime: ClassVar[str] = "supply-driven"

    name: str = param("supply-driven", kind="str", source=ASSUMED, doc="name of the policy")


@dataclass(frozen=True)
class DemandDriven(Policy):
    """Demand-driven (*vraagvolgend*) access: one integrated plan per household.

    One (longer, paid) conversation covers all the household's problems. The plan treats at
    most ``max_parallel`` domains at a time, root causes first (``root_cause_order``), with an
    intensity sized to need (severity ÷ ``reference_severity``), activates the household's
    network, may use a flexible budget for a non-catalogue solution, and is reviewed every
    ``review_months``: it scales down as severity falls and ends when the problem is solved.

    Example:
        >>> DemandDriven().with_changes(max_parallel=1).max_parallel
        1
    """

    regime: ClassVar[str] = "demand-driven"

    name: str = param("demand-driven", kind="str", source=ASSUMED, doc="name of the policy")
    continuation: str = param(
        "prolong",
        kind="choice",
        keys=CONTINUATIONS,
        source="assumption: one plan, reviewed and resized (design.md)",
        doc="at a review that does not end it, an episode is renewed (a new episode) or "
        "prolonged (the same episode, resized)",
        group="lifecycle",
        plausible=("renew", "prolong"),
        plausible_why="both occur: one plan resized (design.md) or a new indication per period",
    )
    review_months: int = param(
        3,
        kind="int",
        lo=0,
        hi=120,
        source="assumption: plans reviewed every three months (seed articles: periodic "
        "review and scale-down)",
        doc="months between reviews of an episode (0: at the end of the provision's typical "
        "duration, the length of an indication)",
        group="lifecycle",
        plausible=(3, 12),
        plausible_why="the 2020 guideline for multi-problem families says 'evaluate "
        "regularly' without an interval (NVO/BPSW/NIP 2020): 3-12 months",
    )
    review_factor: float = param(
        0.5,
        kind="float",
        lo=0.0,
        hi=20.0,
        source="assumption: a review of a running plan is a short follow-up conversation with "
        "a household the worker knows, the low end of a re-assessment's 0.5–1.0 "
        "(Rb Gelderland 2018:106)",
        doc="one review, renewal or re-indication (escalation) of a household's episodes costs "
        "this many access conversations",
        group="conversations",
        plausible=(0.25, 1.0),
        plausible_why="assumption: from a short call to a full re-assessment (0.5-1.0 "
        "conversation, Rb Gelderland 2018:106)",
    )
    network_activation: float = param(
        0.5,
        kind="float",
        lo=0.0,
        hi=5.0,
        source="assumption: network activation first (design.md); its strain is modelled; "
        "family group conferences showed no effect on outcomes (WODC 2016)",
        doc="extra pull on the household's network while it has an episode",
        group="network activation",
        plausible=(0.0, 1.0),
        plausible_why="assumption: from no effect (family group conferences: no difference, WODC "
        "2016) to twice the default pull",
    )
    flexible_budget: float = param(
        0.15,
        kind="float",
        lo=0.0,
        hi=1.0,
        source=ASSUMED,
        doc="probability that a new plan includes a one-off flexible-budget solution",
        group="flexible budget",
        plausible=(0.05, 0.3),
        plausible_why="assumption: the seed articles describe cheap one-off solutions in some "
        "plans, no share",
    )
    max_parallel: int = param(
        2,
        kind="int",
        lo=1,
        hi=7,
        source=ASSUMED,
        doc="domains a plan treats at the same time",
        group="integrated plan",
        plausible=(2, 7),
        plausible_why="help on several domains at the same time (NJi 2014; guideline 2020): from "
        "two domains to no cap",
    )
    root_cause_order: tuple[str, ...] = param(
        [
            "finances",
            "housing",
            "work",
            "mental_health",
            "parenting",
            "physical_health",
            "social_isolation",
        ],
        kind="strs",
        keys=DOMAINS,
        source="assumption: debt and housing first (seed articles; CPB 2021 on debt → mental "
        "health)",
        doc="order in which a plan takes up a household's problems",
        group="integrated plan",
        plausible=("debt and housing first", "any fixed order"),
        plausible_why='assumption: "debts first" is argued (NJi 2014) without an effect size',
    )
    reference_severity: float = param(
        0.7,
        kind="float",
        lo=0.05,
        hi=1.0,
        source=ASSUMED,
        doc="severity at which the package is the catalogue's standard intensity",
        group="package sizing",
        plausible=(0.6, 0.85),
        plausible_why="packages from about the catalogue's to about 25% smaller: a result-based "
        "household-help norm of 78 h against 104.9 h measured (KPMG Plexus 2016), hours restored "
        "on appeal (CRvB 2018:3835); at 0.7 packages are about 10% below the catalogue's",
    )
    min_intensity: float = param(
        0.3,
        kind="float",
        lo=0.0,
        hi=1.0,
        source=ASSUMED,
        doc="smallest package intensity",
        group="package sizing",
        plausible=(0.2, 0.5),
        plausible_why="assumption: the smallest package worth indicating",
    )
    max_intensity: float = param(
        1.5,
        kind="float",
        lo=1.0,
        hi=5.0,
        source="assumption: a package sized to need is at most half again the catalogue's "
        "standard package",
        doc="largest package intensity",
        group="package sizing",
        plausible=(1.2, 2.0),
        plausible_why="assumption: the largest package a plan sizes above the standard",
    )
    plan_stacking_relief: float = param(
        0.1,
        kind="float",
        lo=0.0,
        hi=1.0,
        source="assumption, modest because the evidence is thin: seed articles claim root causes "
        "addressed together; family group conferences showed no effect (WODC 2016)",
        doc="while a household is in care, the stacking penalty on its recovery and "
        "escalation is reduced by this fraction (problems addressed together)",
        group="integrated plan",
        plausible=(0.0, 0.15),
        plausible_why="CPB 2019, 2020: teams did not reduce second-line youth care, residential "
        "care grew +11% vs +25% where teams gave much help; WODC 2016: no effect of family group "
        "conferences; central 0-0.05",
    )
    conversation_factor: float = param(
        3.0,
        kind="float",
        lo=0.0,
        hi=20.0,
        source="assumption: the integrated conversation takes about three times as long",
        doc="one integrated conversation costs this many single conversations",
        group="conversations",
        plausible=(2.0, 5.0),
        plausible_why="team caseloads: about 100 ordinary cases, 30-40 vulnerable, 5-7 "
        "multi-problem families (LPBL/BZK tool; SCP via Movisie): 2-5 times a standard "
        "conversation",
    )

    def _check(self) -> None:
        super()._check()
        if sorted(self.root_cause_order) != sorted(DOMAINS):
            raise ParameterError(
                "root_cause_order", f"must list each domain once: {', '.join(DOMAINS)}"
            )

    def select_domains(self, need, severity, in_care):
        # Rank the needy domains of each household by the root-cause order and keep the first
        # few, so that the plan never has more than max_parallel domains in care at once.
        rank = np.empty(len(DOMAINS), dtype=np.int16)
        rank[[domain_index(d) for d in self.root_cause_order]] = np.arange(len(DOMAINS))
        order = np.where(need, rank[:, None], 99)
        position = np.argsort(np.argsort(order, axis=0, kind="stable"), axis=0, kind="stable")
        room = self.max_parallel - in_care.sum(axis=0)
        return need & (position < room[None, :])

    def intensity(self, severity):
        sized = severity / F32(self.reference_severity)
        return np.clip(sized, F32(self.min_intensity), F32(self.max_intensity)).astype(F32)

    def conversation_units(self, n_laws):
        return np.where(n_laws > 0, self.conversation_factor, 0.0)
