"""Break-even values: where the mean paired difference crosses zero along one parameter, with
the interval where its 95% band contains zero."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..parameters import ParameterError
from .indices import _level

__all__ = ["BreakEven", "break_even", "break_even_for"]


@dataclass(frozen=True)
class BreakEven:
    """Where the mean paired difference crosses zero along one parameter.

    Attributes:
        parameter: The parameter's name.
        low: Lower end of the range searched.
        high: Upper end.
        value: The break-even value (NaN: no crossing in the range).
        interval: Where the band (mean ± t·se of the paired difference) contains zero, around
            ``value`` (NaN, NaN without a crossing or with one replication).
        open: Whether each end of ``interval`` is an end of the range (the band still contains
            zero there: the interval may reach beyond it).
        mean_low: Mean difference at ``low``.
        mean_high: Mean difference at ``high``.
        evaluations: Calls of ``paired`` (each a set of paired runs).
        converged: Whether the searches met their tolerance within the budget.
        table: Every evaluation: ``value``, ``mean``, ``band_low``, ``band_high``, ``n``.
        level: Confidence level of the band.
    """

    parameter: str
    low: float
    high: float
    value: float
    interval: tuple[float, float]
    open: tuple[bool, bool]
    mean_low: float
    mean_high: float
    evaluations: int
    converged: bool
    table: pd.DataFrame = field(repr=False)
    level: float = 0.95

    @property
    def crossed(self) -> bool:
        """Whether the mean difference crosses zero in ``[low, high]``."""
        return bool(np.isfinite(self.value))

    @property
    def negative_below(self) -> bool:
        """Whether the difference is negative below the break-even (at ``low``)."""
        return bool(self.mean_low < 0 or (self.mean_low == 0 and self.mean_high > 0))

    def __str__(self) -> str:
        if not self.crossed:
            sign = "negative" if self.mean_low < 0 else "positive"
            return (
                f"{self.parameter}: no crossing in [{self.low:g}, {self.high:g}]: the mean "
                f"difference is {sign} at both ends ({self.mean_low:,.4g} at {self.low:g}, "
                f"{self.mean_high:,.4g} at {self.high:g}); {self.evaluations} evaluations"
            )
        a, b = self.interval
        band = f"{a:.4g} – {b:.4g}" if np.isfinite(a) else "not available (one replication)"
        return (
            f"{self.parameter}: break-even at {self.value:.4g} ({100 * self.level:g}% band "
            f"crosses zero over {band}); {self.evaluations} evaluations"
        )


class _Budget(Exception):
    """The evaluation budget is spent."""


class _Evaluations:
    """``paired`` at each value once: the differences, their mean and band."""

    def __init__(self, paired, level, budget, integer):
        self.paired, self.level, self.budget, self.integer = paired, level, budget, integer
        self.values: dict[float, np.ndarray] = {}
        self.rows: dict[float, tuple[float, float, float]] = {}

    def __call__(self, value: float) -> tuple[float, float, float]:
        """Mean, lower and upper end of the band at ``value``."""
        value = float(round(value)) if self.integer else float(value)
        if value not in self.rows:
            if len(self.rows) >= self.budget:
                raise _Budget
            arg = int(value) if self.integer else value
            x = np.asarray(self.paired(arg), dtype=float).ravel()
            if x.size == 0 or not np.isfinite(x).all():
                raise ParameterError(
                    "paired", f"returned {x.size} values at {arg!r}: need ≥ 1, all finite"
                )
            if self.values and x.size != len(next(iter(self.values.values()))):
                raise ParameterError("paired", "returned a different number of replications")
            self.values[value] = x
            mean, half = float(x.mean()), np.nan
            if x.size > 1:
                half = self.t() * float(x.std(ddof=1)) / math.sqrt(x.size)
            self.rows[value] = (mean, mean - half, mean + half)
        return self.rows[value]

    def t(self) -> float:
        n = len(next(iter(self.values.values())))
        from scipy import stats  # lazily: slow to import

        return float(stats.t.ppf(0.5 + self.level / 2, n - 1))

    def interpolate(self, a: float, b: float, k: int) -> float:
        """Where the mean (``k=0``), the band's lower (1) or upper (2) end crosses zero if
        every replication's difference were linear between ``a`` and ``b``: for the mean a
        secant step, for the band the root of a quadratic (mean² = t²·var/n). Exact when the
        differences are linear in the value."""
        da, db = self.values[a], self.values[b]
        m0, m1 = da.mean(), db.mean() - da.mean()
        t = -m0 / m1 if m1 != 0 else 0.5
        if k:
            n = len(da)
            c, e = da - m0, (db - db.mean()) - (da - m0)
            f = self.t() ** 2 / n / (n - 1)
            coeffs = (m1 * m1 - f * (e @ e), 2 * (m0 * m1 - f * (c @ e)), m0 * m0 - f * (c @ c))
            roots = [r.real for r in np.roots(coeffs) if abs(r.imag) < 1e-12]
            # the upper end crosses zero where the mean is negative, the lower where positive
            fits = [r for r in roots if 0 <= r <= 1 and (m0 + r * m1) * (1 if k == 1 else -1) >= 0]
            ga, gb = self.rows[a][k], self.rows[b][k]
            t = min(fits, key=lambda r: abs(r - 0.5)) if fits else ga / (ga - gb)
        return a + float(np.clip(t, 0.0, 1.0)) * (b - a)

    def table(self) -> pd.DataFrame:
        rows = [(v, *row, len(self.values[v])) for v, row in self.rows.items()]
        return pd.DataFrame(rows, columns=["value", "mean", "band_low", "band_high", "n"])


def _search(ev: _Evaluations, k: int, a: float, b: float, xtol: float) -> tuple[float, bool]:
    """A zero of the mean (``k=0``) or of a band's end (1, 2) between ``a < b``, where it
    changes sign: steps by :meth:`_Evaluations.interpolate`, a bisection instead when one end
    of the bracket has stayed twice (so that a curved function still converges), bisection
    on integers. Returns the value and whether it met the tolerance within the budget."""
    ga, gb = ev(a)[k], ev(b)[k]
    if ga == 0 or gb == 0:
        return (a if ga == 0 else b), True
    kept, last = [], None
    try:
        while b - a > (1 if ev.integer else xtol):
            if ev.integer:
                x = float((a + b) // 2)
            elif kept[-2:] in (["a", "a"], ["b", "b"]):
                x = (a + b) / 2
            else:
                x = ev.interpolate(a, b, k)
                x = x if a < x < b else (a + b) / 2
            gx = ev(x)[k]
            if gx == 0 or abs(gx) <= 1e-9 * (abs(ga) + abs(gb)):
                return x, True
            if not ev.integer and last is not None and abs(x - last) <= xtol:
                return x, True
            last = x
            if np.sign(gx) == np.sign(ga):
                a, ga = x, gx
                kept.append("b")
            else:
                b, gb = x, gx
                kept.append("a")
    except _Budget:
        return ev.interpolate(a, b, k), False
    return ev.interpolate(a, b, k), True


def _check_range(low, high) -> tuple[float, float]:
    for name, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise ParameterError(name, f"{v!r} is not a finite number")
    if not low < high:
        raise ParameterError("high", f"{high!r} must be above low ({low!r})")
    return float(low), float(high)


def break_even(
    paired: Callable[[float], np.ndarray],
    low: float,
    high: float,
    *,
    parameter: str = "value",
    level: float = 0.95,
    xtol: float | None = None,
    max_evaluations: int = 20,
    integer: bool = False,
) -> BreakEven:
    """The value in ``[low, high]`` at which the mean paired difference crosses zero.

    ``paired(value)`` returns the per-replication paired differences (alternative −
    baseline) at that value; each call is a set of simulations, so the search is economical:
    ``paired`` runs once per value (cached), first at both ends, then by a bracketing secant
    method: each step interpolates every replication's difference linearly between the two
    ends of the bracket and goes to where the mean of that line crosses zero (a bisection
    instead when one end of the bracket has stayed twice). The interval is where the band
    ``mean ± t·se`` of the paired difference contains zero: its ends are where the band's
    upper and lower ends cross zero, found the same way from the values already evaluated
    (the interpolated band crosses zero at the root of a quadratic). Both are exact after one
    step when the differences are linear in the value. Give ``paired`` the same seed at every
    value (common random numbers), so that the differences are smooth functions of the value,
    not noise. One crossing is found; the table of evaluations shows the rest.

    Args:
        paired: ``value -> array`` of paired differences, one per replication (the same
            number at every value).
        low: Lower end of the range searched.
        high: Upper end.
        parameter: Its name, for the result.
        level: Confidence level of the band.
        xtol: Tolerance on the value (default ``(high - low) / 1000``; integers: 1).
        max_evaluations: Most calls of ``paired`` (≥ 3); when spent, the last estimates are
            returned with ``converged=False``.
        integer: The parameter takes whole values: bisection on integers, the crossing
            interpolated between the two neighbours that bracket it.

    Returns:
        A :class:`BreakEven`; without a crossing in the range its ``value`` is NaN, and
        ``mean_low``, ``mean_high`` give the sign at both ends (no exception).
    """
    if not callable(paired):
        raise ParameterError("paired", "must be a function value -> array of differences")
    low, high = _check_range(low, high)
    level = _level(level)
    if (
        isinstance(max_evaluations, bool)
        or not isinstance(max_evaluations, numbers.Integral)
        or max_evaluations < 3
    ):
        raise ParameterError("max_evaluations", f"{max_evaluations!r} must be an integer ≥ 3")
    if integer:
        low, high = float(math.ceil(low)), float(math.floor(high))
        if not low < high:
            raise ParameterError("high", "the range holds fewer than two whole values")
    xtol = (high - low) / 1000 if xtol is None else xtol
    if isinstance(xtol, bool) or not isinstance(xtol, numbers.Real) or not xtol > 0:
        raise ParameterError("xtol", f"{xtol!r} must be a positive number")
    ev = _Evaluations(paired, level, int(max_evaluations), integer)
    m_lo, m_hi = ev(low)[0], ev(high)[0]

    def result(value, interval=(np.nan, np.nan), opened=(False, False), converged=True):
        return BreakEven(
            parameter,
            low,
            high,
            value,
            interval,
            opened,
            m_lo,
            m_hi,
            len(ev.rows),
            converged,
            ev.table(),
            level,
        )

    if np.sign(m_lo) == np.sign(m_hi) and m_lo != 0:
        return result(np.nan)
    value, converged = _search(ev, 0, low, high, float(xtol))
    if not np.isfinite(ev(low)[1]):  # one replication: no band
        return result(value, converged=converged)
    ends, opened = [], []
    # the band's upper end (k=2) crosses zero where the mean is negative, the lower end (k=1)
    # where it is positive; without a crossing the band contains zero up to that end
    for k, end in ((2, low if m_lo < 0 else high), (1, high if m_lo < 0 else low)):
        points = sorted(ev.rows)
        g = [ev.rows[p][k] for p in points]
        pairs = [
            (points[i], points[i + 1])
            for i in range(len(points) - 1)
            if np.sign(g[i]) != np.sign(g[i + 1]) or g[i] == 0
        ]
        if not pairs:
            ends.append(end)
            opened.append(True)
            continue
        a, b = min(pairs, key=lambda p: abs((p[0] + p[1]) / 2 - value))
        x, ok = _search(ev, k, a, b, float(xtol))
        ends.append(x)
        opened.append(False)
        converged = converged and ok
    order = np.argsort(ends)
    interval = (float(ends[order[0]]), float(ends[order[1]]))
    return result(value, interval, (opened[order[0]], opened[order[1]]), converged)


def _target_policies(policies, baseline, target) -> tuple[list, int, int]:
    """The resolved policies, the baseline's and the alternative's positions."""
    from ..financing import resolve_policy
    from ..replication import default_baseline

    resolved = [resolve_policy(p) for p in policies]
    if len(resolved) != 2 or any(p is None for p in resolved):
        raise ParameterError("policies", "give two policies: a baseline and an alternative")
    names = [p.name for p in resolved]
    base = default_baseline(resolved) if baseline is None else baseline
    if base not in names or names[0] == names[1]:
        raise ParameterError("baseline", f"{base!r} must be one of two distinct names: {names}")
    at = names.index(base)
    return resolved, at, 1 - at


def _declared(path: str, section, owner: str) -> tuple[tuple | None, bool]:
    """The plausible range declared for a path into ``section`` (``None``: none declared) and
    whether it takes whole values; refuses a path that is not a number of ``owner``."""
    value = section.to_dict()
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        raise ParameterError("parameter", f"{path!r} is not a parameter of {owner}")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError("parameter", f"{path!r} is not a numeric parameter of {owner}")
    rows = {r["parameter"]: r["plausible"] for r in section.assumptions(prefix="")}
    return (tuple(rows[path]) if path in rows else None), isinstance(value, int)


def paired_difference(comparison, output: str, alternative: str, baseline: str) -> np.ndarray:
    """Per replication, in replication order: ``alternative − baseline`` in ``output`` (a
    column of the comparison's runs)."""
    runs = comparison.runs.sort_values("replication")
    if output not in runs.columns:
        raise ParameterError("output", f"{output!r} is not a column of the comparison's runs")
    by = {n: runs.loc[runs["policy"] == n, output].to_numpy(float) for n in (alternative, baseline)}
    return by[alternative] - by[baseline]


def break_even_for(
    parameter: str,
    policies: Sequence = ("supply-driven", "demand-driven"),
    scenario=None,
    *,
    low: float | None = None,
    high: float | None = None,
    output: str = "cost_external_total",
    target: str = "alternative",
    replications: int = 5,
    seed=0,
    months: int = 60,
    baseline: str | None = None,
    **options,
) -> BreakEven:
    """The break-even value of one parameter in a comparison of two policies, the rest at
    their defaults.

    Each evaluation is a :func:`~vraagvolgend.comparison.compare` of the two policies with
    the parameter set to the value, on the same seed at every value (common random numbers:
    the mean difference is then a smooth function of the value), and its result is the
    per-replication difference ``alternative − baseline`` in ``output``.

    Args:
        parameter: ``policy.<path>`` for a policy parameter (set on the policy named by
            ``target``), otherwise a scenario path (``access.conversation_cost``; a leading
            ``scenario.`` is allowed), as :meth:`~vraagvolgend.parameters.Section.with_changes`
            takes it.
        policies: Two policies (objects or names).
        scenario: The scenario (default: :meth:`Scenario.default`).
        low: Lower end of the search (default: the declared plausible range).
        high: Upper end (default: the declared plausible range).
        output: A column of the comparison's runs (``cost_<line>`` or an outcome).
        target: For a policy parameter, which policy gets the value: ``"alternative"``
            (default), ``"baseline"`` or ``"both"``.
        replications: Replications per evaluation (≥ 2 for an interval).
        seed: Root seed, the same at every value.
        months: Months per run.
        baseline: The baseline's name (default as in :func:`compare`).
        **options: Passed to :func:`break_even` (``level``, ``xtol``, ``max_evaluations``)
            and to :func:`compare` (``executor``, ``workers``, ``burn_in`` …).

    Returns:
        A :class:`BreakEven` named ``parameter``.
    """
    from ..comparison import compare
    from ..scenario import Scenario

    if not isinstance(parameter, str) or not parameter.strip("."):
        raise ParameterError("parameter", f"{parameter!r} is not a parameter path")
    if target not in ("alternative", "baseline", "both"):
        raise ParameterError("target", f"{target!r}: one of alternative, baseline, both")
    resolved, at, alt = _target_policies(policies, baseline, target)
    scenario = Scenario.default() if scenario is None else scenario
    targets = {"alternative": [alt], "baseline": [at], "both": [at, alt]}[target]
    if parameter.startswith("policy."):
        path = parameter.removeprefix("policy.")
        for i in targets:  # the range is the alternative's, for "both"
            plausible, integer = _declared(path, resolved[i], f"policy {resolved[i].name!r}")
    else:
        path = parameter.removeprefix("scenario.")
        plausible, integer = _declared(path, scenario, "the scenario")
    if low is None or high is None:
        if plausible is None:
            raise ParameterError(
                "low", f"{parameter!r} declares no plausible range: give low and high"
            )
        low = plausible[0] if low is None else low
        high = plausible[1] if high is None else high
    search = {k: options.pop(k) for k in ("level", "xtol", "max_evaluations") if k in options}
    options.setdefault("progress", False)
    names = [p.name for p in resolved]

    def paired(value) -> np.ndarray:
        s, ps = scenario, list(resolved)
        if parameter.startswith("policy."):
            for i in targets:
                ps[i] = ps[i].with_changes({path: value})
        else:
            s = scenario.with_changes({path: value})
        c = compare(
            ps, s, replications=replications, seed=seed, months=months,
            baseline=names[at], **options,
        )  # fmt: skip
        return paired_difference(c, output, names[alt], names[at])

    return break_even(paired, low, high, parameter=parameter, integer=integer, **search)
