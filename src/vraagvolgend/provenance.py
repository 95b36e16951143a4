"""What determines a result: the model's behaviour version and a run's determinants.

A stored result may be reused only when everything that determines it matches: the scenario,
the policy (its values and its class), the months, the seed, the replication and the model
itself. The model is identified by :func:`model_version`: the package version plus a digest of
the source files and data that can change a result. A package version alone is not enough: an
editable install keeps its version while its code changes. Files that only present results
(the command line, the report, the dashboard) are left out, so editing them keeps a store valid.

Example:
    >>> import numpy as np, vraagvolgend as vv
    >>> a = determinants(vv.Scenario.default(), vv.SupplyDriven(), 24,
    ...                  np.random.SeedSequence(0), 0)
    >>> b = determinants(vv.Scenario.default(), vv.SupplyDriven(), 12,
    ...                  np.random.SeedSequence(0), 0)
    >>> changed_fields(a, b)
    ['months']
"""

from __future__ import annotations

import hashlib
import inspect
import json
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

__all__ = ["changed_fields", "code_of", "describe_changes", "determinants", "model_version"]

#: Package files that present results without changing them (left out of the model version).
PRESENTATION = ("cli.py", "__main__.py", "reports", "dashboard", "templates")


@cache
def model_version() -> str:
    """The package version and a digest of every source and data file that can change a result.

    Computed once per process (reading about 0.5 MB of files).
    """
    try:
        release = version("vraagvolgend")
    except PackageNotFoundError:  # pragma: no cover - a source tree without installing
        release = "0+unknown"
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for file in sorted(package.rglob("*")):
        relative = file.relative_to(package)
        if (
            not file.is_file()
            or file.suffix not in (".py", ".toml")
            or relative.parts[0] in PRESENTATION
        ):
            continue
        digest.update(relative.as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return f"{release}+{digest.hexdigest()[:16]}"


def code_of(obj) -> str:
    """The class of a policy or process, with a digest of its source when it is a user's (a
    user's subclass can change behaviour in code, not values)."""
    cls = type(obj)
    name = f"{cls.__module__}.{cls.__qualname__}"
    if cls.__module__.split(".")[0] == "vraagvolgend":
        return name  # covered by the model version
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):  # defined interactively: its name is all we can check
        return name
    return f"{name}#{hashlib.sha256(source.encode()).hexdigest()[:16]}"


def _seed(seed) -> list:
    if isinstance(seed, np.random.SeedSequence):
        return [str(seed.entropy), list(seed.spawn_key)]
    return [str(seed)]


def determinants(scenario, policy, months: int, seed, replication: int, **extra) -> dict:
    """Everything that determines one run (or one replication of a comparison), as plain JSON.

    Args:
        scenario: The scenario.
        policy: A policy, a switch, ``None`` (no formal care) or a list of them (a comparison).
        months: Months after burn-in.
        seed: The run's seed (a :class:`numpy.random.SeedSequence` or anything printable).
        replication: The replication.
        **extra: More determinants (plain JSON values), e.g. a comparison's baseline.
    """
    policies = policy if isinstance(policy, list | tuple) else [policy]
    out = {
        "scenario": scenario.to_dict(),
        "policy": [None if p is None else p.to_dict() for p in policies],
        "policy_code": [None if p is None else code_of(p) for p in policies],
        "months": int(months),
        "seed": _seed(seed),
        "replication": int(replication),
        "model": model_version(),
        **extra,
    }
    # Round-trip through JSON so that a stored and a fresh definition compare alike.
    return json.loads(json.dumps(out, sort_keys=True, default=str))


def _leaves(value, prefix: str) -> dict:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            out.update(_leaves(item, f"{prefix}.{key}" if prefix else str(key)))
        return out or {prefix: {}}
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = {}
        for i, item in enumerate(value):
            out.update(_leaves(item, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def changed_fields(stored: dict | None, current: dict) -> list[str]:
    """The dotted fields in which a stored definition differs from the current one.

    A run stored without determinants (by an older version) differs in ``determinants``.
    """
    if not isinstance(stored, dict):
        return ["determinants"]
    old, new = _leaves(stored, ""), _leaves(current, "")
    return sorted(k for k in old.keys() | new.keys() if old.get(k, ...) != new.get(k, ...))


def describe_changes(fields: list[str], limit: int = 4) -> str:
    """A short phrase naming changed fields (``months, seed, scenario.network.mean_degree``)."""
    shown = ", ".join(fields[:limit])
    return shown + (f" and {len(fields) - limit} more" if len(fields) > limit else "")
