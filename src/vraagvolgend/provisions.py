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
    ('jeugdwet', 1160.0)
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files

import numpy as np

from .domains import DOMAINS
from .parameters import ParameterError, Section, param
from .vocabulary import ALL_CHANNELS, CHANNELS, INDIVIDUAL_LAWS, LAWS

__all__ = ["BILLING", "INDIVIDUAL_LAWS", "LAWS", "TIERS", "Catalogue", "Provision", "Routing"]

TIERS = ("light", "heavy")
BILLING = ("service", "entitlement", "one_off")
_CHANNELS = (*CHANNELS, "outreach")

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
    serves: tuple[str, ...] = param(
        [], kind="strs", keys=DOMAINS, source=_SEE_ENTRY, doc="domains the gatekeeper offers it for"
    )
    tier: str = param(
        "heavy",
        kind="choice",
        keys=TIERS,
        source=_SEE_ENTRY,
        doc="light (needs below access.collective_limit, not referred on) or heavy",
    )
    priority: int = param(
        0,
        kind="int",
        lo=0,
        hi=100,
        source=_SEE_ENTRY,
        doc="0: the default offer of its tier for its domains; higher: replaces lower offers "
        "where its conditions hold",
    )
    need_window: tuple[float, ...] = param(
        [0.0, 1.0],
        kind="floats",
        lo=0.0,
        hi=1.0,
        source=_SEE_ENTRY,
        doc="[lowest, highest] severity of the served domain at which it is offered",
    )
    channels: tuple[str, ...] = param(
        [],
        kind="strs",
        keys=_CHANNELS,
        source=_SEE_ENTRY,
        doc="offered only to households arriving through these channels (empty: any)",
    )
    lever: str = param(
        "none",
        kind="str",
        source=_SEE_ENTRY,
        doc="name of a policy lever (true/false) that must be on for it to be offered",
    )
    also_needs: Mapping[str, float] = param(
        {},
        kind="map",
        keys=DOMAINS,
        lo=0.0,
        hi=1.0,
        source=_SEE_ENTRY,
        doc="offered only when these other domains are at least at these severities",
    )
    escalates_to: str = param(
        "none",
        kind="str",
        source=_SEE_ENTRY,
        doc="provision a running episode moves to when the domain reaches its need_window",
    )
    billing: str = param(
        "service",
        kind="choice",
        keys=BILLING,
        source=_SEE_ENTRY,
        doc="service (per client-month or lump sum), entitlement (social assistance) or "
        "one_off (flexible-budget solution)",
    )
    max_income_quintile: int = param(
        5,
        kind="int",
        lo=1,
        hi=5,
        source=_SEE_ENTRY,
        doc="entitlement: highest income quintile that qualifies",
    )
    per_young_person: bool = param(
        False,
        kind="bool",
        source=_SEE_ENTRY,
        doc="the price is per young person: an episode bills cost_month for each child of the "
        "household (the youth-care share counts a household's children as its young people in "
        "care, so cost and count agree)",
    )
    cost_range: tuple[float, ...] = param(
        [],
        kind="floats",
        lo=0.0,
        hi=1e6,
        source="-",
        doc="plausible lowest and highest cost_month (EUR), reasoned in the entry's source (not "
        "a validation bound); empty: not declared",
    )
    source: str = param("assumption", kind="str", source="-", doc="source of this entry's values")
    new: bool = param(
        False,
        kind="bool",
        source="-",
        doc="true for an entry a user adds (a name without it must exist in the default)",
    )

    def assumptions(self, prefix: str | None = None) -> list[dict]:
        rows = super().assumptions(prefix)
        if self.cost_range:
            rows.append(
                {
                    "parameter": f"{prefix}.cost_month",
                    "value": self.cost_month,
                    "plausible": tuple(self.cost_range),
                    "why": self.source,
                    "source": self.source,
                    "meaning": "cost per client-month at standard intensity (EUR)",
                }
            )
        return rows

    def _check(self) -> None:
        if len(self.cost_range) not in (0, 2) or (
            self.cost_range and self.cost_range[0] > self.cost_range[1]
        ):
            raise ParameterError(
                f"{self._path}.cost_range", f"{list(self.cost_range)} must be [] or [low, high]"
            )
        w = self.need_window
        if len(w) != 2 or w[0] > w[1]:
            raise ParameterError(
                f"{self._path}.need_window", f"{list(self.need_window)} must be [lowest, highest]"
            )


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
        for name in seen:
            p = self[name]
            where = f"provisions.{seen[name]}.{name}"
            if p.escalates_to != "none" and p.escalates_to not in seen:
                raise _unknown_name(f"{where}.escalates_to", p.escalates_to, seen)
        one_off = [n for n in seen if self[n].billing == "one_off"]
        if len(one_off) > 1:
            raise ParameterError(
                f"provisions.{one_off[1]}.billing", "only one one_off (flexible-budget) provision"
            )
        for tier in TIERS:
            for d in DOMAINS:
                default = [
                    n
                    for n in seen
                    if self[n].billing == "service"
                    and self[n].priority == 0
                    and self[n].tier == tier
                    and d in self[n].serves
                ]
                if len(default) != 1:
                    found = ", ".join(default) or "none"
                    raise ParameterError(
                        "provisions",
                        f"domain {d!r} needs exactly one {tier} provision with priority 0 that "
                        f"serves it (found: {found})",
                    )

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
            "per_young_person": np.array([p.per_young_person for p in items], dtype=bool),
            "duration": np.array([p.duration_months for p in items], dtype=np.int16),
            "capacity_per_1000": np.array([p.capacity_per_1000 for p in items]),
            "volunteer_share": np.array([p.volunteer_share for p in items]),
        }

    def routing(self) -> Routing:
        """The catalogue's routing rules as arrays (see :class:`Routing`)."""
        return Routing(self)


def _unknown_name(path: str, name: str, known) -> ParameterError:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
    return ParameterError(path, f"no provision named {name!r}; {hint}")


class Routing:
    """Which provision the gatekeeper offers for a need, read from the catalogue.

    Attributes:
        light, heavy: Per domain, the code of the default provision of that tier.
        overrides: Provisions with a priority above 0, lowest priority first: (code, tier,
            served domain codes, window (lo, hi) as float32, per channel code of
            :data:`~vraagvolgend.vocabulary.ALL_CHANNELS` whether it may offer it (or None:
            every channel), lever or None, also_needs as [(domain code, float32 severity)]).
        escalates_to, escalation_severity: Per provision, the code it escalates to (−1: none)
            and the severity (float32) from which it does (the target's need_window low end).
        serves: (provisions, domains): which domains each provision serves.
        entitlements: Codes of entitlement provisions (social assistance).
        one_off: Code of the flexible-budget provision, or −1.
        billed_individually: Per provision: billed per episode (individual service).
    """

    def __init__(self, catalogue: Catalogue):
        names = catalogue.names
        code = {n: i for i, n in enumerate(names)}
        items = [catalogue[n] for n in names]
        law = [catalogue.law_of(n) for n in names]
        d = len(DOMAINS)
        self.light = np.full(d, -1, dtype=np.int16)
        self.heavy = np.full(d, -1, dtype=np.int16)
        overrides = []
        for i, p in enumerate(items):
            if p.billing != "service":
                continue
            doms = [DOMAINS.index(x) for x in p.serves]
            if p.priority == 0:
                (self.light if p.tier == "light" else self.heavy)[doms] = i
            else:
                # A lookup table per channel code, read every month (np.isin costs more)
                channels = np.isin(ALL_CHANNELS, p.channels) if p.channels else None
                lever = None if p.lever == "none" else p.lever
                also = [(DOMAINS.index(k), np.float32(v)) for k, v in p.also_needs.items()]
                window = (np.float32(p.need_window[0]), np.float32(p.need_window[1]))
                overrides.append((p.priority, i, p.tier, doms, window, channels, lever, also))
        overrides.sort(key=lambda o: o[0])  # stable: catalogue order within a priority
        self.overrides = [o[1:] for o in overrides]
        self.levers = sorted({o[5] for o in self.overrides if o[5] is not None})
        self.escalates_to = np.array(
            [code[p.escalates_to] if p.escalates_to != "none" else -1 for p in items],
            dtype=np.int16,
        )
        self.escalation_severity = np.array(
            [
                catalogue[p.escalates_to].need_window[0] if p.escalates_to != "none" else 2.0
                for p in items
            ],
            dtype=np.float32,
        )
        self.serves = np.array([[x in p.serves for x in DOMAINS] for p in items], dtype=bool)
        self.entitlements = [i for i, p in enumerate(items) if p.billing == "entitlement"]
        one_off = [i for i, p in enumerate(items) if p.billing == "one_off"]
        self.one_off = one_off[0] if one_off else -1
        self.billed_individually = np.array(
            [law[i] != "collective" and p.billing == "service" for i, p in enumerate(items)]
        )
