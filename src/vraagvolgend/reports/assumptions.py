"""The assumptions a comparison rests on: the parameters in which the policies differ
and the strengths of the mechanisms at work, each with its source."""

from __future__ import annotations

import re

import pandas as pd

from ..comparison import Comparison
from .numbers import MINUS, _names, label


def _value_text(value) -> str:
    if value is None:
        return "not used"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        text = f"{float(value):,.3f}".rstrip("0").rstrip(".")
        return text.replace("-", MINUS)
    if isinstance(value, list | tuple):
        return ", ".join(label(v) for v in value)
    return label(value)


def _prose(text: str) -> str:
    """Declared parameter texts may name identifiers (``capacity_per_1000``): spell them."""
    return re.sub(r"(?<=\w)_(?=\w)", " ", text)


def _provenance(policy) -> dict[str, dict]:
    try:
        return {row["parameter"]: row for row in policy.provenance()}
    except (AttributeError, TypeError):
        return {}


def _describe_parameter(key: str, prov: dict[str, dict]) -> tuple[str, str]:
    """(meaning, source) of a dotted parameter, from the longest declared prefix."""
    parts = key.split(".")
    for i in range(len(parts), 0, -1):
        row = prov.get(".".join(parts[:i]))
        if row is not None:
            meaning = _prose(row["meaning"])
            if i < len(parts):
                meaning += f" ({label(parts[i])})"
            return meaning[:1].upper() + meaning[1:], row["source"] or "assumption"
    return label(key), "assumption"


def _assumption_tables(c: Comparison) -> list[tuple[str, pd.DataFrame]]:
    by_name = {p.name: p for p in c.policies}
    names = _names(c)
    base = by_name[names[0]]
    out = []
    for policy in (by_name[n] for n in names[1:]):
        if not hasattr(policy, "changes_from") or not hasattr(base, "to_dict"):
            continue
        prov = {**_provenance(base), **_provenance(policy)}
        rows = []
        for key, (a, b) in policy.changes_from(base).items():
            if key == "name":
                continue
            if key == "regime":
                meaning, source = "Access regime", "the policies compared"
            else:
                meaning, source = _describe_parameter(key, prov)
            rows.append(
                {
                    "Parameter": meaning,
                    base.name: _value_text(a),
                    policy.name: _value_text(b),
                    "Source": source,
                }
            )
        if rows:
            out.append((f"'{policy.name}' against '{base.name}'", pd.DataFrame(rows)))
    return out


def _mechanism_table(c: Comparison) -> pd.DataFrame | None:
    """Strengths of the mechanisms at work in the compared policies, with their sources: the
    active contract's response parameters, and every parameter in which the policies differ
    (the regimes' own rules: package sizing, integrated plans, conversations, lifecycle)."""
    provenance = [_provenance(p) for p in c.policies]
    paths = [p for p in dict.fromkeys(k for prov in provenance for k in prov) if p != "name"]
    rows = {}
    for path in paths:
        values = [_value_text(getattr_path(p, path)) for p in c.policies if _has_path(p, path)]
        differ = len(set(values)) > 1
        for policy, prov in zip(c.policies, provenance, strict=True):
            if path not in prov:
                continue
            contract = getattr(policy, "contract", None)
            active = contract is not None and path.startswith(f"contracts.{contract}_")
            if active or differ:
                row = prov[path]
                entry = rows.setdefault(
                    path,
                    {
                        "Mechanism": _prose(row["meaning"][:1].upper() + row["meaning"][1:]),
                        "sources": [],
                    },
                )
                entry[policy.name] = _value_text(getattr_path(policy, path))
                source = row["source"] or "assumption"
                if source not in entry["sources"]:  # each regime's value has its own source
                    entry["sources"].append(source)
    if not rows:
        return None
    for entry in rows.values():
        entry["Source"] = "; ".join(entry.pop("sources"))
    frame = pd.DataFrame(list(rows.values()))
    cols = ["Mechanism", *[n for n in _names(c) if n in frame.columns], "Source"]
    return frame[cols].fillna("not used")


def _has_path(obj, path: str) -> bool:
    try:
        getattr_path(obj, path)
    except AttributeError:
        return False
    return True


def getattr_path(obj, path: str):
    """Follow a dotted attribute path."""
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj
