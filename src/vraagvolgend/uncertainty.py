"""Uncertain inputs, declared once: a parameter, its range or values, and its distribution.

An :class:`Uncertainty` is one uncertain input: a scenario parameter (a dotted path, as in
:meth:`~vraagvolgend.scenario.Scenario.with_changes`) or a policy parameter (``policy.`` and a
path into every compared policy that has it), with a range (``low``, ``high``) and a
distribution (``uniform``, ``triangular`` around a ``mode``, or a ``point``), or a list of
``values``. Experiments sample it (:class:`~vraagvolgend.experiments.Experiment`), SALib's
analyses take its range (:mod:`vraagvolgend.sensitivity`), the EMA adapter turns it into a
workbench parameter, and the probabilistic comparison draws it
(:mod:`vraagvolgend.probabilistic`). A :class:`Lever` is the same declaration for a choice the
municipality makes: it refuses a single value.

:func:`default_uncertainties` derives the inputs from the parameter declarations: every
parameter declared with a plausible range (``param(..., plausible=...)``, the table of
``docs/assumptions.md``) is an input, triangular around its default; everything else is fixed.
:func:`override` and :func:`uncertainty_from_dict` (the ``[uncertainty]`` table of a TOML file)
change that list.

Example:
    >>> import vraagvolgend as vv
    >>> u = vv.Uncertainty("access.conversation_cost", 150, 500, distribution="triangular",
    ...                    mode=150)
    >>> [round(x) for x in u.from_unit([0.0, 0.5, 1.0])]
    [150, 253, 500]
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .parameters import ParameterError, _short

__all__ = [
    "DISTRIBUTIONS",
    "POLICY",
    "Lever",
    "Uncertainty",
    "default_uncertainties",
    "fixed_parameters",
    "override",
    "uncertainty_from_dict",
]

#: The distributions of a range: uniform, triangular (peak at ``mode``) and a point (one value).
DISTRIBUTIONS = ("uniform", "triangular", "point")
#: The prefix of an input that is a policy parameter (``policy.review_factor``).
POLICY = "policy."


def _number(value, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(field, f"{_short(value)} is not a number")
    try:
        value = float(value)
    except OverflowError:
        raise ParameterError(field, "is too large") from None
    if not math.isfinite(value):
        raise ParameterError(field, f"{_short(value)} is not finite")
    return value


def _range(name: str, low, high, mode, distribution: str) -> tuple[float, float, float | None]:
    """A checked (low, high, mode) of one range; fields named under ``name``."""
    if low is None or high is None:
        raise ParameterError(name, "needs low and high, or values")
    low, high = _number(low, f"{name}.low"), _number(high, f"{name}.high")
    if not low <= high:
        raise ParameterError(name, f"needs low ≤ high, got low = {low:g}, high = {high:g}")
    if distribution == "point" and low != high:
        raise ParameterError(
            f"{name}.high", f"a point needs high = low ({low:g}), got {high:g}; or a range"
        )
    if mode is not None:
        mode = _number(mode, f"{name}.mode")
        if not low <= mode <= high:
            raise ParameterError(
                f"{name}.mode", f"{mode:g} is out of range: must be between {low:g} and {high:g}"
            )
        if distribution != "triangular":
            raise ParameterError(f"{name}.mode", "only a triangular distribution has a mode")
    return low, high, mode


def _draw(u: np.ndarray, low: float, high: float, mode, distribution: str, integer: bool):
    """Map points of [0, 1) onto one range by its distribution's inverse CDF."""
    u = np.asarray(u, dtype=float)
    if distribution == "point" or high == low:
        x = np.full(u.shape, low)
    elif distribution == "triangular":
        from scipy.stats import triang

        peak = (low + high) / 2 if mode is None else mode
        x = triang.ppf(u, (peak - low) / (high - low), loc=low, scale=high - low)
    elif integer:
        # every whole number in [low, high] equally likely (not the ends half as likely)
        first, last = math.ceil(low), math.floor(high)
        return [int(min(first + math.floor(v * (last - first + 1)), last)) for v in u]
    else:
        x = low + u * (high - low)
    if integer:
        return [int(min(max(round(v), math.ceil(low)), math.floor(high))) for v in x]
    return [float(v) for v in x]


@dataclass(frozen=True)
class Uncertainty:
    """An uncertain input: a range with a distribution, or a list of values.

    Args:
        name: A dotted path into the scenario (``"problems.onset_rate.finances"``), or
            ``"policy."`` and a path into the policies (``"policy.review_factor"``: every
            compared policy that has the parameter).
        low: The range's lower end.
        high: The range's upper end.
        values: A list of values instead of a range (each equally likely).
        distribution: ``"uniform"`` (default), ``"triangular"`` (peak at ``mode``; without a
            mode, at the parameter's value in the base scenario or policy) or ``"point"``
            (``low == high``: fixed, yet listed as an input).
        mode: The peak of a triangular distribution.
        integer: Draws are whole numbers (a parameter that takes integers).
        by_policy: A policy parameter whose range differs by policy: ``{policy name: (low,
            high[, mode])}`` (or a table with ``low``, ``high``, ``mode``); one quantile is
            drawn and applied to each policy's own range, so the policies move together.
            ``low`` and ``high`` are then left out.

    Raises:
        ParameterError: naming the field (``<name>.low``, ``<name>.mode``, ...) and what is
            allowed.
    """

    name: str
    low: float | None = None
    high: float | None = None
    values: tuple | None = None
    distribution: str = "uniform"
    mode: float | None = None
    integer: bool = False
    by_policy: tuple | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ParameterError("name", f"{_short(self.name)} is not a dotted parameter name")
        if self.distribution not in DISTRIBUTIONS:
            raise ParameterError(
                f"{self.name}.distribution",
                f"{_short(self.distribution)} is not one of {', '.join(DISTRIBUTIONS)}",
            )
        if not isinstance(self.integer, bool):
            raise ParameterError(f"{self.name}.integer", f"{_short(self.integer)} is not a bool")
        if self.by_policy is not None:
            self._check_by_policy()
            return
        if self.values is not None:
            if self.low is not None or self.high is not None:
                raise ParameterError(self.name, "give a range (low, high) or values, not both")
            if self.distribution != "uniform" or self.mode is not None:
                raise ParameterError(
                    f"{self.name}.distribution", "values are equally likely: no distribution"
                )
            if isinstance(self.values, str | bytes | dict) or not isinstance(
                self.values, list | tuple
            ):
                raise ParameterError(f"{self.name}.values", f"{_short(self.values)} is not a list")
            if len(self.values) == 0:
                raise ParameterError(f"{self.name}.values", "must not be empty")
            distinct = {_hashable(v) for v in self.values}
            if len(distinct) != len(self.values):
                raise ParameterError(f"{self.name}.values", "must be distinct values")
            object.__setattr__(self, "values", tuple(self.values))
            return
        low, high, mode = _range(self.name, self.low, self.high, self.mode, self.distribution)
        for key, value in (("low", low), ("high", high), ("mode", mode)):
            object.__setattr__(self, key, value)

    def _check_by_policy(self) -> None:
        if not self.name.startswith(POLICY):
            raise ParameterError(
                f"{self.name}.by_policy", f"only a policy parameter ({POLICY}...) has one"
            )
        if self.low is not None or self.high is not None or self.values is not None:
            raise ParameterError(self.name, "give by_policy or a range (low, high), not both")
        items = self.by_policy
        if isinstance(items, Mapping):
            items = list(items.items())
        if isinstance(items, str | bytes) or not isinstance(items, list | tuple) or not items:
            raise ParameterError(f"{self.name}.by_policy", "is not a table of policy ranges")
        out = []
        for item in items:
            if not isinstance(item, list | tuple) or not item or not isinstance(item[0], str):
                raise ParameterError(f"{self.name}.by_policy", f"{_short(item)} is not a range")
            policy, spec = item[0], item[1:] if len(item) != 2 else item[1]
            field = f"{self.name}.by_policy.{policy}"
            if isinstance(spec, Mapping):
                unknown = set(spec) - {"low", "high", "mode"}
                if unknown:
                    raise ParameterError(f"{field}.{sorted(unknown)[0]}", "unknown key")
                spec = (spec.get("low"), spec.get("high"), spec.get("mode"))
            if not isinstance(spec, list | tuple) or len(spec) not in (2, 3):
                raise ParameterError(
                    field, f"{_short(spec)} is not (low, high) or (low, high, mode)"
                )
            mode = spec[2] if len(spec) == 3 else None
            if self.distribution != "triangular" and mode is not None:
                raise ParameterError(f"{field}.mode", "only a triangular distribution has a mode")
            out.append((policy, *_range(field, spec[0], spec[1], mode, self.distribution)))
        names = [p for p, *_ in out]
        if len(set(names)) != len(names):
            raise ParameterError(f"{self.name}.by_policy", f"names a policy twice: {names}")
        if self.mode is not None:
            raise ParameterError(f"{self.name}.mode", "give each policy's mode in by_policy")
        object.__setattr__(self, "by_policy", tuple(out))

    @classmethod
    def point(cls, name: str, value) -> Uncertainty:
        """A point distribution: the input is listed but takes one value."""
        return cls(name, value, value, distribution="point")

    @property
    def target(self) -> str:
        """``"scenario"`` or ``"policy"``: what the input changes."""
        return "policy" if self.name.startswith(POLICY) else "scenario"

    @property
    def path(self) -> str:
        """The dotted path within the scenario or the policy."""
        return self.name.removeprefix(POLICY)

    def from_unit(self, u) -> list:
        """Map points in [0, 1) onto the list or the range (by its distribution's inverse
        CDF). For a ``by_policy`` input: the first policy's values (see :meth:`by_unit`)."""
        if self.values is not None:
            n = len(self.values)
            return [self.values[min(int(x * n), n - 1)] for x in u]
        if self.by_policy is not None:
            return next(iter(self.by_unit(u).values()))
        return _draw(u, self.low, self.high, self.mode, self.distribution, self.integer)

    def by_unit(self, u) -> dict[str, list]:
        """{policy name: its values} of a ``by_policy`` input at quantiles ``u`` (one quantile
        applied to each policy's own range)."""
        return {
            policy: _draw(u, low, high, mode, self.distribution, self.integer)
            for policy, low, high, mode in self.by_policy or ()
        }

    def levels(self, k: int) -> list:
        """The values of a full-factorial design: the list, or k levels across the range."""
        if self.values is not None:
            return list(self.values)
        levels = np.linspace(self.low, self.high, k)
        return [round(float(v)) if self.integer else float(v) for v in levels]

    def to_dict(self) -> dict:
        """The declaration as plain values (as a TOML ``[[uncertainty.inputs]]`` entry)."""
        out = {"name": self.name}
        if self.values is not None:
            out["values"] = list(self.values)
        elif self.by_policy is not None:
            out["by_policy"] = {
                p: {"low": lo, "high": hi, **({"mode": m} if m is not None else {})}
                for p, lo, hi, m in self.by_policy
            }
        else:
            out.update(low=self.low, high=self.high)
            if self.mode is not None:
                out["mode"] = self.mode
        if self.values is None:
            out["distribution"] = self.distribution
        if self.integer:
            out["integer"] = True
        return out


@dataclass(frozen=True)
class Lever(Uncertainty):
    """A policy parameter the municipality chooses (a dotted path into the policy).

    A lever needs at least two choices: a range with ``low < high``, or ``values``.
    """

    def __post_init__(self):
        super().__post_init__()
        if self.values is None and self.low == self.high:
            raise ParameterError(
                self.name,
                f"low and high are both {self.low}: a lever needs low < high (or values = "
                "[...] for chosen values)",
            )


def _hashable(value):
    """A value as a dictionary key (lists and tables from TOML become tuples)."""
    if isinstance(value, dict):
        return ("__table__", tuple((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    return value


# --- The default inputs: every parameter declared with a plausible range ----------------------


def _input(name: str, value, plausible, distribution: str, check) -> Uncertainty | str:
    """The input for one declared range, or why it stays fixed."""
    low, high = plausible
    if isinstance(value, bool | list | tuple | dict):
        return "not a number or a choice"
    if isinstance(value, str):
        options = (value, *(v for v in plausible if v != value))
        try:
            for option in options:
                check(option)
        except ParameterError:
            return "its plausible range describes the choices in words"
        return Uncertainty(name, values=options)
    integer = isinstance(value, numbers.Integral)
    if low == high:
        return Uncertainty.point(name, low)
    if distribution == "triangular" and low <= value <= high:
        return Uncertainty(name, low, high, distribution="triangular", mode=value, integer=integer)
    return Uncertainty(name, low, high, integer=integer)


def _policy_rows(policies) -> dict[str, dict[str, dict]]:
    """{parameter: {policy name: its assumption row}} over the compared policies."""
    from .financing import Policy

    rows: dict[str, dict[str, dict]] = {}
    for policy in policies:
        if isinstance(policy, Policy):
            for row in policy.assumptions():
                rows.setdefault(row["parameter"], {})[policy.name] = row
    return rows


def _derive(scenario, policies, distribution: str) -> tuple[list[Uncertainty], list[dict]]:
    from .financing import Policy, resolve_policy
    from .scenario import Scenario

    scenario = Scenario.default() if scenario is None else scenario
    policies = [resolve_policy(p) for p in policies]
    inputs, fixed = [], []
    for row in scenario.assumptions():
        name = row["parameter"]
        item = _input(
            name,
            row["value"],
            row["plausible"],
            distribution,
            lambda v, name=name: scenario.with_changes({name: v}),
        )
        if isinstance(item, str):
            fixed.append({"parameter": name, "why": item})
        else:
            inputs.append(item)
    for path, rows in _policy_rows(policies).items():
        name = POLICY + path
        per = {}
        for policy in policies:
            row = rows.get(getattr(policy, "name", None))
            if row is None:
                continue
            per[policy.name] = _input(
                name,
                row["value"],
                row["plausible"],
                distribution,
                lambda v, p=policy, path=path: p.with_changes({path: v}),
            )
        reasons = [v for v in per.values() if isinstance(v, str)]
        if reasons:
            fixed.append({"parameter": name, "why": reasons[0]})
            continue
        having = [p.name for p in policies if isinstance(p, Policy) and path in _paths(p)]
        distinct = {replace(v, name=name) for v in per.values()}
        if len(distinct) == 1 and set(per) == set(having):
            inputs.append(distinct.pop())  # one range and default: one value for every policy
        elif any(v.values is not None for v in per.values()):
            # a choice whose default differs between the regimes is part of their definition
            fixed.append({"parameter": name, "why": "a choice in which the regimes differ"})
        else:
            inputs.append(
                Uncertainty(
                    name,
                    distribution=distribution,
                    integer=any(v.integer for v in per.values()),
                    by_policy={p: (v.low, v.high, v.mode) for p, v in per.items()}
                    if distribution == "triangular"
                    else {p: (v.low, v.high) for p, v in per.items()},
                )
            )
    return inputs, fixed


def _paths(policy) -> set[str]:
    from .financing import _flat

    return set(_flat(policy.to_dict()))


def default_uncertainties(
    scenario=None,
    policies: Sequence = ("supply-driven", "demand-driven"),
    *,
    distribution: str = "triangular",
) -> list[Uncertainty]:
    """The uncertain inputs the parameter declarations imply.

    Every scenario and policy parameter declared with a plausible range (``param(...,
    plausible=...)``; ``docs/assumptions.md``) becomes an input; every other parameter stays
    at its value. A number is drawn from its range, triangular with its peak at the default
    (or uniform: ``distribution``; uniform too where the default lies outside the range); a
    whole number is drawn as a whole number; a choice takes each of its plausible values
    equally often.

    A policy parameter that every compared policy declares alike (same range, same default) is
    one input, one value for every policy. Where the policies declare different ranges or
    defaults (``review_factor``: 0.5–1.0 supply-driven, 0.25–1.0 demand-driven), it is one
    input with a range per policy (``by_policy``): one quantile is drawn and applied to each
    policy's own range, so that the paired policies move together (a dear review is dear
    under both). A choice whose default differs between the policies (``continuation``) is
    part of the regimes' definition and stays fixed, as does a range described in words
    (``root_cause_order``); :func:`fixed_parameters` lists them with the reason. Policy
    switches keep their values.

    Args:
        scenario: The base scenario (default: the embedded default).
        policies: The compared policies (objects or names).
        distribution: ``"triangular"`` (default) or ``"uniform"``.
    """
    if distribution not in ("triangular", "uniform"):
        raise ParameterError("distribution", f"{_short(distribution)}: triangular or uniform")
    return _derive(scenario, policies, distribution)[0]


def fixed_parameters(
    scenario=None, policies: Sequence = ("supply-driven", "demand-driven"), inputs=None
) -> list[dict]:
    """The parameters declared with a plausible range that are not uncertain inputs, with
    why: those :func:`default_uncertainties` leaves fixed, and (given ``inputs``) those left
    out of ``inputs``. A list of ``{"parameter", "why"}``."""
    derived, fixed = _derive(scenario, policies, "triangular")
    if inputs is None:
        return fixed
    names = {u.name for u in inputs}
    out = [row for row in fixed if row["parameter"] not in names]
    out += [{"parameter": u.name, "why": "left out of the inputs"} for u in derived
            if u.name not in names]  # fmt: skip
    return out


def override(
    inputs: Sequence[Uncertainty],
    changes: Sequence[Uncertainty] = (),
    *,
    fixed: Sequence[str] = (),
) -> list[Uncertainty]:
    """The inputs with some replaced (by name) or added, and some fixed (left out).

    Example:
        >>> inputs = default_uncertainties()
        >>> mine = override(inputs, [Uncertainty("access.conversation_cost", 150, 250)],
        ...                 fixed=["policy.outreach_cost"])
        >>> [u.high for u in mine if u.name == "access.conversation_cost"]
        [250.0]
    """
    known = {u.name for u in inputs} | {u.name for u in changes}
    for i, name in enumerate(fixed):
        if name not in known:
            import difflib

            close = difflib.get_close_matches(str(name), sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ParameterError(f"fixed[{i}]", f"{_short(name)} is not an input{hint}")
    by_name = {u.name: u for u in inputs}
    for u in changes:
        by_name[u.name] = u
    return [u for name, u in by_name.items() if name not in set(fixed)]


#: Keys of an ``[uncertainty]`` table and of each of its ``[[uncertainty.inputs]]``.
TABLE_KEYS = ("draws", "design", "replications", "defaults", "distribution", "fixed", "inputs")
INPUT_KEYS = ("name", "low", "high", "values", "distribution", "mode", "integer", "by_policy")


def uncertainty_from_dict(
    data: Mapping, scenario=None, policies=("supply-driven", "demand-driven")
):
    """Read an ``[uncertainty]`` table (as from TOML).

    Keys: ``draws`` (how many parameter sets), ``design`` (``"lhs"`` or ``"sobol"``),
    ``replications`` (per draw), ``defaults`` (start from :func:`default_uncertainties`:
    true unless false), ``distribution`` (of the defaults), ``fixed`` (names left at their
    value) and ``inputs`` (a list of tables, each an :class:`Uncertainty`'s fields, replacing
    a default of the same name or adding one)::

        [uncertainty]
        draws = 32
        fixed = ["policy.outreach_cost"]
        [[uncertainty.inputs]]
        name = "access.conversation_cost"
        low = 150.0
        high = 300.0

    Returns:
        ``{"uncertainties": [...], "draws": ..., ...}``: keyword arguments of
        :func:`~vraagvolgend.comparison.compare` (``uncertainty`` for ``draws``).

    Raises:
        ParameterError: naming the key (``uncertainty.inputs[2].low``) and what is allowed.
    """
    from .parameters import _unknown_key

    if not isinstance(data, Mapping):
        raise ParameterError("uncertainty", f"{_short(data)} is not a table")
    for key in data:
        if key not in TABLE_KEYS:
            raise _unknown_key("uncertainty", key, TABLE_KEYS)
    defaults = data.get("defaults", True)
    if not isinstance(defaults, bool):
        raise ParameterError("uncertainty.defaults", f"{_short(defaults)} is not true or false")
    base = []
    if defaults:
        try:
            base = default_uncertainties(
                scenario, policies, distribution=data.get("distribution", "triangular")
            )
        except ParameterError as err:
            raise err.under("uncertainty") from None
    entries = data.get("inputs", [])
    if isinstance(entries, str | Mapping) or not isinstance(entries, list):
        raise ParameterError("uncertainty.inputs", f"{_short(entries)} is not a list of tables")
    changes = []
    for i, entry in enumerate(entries):
        where = f"uncertainty.inputs[{i}]"
        if not isinstance(entry, Mapping):
            raise ParameterError(where, f"{_short(entry)} is not a table")
        for key in entry:
            if key not in INPUT_KEYS:
                raise _unknown_key(where, key, INPUT_KEYS)
        if "name" not in entry:
            raise ParameterError(f"{where}.name", "is missing")
        try:
            changes.append(Uncertainty(**entry))
        except ParameterError as err:
            raise err.under(where) from None
    fixed = data.get("fixed", [])
    if isinstance(fixed, str) or not isinstance(fixed, list):
        raise ParameterError("uncertainty.fixed", f"{_short(fixed)} is not a list of names")
    try:
        inputs = override(base, changes, fixed=fixed)
    except ParameterError as err:
        raise err.under("uncertainty") from None
    out = {"uncertainties": inputs}
    for key, target in (("draws", "uncertainty"), ("design", "design")):
        if key in data:
            out[target] = data[key]
    if "replications" in data:
        out["draw_replications"] = data["replications"]
    return out
