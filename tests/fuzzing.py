"""Strategies for fuzzing input files (hypothesis) and the checks every accepted input passes.

A fuzzed file is a few mutations of a valid one: a value replaced by one of another kind, out of
its range, huge (400 digits), not a number, a table where a value belongs, or a key misspelt.
Every input must either be refused with a one-line error naming the key, or be accepted and
then run a short simulation with finite, non-negative costs and severities in [0, 1].
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import numpy as np
from hypothesis import strategies as st

import vraagvolgend as vv

MAX_HOUSEHOLDS = 2000
MONTHS = 12
#: The fuzzing profile: ``default`` (fixed examples, the same on every run) or ``long`` (opt-in:
#: new random examples every run, ten times as many, or VRAAGVOLGEND_FUZZ_SCALE times).
PROFILE = os.environ.get("VRAAGVOLGEND_FUZZ", "default")
if PROFILE not in ("default", "long"):
    raise ValueError(f"VRAAGVOLGEND_FUZZ={PROFILE!r}: use 'default' or 'long'")
SCALE = float(os.environ.get("VRAAGVOLGEND_FUZZ_SCALE", "10")) if PROFILE == "long" else 1.0


def examples(n: int) -> int:
    """Examples for a fuzz test: ``n`` in the default suite, scaled on request."""
    return max(1, round(n * SCALE))


def flatten(data: dict, prefix: tuple = ()) -> dict[tuple, Any]:
    """Leaf paths of a nested dictionary (lists are leaves)."""
    out = {}
    for key, value in data.items():
        path = (*prefix, key)
        if isinstance(value, dict) and value:
            out.update(flatten(value, path))
        else:
            out[path] = value
    return out


def nest(entries: dict[tuple, Any]) -> dict:
    """The nested dictionary of leaf paths (later paths win over earlier tables)."""
    out: dict = {}
    for path, value in entries.items():
        target = out
        for part in path[:-1]:
            nxt = target.get(part)
            if not isinstance(nxt, dict):
                nxt = target[part] = {}
            target = nxt
        target[path[-1]] = value
    return out


def _key(key: str) -> str:
    return json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def toml(data: dict) -> str:
    """A dictionary as TOML (top-level scalars, then one inline table per top-level table)."""
    lines = [f"{_key(k)} = {_value(v)}" for k, v in data.items()]
    return "\n".join(lines) + "\n"


huge = st.integers(min_value=10**399, max_value=10**400) | st.integers(
    max_value=-(10**399), min_value=-(10**400)
)
junk = st.one_of(
    st.integers(-5, 5),
    huge,
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.booleans(),
    st.lists(st.floats(-2, 2), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(0, 3), max_size=2),
    st.just([]),
    st.just({}),
)


def near(value: Any) -> st.SearchStrategy:
    """Values close to a valid one: scaled, shifted, at the edges, the same kind."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.integers(-2, max(3 * value, 3))
    if isinstance(value, float):
        return st.floats(-0.5, max(3 * abs(value), 1.0)) | st.sampled_from([0.0, 1.0, value])
    if isinstance(value, list) and value and all(isinstance(v, float) for v in value):
        return st.lists(st.floats(0, 1), min_size=len(value), max_size=len(value))
    return st.just(value)


def mutations(default: dict, max_changes: int = 4) -> st.SearchStrategy[dict]:
    """Partial files: a few leaves of ``default`` changed (near their value or junk), or a
    key misspelt."""
    leaves = sorted(flatten(default).items(), key=lambda kv: repr(kv[0]))

    @st.composite
    def build(draw) -> dict:
        chosen = draw(st.lists(st.sampled_from(leaves), min_size=1, max_size=max_changes))
        entries = {}
        for path, value in chosen:
            kind = draw(st.sampled_from(["near", "near", "junk", "typo"]))
            if kind == "typo":
                path = (*path[:-1], path[-1] + draw(st.sampled_from(["s", "_", "x"])))
                entries[path] = value
            else:
                entries[path] = draw(near(value) if kind == "near" else junk)
        return nest(entries)

    return build()


def check_result(result: vv.Result) -> None:
    """What every accepted input must give: finite, non-negative costs; severities in [0, 1]."""
    severity = result.problems["severity"].to_numpy(dtype=float)
    assert np.isfinite(severity).all() and (severity >= 0).all() and (severity <= 1).all()
    if result.policy is not None:
        costs = result.costs["cost_eur"].to_numpy(dtype=float)
        assert np.isfinite(costs).all() and (costs >= 0).all()
        ep = result.episodes["cost_eur"].to_numpy(dtype=float)
        assert np.isfinite(ep).all() and (ep >= 0).all()


def small(scenario: vv.Scenario) -> vv.Scenario:
    """The scenario at most MAX_HOUSEHOLDS households and a burn-in of at most a year."""
    return scenario.with_changes(
        n_households=min(scenario.n_households, MAX_HOUSEHOLDS),
        burn_in_months=min(scenario.burn_in_months, 12),
    )


def names_a_key(error: Exception, paths) -> bool:
    """Whether an error message names one of the keys of the fuzzed input."""
    text = str(error)
    return any(str(part) in text for path in paths for part in path)
