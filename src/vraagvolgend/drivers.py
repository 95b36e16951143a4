"""What decides the answer: the drivers of a difference, its break-even values and where it holds.

Pure analysis of a table of parameter draws (one row per draw, or per draw and replication
with a ``replication`` column), whatever made it:

* :func:`sensitivity`: which inputs explain the spread of a difference (alternative − baseline)
  across the draws, with bootstrap intervals;
* :func:`break_even` and :func:`break_even_for`: the value of one parameter at which the mean
  paired difference crosses zero, the rest at their defaults, with the interval where the 95%
  band of the paired difference contains zero;
* :func:`discover`: a short rule (a box found by PRIM) for the draws in which the alternative is
  cheaper, with its coverage and density;
* :func:`explain`: two to four plain sentences for a policy adviser.

Parameters are named by their dotted path: a scenario parameter as in
:meth:`~vraagvolgend.scenario.Scenario.with_changes` (``access.conversation_cost``,
``problems.onset_rate.work``; a leading ``scenario.`` is allowed), a policy parameter behind
``policy.`` (``policy.conversation_factor``).

Example:
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> draws = pd.DataFrame({"a": rng.random(300), "b": rng.random(300)})
    >>> draws["cost"] = 10 * draws["a"] - 3 + rng.normal(0, 0.1, 300)
    >>> table = sensitivity(draws, ["a", "b"], "cost", bootstrap=200)
    >>> table.loc[0, "parameter"], bool(table.loc[1, "high"] < 0.05)
    ('a', True)
    >>> b = break_even(lambda v: np.array([2.0 * v - 1.0, 2.0 * v - 0.9]), 0.0, 1.0)
    >>> round(b.value, 3)
    0.475
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .parameters import ParameterError

__all__ = [
    "BreakEven",
    "Limit",
    "Rule",
    "break_even",
    "break_even_for",
    "discover",
    "explain",
    "parameter_label",
    "sensitivity",
]

#: The method of :func:`sensitivity`, as named in its table.
METHOD = "squared standardised rank regression coefficient (SRRC²), bootstrap interval"

#: Columns of a draws table that are never inputs.
BOOKKEEPING = frozenset({"draw", "replication", "policy", "point", "seed"})


# --- the draws ------------------------------------------------------------------------------------


def _frame(draws, name: str = "draws") -> pd.DataFrame:
    if not isinstance(draws, pd.DataFrame):
        raise ParameterError(name, f"must be a pandas DataFrame, got {type(draws).__name__}")
    if draws.empty:
        raise ParameterError(name, "is empty: give at least one row per parameter draw")
    return draws


def _columns(draws: pd.DataFrame, names, what: str) -> list[str]:
    names = [names] if isinstance(names, str) else list(names)
    missing = [n for n in names if n not in draws.columns]
    if missing:
        raise ParameterError(
            what, f"{missing[0]!r} is not a column of draws: one of {', '.join(map(str, draws))}"
        )
    return names


def _inputs(draws: pd.DataFrame, inputs, output: str | None) -> list[str]:
    """The input columns: given, else ``draws.attrs["inputs"]``, else every column named by a
    dotted path (``policy.x``, ``access.y``) except ``output``."""
    if inputs is None:
        inputs = draws.attrs.get("inputs")
    if inputs is None:
        inputs = [c for c in draws.columns if "." in str(c) and c != output]
    inputs = _columns(draws, inputs, "inputs")
    if not inputs:
        raise ParameterError("inputs", "no input columns: name them (columns of draws)")
    if output in inputs:
        raise ParameterError("inputs", f"{output!r} is the output, not an input")
    return inputs


def _per_draw(draws: pd.DataFrame, inputs: list[str], output: str | None) -> pd.DataFrame:
    """One row per draw: with a ``replication`` column, the output's mean over replications
    (grouped by ``draw`` when there is one, else by the inputs' values)."""
    if "replication" not in draws.columns or output is None:
        return draws.reset_index(drop=True)
    keys = ["draw"] if "draw" in draws.columns else inputs
    groups = draws.groupby(keys, sort=False, dropna=False)
    if keys == inputs:
        return groups[output].mean().reset_index()
    return pd.concat([groups[inputs].first(), groups[output].mean()], axis=1).reset_index()


def _numeric(column: pd.Series) -> np.ndarray:
    """A column as numbers: booleans 0/1, text and categories as codes in sorted order."""
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(dtype=float)
    values = column.astype(str)
    return values.map({v: i for i, v in enumerate(sorted(values.unique()))}).to_numpy(dtype=float)


def _level(level: float) -> float:
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ParameterError("level", f"{level!r} must be a number between 0 and 1 (exclusive)")
    return float(level)


# --- global sensitivity ---------------------------------------------------------------------------


def _standardise(a: np.ndarray) -> np.ndarray:
    """Columns to mean 0 and standard deviation 1 (a constant column to 0)."""
    sd = a.std(axis=0)
    return (a - a.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def _srrc(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Standardised regression coefficients of rank(y) on the ranks of the inputs (a
    constant input gets 0) and the regression's R²."""
    zx = _standardise(stats.rankdata(x, axis=0))
    zy = _standardise(stats.rankdata(y))
    if not zy.any() or not zx.any():
        return np.zeros(x.shape[1]), 0.0
    beta = np.linalg.lstsq(zx, zy, rcond=None)[0]
    beta[~zx.any(axis=0)] = 0.0
    residual = zy - zx @ beta
    return beta, float(1 - residual @ residual / (zy @ zy))


def sensitivity(
    draws: pd.DataFrame,
    inputs: Sequence[str] | None,
    output: str,
    *,
    bootstrap: int = 500,
    level: float = 0.95,
    seed=0,
) -> pd.DataFrame:
    """Which inputs explain the spread of a difference across parameter draws.

    The estimator is the squared standardised rank regression coefficient (SRRC²): rank the
    output and every input, standardise, regress, square each coefficient. For independent
    inputs (a Latin hypercube) it is the share of the variance of the output's ranks that the
    input explains, and the shares add up to the rank regression's R² (``attrs["r2"]``: how
    much of the spread a monotone additive model accounts for; low means interactions or
    non-monotone effects the index misses). Why this and not Sobol or delta: the draws are
    given data from a space-filling design, not a Saltelli design, so Sobol indices cannot be
    estimated; SALib's delta moment-independent estimator (1.6) takes seconds per few hundred
    draws and is biased upward for an input without effect (about 0.05–0.1 at 400 draws), so
    its interval does not reach 0 where it should. SRRC² is fast, robust to outliers and to
    monotone non-linearity, and unbiased near 0.

    The interval is a percentile bootstrap of the signed coefficient (draws resampled and
    ranked again), squared: when the coefficient's interval contains 0 the index's interval
    is ``[0, max(low², high²)]``, so an input without effect gets an interval from 0.

    Args:
        draws: One row per draw (or per draw and ``replication``: the output is averaged over
            replications first, per ``draw`` if that column exists, else per set of input
            values). Text and boolean inputs are coded as numbers in sorted order (a
            two-valued choice is then exact; for more values the order is arbitrary).
        inputs: Input columns (``None``: ``draws.attrs["inputs"]``, else every column named
            by a dotted path).
        output: The difference column, e.g. ``"cost_total"``.
        bootstrap: Bootstrap resamples for the intervals (≥ 50).
        level: Confidence level of the intervals.
        seed: Seed of the bootstrap (an int, ``SeedSequence`` or ``Generator``).

    Returns:
        One row per input, most influential first: ``parameter``, ``index`` (SRRC²),
        ``low``, ``high`` (its interval), ``rank`` (1 = most influential), ``coefficient``
        (signed SRRC: positive when a higher value raises the difference) and ``method``;
        ``attrs`` holds ``method``, ``r2``, ``n`` (draws), ``output``, ``level``, ``bootstrap``.
    """
    draws = _frame(draws)
    (output,) = _columns(draws, [output], "output")
    inputs = _inputs(draws, inputs, output)
    level = _level(level)
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, numbers.Integral) or bootstrap < 50:
        raise ParameterError("bootstrap", f"{bootstrap!r} must be an integer ≥ 50")
    data = _per_draw(draws, inputs, output)
    y = data[output].to_numpy(dtype=float)
    x = np.column_stack([_numeric(data[c]) for c in inputs])
    ok = np.isfinite(y) & np.isfinite(x).all(axis=1)
    x, y = x[ok], y[ok]
    n, d = x.shape
    if n < d + 10:
        raise ParameterError(
            "draws", f"{n} usable draws for {d} inputs: need at least {d + 10} (inputs + 10)"
        )
    beta, r2 = _srrc(x, y)
    rng = np.random.default_rng(seed)
    boot = np.empty((bootstrap, d))
    for b in range(bootstrap):
        i = rng.integers(0, n, n)
        boot[b] = _srrc(x[i], y[i])[0]
    tail = 100 * (1 - level) / 2
    lo, hi = np.percentile(boot, [tail, 100 - tail], axis=0)
    contains = (lo <= 0) & (hi >= 0)
    low = np.where(contains, 0.0, np.minimum(lo**2, hi**2))
    high = np.maximum(lo**2, hi**2)
    table = pd.DataFrame(
        {
            "parameter": inputs,
            "index": beta**2,
            "low": low,
            "high": high,
            "coefficient": beta,
            "method": "srrc2",
        }
    ).sort_values("index", ascending=False, kind="stable")
    table.insert(4, "rank", np.arange(1, d + 1))
    table = table.reset_index(drop=True)
    table.attrs.update(method=METHOD, r2=r2, n=n, output=output, level=level, bootstrap=bootstrap)
    return table


# --- break-even values ----------------------------------------------------------------------------


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
    from .financing import resolve_policy
    from .replication import default_baseline

    resolved = [resolve_policy(p) for p in policies]
    if len(resolved) != 2 or any(p is None for p in resolved):
        raise ParameterError("policies", "give two policies: a baseline and an alternative")
    names = [p.name for p in resolved]
    base = default_baseline(resolved) if baseline is None else baseline
    if base not in names or names[0] == names[1]:
        raise ParameterError("baseline", f"{base!r} must be one of two distinct names: {names}")
    at = names.index(base)
    return resolved, at, 1 - at


def _declared_range(parameter: str, scenario, policy) -> tuple[tuple | None, str]:
    """The plausible range declared for a parameter path and its kind (``float``, ``int``…)."""
    if parameter.startswith("policy."):
        section, path = policy, parameter.removeprefix("policy.")
    else:
        section, path = scenario, parameter.removeprefix("scenario.")
    rows = {r["parameter"]: r for r in section.assumptions(prefix="")}
    row = rows.get(path)
    kind = "float"
    value = section.to_dict()
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, bool) or value is None:
        kind = "other"
    elif isinstance(value, int):
        kind = "int"
    return (tuple(row["plausible"]) if row else None), kind


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
    from .comparison import compare
    from .scenario import Scenario

    if not isinstance(parameter, str) or not parameter.strip("."):
        raise ParameterError("parameter", f"{parameter!r} is not a parameter path")
    if target not in ("alternative", "baseline", "both"):
        raise ParameterError("target", f"{target!r}: one of alternative, baseline, both")
    resolved, at, alt = _target_policies(policies, baseline, target)
    scenario = Scenario.default() if scenario is None else scenario
    targets = {"alternative": [alt], "baseline": [at], "both": [at, alt]}[target]
    plausible, kind = _declared_range(parameter, scenario, resolved[targets[-1]])
    if kind == "other":
        raise ParameterError("parameter", f"{parameter!r} is not a numeric parameter")
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
            path = parameter.removeprefix("policy.")
            for i in targets:
                ps[i] = ps[i].with_changes({path: value})
        else:
            s = scenario.with_changes({parameter.removeprefix("scenario."): value})
        c = compare(
            ps, s, replications=replications, seed=seed, months=months,
            baseline=names[at], **options,
        )  # fmt: skip
        runs = c.runs.sort_values("replication")
        if output not in runs.columns:
            raise ParameterError("output", f"{output!r} is not a column of the comparison's runs")
        by = {n: runs.loc[runs["policy"] == n, output].to_numpy(float) for n in names}
        return by[names[alt]] - by[names[at]]

    return break_even(paired, low, high, parameter=parameter, integer=kind == "int", **search)


# --- scenario discovery ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    """One restriction of a rule: ``low ≤ parameter ≤ high`` (NaN: that side is free), or
    for a text input the values allowed."""

    parameter: str
    low: float = np.nan
    high: float = np.nan
    values: tuple = ()

    def holds(self, column: pd.Series) -> np.ndarray:
        """Whether each value of ``column`` satisfies the restriction."""
        if self.values:
            return column.astype(str).isin([str(v) for v in self.values]).to_numpy()
        x = column.to_numpy(dtype=float)
        ok = np.ones(len(x), dtype=bool)
        if np.isfinite(self.low):
            ok &= x >= self.low
        if np.isfinite(self.high):
            ok &= x <= self.high
        return ok

    def text(self, labels: bool = False) -> str:
        """``name ≤ 200``, ``name ≥ 0.6``, ``0.2 ≤ name ≤ 0.4``, ``name is a or b``; with
        ``labels``, in words (``… is below €200``), the parameter's label, values in its unit."""
        name = parameter_label(self.parameter) if labels else self.parameter
        show = functools.partial(_value_text, self.parameter) if labels else (lambda v: f"{v:.4g}")
        if self.values:
            return f"{name} is {' or '.join(map(str, self.values))}"
        if np.isfinite(self.low) and np.isfinite(self.high):
            if labels:
                return f"{name} is between {show(self.low)} and {show(self.high)}"
            return f"{show(self.low)} ≤ {name} ≤ {show(self.high)}"
        if np.isfinite(self.high):
            return f"{name} is below {show(self.high)}" if labels else f"{name} ≤ {show(self.high)}"
        return f"{name} is above {show(self.low)}" if labels else f"{name} ≥ {show(self.low)}"


@dataclass(frozen=True)
class Rule:
    """Where an outcome holds: a box of parameter values found by PRIM.

    Attributes:
        limits: The restrictions (only the parameters the box restricts).
        coverage: Share of the draws with the outcome that the box holds.
        density: Share of the draws in the box that have the outcome.
        mass: Share of all draws in the box.
        base_rate: Share of all draws with the outcome.
        n: Draws in the box.
        outcome: What holds inside, in words (``"cheaper"``).
    """

    limits: tuple[Limit, ...]
    coverage: float
    density: float
    mass: float
    base_rate: float
    n: int
    outcome: str = "cheaper"

    def holds(self, draws: pd.DataFrame) -> np.ndarray:
        """Whether each row of ``draws`` lies in the box."""
        ok = np.ones(len(draws), dtype=bool)
        for limit in self.limits:
            ok &= limit.holds(draws[limit.parameter])
        return ok

    def text(self, labels: bool = False) -> str:
        """The restrictions joined by "and" (``labels``: for people)."""
        if not self.limits:
            return "whatever the parameters"
        return " and ".join(limit.text(labels) for limit in self.limits)

    def __str__(self) -> str:
        return (
            f"{self.outcome} when {self.text()} (coverage {self.coverage:.0%}, "
            f"density {self.density:.0%}, {self.n} draws)"
        )


def _prim():
    try:
        with warnings.catch_warnings():  # it warns about optional evaluators on import
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import prim
    except ImportError:
        raise ImportError(
            "scenario discovery needs ema_workbench: pip install 'vraagvolgend[ema]'"
        ) from None
    return prim


def discover(
    draws: pd.DataFrame,
    inputs: Sequence[str] | None = None,
    cheaper=None,
    *,
    output: str | None = None,
    max_restrictions: int = 3,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
    outcome: str = "cheaper",
) -> Rule:
    """A short rule for the draws in which the outcome holds (PRIM, from ema_workbench).

    PRIM peels the box of all draws a slice at a time, keeping the draws with the outcome;
    of its peeling trajectory the box with the best balance of coverage and density (their
    harmonic mean, the F-score) among those restricting at most ``max_restrictions``
    parameters is chosen, and reported by its restricted parameters only.

    Args:
        draws: One row per draw (or per draw and ``replication``: the output is averaged
            over replications first, as in :func:`sensitivity`).
        inputs: Input columns (``None``: as in :func:`sensitivity`).
        cheaper: One boolean per row of ``draws`` (after averaging: per draw); default
            ``draws[output] < 0`` (the alternative cheaper).
        output: The difference column, for the default ``cheaper`` and for averaging.
        max_restrictions: Most parameters the rule names (1–10).
        peel_alpha: Share of draws peeled per step (0–0.5).
        mass_min: Smallest share of draws in the box (0–1).
        outcome: What holds, in words, for the rule's text.

    Returns:
        A :class:`Rule`.
    """
    draws = _frame(draws)
    if output is not None:
        (output,) = _columns(draws, [output], "output")
    inputs = _inputs(draws, inputs, output)
    if isinstance(max_restrictions, bool) or not isinstance(max_restrictions, numbers.Integral):
        raise ParameterError("max_restrictions", f"{max_restrictions!r}: an integer 1–10")
    if not 1 <= max_restrictions <= 10:
        raise ParameterError("max_restrictions", f"{max_restrictions!r}: an integer 1–10")
    if not (isinstance(peel_alpha, numbers.Real) and 0 < peel_alpha < 0.5):
        raise ParameterError("peel_alpha", f"{peel_alpha!r} must be between 0 and 0.5")
    if not (isinstance(mass_min, numbers.Real) and 0 < mass_min < 1):
        raise ParameterError("mass_min", f"{mass_min!r} must be between 0 and 1")
    if cheaper is None:
        if output is None:
            raise ParameterError("cheaper", "give cheaper (one boolean per draw) or output")
        data = _per_draw(draws, inputs, output)
        y = data[output].to_numpy(dtype=float) < 0
    else:
        data = draws.reset_index(drop=True)
        y = np.asarray(cheaper)
        if y.dtype != bool or y.shape != (len(data),):
            raise ParameterError(
                "cheaper", f"must be {len(data)} booleans (one per row of draws), got {y.shape}"
            )
    if y.all() or not y.any():
        share = float(y.mean())
        return Rule((), float(y.any()), share, 1.0, share, len(y), outcome)
    x = pd.DataFrame(
        {
            c: data[c].astype(float)
            if pd.api.types.is_numeric_dtype(data[c]) and not pd.api.types.is_bool_dtype(data[c])
            else data[c].astype(str).astype("category")
            for c in inputs
        }
    )
    prim = _prim()
    with warnings.catch_warnings():  # the workbench (3.0) uses pandas' deprecated inplace=
        warnings.filterwarnings("ignore", message="The inplace keyword")
        box = prim.Prim(x, y.astype(int), peel_alpha=peel_alpha, mass_min=mass_min).find_box()
    trajectory = box.peeling_trajectory
    fits = trajectory[trajectory["res_dim"] <= max_restrictions]
    score = 2 * fits["coverage"] * fits["density"] / (fits["coverage"] + fits["density"])
    best = int(score.idxmax())
    first, lims = box.box_lims[0], box.box_lims[best]
    limits = []
    for c in inputs:
        if isinstance(x[c].dtype, pd.CategoricalDtype):
            if lims[c][0] != first[c][0]:
                limits.append(Limit(c, values=tuple(sorted(lims[c][0]))))
            continue
        lo, hi = float(lims[c][0]), float(lims[c][1])
        lo = lo if lo > float(first[c][0]) else np.nan
        hi = hi if hi < float(first[c][1]) else np.nan
        if np.isfinite(lo) or np.isfinite(hi):
            limits.append(Limit(c, lo, hi))
    row = trajectory.loc[best]
    return Rule(
        tuple(limits),
        float(row["coverage"]),
        float(row["density"]),
        float(row["mass"]),
        float(y.mean()),
        int(row["n"]),
        outcome,
    )


# --- plain language -------------------------------------------------------------------------------

#: Short labels for the parameters a policy adviser meets most; others come from declarations.
LABELS = {
    "access.conversation_cost": "the price of an access conversation",
    "policy.conversation_factor": "how many ordinary conversations an integrated one costs",
    "policy.reference_severity": "the severity at which a plan gives the standard package",
    "policy.exit_lag_months": "the months a goal must hold before care ends",
    "policy.review_months": "the months between reviews of a plan",
    "policy.review_factor": "the cost of a review, in conversations",
    "policy.max_parallel": "how many problems a plan treats at once",
}


@functools.cache
def _declarations() -> dict[str, str]:
    """Every declared parameter path and what it means (scenario and both regimes)."""
    from .regimes import DemandDriven, SupplyDriven
    from .scenario import Scenario

    rows = Scenario.default().provenance()
    rows += SupplyDriven().provenance("policy") + DemandDriven().provenance("policy")
    return {r["parameter"]: r["meaning"] for r in rows}


def _meaning(parameter: str) -> str:
    """The declared meaning of a path, or of the table it is an entry of (``…onset_rate.work``
    → the onset rate's meaning, for work)."""
    path = parameter if parameter.startswith("policy.") else parameter.removeprefix("scenario.")
    known = _declarations()
    if path in known:
        return known[path]
    head, _, key = path.rpartition(".")
    if head in known:
        return f"{known[head]} ({key.replace('_', ' ')})"
    return ""


def _unit(parameter: str) -> str:
    """``"EUR"``, ``"months"`` or ``""``, from the declared meaning and the name."""
    meaning, name = _meaning(parameter), parameter.rsplit(".", 1)[-1]
    if "(EUR" in meaning or name.startswith("cost") or name.endswith(("_cost", "_price")):
        return "EUR"
    if name.endswith("_months") or meaning.startswith("months"):
        return "months"
    return ""


def parameter_label(parameter: str, labels: Mapping[str, str] | None = None) -> str:
    """A short phrase for a parameter path, for sentences: ``labels`` first, then
    :data:`LABELS`, then the declared meaning (its unit in brackets dropped), else the name.

    Example:
        >>> parameter_label("access.conversation_cost")
        'the price of an access conversation'
        >>> parameter_label("policy.min_intensity")
        'smallest package intensity'
    """
    for table in (labels or {}, LABELS):
        for name in (parameter, parameter.removeprefix("scenario.")):
            if name in table:
                return table[name]
    meaning = _meaning(parameter)
    if meaning:
        return meaning.replace(" (EUR)", "").split(";")[0]
    return parameter.rsplit(".", 1)[-1].replace("_", " ")


def _about(x: float) -> float:
    """``x`` to two significant figures."""
    if x == 0 or not np.isfinite(x):
        return x
    return round(x, 1 - math.floor(math.log10(abs(x))))


def _value_text(parameter: str, x: float) -> str:
    """A value of a parameter for a sentence: euros as ``€200``, months, plain numbers."""
    from .vocabulary import format_number

    v = _about(x)
    unit = _unit(parameter)
    if unit == "EUR":
        return f"€{format_number(v, 0 if abs(v) >= 10 else 2)}"
    text = format_number(v, 0 if abs(v) >= 10 else None).rstrip("0").rstrip(".")
    return f"{text} months" if unit == "months" else text


def _words(output: str) -> tuple[int, str, str]:
    """The sign of a good difference; what it does when good, and when not, in words."""
    from .outputs import OUTCOMES

    if output in OUTCOMES and OUTCOMES[output].better is not None:
        good = -1 if OUTCOMES[output].better == "lower" else 1
        return good, "leaves households better off", "does not leave households better off"
    return -1, "saves money", "does not save money"


def _crossing(b: BreakEven, good: int, label: str) -> tuple[bool | None, str, str]:
    """Whether the good side is below the break-even, the break-even value and its interval,
    in words; without a crossing ``None``, the range and ``"good"`` or ``"bad"``."""
    value = functools.partial(_value_text, b.parameter)
    if not b.crossed:
        verdict = "good" if np.sign(b.mean_low) == good else "bad"
        return None, f"{label} from {value(b.low)} to {value(b.high)}", verdict
    a, c = b.interval
    note = ""
    if np.isfinite(a):
        if b.open[0] and b.open[1]:
            note = f" (not pinned down within {value(b.low)}–{value(b.high)} at 95%)"
        elif b.open[0]:
            note = f" (95% interval: up to {value(c)})"
        elif b.open[1]:
            note = f" (95% interval: from {value(a)})"
        else:
            note = f" (95% interval {value(a)}–{value(c)})"
    return b.negative_below == (good < 0), value(b.value), note


def explain(
    sensitivity: pd.DataFrame | None = None,
    break_evens: Sequence[BreakEven] = (),
    rule: Rule | None = None,
    *,
    alternative: str = "demand-driven",
    output: str = "cost_external_total",
    labels: Mapping[str, str] | None = None,
) -> str:
    """Two to four sentences for a policy adviser: what decides the answer, the break-even
    values and where the alternative wins.

    Args:
        sensitivity: A table of :func:`sensitivity` (its ``attrs["output"]`` overrides
            ``output``); drivers are the inputs whose interval excludes 0.
        break_evens: Results of :func:`break_even` (the first two are told).
        rule: A rule of :func:`discover`.
        alternative: The alternative's name, as the sentences call it.
        output: The difference explained: a cost (negative: saves money) or an outcome of
            :mod:`vraagvolgend.outputs` (its direction says what is better).
        labels: Labels of your own for parameter paths.

    Example:
        >>> b = break_even(lambda v: v - np.array([205.0, 200.0, 195.0]), 150, 500,
        ...                parameter="access.conversation_cost")
        >>> print(explain(break_evens=[b]))  # doctest: +NORMALIZE_WHITESPACE
        Demand-driven saves money when the price of an access conversation is below about €200,
        not above it (95% interval €190–€210).
    """
    if sensitivity is not None:
        output = sensitivity.attrs.get("output", output)
    good, does, does_not = _words(output)
    label = functools.partial(parameter_label, labels=labels)
    sentences, driver, others = [], None, []
    if sensitivity is not None and len(sensitivity):
        strong = sensitivity[sensitivity["low"] > 0].head(3)
        if strong.empty:
            sentences.append(f"no single assumption clearly decides whether {alternative} {does}")
        else:
            driver = strong.iloc[0]["parameter"]
            share = round(100 * strong.iloc[0]["index"])
            sentences.append(
                f"whether {alternative} {does} depends mostly on {label(driver)} "
                f"(about {share}% of its spread over the draws)"
            )
            others = [label(p) for p in strong["parameter"].iloc[1:]]
    short = " ".join(does_not.split()[:2])  # "does not"
    for b in break_evens[:2]:
        below, value, note = _crossing(b, good, label(b.parameter))
        if below is None:
            verb = does if note == "good" else does_not
            sentences.append(f"{alternative} {verb} for any {value}")
        elif b.parameter == driver and ": below" not in sentences[0]:
            lower, upper = (does, short) if below else (short, does)
            sentences[0] += f": below about {value} it {lower}, above it {upper}{note}"
        else:
            where, other = ("below", "above") if below else ("above", "below")
            sentences.append(
                f"{alternative} {does} when {label(b.parameter)} is {where} about {value}, "
                f"not {other} it{note}"
            )
    if others:
        sentences.insert(1, "it also depends on " + " and ".join(others))
    if rule is not None:
        text = f"it {does} in {rule.base_rate:.0%} of the draws"
        if rule.limits:
            text += (
                f"; it does so in {rule.density:.0%} of those where {rule.text(labels=True)}, "
                f"which hold {rule.coverage:.0%} of all the draws in which it {does}"
            )
        sentences.append(text)
    return " ".join(s[0].upper() + s[1:] + "." for s in sentences[:4])
