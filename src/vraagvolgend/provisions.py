"""The provision catalogue: collective and individual provisions, their cost and effect.

The default catalogue lives in ``data/provisions.toml`` with a source per entry. Provisions are
grouped by law: ``collective`` (preventive, *voorliggend*: funded as a budget with a capacity),
``jeugdwet`` (Youth Act), ``wmo`` (Social Support Act 2015) and ``participatiewet``
(Participation Act). A user overrides entries with :meth:`Catalogue.with_changes` or a TOML file
of the same shape.

Example:
    >>> from vraagvolgend.provisions import Catalogue
    >>> c = Catalogue.default()
    >>> c.law_of("youth_ambulant"), c["youth_ambulant"].cost_month
    ('jeugdwet', 667.0)
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files

import numpy as np

from .domains import DOMAINS
from .parameters import ParameterError, Section, param

__all__ = ["INDIVIDUAL_LAWS", "LAWS", "Catalogue", "Provision"]

LAWS: tuple[str, ...] = ("collective", "jeugdwet", "wmo", "participatiewet")
INDIVIDUAL_LAWS: tuple[str, ...] = ("jeugdwet", "wmo", "participatiewet")
#: Provisions the care engine refers to by name, so a catalogue must keep them.
REQUIRED = (
    "social_work",
    "debt_help",
    "community_activities",
    "practice_support_youth",
    "school_social_work",
    "youth_ambulant",
    "youth_residential",
    "household_help",
    "individual_support",
    "day_activities",
    "sheltered_housing",
    "flexible_budget",
    "reintegration",
    "benefit",
)

_DEFAULT = tomllib.loads(files("vraagvolgend.data").joinpath("provisions.toml").read_text("utf-8"))
_SEE_ENTRY = "see the entry's source"


@dataclass(frozen=True)
class Provision(Section):
    """One provision: what it costs, how long it lasts, what it does."""

    _path = "provisions"

    description: str = param("provision", kind="str", source=_SEE_ENTRY, doc="what it is")
    domains: Mapping[str, float] = param(
        {},
        kind="map",
        keys=DOMAINS,
        lo=0.0,
        hi=1.0,
        source=_SEE_ENTRY,
        doc="extra monthly recovery probability of an active problem per domain, at intensity 1",
    )
    escalation_mitigation: float = param(
        0.5,
        kind="float",
        lo=0.0,
        hi=1.0,
        source=_SEE_ENTRY,
        doc="escalation of the treated domain × (1 − mitigation × intensity)",
    )
    cost_month: float = param(
        100.0,
        kind="float",
        lo=0.0,
        hi=1e6,
        source=_SEE_ENTRY,
        doc="cost per client-month at standard intensity (EUR)",
    )
    duration_months: int = param(
        6, kind="int", lo=1, hi=600, source=_SEE_ENTRY, doc="standard (typical) duration in months"
    )
    capacity_per_1000: float = param(
        10.0,
        kind="float",
        lo=0.0,
        hi=1000.0,
        source=_SEE_ENTRY,
        doc="concurrent clients per 1,000 households (collective; individual under task contracts)",
    )
    volunteer_share: float = param(
        0.0,
        kind="float",
        lo=0.0,
        hi=1.0,
        source=_SEE_ENTRY,
        doc="share of the capacity staffed by volunteers (unpaid; shrinks when volunteers are "
        "overloaded)",
    )
    source: str = param("assumption", kind="str", source="-", doc="source of this entry's values")


def _named(law: str):
    return param(
        _DEFAULT.get(law, {}),
        kind="named",
        section=Provision,
        source="data/provisions.toml",
        doc=f"{law} provisions",
    )


@dataclass(frozen=True)
class Catalogue(Section):
    """All provisions, by law. Index by name: ``catalogue["debt_help"]``."""

    _path = "provisions"

    collective: Mapping[str, Provision] = _named("collective")
    jeugdwet: Mapping[str, Provision] = _named("jeugdwet")
    wmo: Mapping[str, Provision] = _named("wmo")
    participatiewet: Mapping[str, Provision] = _named("participatiewet")

    def _check(self) -> None:
        seen: dict[str, str] = {}
        for law in LAWS:
            for name in getattr(self, law):
                if name in seen:
                    raise ParameterError(
                        f"provisions.{law}.{name}", f"the name is also used under {seen[name]}"
                    )
                seen[name] = law
        for name in REQUIRED:
            if name not in seen:
                raise ParameterError(f"provisions.{name}", "is missing: the model refers to it")

    @classmethod
    def default(cls) -> Catalogue:
        """The embedded default catalogue (``data/provisions.toml``)."""
        return cls()

    @property
    def names(self) -> tuple[str, ...]:
        """All provision names, collective first, in a fixed order (the provision codes)."""
        return tuple(name for law in LAWS for name in getattr(self, law))

    def __getitem__(self, name: str) -> Provision:
        for law in LAWS:
            if name in getattr(self, law):
                return getattr(self, law)[name]
        raise KeyError(f"no provision named {name!r}; known: {', '.join(self.names)}")

    def law_of(self, name: str) -> str:
        """The law a provision falls under."""
        for law in LAWS:
            if name in getattr(self, law):
                return law
        raise KeyError(f"no provision named {name!r}; known: {', '.join(self.names)}")

    def arrays(self) -> dict[str, np.ndarray]:
        """Per-provision arrays in :attr:`names` order, for the vectorised care engine."""
        names = self.names
        items = [self[n] for n in names]
        return {
            "law": np.array([LAWS.index(self.law_of(n)) for n in names], dtype=np.int8),
            "effect": np.array(
                [[p.domains.get(d, 0.0) for d in DOMAINS] for p in items], np.float32
            ),
            "mitigation": np.array([p.escalation_mitigation for p in items], dtype=np.float32),
            "cost_month": np.array([p.cost_month for p in items], dtype=np.float64),
            "duration": np.array([p.duration_months for p in items], dtype=np.int16),
            "capacity_per_1000": np.array([p.capacity_per_1000 for p in items]),
            "volunteer_share": np.array([p.volunteer_share for p in items]),
        }
