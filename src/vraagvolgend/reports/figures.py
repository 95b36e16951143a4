"""The report's plots, drawn with matplotlib's object API at the page's width (the user's
backend is never changed)."""

from __future__ import annotations

import numpy as np

from ..comparison import Comparison
from .numbers import GROUPS, PAGE_WIDTH_IN, PLOTTED_LINES, _names, label
from .tables import _group_stats, _zrm_stats

# --- plots --------------------------------------------------------------------------------------

_RC = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10.5,
    "ytick.labelsize": 10.5,
    "legend.fontsize": 11,
    "figure.titlesize": 13,
    # one number format: no offsets, no scientific notation on the axes
    "axes.formatter.useoffset": False,
    "axes.formatter.limits": (-9, 9),
}


def _colours(n: int) -> list:
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"]
    return [palette[i % len(palette)] for i in range(n)]


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(min(width, PAGE_WIDTH_IN), height), layout="constrained")


def _shared_legend(fig, handles, labels) -> None:
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4))


def _plot_yearly(c: Comparison):
    y = c.yearly()
    names = _names(c)
    fig = _figure(PAGE_WIDTH_IN, 6.4)
    axes = fig.subplots(2, 3).ravel()
    handles = []
    for ax, line in zip(axes, PLOTTED_LINES, strict=False):
        for name, colour in zip(names, _colours(len(names)), strict=True):
            d = y[(y["policy"] == name) & (y["line"] == line)].sort_values("year")
            (h,) = ax.plot(d["year"], d["mean"] / 1e6, marker="o", color=colour)
            if d["ci_low"].notna().all():
                ax.fill_between(
                    d["year"], d["ci_low"] / 1e6, d["ci_high"] / 1e6, color=colour, alpha=0.2
                )
            if line == PLOTTED_LINES[0]:
                handles.append(h)
        ax.set_title(label(line).replace(" (", "\n("), fontsize=11)
        ax.set_xticks(sorted(y["year"].unique()))
        ax.set_xlabel("Year")
        ax.set_ylabel("EUR million")
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=10.5)
    axes[-1].set_axis_off()
    axes[-1].text(
        0.0,
        0.5,
        "Lines: mean over replications.\nBands: 95% interval.\n"
        "Access: conversations\nand outreach.",
        fontsize=11,
        va="center",
    )
    _shared_legend(fig, handles, names)
    fig.suptitle("Cost per law per year")
    return fig


def _plot_zrm(c: Comparison):
    stats = _zrm_stats(c)
    names = _names(c)
    domains = list(stats["domain"].drop_duplicates())
    fig = _figure(PAGE_WIDTH_IN, 4.6)
    ax = fig.subplots()
    x = np.arange(len(domains))
    width = 0.8 / len(names)
    for i, (name, colour) in enumerate(zip(names, _colours(len(names)), strict=True)):
        s = stats[stats["policy"] == name].set_index("domain").loc[domains]
        err = np.vstack([s["mean"] - s["ci_low"], s["ci_high"] - s["mean"]]) * 100
        ax.bar(
            x + i * width,
            s["mean"] * 100,
            width,
            yerr=np.nan_to_num(err),
            capsize=3,
            color=colour,
            label=name,
        )
    ax.set_xticks(x + 0.4 - width / 2, [label(d) for d in domains], rotation=20, ha="right")
    ax.set_ylabel("% of households")
    ax.tick_params(labelsize=10.5)
    ax.legend(loc="upper right")
    ax.set_title("Households at ZRM level 1–2 (not self-reliant), last year end; 95% intervals")
    return fig


def _plot_lorenz(c: Comparison):
    lorenz = c.details["lorenz"].groupby(["policy", "households"], as_index=False)["cost"].mean()
    fig = _figure(6.0, 4.8)
    ax = fig.subplots()
    ax.plot([0, 100], [0, 100], color="grey", linestyle=":", label="Equal spread")
    for name, colour in zip(_names(c), _colours(len(c.policies)), strict=True):
        d = lorenz[lorenz["policy"] == name]
        ax.plot(d["households"] * 100, d["cost"] * 100, color=colour, label=name)
    ax.set_xlabel("% of households (cheapest first)")
    ax.set_ylabel("% of individual-provision cost")
    ax.tick_params(labelsize=10.5)
    ax.set_title("Cost concentration (Lorenz curve)")
    ax.legend(loc="upper left")
    return fig


def _plot_groups(c: Comparison):
    stats = _group_stats(c)
    names = _names(c)
    fig = _figure(PAGE_WIDTH_IN, 10.5)
    axes = fig.subplots(3, 1)
    handles = []
    for ax, by in zip(axes, GROUPS, strict=True):
        s = stats[stats["by"] == by]
        groups = list(s["group"].drop_duplicates())
        x = np.arange(len(groups))
        width = 0.8 / len(names)
        for i, (name, colour) in enumerate(zip(names, _colours(len(names)), strict=True)):
            d = s[s["policy"] == name].set_index("group").loc[groups]
            err = np.vstack([d["mean"] - d["ci_low"], d["ci_high"] - d["mean"]])
            bars = ax.bar(
                x + i * width, d["mean"], width, yerr=np.nan_to_num(err), capsize=2, color=colour
            )
            if by == GROUPS[0]:
                handles.append(bars)
        ax.set_xticks(x + 0.4 - width / 2, groups, rotation=15, ha="right")
        ax.set_title(f"By {label(by).lower()}")
        ax.set_ylabel("EUR per household\nper year")
        ax.yaxis.set_major_formatter("{x:,.0f}")
        ax.tick_params(labelsize=10.5)
    _shared_legend(fig, handles, names)
    fig.suptitle("Individual-provision cost per household, with 95% intervals")
    return fig


def report_figures(comparison: Comparison) -> dict[str, object]:
    """The report's plots as matplotlib :class:`~matplotlib.figure.Figure` objects.

    Keys are the PNG file names. The figures are built with the object API (no pyplot), so
    the user's backend and open figures are untouched; none is wider than
    :data:`PAGE_WIDTH_IN` and no text is smaller than :data:`MIN_FONT_PT`.
    """
    import matplotlib

    c = comparison
    if not {"yearly", "lorenz", "groups", "zrm"} <= set(c.details):
        return {}
    with matplotlib.rc_context(_RC):
        return {
            "costs_by_year.png": _plot_yearly(c),
            "zrm.png": _plot_zrm(c),
            "lorenz.png": _plot_lorenz(c),
            "by_group.png": _plot_groups(c),
        }


CAPTIONS = {
    "costs_by_year.png": "Cost per law per year, including access conversations and outreach, "
    "with 95% intervals over replications.",
    "zrm.png": "Households at ZRM level 1–2 per life domain at the last year end.",
    "lorenz.png": "How individual-provision cost is spread over households.",
    "by_group.png": "Individual-provision cost per household by neighbourhood, household type "
    "and income quintile.",
    "plane.png": "The cost-effectiveness plane: one point per draw of the assumptions, the "
    "difference in external cost against the difference in outcomes (green: cheaper), with the "
    "share of draws in each quadrant.",
}
