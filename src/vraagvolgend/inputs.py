"""What a user names on the command line or in an experiment file, read and checked: a
scenario, a policy (a name, a Dutch alias or a TOML file) and an experiment file.

Every refusal is a :class:`~vraagvolgend.parameters.ParameterError` naming the file, the key
and what is allowed, so the command line reports it in one line.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from .parameters import ParameterError, _short, _unknown_key, load_toml

__all__ = ["EXPERIMENT_KEYS", "load_experiment", "load_uncertainty"]


def _scenario(path: str | None, households: int | None = None):
    from .scenario import Scenario

    scenario = Scenario.default() if path is None else Scenario.from_toml(Path(path))
    if households is not None:
        try:
            scenario = scenario.with_changes(n_households=households)
        except ParameterError as err:
            raise ParameterError("--households", err.message) from None
    return scenario


def _policy(spec: str):
    """A policy from a name or a TOML file; ``none`` means no formal care."""
    from .financing import REGIMES, Policy, resolve_policy

    if spec == "none":
        return None
    path = Path(spec)
    if path.suffix == ".toml" or path.exists():
        return Policy.from_toml(path)
    try:
        return resolve_policy(spec)
    except ParameterError:
        names = [*(r for r in REGIMES if r != "policy"), "none"]
        close = difflib.get_close_matches(spec.replace("_", "-").lower(), names, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ParameterError(
            "--policy",
            f"{_short(spec)} is neither a policy name ({', '.join(names)}) nor a file{hint}",
        ) from None


#: The keys of an experiment file passed on to :class:`Experiment` as they are.
_OPTIONS = ("replications", "months", "design", "samples", "levels", "seed", "burn_in", "baseline")
EXPERIMENT_KEYS = ("name", "policies", "uncertainties", "levers", "scenario", *_OPTIONS)


def load_experiment(path: str | Path):
    """Read an experiment file (TOML); policy and scenario files are relative to it.

    Raises:
        ParameterError: naming the file and the key, for anything that is not a valid
            experiment.
    """
    path = Path(path)
    return load_toml(path, lambda data: _experiment(data, path), "experiment")


def _list_of(data: dict, key: str, default: list) -> list:
    value = data.get(key, default)
    if isinstance(value, str | dict) or not isinstance(value, list):
        raise ParameterError(key, f"{_short(value)} is not a list")
    return value


def _experiment(data: dict, path: Path):
    from .experiments import Experiment, Lever, Uncertainty

    if not data:
        raise ParameterError(
            "policies",
            "the experiment file is empty: say what to run, at least "
            'policies = ["supply-driven", "demand-driven"]',
        )
    for key in data:
        if key not in EXPERIMENT_KEYS:
            raise _unknown_key("", key, EXPERIMENT_KEYS)
    policies = []
    for i, p in enumerate(_list_of(data, "policies", ["supply-driven", "demand-driven"])):
        if not isinstance(p, str):
            raise ParameterError(f"policies[{i}]", f"{_short(p)} is not a policy name or file")
        try:
            policies.append(_policy(str(path.parent / p) if p.endswith(".toml") else p))
        except ParameterError as err:
            field = f"policies[{i}]" + (f": {err.field}" if p.endswith(".toml") else "")
            raise ParameterError(field, err.message) from None
        if policies[-1] is None:
            raise ParameterError(f"policies[{i}]", "'none' has no costs to compare")
    scenario = data.get("scenario")
    if scenario is not None and not isinstance(scenario, str):
        raise ParameterError("scenario", f"{_short(scenario)} is not a scenario file name")
    items = {}
    for kind, cls in (("uncertainties", Uncertainty), ("levers", Lever)):
        items[kind] = []
        for i, entry in enumerate(_list_of(data, kind, [])):
            if not isinstance(entry, dict):
                raise ParameterError(f"{kind}[{i}]", f"{_short(entry)} is not a table")
            allowed = ["name", "low", "high", "values", "distribution", "mode", "integer"]
            unknown = set(entry) - set(allowed)
            if unknown:
                raise _unknown_key(f"{kind}[{i}]", sorted(unknown)[0], allowed)
            if "name" not in entry:
                raise ParameterError(f"{kind}[{i}].name", "is missing")
            try:
                items[kind].append(cls(**entry))
            except ParameterError as err:
                raise err.under(f"{kind}[{i}]") from None
    options = {k: data[k] for k in _OPTIONS if k in data}
    return Experiment(
        data.get("name", path.stem),
        policies,
        items["uncertainties"],
        items["levers"],
        scenario=None if scenario is None else _experiment_scenario(path.parent / scenario),
        **options,
    )


def _experiment_scenario(path: Path):
    try:
        return _scenario(str(path))
    except ParameterError as err:
        raise ParameterError(f"scenario: {err.field}", err.message) from None


def load_uncertainty(path: str | Path, scenario=None, policies=("supply-driven", "demand-driven")):
    """Read the ``[uncertainty]`` table of a TOML file (the whole file when it has none):
    keyword arguments of :func:`~vraagvolgend.comparison.compare` (see
    :func:`~vraagvolgend.uncertainty.uncertainty_from_dict`).

    Raises:
        ParameterError: naming the file and the key.
    """
    from .uncertainty import uncertainty_from_dict

    def build(data):
        table = data.get("uncertainty", data) if isinstance(data, dict) else data
        if isinstance(data, dict) and "uncertainty" in data and len(data) > 1:
            other = sorted(k for k in data if k != "uncertainty")[0]
            raise ParameterError(other, "unknown key; the file holds an [uncertainty] table")
        return uncertainty_from_dict(table, scenario, policies)

    return load_toml(Path(path), build, "uncertainty")
