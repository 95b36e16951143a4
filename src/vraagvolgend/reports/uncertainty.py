"""The report's section "How sure is the answer?": the probabilistic comparison in plain words.

For a policy adviser: the probability that the alternative is cheaper and that it leaves
households worse off, the interval over both sources of uncertainty beside the simulation-only
one, the cost-effectiveness plane, the drivers, their break-even values and where the
alternative wins (:mod:`vraagvolgend.drivers`), and which parameters were varied.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import outputs as _outputs
from ..draws import QUADRANTS
from .numbers import PAGE_WIDTH_IN, fmt_millions

__all__ = ["lead", "plane_figure", "uncertainty_context"]

#: The plane's second panel: households with 3+ problems (the issue's "stacking" outcome).
SECOND = "share_3plus_problems"


def _paragraphs(result, name: str) -> list[str]:
    """The section's opening paragraphs: the probabilities and the two intervals."""
    h = result.headline(name)
    cost, primary = h["cost"], _outputs.OUTCOMES[_outputs.PRIMARY]
    info = result.info
    p_cheaper, p_worse = h["probability_cheaper"], h["probability_worse"]
    first = (
        f"Over {info['draws']} sets of assumptions drawn from their plausible ranges, the "
        f"probability that '{name}' is cheaper than '{result.baseline}' is "
        f"{p_cheaper:.0%}, and the probability that it leaves households worse off "
        f"({primary.label.lower()}) is {p_worse:.0%}."
    )
    second = (
        f"Its difference in external social-domain cost lies between "
        f"{fmt_millions(cost['low'], True)} and {fmt_millions(cost['high'], True)} million euro a "
        f"year in 95% of the draws (parameters and simulation noise together; median "
        f"{fmt_millions(cost['median'], True)} million). At the default assumptions it is "
        f"{fmt_millions(cost['at_defaults'], True)} million, with a 95% interval of "
        f"{fmt_millions(cost['simulation_low'], True)} to "
        f"{fmt_millions(cost['simulation_high'], True)} million from simulation noise alone: "
        "the narrower interval holds only if every assumption is right."
    )
    return [first, second]


def _quadrant_table(result, name: str) -> pd.DataFrame:
    shares = result.quadrants(name)
    second = result.quadrants(name, SECOND) if SECOND in result.draws.columns else None
    rows = []
    for q in QUADRANTS:
        row = {"quadrant": q, "mean severity": f"{shares[q]:.0%}"}
        if second is not None:
            row["households with 3+ problems"] = f"{second[q]:.0%}"
        rows.append(row)
    return pd.DataFrame(rows)


def _sensitivity_table(drivers) -> pd.DataFrame:
    s = drivers.sensitivity.sort_values("rank").head(8)
    labels = drivers.labels()
    return pd.DataFrame(
        {
            "parameter": s["parameter"],
            "meaning": [labels[p] for p in s["parameter"]],
            "share of the spread": [f"{x:.0%}" for x in s["index"]],
            "95% interval": [
                f"{lo:.0%} – {hi:.0%}" for lo, hi in zip(s["low"], s["high"], strict=True)
            ],
            "direction": [
                "raises the difference" if c > 0 else "lowers the difference"
                for c in s["coefficient"]
            ],
        }
    )


def _number(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "—"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _break_even_table(drivers) -> pd.DataFrame | None:
    if not drivers.break_evens:
        return None
    rows = []
    for b in drivers.break_evens:
        rows.append(
            {
                "parameter": b.parameter,
                "break-even value": _number(b.value) if b.crossed else "no crossing",
                "95% interval": (
                    f"{_number(b.interval[0])} – {_number(b.interval[1])}" if b.crossed else "—"
                ),
                "range searched": f"{_number(b.low)} – {_number(b.high)}",
                "difference at its ends (EUR M)": (
                    f"{fmt_millions(b.mean_low, True)} / {fmt_millions(b.mean_high, True)}"
                ),
                "evaluations": b.evaluations,
            }
        )
    return pd.DataFrame(rows)


def _varied_text(result) -> str:
    names = list(dict.fromkeys(result.inputs["input"]))
    fixed = list(result.fixed["parameter"]) if len(result.fixed) else []
    text = f"Varied ({len(names)}): " + ", ".join(names) + "."
    if fixed:
        text += f" Declared with a plausible range but kept at their values ({len(fixed)}): "
        text += ", ".join(fixed) + "."
    return text


def uncertainty_context(comparison, table) -> dict | None:
    """What the report's templates need for the section, or ``None`` without an analysis.

    Args:
        comparison: The comparison (its ``uncertainty`` may be ``None``).
        table: The report's table maker (HTML and Markdown from a DataFrame).
    """
    result = getattr(comparison, "uncertainty", None)
    if result is None or result.draws.empty:
        return None
    name = result.alternative()
    drivers = getattr(result, "drivers", None)
    info = result.info
    context = {
        "alternative": name,
        "paragraphs": _paragraphs(result, name),
        "quadrants": table(_quadrant_table(result, name), text=True),
        "design": (
            f"{info['draws']} draws ({'Latin hypercube' if info['design'] == 'lhs' else 'Sobol'}"
            f" design) × {info['replications']} replication"
            f"{'s' if info['replications'] != 1 else ''}, {info['months']} months, on the "
            "replications' seeds of the comparison above."
        ),
        "varied": _varied_text(result),
        "drivers_text": None,
        "sensitivity": None,
        "break_even": None,
        "rule": None,
        "method": None,
    }
    if drivers is not None:
        evens = _break_even_table(drivers)
        context.update(
            drivers_text=drivers.text,
            sensitivity=table(_sensitivity_table(drivers), text=True),
            break_even=None if evens is None else table(evens, text=True),
            rule=None if drivers.rule is None else str(drivers.rule),
            method=(
                f"Share of the spread: {drivers.sensitivity.attrs.get('method', 'rank index')} "
                f"over {drivers.sensitivity.attrs.get('n', '?')} draws (together "
                f"{drivers.sensitivity.attrs.get('r2', float('nan')):.0%} of the spread of the "
                "difference's ranks). Break-even values: the value at which the mean paired "
                "difference crosses zero with every other assumption at its default, found by "
                f"root-finding on paired runs ({drivers.settings.get('replications')} "
                "replications per evaluation); its interval is where the 95% band of the paired "
                "difference contains zero. The rule is found by PRIM (coverage: share of the "
                "cheaper draws it holds; density: share of its draws that are cheaper)."
            ),
        )
    return context


def plane_figure(comparison):
    """The cost-effectiveness plane: per draw, the cost difference (EUR million a year) against
    the difference in mean severity and in households with 3+ problems, quadrant shares in
    the corners."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from .figures import _RC

    with matplotlib.rc_context(_RC):
        return _plane(comparison, Figure, MaxNLocator)


def _plane(comparison, Figure, MaxNLocator):
    result = comparison.uncertainty
    name = result.alternative()
    outcomes = [_outputs.PRIMARY] + ([SECOND] if SECOND in result.draws.columns else [])
    fig = Figure(figsize=(PAGE_WIDTH_IN, 3.6), layout="constrained")
    axes = fig.subplots(1, len(outcomes), squeeze=False)[0]
    for ax, outcome in zip(axes, outcomes, strict=True):
        plane = result.plane(name, outcome)
        x = plane["outcome"].to_numpy(dtype=float)
        y = plane["cost"].to_numpy(dtype=float) / 1e6
        unit = _outputs.OUTCOMES[outcome]
        if outcome == SECOND:
            x = x * 100  # percentage points
        colour = np.where(plane["cheaper"], "#2ca02c", "#d62728")
        ax.scatter(x, y, s=18, c=colour, alpha=0.8, linewidths=0)
        ax.axhline(0, color="#555", lw=0.8)
        ax.axvline(0, color="#555", lw=0.8)
        name_only = unit.label.split(",")[0].lower()  # "mean problem severity (0–1)"
        ax.set_xlabel(f"difference in {name_only}" + (" (pp)" if outcome == SECOND else ""))
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.set_ylabel("difference in cost (EUR M a year)")
        shares = result.quadrants(name, outcome)
        lower_better = unit.better == "lower"
        corners = {  # (x side of "better", y side of "cheaper")
            QUADRANTS[0]: (0.02 if lower_better else 0.98, 0.02),
            QUADRANTS[1]: (0.98 if lower_better else 0.02, 0.02),
            QUADRANTS[2]: (0.02 if lower_better else 0.98, 0.98),
            QUADRANTS[3]: (0.98 if lower_better else 0.02, 0.98),
        }
        for q, (cx, cy) in corners.items():
            ax.text(
                cx,
                cy,
                f"{q}: {shares[q]:.0%}",
                transform=ax.transAxes,
                ha="left" if cx < 0.5 else "right",
                va="bottom" if cy < 0.5 else "top",
                fontsize=9.5,
                color="#333",
            )
    fig.suptitle(f"'{name}' against '{result.baseline}', one point per draw")
    return fig


def lead(comparison) -> str | None:
    """The report's first sentence when the comparison has an uncertainty analysis: the
    probabilities and what decides them (``None`` without one)."""
    result = getattr(comparison, "uncertainty", None)
    if result is None or result.draws.empty:
        return None
    name = result.alternative()
    text = (
        f"How sure is it? Over the plausible ranges of its assumptions, '{name}' is cheaper "
        f"than '{result.baseline}' with probability {result.probability_cheaper(name):.0%} and "
        f"leaves households worse off with probability {result.probability_worse(name):.0%}."
    )
    drivers = getattr(result, "drivers", None)
    if drivers is not None and drivers.text:
        text += " " + drivers.text
    return text
