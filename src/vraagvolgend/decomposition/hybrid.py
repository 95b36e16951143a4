"""Hybrid policies: the policy of a coalition, with each mechanism from its own side."""

from __future__ import annotations

import json
import types
from collections.abc import Iterable
from dataclasses import field as dc_field
from dataclasses import fields, make_dataclass
from typing import Any

from ..financing import REGIMES, Policy
from ..parameters import ParameterError
from .mechanisms import (
    COSMETIC,
    REGIME,
    RULE_MECHANISMS,
    _field_names,
    _library_class,
    _rule_names,
    _same,
    _static,
    _user_members,
    mechanism_of,
)


class _Parts:
    """The units that differ between two policies (each switched as a whole), and how to
    build the policy of any set of switched units."""

    def __init__(self, baseline: Policy, alternative: Policy, split: Iterable[str] = ()):
        self.a, self.b = baseline, alternative
        ta, tb = type(baseline), type(alternative)
        self.lib = (_library_class(ta), _library_class(tb))
        self.user = (_user_members(ta), _user_members(tb))
        rules = _rule_names(*self.lib)
        self.rules = rules
        self.split = tuple(sorted(set(split)))
        unknown = [m for m in self.split if m not in rules]
        if unknown:
            raise ParameterError(
                "groups", f"rule:{unknown[0]} is not a rule; rules: {', '.join(sorted(rules))}"
            )
        fa, fb = _field_names(ta), _field_names(tb)
        self.fields = {n for n in fa & fb if n not in COSMETIC}
        self.units: dict[str, str] = {}  # unit → description
        differing = sorted(
            m for m in rules if not _same(_static(self.lib[0], m), _static(self.lib[1], m))
        )
        # The regime is a unit while some rule in which the classes differ is not switched on
        # its own; what else differs between the classes (their name, their validation) does
        # not change a run.
        if any(m not in self.split for m in differing):
            names = [m for m in differing if m not in self.split]
            self.units["regime"] = (
                f"{self.lib[0].__name__} → {self.lib[1].__name__} ({', '.join(names)})"
            )
        for m in self.split:
            if m in differing:
                self.units[f"rule:{m}"] = f"{_owner(self.lib[0], m, None)} → " + _owner(
                    self.lib[1], m, None
                )
        for m in sorted(rules & (set(self.user[0]) | set(self.user[1]))):
            ua, ub = self.user[0].get(m), self.user[1].get(m)
            if not _same(ua, ub):
                self.units[f"override:{m}"] = f"{_owner(ta, m, ua)} → {_owner(tb, m, ub)}"
        changes = alternative.changes_from(baseline)
        for n in sorted(self.fields):
            if not _same(getattr(baseline, n), getattr(alternative, n)):
                detail = [
                    f"{k}: {_short(x)} → {_short(y)}"
                    for k, (x, y) in changes.items()
                    if k == n or k.startswith(n + ".")
                ]
                self.units[f"field:{n}"] = "; ".join(detail) or n

    def selectors(self) -> set[str]:
        """Every name a ``groups`` selector may use (differing or not)."""
        overrides = self.rules & (set(self.user[0]) | set(self.user[1]))
        return (
            {"regime"}
            | {f"field:{n}" for n in self.fields}
            | {f"rule:{m}" for m in self.rules}
            | {f"override:{m}" for m in overrides}
        )

    def default_mechanism(self, unit: str) -> str:
        kind, _, name = unit.partition(":")
        if kind == "regime":
            return REGIME
        if kind == "override":
            return f"override: {name}"
        if kind == "rule":
            return RULE_MECHANISMS.get(name, f"rule: {name}")
        return mechanism_of(type(self.b), name)

    def build(self, switched: frozenset[str]) -> Policy:
        """The policy in which the ``switched`` units take the alternative's setting."""
        switched = frozenset(switched) & set(self.units)
        if not switched:
            return self.a
        if switched == set(self.units):
            return self.b
        side = 1 if "regime" in switched else 0
        base = self.lib[side]
        namespace: dict[str, Any] = {}
        for m in self.split:  # library rules switched on their own
            chosen = 1 if f"rule:{m}" in switched else 0
            if chosen != side:
                namespace[m] = _static(self.lib[chosen], m)
        # The users' own helpers (members that override nothing) come along from both sides.
        for members in self.user:
            namespace.update({n: v for n, v in members.items() if n not in self.rules})
        for m in self.rules & (set(self.user[0]) | set(self.user[1])):
            chosen = 1 if f"override:{m}" in switched else 0
            value = self.user[chosen].get(m)
            if value is not None:
                namespace[m] = value
        # Fields: the regime class's, plus those only the other side's class declares.
        own = _field_names(base)
        values = {}
        extra = []
        for policy in (self.a, self.b):
            for f in fields(policy):
                if f.name not in own and f.name not in {e[0] for e in extra}:
                    extra.append((f.name, f.type, dc_field(default=None, metadata=f.metadata)))
        for n in own | {e[0] for e in extra}:
            if n in self.fields:
                source = self.b if f"field:{n}" in switched else self.a
            else:
                source = self.a if n in _field_names(type(self.a)) else self.b
            values[n] = getattr(source, n)
        values["name"] = "hybrid"
        # A new Policy subclass registers itself as a regime: keep the registry as it was.
        namespace["regime"] = base.regime
        registry = dict(REGIMES)
        try:
            cls = make_dataclass(
                f"Hybrid{base.__name__}",
                extra,
                bases=(base,),
                namespace=namespace,
                frozen=True,
                eq=True,
            )
        finally:
            REGIMES.clear()
            REGIMES.update(registry)
        cls.__module__ = __name__
        for n, value in namespace.items():
            if isinstance(value, types.FunctionType) and "__class__" in value.__code__.co_freevars:
                setattr(cls, n, _rebind_class(value, cls))
        return cls(**values)


def _owner(cls: type, name: str, value: Any) -> str:
    """Where ``cls`` gets member ``name`` from (``value``: a user's member; None: the library's)."""
    for k in (cls if value is not None else _library_class(cls)).__mro__:
        if name in vars(k) and (value is None or vars(k)[name] is value):
            return f"{k.__name__}.{name}"
    return f"{cls.__name__}.{name}"


def _rebind_class(function: types.FunctionType, cls: type) -> types.FunctionType:
    """A copy of ``function`` whose zero-argument ``super()`` starts from ``cls``."""
    cells = tuple(
        types.CellType(cls) if name == "__class__" else cell
        for name, cell in zip(function.__code__.co_freevars, function.__closure__, strict=True)
    )
    copy = types.FunctionType(
        function.__code__, function.__globals__, function.__name__, function.__defaults__, cells
    )
    copy.__kwdefaults__ = function.__kwdefaults__
    copy.__qualname__ = function.__qualname__
    return copy


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "…"


def hybrid(
    baseline: Policy,
    alternative: Policy,
    switched: Iterable[str],
    *,
    split: Iterable[str] = (),
) -> Policy:
    """The policy that takes the alternative's setting for the ``switched`` units.

    Args:
        baseline: The policy whose settings are kept.
        alternative: The policy whose settings are switched in.
        switched: Units: ``"regime"`` (the regime class and its rules), ``"field:<name>"``
            (a top-level field, e.g. ``"field:contracts"``), ``"override:<method>"`` (a user's
            override) and, for rules named in ``split``, ``"rule:<method>"``.
        split: Library rule methods switched on their own rather than with the regime.

    Example:
        >>> import vraagvolgend as vv
        >>> p = hybrid(vv.SupplyDriven(), vv.DemandDriven(contract="task"), ["field:contract"])
        >>> p.regime, p.contract
        ('supply-driven', 'task')
    """
    parts = _Parts(baseline, alternative, split)
    known = parts.selectors()
    for unit in switched:
        if unit not in known:
            raise ParameterError("switched", f"{unit!r} is not one of {', '.join(sorted(known))}")
    return parts.build(frozenset(switched))
