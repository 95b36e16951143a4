"""The grouping rule: which setting or rule of two policies belongs to which mechanism."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from ..financing import Policy
from ..parameters import ParameterError, _plain

if TYPE_CHECKING:  # only an annotation: hybrid imports this module
    from .hybrid import _Parts


# --- the grouping rule: which setting belongs to which mechanism -----------------------------

#: Mechanism of each top-level policy field without a ``group`` in its declaration (a declared
#: ``group`` wins; a field in neither keeps its own name). Every key names a declared field.
MECHANISMS: dict[str, str] = {
    "contract": "contract type",
    "contracts": "contract responses",
    "collective_capacity": "lever: collective capacity",
    "practice_support_youth": "lever: practice support (POH-jeugd)",
    "network_programme": "lever: network programme",
    "network_programme_cost": "lever: network programme",
    "outreach": "lever: outreach",
    "outreach_cost": "lever: outreach",
    "budget_rule": "budget rule",
    "budget_cut": "budget rule",
}
REGIME = "regime rules"
#: Mechanism of each rule method of the library's policy classes. Where two regimes differ in a
#: listed rule, the rule is switched on its own, together with the declared parameters of the
#: same mechanism (e.g. ``intensity`` with ``package sizing``); a rule not listed stays in
#: :data:`REGIME` (with ``groups="regime"`` every rule does).
RULE_MECHANISMS: dict[str, str] = {
    "select_domains": "integrated plan",
    "intensity": "package sizing",
    "conversation_units": "conversations",
    "review_units": "conversations",
    "duration": "lifecycle",
    "review": "lifecycle",
    "activation": "network activation",
    "flexible_share": "flexible budget",
}
#: Fields that do not change what a policy does.
COSMETIC = frozenset({"name"})
#: Members of the policy classes that are machinery, not rules.
MACHINERY = frozenset(
    {
        "changes_from",
        "from_dict",
        "from_toml",
        "provenance",
        "regime",
        "to_dict",
        "to_toml",
        "with_changes",
    }
)


def mechanism_of(policy_class: type[Policy], field_name: str) -> str:
    """The mechanism a top-level policy field belongs to (its human label).

    The field's ``group`` metadata if declared, else :data:`MECHANISMS`, else the field's name
    with spaces.
    """
    for f in fields(policy_class):
        if f.name == field_name and f.metadata.get("group"):
            return str(f.metadata["group"])
    return MECHANISMS.get(field_name, field_name.replace("_", " "))


def _library_class(cls: type) -> type[Policy]:
    """The first class of the library in the class's ancestry (the regime)."""
    for k in cls.__mro__:
        if k.__module__.split(".")[0] == "vraagvolgend":
            return k
    raise ParameterError("policy", f"{cls.__name__} does not derive from a vraagvolgend Policy")


def _field_names(cls: type) -> set[str]:
    return {f.name for f in fields(cls)}


def _rule_names(*classes: type) -> set[str]:
    """Public rule members (methods and class-level settings) of library policy classes."""
    names = set()
    for cls in classes:
        skip = _field_names(cls)
        for k in cls.__mro__:
            if not (isinstance(k, type) and issubclass(k, Policy)):
                continue
            names |= {
                n
                for n, v in vars(k).items()
                if not n.startswith("_")
                and n not in MACHINERY | skip
                and not isinstance(v, classmethod | staticmethod | property)
            }
    return names


def _user_members(cls: type) -> dict[str, Any]:
    """Members a user's subclasses define above the library class (most derived wins)."""
    library = _library_class(cls)
    skip = _field_names(cls)
    out: dict[str, Any] = {}
    for k in reversed(cls.__mro__[: cls.__mro__.index(library)]):
        for name, value in vars(k).items():
            if not name.startswith("__") and name not in skip:
                out[name] = value
    return out


def _same(x: Any, y: Any) -> bool:
    if x is y:
        return True
    if callable(x) or callable(y) or isinstance(x, classmethod | staticmethod | property):
        return False
    return _plain(x) == _plain(y)


def _static(cls: type, name: str) -> Any:
    for k in cls.__mro__:
        if name in vars(k):
            return vars(k)[name]
    return None


def _split(a: Policy, b: Policy, groups) -> list[str]:
    """The library rules switched on their own: those :data:`RULE_MECHANISMS` lists (unless
    ``groups`` is ``"regime"``) and those ``groups`` names as ``"rule:<method>"``."""
    if isinstance(groups, str):
        if groups != "regime":
            raise ParameterError("groups", f"{groups!r}: None, 'regime' or label → selectors")
        return []
    if groups is not None and not isinstance(groups, Mapping):
        raise ParameterError("groups", f"{groups!r}: None, 'regime' or label → selectors")
    rules = _rule_names(_library_class(type(a)), _library_class(type(b)))
    named = [
        s.removeprefix("rule:")
        for selectors in (groups or {}).values()
        if not isinstance(selectors, str)
        for s in selectors
        if isinstance(s, str) and s.startswith("rule:")
    ]
    return sorted({m for m in RULE_MECHANISMS if m in rules} | set(named))


def _groups(parts: _Parts, groups) -> dict[str, list[str]]:
    """Mechanism label → its units (those named in ``groups`` first, then the default rule)."""
    out: dict[str, list[str]] = {}
    taken: set[str] = set()
    known = parts.selectors()
    for label, selectors in (groups if isinstance(groups, Mapping) else {}).items():
        if isinstance(selectors, str) or not isinstance(selectors, Sequence):
            raise ParameterError(f"groups.{label}", "must be a list of selectors")
        units = []
        for s in selectors:
            unit = s if s == "regime" or ":" in s else f"field:{s}"
            if unit not in known:
                raise ParameterError(
                    f"groups.{label}",
                    f"{s!r} is not a field, 'regime', 'rule:<method>' or 'override:<method>'",
                )
            if unit in taken:
                raise ParameterError(f"groups.{label}", f"{s!r} is already in another group")
            taken.add(unit)
            if unit in parts.units:
                units.append(unit)
        out[str(label)] = units
    for unit in parts.units:
        if unit not in taken:
            out.setdefault(parts.default_mechanism(unit), []).append(unit)
    return out
