"""Financing regimes as policies: supply-driven vs demand-driven access, contracts, levers, budget.

A policy is an immutable, named, serialisable object. It combines

1. an **access regime** — :class:`SupplyDriven` (*aanbodgericht*: one counter per law, one
   catalogue product per problem domain, standard packages and durations, renewal while not
   fully recovered, the network not systematically used) or :class:`DemandDriven`
   (*vraagvolgend*: one integrated plan per household, root causes first, package sized to need,
   a flexible budget for non-catalogue solutions, network activation first, periodic review and
   scale-down, extra conversation time paid for);
2. a **contract type** for individual provisions — ``"effort"`` (*inspanningsgericht*: price ×
   hours), ``"output"`` (*outputgericht*: price per trajectory) or ``"task"`` (*taakgericht*:
   lump sum for a contracted capacity); each with its documented behavioural response
   (:class:`Contracts`);
3. **investment levers** — collective capacity, practice support for youth at the GP
   (*POH-jeugd*), a network programme, outreach;
4. a **budget rule** — what the municipality does when individual costs overrun its budget.

A variant is a declared change on a baseline, validated like the baseline::

    SupplyDriven().with_changes(contract="task", collective_capacity=1.5)

Users subclass a regime and override its rule methods (:meth:`Policy.select_domains`,
:meth:`Policy.intensity`, :meth:`Policy.review`) to try their own rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .domains import DOMAINS, domain_index
from .parameters import ParameterError, Section, load_toml, param, to_toml_lines

__all__ = [
    "BUDGET_RULES",
    "CONTRACTS",
    "Contracts",
    "DemandDriven",
    "Policy",
    "PolicySwitch",
    "SupplyDriven",
    "resolve_policy",
]

CONTRACTS = ("effort", "output", "task")
BUDGET_RULES = ("none", "cut_collective", "cap")
ASSUMED = "assumption"
F32 = np.float32


@dataclass(frozen=True)
class Contracts(Section):
    """How providers respond to each contract type (the mechanisms, with exposed strengths)."""

    _path = "contracts"

    effort_prolongation: float = param(
        0.25,
        kind="float",
        lo=0.0,
        hi=5.0,
        source="assumption: price × hours pays to prolong (VNG / i-Sociaal Domein)",
        doc="effort-based: trajectories last (1 + this) × the standard duration",
    )
    effort_over_provision: float = param(
        0.15,
        kind="float",
        lo=0.0,
        hi=5.0,
        source="assumption: price × hours pays to over-provide",
        doc="effort-based: hours billed are (1 + this) × the hours needed",
    )
    effort_induced_referral: float = param(
        0.2,
        kind="float",
        lo=0.0,
        hi=1.0,
        source="assumption; referrals grew 14% faster where team members were employed by care "
        "providers (CPB 2019)",
        doc="effort-based: share of light needs referred to an individual provision anyway "
        "(supplier-induced referral)",
    )
    output_shortening: float = param(
        0.3,
        kind="float",
        lo=0.0,
        hi=0.95,
        source="assumption: a fixed price per trajectory pays to end early",
        doc="output-based: trajectories last (1 − this) × the standard duration",
    )
    output_upcoding: float = param(
        0.2,
        kind="float",
        lo=0.0,
        hi=1.0,
        source="assumption: a fixed price per trajectory pays to classify heavier",
        doc="output-based: share of trajectories billed at the heavier tariff",
    )
    output_upcode_factor: float = param(
        1.5,
        kind="float",
        lo=1.0,
        hi=10.0,
        source=ASSUMED,
        doc="output-based: heavier tariff ÷ standard tariff",
    )
    task_capacity: float = param(
        1.0,
        kind="float",
        lo=0.0,
        hi=10.0,
        source=ASSUMED,
        doc="task-based: contracted capacity × the catalogue's capacity_per_1000",
    )
    task_under_treatment: float = param(
        0.2,
        kind="float",
        lo=0.0,
        hi=1.0,
        source="assumption: a lump sum pays to do less per client",
        doc="task-based: care intensity × (1 − this)",
    )


@dataclass(frozen=True)
class Policy(Section):
    """Base of the financing regimes: contract, levers and budget rule shared by both.

    Do not use directly: take :class:`SupplyDriven` or :class:`DemandDriven`, or subclass one.
    """

    regime: ClassVar[str] = "policy"

    name: str = param("policy", kind="str", source=ASSUMED, doc="name of the policy")
    contract: str = param(
        "effort",
        kind="choice",
        keys=CONTRACTS,
        source="effort-based (price × hours) is the most common contract (VNG)",
        doc="contract type for individual provisions",
    )
    collective_capacity: float = param(
        1.0,
        kind="float",
        lo=0.0,
        hi=10.0,
        source=ASSUMED,
        doc="collective provisions' capacity (and budget) × the catalogue's",
    )
    practice_support_youth: bool = param(
        True,
        kind="bool",
        source="most municipalities fund POH-jeugd (AEF)",
        doc="GPs have practice support for youth (POH-jeugd) for light parenting needs",
    )
    network_programme: float = param(
        0.0,
        kind="float",
        lo=0.0,
        hi=2.0,
        source=ASSUMED,
        doc="community work raises informal support capacity by this fraction",
    )
    network_programme_cost: float = param(
        25.0,
        kind="float",
        lo=0.0,
        hi=10_000.0,
        source=ASSUMED,
        doc="yearly cost per household of a network programme at strength 1 (EUR)",
    )
    outreach: float = param(
        0.0,
        kind="float",
        lo=0.0,
        hi=1.0,
        source="active neighbourhood teams find hidden need (CPB)",
        doc="monthly probability that outreach finds a household with hidden need",
    )
    outreach_cost: float = param(
        250.0,
        kind="float",
        lo=0.0,
        hi=10_000.0,
        source=ASSUMED,
        doc="cost per household found by outreach (EUR)",
    )
    budget_rule: str = param(
        "cut_collective",
        kind="choice",
        keys=BUDGET_RULES,
        source="prevention and collective provisions are the first to be cut (seed articles)",
        doc="after a year whose individual costs overran: cut collective capacity next year, "
        "cap individual intake at the budget, or nothing",
    )
    budget_cut: float = param(
        0.2,
        kind="float",
        lo=0.0,
        hi=1.0,
        source=ASSUMED,
        doc="cut_collective: share of collective capacity cut after an overrun year",
    )
    budget_per_inhabitant: Mapping[str, float] = param(
        {"jeugdwet": 280.0, "wmo": 140.0, "participatiewet": 12.0},
        kind="map",
        keys=("jeugdwet", "wmo", "participatiewet"),
        lo=0.0,
        hi=100_000.0,
        source="reference municipality A, budget 2021: youth about EUR 16M, Wmo about 8M, "
        "participation 0.7M net on 57,000 inhabitants",
        doc="annual budget per inhabitant per law for individual provisions (EUR)",
    )
    contracts: Contracts = param(Contracts, kind="section", section=Contracts, source="")

    # --- identity and serialisation ----------------------------------------------------------

    def to_dict(self) -> dict:
        return {"regime": self.regime, **super().to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping, *, path: str | None = None) -> Policy:
        """Build a policy from a mapping; its ``regime`` key picks the class."""
        data = dict(data)
        regime = data.pop("regime", cls.regime)
        if not isinstance(regime, str):  # e.g. a table: not hashable, never a regime
            raise ParameterError("regime", f"{regime!r} is not one of {', '.join(_REGIMES)}")
        target = _REGIMES.get(regime) if cls in (Policy, *_REGIMES.values()) else cls
        if target is None:
            raise ParameterError("regime", f"{regime!r} is not one of {', '.join(_REGIMES)}")
        return Section.from_dict.__func__(target, data, path=path)

    @classmethod
    def from_toml(cls, source) -> Policy:
        """Read a policy from a TOML file path or text (``regime`` picks the class)."""
        return load_toml(source, cls.from_dict, "policy")

    def to_toml(self, path=None) -> str:
        """Write the policy as TOML (each value with its source as a comment)."""
        lines = [f'regime = "{self.regime}"', *to_toml_lines(self)]
        text = "\n".join(["# vraagvolgend policy", *lines]) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def changes_from(self, other: Policy) -> dict[str, tuple[Any, Any]]:
        """Parameters whose values differ from ``other``: {dotted name: (other's, this one's)}."""
        a, b = _flat(other.to_dict()), _flat(self.to_dict())
        return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}

    # --- the regime's rules (override in a subclass to try another rule) ---------------------

    integrated: ClassVar[bool] = False

    def select_domains(
        self, need: np.ndarray, severity: np.ndarray, in_care: np.ndarray
    ) -> np.ndarray:
        """Which needy domains get a provision now.

        Args:
            need: (domains, households) needs of households that reach help this month.
            severity: (domains, households) severities.
            in_care: (domains, households) domains that already have a running provision.
        """
        return need

    def intensity(self, severity: np.ndarray) -> np.ndarray:
        """Care intensity (1 = the catalogue's standard package) for the given severities."""
        return np.ones_like(severity, dtype=F32)

    def duration(self, standard: np.ndarray) -> np.ndarray:
        """Months until the episode's end or review, before the contract's response."""
        return standard

    def review(self, severity: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """At the end (or review) of an episode: (continue?, new intensity) per episode."""
        raise NotImplementedError

    def conversation_units(self, n_laws: np.ndarray) -> np.ndarray:
        """Access conversations paid per household that reaches help (in units of one)."""
        return n_laws.astype(float)

    def activation(self) -> float:
        """Extra pull on the household's network while it is in care (0 = none)."""
        return 0.0

    def flexible_share(self) -> float:
        """Probability that a new plan uses the flexible budget."""
        return 0.0

    def review_units(self) -> float:
        """Conversation units paid per review."""
        return 0.0


@dataclass(frozen=True)
class SupplyDriven(Policy):
    """Supply-driven (*aanbodgericht*) access: a counter per law and a product per domain.

    Every needy domain of a household that reaches help gets its own catalogue product at the
    standard intensity and duration; one access conversation per law involved. At the end of
    the standard duration the product is renewed (a new episode) while the domain's severity is
    still at least ``renewal_threshold``.

    Example:
        >>> SupplyDriven().with_changes(contract="task", collective_capacity=1.5).contract
        'task'
    """

    regime: ClassVar[str] = "supply-driven"

    name: str = param("supply-driven", kind="str", source=ASSUMED, doc="name of the policy")
    renewal_threshold: float = param(
        0.4,
        kind="float",
        lo=0.0,
        hi=1.0,
        source="assumption: renewal while not fully recovered (ZRM 3 or worse)",
        doc="an ended product is renewed while the domain's severity is at least this",
    )

    def review(self, severity, threshold):
        return severity >= F32(self.renewal_threshold), np.ones_like(severity, dtype=F32)


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
    integrated: ClassVar[bool] = True

    name: str = param("demand-driven", kind="str", source=ASSUMED, doc="name of the policy")
    max_parallel: int = param(
        2,
        kind="int",
        lo=1,
        hi=7,
        source=ASSUMED,
        doc="domains a plan treats at the same time",
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
    )
    reference_severity: float = param(
        0.7,
        kind="float",
        lo=0.05,
        hi=1.0,
        source=ASSUMED,
        doc="severity at which the package is the catalogue's standard intensity",
    )
    min_intensity: float = param(
        0.3, kind="float", lo=0.0, hi=1.0, source=ASSUMED, doc="smallest package intensity"
    )
    review_months: int = param(
        3, kind="int", lo=1, hi=60, source=ASSUMED, doc="months between plan reviews"
    )
    network_activation: float = param(
        0.5,
        kind="float",
        lo=0.0,
        hi=5.0,
        source="assumption: network activation first (design.md); its strain is modelled",
        doc="extra pull on the household's network while in a plan",
    )
    flexible_budget: float = param(
        0.15,
        kind="float",
        lo=0.0,
        hi=1.0,
        source=ASSUMED,
        doc="probability that a new plan includes a flexible-budget solution",
    )
    conversation_factor: float = param(
        3.0,
        kind="float",
        lo=0.0,
        hi=20.0,
        source="assumption: the integrated conversation takes about three times as long",
        doc="one integrated conversation costs this many single conversations",
    )
    review_factor: float = param(
        0.5,
        kind="float",
        lo=0.0,
        hi=20.0,
        source=ASSUMED,
        doc="one review costs this many single conversations",
    )

    def _check(self) -> None:
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
        return np.clip(sized, F32(self.min_intensity), F32(1.5)).astype(F32)

    def duration(self, standard):
        return np.full_like(standard, self.review_months)

    def review(self, severity, threshold):
        return severity >= F32(threshold), self.intensity(severity)

    def conversation_units(self, n_laws):
        return np.where(n_laws > 0, self.conversation_factor, 0.0)

    def activation(self):
        return self.network_activation

    def flexible_share(self):
        return self.flexible_budget

    def review_units(self):
        return self.review_factor


_REGIMES: dict[str, type[Policy]] = {"supply-driven": SupplyDriven, "demand-driven": DemandDriven}


@dataclass(frozen=True)
class PolicySwitch:
    """A municipality that switches policy at a given month, with a ramp-up.

    Up to and including ``at_month`` every decision follows ``before``. Over the next
    ``ramp_months`` a growing share of new access decisions (and reviews) follows ``after``;
    contract, levers and budget rule of ``after`` apply from the month after the switch.
    Households already in care keep their running provision until its review.

    Example:
        >>> s = PolicySwitch(SupplyDriven(), DemandDriven(), at_month=24, ramp_months=12)
        >>> s.share_new(24), s.share_new(30), s.share_new(36)
        (0.0, 0.5, 1.0)
    """

    before: Policy
    after: Policy
    at_month: int
    ramp_months: int = 12
    name: str = ""

    def __post_init__(self):
        for label in ("before", "after"):
            if not isinstance(getattr(self, label), Policy):
                raise ParameterError(label, "must be a Policy")
        if not isinstance(self.at_month, int) or self.at_month < 0:
            raise ParameterError("at_month", f"{self.at_month!r} must be an int ≥ 0")
        if not isinstance(self.ramp_months, int) or self.ramp_months < 0:
            raise ParameterError("ramp_months", f"{self.ramp_months!r} must be an int ≥ 0")
        if not self.name:
            name = f"{self.before.name} → {self.after.name} at month {self.at_month}"
            object.__setattr__(self, "name", name)

    def share_new(self, month: int) -> float:
        """Share of decisions in ``month`` that follow ``after``."""
        if month <= self.at_month:
            return 0.0
        if self.ramp_months == 0:
            return 1.0
        return min(1.0, (month - self.at_month) / self.ramp_months)

    def policy_at(self, month: int) -> Policy:
        """The policy whose contract, levers and budget rule apply in ``month``."""
        return self.before if month <= self.at_month else self.after

    def to_dict(self) -> dict:
        return {
            "switch": {
                "at_month": self.at_month,
                "ramp_months": self.ramp_months,
                "name": self.name,
            },
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
        }


def resolve_policy(policy: Any) -> Policy | PolicySwitch | None:
    """Turn ``None``, a name (``"supply-driven"``, ``"demand-driven"``) or a policy into one."""
    if policy is None or isinstance(policy, Policy | PolicySwitch):
        return policy
    if isinstance(policy, str):
        if policy in _REGIMES:
            return _REGIMES[policy]()
        raise ParameterError("policy", f"{policy!r} is not a known policy: {', '.join(_REGIMES)}")
    raise ParameterError("policy", f"{policy!r} is not a Policy, a PolicySwitch or a name")


def _flat(data: Mapping, prefix: str = "") -> dict[str, Any]:
    out = {}
    for k, v in data.items():
        key = f"{prefix}.{k}" if prefix else k
        if isinstance(v, Mapping):
            out.update(_flat(v, key))
        else:
            out[key] = v
    return out
