"""The dashboard's plots: the Municipality page's, kept and redrawn month after month, and
the Compare page's cost-effectiveness plane.

Building a matplotlib figure and letting a layout engine place it costs more than the month it
shows, so each plot is built once, with fixed margins, and every month only the data and the
axis limits change before the canvas is drawn again and encoded as a PNG (fast compression:
the image goes over a local websocket, not a slow network). A month is drawn as a band one
month wide, so the first state (month 0) is visible on its own, on axes that start at zero.

Example:
    >>> import vraagvolgend as vv
    >>> from vraagvolgend.dashboard import MonthlyHistory
    >>> s = vv.Scenario.default().with_changes(n_households=200, burn_in_months=3)
    >>> h = MonthlyHistory(s, "supply-driven", seed=1)
    >>> plots = MonthPlots()
    >>> plots.png(h.frame())[:4]
    b'\\x89PNG'
    >>> plots.limits()["households"][0]
    (-0.5, 12.5)
"""

from __future__ import annotations

import threading
from io import BytesIO

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from .. import outputs, reports
from ..domains import DOMAINS
from ..draws import QUADRANTS
from .history import LAWS

__all__ = ["HouseholdPlot", "MonthPlots", "plane_png"]

label = reports.label
#: The x axis shows at least the first year, so the first months are not stretched across it.
MIN_MONTHS = 12
DPI = 80
#: How much higher than the data an axis with a legend in its upper corner goes.
LEGEND_ROOM = 1.6
_PROBLEMS = ("0", "1", "2", "3plus")
_PROBLEM_COLOURS = ("#4c9f70", "#f2c14e", "#f08a4b", "#c8453d")


def _edges(months: np.ndarray) -> np.ndarray:
    """Each month as a band from m − ½ to m + ½ (x values, two per month)."""
    return np.column_stack([months - 0.5, months + 0.5]).ravel()


def _top(values, minimum: float) -> float:
    """An upper axis limit a little above the data (at least ``minimum``)."""
    peak = float(np.nanmax(values)) if np.size(values) else 0.0
    return max(peak * 1.08, minimum) if np.isfinite(peak) else minimum


class _Canvas:
    """A figure with its Agg canvas; ``encode()`` draws it and returns PNG bytes."""

    def __init__(self, figsize: tuple[float, float]):
        self.figure = Figure(figsize=figsize, dpi=DPI)
        self.canvas = FigureCanvasAgg(self.figure)
        # One page may draw from the play thread and from a click at once.
        self.lock = threading.Lock()

    def encode(self) -> bytes:
        from PIL import Image

        self.canvas.draw()
        width, height = self.canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba())
        out = BytesIO()
        # compress_level 1: a third of the time of the default for a slightly larger file.
        image.convert("RGB").save(out, format="png", compress_level=1)
        return out.getvalue()


class MonthPlots(_Canvas):
    """Households by number of problems, served per law with the waiting list, carers under
    strain, and the cost per law so far, on one figure of four axes."""

    def __init__(self):
        with matplotlib.rc_context(reports._RC):
            super().__init__((10, 6.2))
            fig = self.figure
            axes = fig.subplots(2, 2)
            fig.subplots_adjust(
                left=0.075, right=0.985, bottom=0.085, top=0.95, wspace=0.2, hspace=0.4
            )
            (a, b), (c, d) = axes
            self.axes = {"households": a, "served": b, "strain": c, "cost": d}
            a.set_title("Households by number of problems")
            a.legend(
                [Patch(color=x, alpha=0.85) for x in _PROBLEM_COLOURS],
                ["0", "1", "2", "3+"],
                title="problems",
                loc="lower left",
                fontsize=10,
            )
            self._bands: list = []
            last = {"marker": "o", "markersize": 4, "markevery": [-1]}  # the month shown
            self.served = {law: b.plot([], [], label=label(law), **last)[0] for law in LAWS[:4]}
            self.waiting = b.plot(
                [], [], label="Waiting list", linestyle="--", color="black", **last
            )[0]
            b.set_title("Households served per law, waiting list")
            b.legend(fontsize=10, loc="upper left")
            self.strain = c.plot([], [], color="#d62728", **last)[0]
            c.set_title("Carers under strain")
            self.cost = {law: d.plot([], [], label=label(law), **last)[0] for law in LAWS}
            d.set_title("Cost per law so far (EUR million)")
            d.legend(fontsize=10, loc="upper left")
            for ax in (a, b, c):
                ax.yaxis.set_major_formatter("{x:,.0f}")
                ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
            d.yaxis.set_major_formatter("{x:,.2f}")
            d.yaxis.set_major_locator(MaxNLocator(nbins=5))
            for ax in axes.ravel():
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
                ax.set_xlabel("Month")
                ax.tick_params(labelsize=10.5)

    def png(self, f: pd.DataFrame) -> bytes:
        """The plots of the history ``f`` (:meth:`MonthlyHistory.frame`) as PNG bytes."""
        with self.lock, matplotlib.rc_context(reports._RC):
            months = f["month"].to_numpy(dtype=float)
            right = max(MIN_MONTHS, months.max() if months.size else 0) + 0.5
            a = self.axes["households"]
            for band in self._bands:
                band.remove()
            x = _edges(months)
            lower = np.zeros(x.size)
            self._bands = []
            for key, colour in zip(_PROBLEMS, _PROBLEM_COLOURS, strict=True):
                upper = lower + np.repeat(f[f"households_{key}_problems"].to_numpy(float), 2)
                self._bands.append(
                    a.fill_between(x, lower, upper, color=colour, alpha=0.85, linewidth=0)
                )
                lower = upper
            a.set_ylim(0, _top(lower, 1))
            served = [f[f"served_{law}"].to_numpy(float) for law in LAWS[:4]]
            for law, values in zip(LAWS[:4], served, strict=True):
                self.served[law].set_data(months, values)
            waiting = f["waiting_list"].to_numpy(float)
            self.waiting.set_data(months, waiting)
            # Headroom for the legend in the upper left corner.
            top = _top(np.concatenate([*served, waiting]), 1) * LEGEND_ROOM
            self.axes["served"].set_ylim(0, top)
            strain = f["carers_under_strain"].to_numpy(float)
            self.strain.set_data(months, strain)
            self.axes["strain"].set_ylim(0, _top(strain, 1))
            costs = [f[f"cumulative_cost_{law}"].to_numpy(float) / 1e6 for law in LAWS]
            for law, values in zip(LAWS, costs, strict=True):
                self.cost[law].set_data(months, values)
            self.axes["cost"].set_ylim(0, _top(np.concatenate(costs), 0.1))
            for ax in self.axes.values():
                ax.set_xlim(-0.5, right)
            return self.encode()

    def limits(self) -> dict[str, tuple[tuple[float, float], tuple[float, float]]]:
        """(x limits, y limits) of each plot as last drawn (for tests)."""

        def plain(limits):
            return tuple(float(x) for x in limits)

        return {k: (plain(ax.get_xlim()), plain(ax.get_ylim())) for k, ax in self.axes.items()}


class HouseholdPlot(_Canvas):
    """One household's severity per life domain month by month."""

    def __init__(self):
        with matplotlib.rc_context(reports._RC):
            super().__init__((10, 3.2))
            fig = self.figure
            ax = self.ax = fig.subplots()
            fig.subplots_adjust(left=0.075, right=0.74, bottom=0.16, top=0.9)
            last = {"marker": "o", "markersize": 4, "markevery": [-1]}
            self.lines = {d: ax.plot([], [], label=label(d), **last)[0] for d in DOMAINS}
            ax.axhline(0.6, color="grey", linestyle=":", linewidth=1)
            ax.set_ylim(0, 1)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel("Month")
            ax.set_ylabel("Severity (0–1)")
            ax.set_title("Problems over time (dotted: ZRM level 2 or worse above)")
            fig.legend(loc="center right", fontsize=10)

    def png(self, problems: pd.DataFrame) -> bytes:
        """The plot of :meth:`MonthlyHistory.household_problems` as PNG bytes."""
        with self.lock, matplotlib.rc_context(reports._RC):
            months = problems.index.to_numpy(dtype=float)
            for d, line in self.lines.items():
                line.set_data(months, problems[d].to_numpy(float))
            first = months.min() if months.size else 0
            last = months.max() if months.size else 0
            self.ax.set_xlim(first - 0.5, max(first + MIN_MONTHS, last) + 0.5)
            return self.encode()


#: The plane's quadrants: green where the alternative is cheaper and better, red where dearer
#: and worse (in the order of :data:`~vraagvolgend.draws.QUADRANTS`).
_QUADRANT_COLOURS = ("#4c9f70", "#f2a541", "#4a7fb5", "#c8453d")


def _plain_text(text: str) -> str:
    """User-named text for matplotlib: a ``$`` would start mathematics."""
    return text.replace("$", r"\$")


def _corner(quadrant: str, better_is_down: bool) -> tuple[float, float, str, str]:
    """Where a quadrant's label goes (axes fraction x, y, alignments): cheaper is left of
    zero cost; better is below zero when lower is better."""
    left = quadrant.startswith("cheaper")
    down = quadrant.endswith("better") == better_is_down
    return (0.02 if left else 0.98, 0.03 if down else 0.97,
            "left" if left else "right", "bottom" if down else "top")  # fmt: skip


def plane_png(result, policy: str) -> bytes:
    """The cost-effectiveness plane of ``policy`` against the baseline: per draw, the
    difference in external cost (EUR thousand a year) against the difference in the primary
    outcome, on axes centred on zero, each quadrant labelled with its share of the draws."""
    plane = result.plane(policy)
    shares = result.quadrants(policy)
    primary = outputs.OUTCOMES[outputs.PRIMARY]
    with matplotlib.rc_context(reports._RC):
        canvas = _Canvas((8, 5.2))
        ax = canvas.figure.subplots()
        canvas.figure.subplots_adjust(left=0.13, right=0.97, bottom=0.12, top=0.9)
        x = plane["cost"].to_numpy(float) / 1000
        y = plane["outcome"].to_numpy(float)
        for quadrant, colour in zip(QUADRANTS, _QUADRANT_COLOURS, strict=True):
            mine = (plane["quadrant"] == quadrant).to_numpy()
            ax.scatter(x[mine], y[mine], s=28, color=colour, alpha=0.85, edgecolors="none")
            cx, cy, ha, va = _corner(quadrant, primary.better == "lower")
            ax.text(cx, cy, f"{quadrant}: {shares[quadrant]:.0%}", transform=ax.transAxes,
                    ha=ha, va=va, fontsize=11, color=colour, fontweight="bold")  # fmt: skip
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.axvline(0, color="grey", linewidth=0.8)
        # centred on zero, with room for the labels: every quadrant is in view
        ax.set_xlim(*_symmetric(x))
        ax.set_ylim(*_symmetric(y))
        ax.set_xlabel("External cost difference (EUR thousand a year)")
        up = "worse" if primary.better == "lower" else "better"
        ax.set_ylabel(f"Difference in {primary.label.split(',')[0].lower()} (up: {up})")
        ax.set_title(_plain_text(f"{policy} − {result.baseline}, one point per parameter draw"))
        return canvas.encode()


def _symmetric(values: np.ndarray) -> tuple[float, float]:
    """Limits centred on zero, a third wider than the largest difference (1e-9 when none)."""
    finite = values[np.isfinite(values)]
    reach = float(np.abs(finite).max()) if finite.size else 0.0
    reach = reach * 1.35 if reach > 0 else 1e-9
    return -reach, reach
