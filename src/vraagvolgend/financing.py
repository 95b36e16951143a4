"""Financing regimes as policies: supply-driven vs demand-driven access, contracts, levers, budget.

A policy is an immutable, named, serialisable object. It combines

1. an **access regime** — :class:`SupplyDriven` (*aanbodgericht*: one counter per law, one
   catalogue product per problem domain at standard intensity, reviewed at the end of its
   indication, the network not systematically used) or :class:`DemandDriven` (*vraagvolgend*:
   one integrated plan per household, root causes first, package sized to need, a flexible
   budget for non-catalogue solutions, network activation, reviews every three months, extra
   conversation time paid for). Both run every episode through **one lifecycle** declared on
   :class:`Policy` (start, review, end once the goal is reached, renew or prolong), each with its
   own parameters: nothing lets one regime do to an episode what the other cannot;
2. a **contract type** for individual provisions — ``"effort"`` (*inspanningsgericht*: price ×
   hours), ``"output"`` (*outputgericht*: price per trajectory) or ``"task"`` (*taakgericht*:
   lump sum for a contracted capacity), or a registered one of your own
   (:mod:`vraagvolgend.contracts`); each with its documented response, relative to observed
   (mostly effort-based) practice (:class:`Contracts`);
3. **investment levers** — collective capacity, practice support for youth at the GP
   (*POH-jeugd*), a network programme, outreach;
4. a **budget rule** — what the municipality does when individual costs overrun its budget
   (:mod:`vraagvolgend.budget`; the budget itself is the municipality's, in the scenario).

A variant is a declared change on a baseline, validated like the baseline::

    SupplyDriven().with_changes(contract="task", collective_capacity=1.5)

Users subclass a regime and override its rule methods (:meth:`Policy.select_domains`,
:meth:`Policy.intensity`, :meth:`Policy.review`) to try their own rule.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .budget import BUDGET_RULES
from .contracts import CONTRACTS, Contracts
from .parameters import (
    ParameterError,
    Section,
    load_toml,
    merge_partial,
    param,
    to_toml_lines,
)

__all__ = [
    "ALIASES",
    "BUDGET_RULES",
    "CONTRACTS",
    "REGIMES",
    "Contracts",
    "DemandDriven",
    "Policy",
    "PolicySwitch",
    "SupplyDriven",
    "assumptions_markdown",
    "assumptions_table",
    "load_policy",
    "resolve_policy",
]

CONTINUATIONS = ("renew", "prolong")
#: Registered regimes by name (every subclass of :class:`Policy` registers itself).
REGIMES: dict[str, type] = {}
#: Dutch names accepted wherever a regime or policy is named (Python, the command line, policy
#: and experiment files): *aanbodgericht* is supply-driven, *vraagvolgend* demand-driven.
ALIASES: dict[str, str] = {"aanbodgericht": "supply-driven", "vraagvolgend": "demand-driven"}


def _not_one_of(field: str, value, known, what: str) -> ParameterError:
    close = difflib.get_close_matches(str(value).replace("_", "-"), list(known), n=1)
    close = close or difflib.get_close_matches(str(value), list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ParameterError(field, f"{value!r} is not {what}: one of {', '.join(known)}{hint}")


def _regime_class(regime) -> type:
    regime = ALIASES.get(regime, regime) if isinstance(regime, str) else regime
    if not isinstance(regime, str) or regime not in REGIMES or regime == "policy":
        known = [r for r in REGIMES if r != "policy"]
        raise _not_one_of("regime", regime, known, "a known regime")
    return REGIMES[regime]


ASSUMED = "assumption"
F32 = np.float32


@dataclass(frozen=True)
class Policy(Section):
    """Base of the financing regimes: contract, levers and budget rule shared by both.

    Do not use directly: take :class:`SupplyDriven` or :class:`DemandDriven`, or subclass one.
    """

    regime: ClassVar[str] = "policy"

    name: str = param("policy", kind="str", source=ASSUMED, doc="name of the policy")
    contract: str = param(
        "effort",
        kind="str",
        source="effort-based (price × hours) is the most common contract (VNG)",
        doc="contract type for individual provisions (effort, output, task, or a registered "
        "contract of your own)",
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
        plausible=(10.0, 50.0),
        plausible_why="assumption: community work spread over all households",
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
        plausible=(100.0, 500.0),
        plausible_why="assumption: one to a few hours of a professional per household found",
    )
    budget_rule: str = param(
        "cut_collective",
        kind="str",
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
    contracts: Contracts = param(
        Contracts, kind="section", section=Contracts, source="", group="contract response"
    )

    # The episode lifecycle: the same rules in every regime, each with its own parameters.
    review_months: int = param(
        0,
        kind="int",
        lo=0,
        hi=120,
        source="supply-driven: an indication (beschikking) runs for the provision's typical "
        "duration and is then renewed or not",
        doc="months between reviews of an episode (0: at the end of the provision's typical "
        "duration, the length of an indication)",
        group="lifecycle",
        plausible=(0, 36),
        plausible_why="assumption: the indication's typical length (0) up to a fixed 3 years; "
        "indications of 12-60 months occur (Rb Rotterdam 2018:4051), 70-85% of local-team youth "
        "trajectories close within a year (Van der Zwaan 2020)",
    )
    exit_threshold: float = param(
        0.4,
        kind="float",
        lo=0.0,
        hi=1.0,
        source="the problem threshold: ZRM 3 or worse is a problem (domains.py)",
        doc="an episode's goal is reached when its domain's severity is below this",
        group="lifecycle",
        plausible=(0.3, 0.5),
        plausible_why="assumption: the ZRM-3 boundary give or take half a ZRM level",
    )
    end_on_goal: bool = param(
        True,
        kind="bool",
        source="providers end care whose goal is reached; the catalogue's durations are typical "
        "lengths, not floors (CBS 85096NED: 33% of youth-care trajectories end within 6 months)",
        doc="episodes end once their goal is reached (after exit_lag_months), not only at a review",
        group="lifecycle",
    )
    exit_lag_months: int = param(
        1,
        kind="int",
        lo=0,
        hi=24,
        source="assumption, the same in both regimes: a closing conversation the month after "
        "the goal is reached; trajectory lengths checked against CBS 85096NED",
        doc="months the goal must hold before an episode ends, whether the end is found "
        "between reviews (end_on_goal) or at a review",
        group="lifecycle",
        plausible=(0, 3),
        plausible_why="assumption: from closing at once to a quarter of follow-up",
    )
    chronic_review_months: int = param(
        0,
        kind="int",
        lo=0,
        hi=120,
        source="assumption, the same in both regimes: a chronic need (household help of the "
        "oldest) is reassessed when its indication runs out, whatever the plan's own review "
        "rhythm; indications of up to 5 years occur (Rb Rotterdam 2018:4051)",
        doc="months between reviews of an episode for a chronic need, the only moments it can "
        "end (0: the provision's typical duration)",
        group="lifecycle",
        plausible=(0, 60),
        plausible_why="0 is the indication's typical length (24 months for household help); "
        "indications for chronic household help run 12-60 months (Rb Rotterdam 2018:4051)",
    )
    continuation: str = param(
        "renew",
        kind="choice",
        keys=CONTINUATIONS,
        source="supply-driven: a new indication for the same product",
        doc="at a review that does not end it, an episode is renewed (a new episode) or "
        "prolonged (the same episode, resized)",
        group="lifecycle",
        plausible=("renew", "prolong"),
        plausible_why="both occur: a new indication per period (beschikking) or one plan resized",
    )
    review_factor: float = param(
        0.75,
        kind="float",
        lo=0.0,
        hi=20.0,
        source="a re-assessment (herindicatie) is a full conversation with a written report: "
        "0.5–1.0 conversation (Rb Gelderland 2018:106); the middle of that range",
        doc="one review, renewal or re-indication (escalation) of a household's episodes costs "
        "this many access conversations",
        group="conversations",
        plausible=(0.5, 1.0),
        plausible_why="a re-assessment is a full conversation with a written report: 0.5-1.0 "
        "conversation (Rb Gelderland 2018:106)",
    )
    # What a plan does besides provisions (zero: the regime does not do it)
    network_activation: float = param(
        0.0,
        kind="float",
        lo=0.0,
        hi=5.0,
        source="supply-driven: the network is not systematically used (design.md)",
        doc="extra pull on the household's network while it has an episode",
        group="network activation",
        plausible=(0.0, 0.25),
        plausible_why="assumption: the network is not systematically used, though some "
        "professionals do involve it",
    )
    flexible_budget: float = param(
        0.0,
        kind="float",
        lo=0.0,
        hi=1.0,
        source="supply-driven: catalogue products only",
        doc="probability that a new plan includes a one-off flexible-budget solution",
        group="flexible budget",
        plausible=(0.0, 0.05),
        plausible_why="assumption: custom solutions outside the catalogue are rare under "
        "supply-driven practice",
    )
    plan_stacking_relief: float = param(
        0.0,
        kind="float",
        lo=0.0,
        hi=1.0,
        source="supply-driven: one product per domain, problems addressed separately",
        doc="while a household is in care, the stacking penalty on its recovery and "
        "escalation is reduced by this fraction (problems addressed together)",
        group="integrated plan",
        plausible=(0.0, 0.05),
        plausible_why="assumption: products per domain; some coordination between counters; "
        "integrated teams did not reduce specialised care (CPB 2019, 2020)",
    )

    def __init_subclass__(cls, **kwargs):
        # Every regime registers under its name, so that a policy file (or a comparison
        # folder) naming it comes back as the same class. A subclass that does not name
        # itself registers under its class name.
        super().__init_subclass__(**kwargs)
        if "regime" not in cls.__dict__:
            cls.regime = cls.__qualname__
        REGIMES[cls.regime] = cls

    def _check(self) -> None:
        if self.contract not in CONTRACTS:
            raise _not_one_of("contract", self.contract, CONTRACTS, "a contract")
        contract = CONTRACTS[self.contract](self.contracts)
        if contract.lump_sum and not np.isfinite(contract.capacity(np.ones(1))).all():
            # A lump sum pays for a contracted capacity: without a finite one it would bill 0.
            raise ParameterError(
                "contract",
                f"{self.contract!r} is paid as a lump sum but contracts no finite capacity: "
                "its capacity() must return finite places",
            )
        if self.budget_rule not in BUDGET_RULES:
            raise _not_one_of("budget_rule", self.budget_rule, BUDGET_RULES, "a budget rule")

    # --- identity and serialisation ----------------------------------------------------------

    def to_dict(self) -> dict:
        return {"regime": self.regime, **super().to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping, *, path: str | None = None) -> Policy:
        """Build a policy from a complete mapping; its ``regime`` key picks the class."""
        data = dict(data)
        regime = data.pop("regime", cls.regime)
        target = _regime_class(regime) if cls in (Policy, *REGIMES.values()) else cls
        return Section.from_dict.__func__(target, data, path=path)

    @classmethod
    def from_partial_dict(cls, data: Mapping) -> Policy:
        """Build a policy from a mapping that overrides some of its regime's defaults.

        Tables merge into the regime's default at every depth (the same rule as scenarios), so
        a file with ``[contracts]`` holding only ``task_capacity = 2`` keeps the other
        response strengths.
        """
        if not isinstance(data, Mapping):
            raise ParameterError("policy", f"{data!r} is not a table")
        regime = data.get("regime", cls.regime if cls is not Policy else "supply-driven")
        target = _regime_class(regime)
        base = target().to_dict()
        return target.from_dict(merge_partial(target, base, data))

    @classmethod
    def from_toml(cls, source) -> Policy:
        """Read a policy from a TOML file path or text (``regime`` picks the class); keys left
        out keep the regime's defaults. A file with a ``[switch]`` table gives a
        :class:`PolicySwitch`."""
        return load_toml(source, load_policy, "policy")

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
        """Months until an episode's first (or next) review, before the contract's response.

        Args:
            standard: The provision's typical duration per episode.
        """
        if self.review_months == 0:
            return standard
        return np.full_like(standard, self.review_months)

    def chronic_duration(self, standard: np.ndarray) -> np.ndarray:
        """Months until the next review of an episode for a chronic need.

        Args:
            standard: The provision's typical duration per episode.
        """
        if self.chronic_review_months == 0:
            return standard
        return np.full_like(standard, self.chronic_review_months)

    def review(self, severity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """At a review: (continue?, new intensity) per episode.

        An episode continues while its goal is not reached (severity at least
        ``exit_threshold``), at the intensity the regime sizes for its severity. One whose goal
        is reached ends only once the goal has held for ``exit_lag_months`` (the same exit rule
        as between reviews; :mod:`vraagvolgend.reviews`).
        """
        return severity >= F32(self.exit_threshold), self.intensity(severity)

    def conversation_units(self, n_laws: np.ndarray) -> np.ndarray:
        """Access conversations paid per household that reaches help (in units of one)."""
        return n_laws.astype(float)

    def activation(self) -> float:
        """Extra pull on the household's network while it is in care (0 = none)."""
        return self.network_activation

    def flexible_share(self) -> float:
        """Probability that a new plan uses the flexible budget."""
        return self.flexible_budget

    def review_units(self) -> float:
        """Conversation units paid per review."""
        return self.review_factor


def load_policy(data: Mapping) -> Policy | PolicySwitch:
    """A policy (or a switch, when ``data`` has a ``switch`` table) from a partial mapping."""
    if isinstance(data, Mapping) and "switch" in data:
        return PolicySwitch.from_dict(data)
    return Policy.from_partial_dict(data)


def resolve_policy(policy: Any) -> Policy | PolicySwitch | None:
    """Turn ``None``, a name (``"supply-driven"``, ``"demand-driven"``, or the Dutch
    ``"aanbodgericht"``, ``"vraagvolgend"``) or a policy into one.

    Example:
        >>> resolve_policy("vraagvolgend").name
        'demand-driven'
    """
    if policy is None or isinstance(policy, Policy | PolicySwitch):
        return policy
    if isinstance(policy, str):
        policy = ALIASES.get(policy.strip().lower(), policy)
        if policy in REGIMES and policy != "policy":
            return REGIMES[policy]()
        known = [r for r in REGIMES if r != "policy"]
        raise _not_one_of("policy", policy, known, "a known policy")
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


# Defined in modules of their own; importable from here as before (the regimes register
# themselves when imported).
from .assumptions import assumptions_markdown, assumptions_table  # noqa: E402
from .regimes import DemandDriven, SupplyDriven  # noqa: E402
from .switch import PolicySwitch  # noqa: E402
