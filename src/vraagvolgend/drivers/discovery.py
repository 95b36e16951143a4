"""Scenario discovery: a short rule (a PRIM box, from ema_workbench) for the draws in which
the alternative wins, with its coverage and density."""

from __future__ import annotations

import functools
import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..parameters import ParameterError
from .indices import _columns, _frame, _inputs, _per_draw
from .sentences import _value_text, parameter_label

__all__ = ["Limit", "Rule", "discover"]


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
    """The workbench's PRIM module (a one-line error naming the extra when it is missing)."""
    from ..ema import _import_workbench

    _import_workbench()
    with warnings.catch_warnings():  # its interactive inspection is optional (altair)
        warnings.simplefilter("ignore", ImportWarning)
        from ema_workbench.analysis import prim
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
        cheaper: One boolean per row of ``draws`` (then rows are not averaged); default
            ``draws[output] < 0`` per draw (the alternative cheaper).
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
