"""The result of a decomposition: its table, summary, saving and loading."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..comparison import (
    COST_LINES,
    OUTCOMES,
)
from ..parameters import ParameterError

#: The outcomes decomposed: the keys of :func:`~vraagvolgend.comparison.summarise_run`.
#: (The budget rule's effect, a cost line of compare's summary, needs a run without the rule
#: for every coalition; where two policies differ in their budget rule, that is a mechanism.)
COSTS = tuple(f"cost_{c}" for c in COST_LINES if c != "budget_rule")
OUTCOME_NAMES = (*COSTS, *OUTCOMES)
TOTAL = "total"

# --- the result ---------------------------------------------------------------------------------


class Decomposition:
    """The mechanisms behind a paired difference, with 95% intervals over replications.

    Attributes:
        table: One row per outcome and mechanism, plus a ``total`` row per outcome:
            ``outcome`` (a key of :func:`~vraagvolgend.comparison.summarise_run`: annual costs
            ``cost_<line>`` in EUR, then the outcome indicators), ``mechanism``, ``mean``,
            ``lo``, ``hi`` (95% CI over replications). Per replication the mechanisms add up
            to the total.
        mechanisms: Mechanism → the settings it switches (baseline → alternative).
        permutations: Number of sampled orders, or ``None`` when the values are exact.
        parts: Per mechanism, replication and outcome, the part (long table).
    """

    def __init__(
        self,
        table: pd.DataFrame,
        *,
        baseline: str,
        alternative: str,
        mechanisms: dict[str, list[str]],
        permutations: int | None,
        replications: int,
        months: int,
        seed,
        households: int,
        coalitions: int,
        runs: int = 0,
        seconds: float = float("nan"),
        parts: pd.DataFrame | None = None,
    ):
        self.table = table
        self.baseline = baseline
        self.alternative = alternative
        self.mechanisms = mechanisms
        self.permutations = permutations
        self.replications = replications
        self.months = months
        self.seed = seed
        self.households = households
        self.coalitions = coalitions
        self.runs = runs
        self.seconds = seconds
        self.parts = parts

    def _meta(self) -> dict:
        return {
            "kind": "decomposition",
            "baseline": self.baseline,
            "alternative": self.alternative,
            "mechanisms": self.mechanisms,
            "permutations": self.permutations,
            "replications": self.replications,
            "months": self.months,
            "seed": self.seed,
            "households": self.households,
            "coalitions": self.coalitions,
            "runs": self.runs,
            "seconds": self.seconds,
        }

    def save(self, directory: str | Path) -> Path:
        """Write ``table.parquet``, ``parts.parquet`` and ``decomposition.json`` to a folder."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        self.table.to_parquet(out / "table.parquet", index=False)
        if self.parts is not None:
            self.parts.to_parquet(out / "parts.parquet", index=False)
        text = json.dumps(self._meta(), indent=2, ensure_ascii=False)
        (out / "decomposition.json").write_text(text, encoding="utf-8")
        return out

    @classmethod
    def load(cls, directory: str | Path) -> Decomposition:
        """Read a decomposition written by :meth:`save`."""
        from ..folders import read_table

        folder = Path(directory)
        meta_file = folder / "decomposition.json"
        if not meta_file.exists():
            raise ParameterError(
                str(folder), "is not a decomposition folder (no decomposition.json)"
            )
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        meta.pop("kind", None)
        parts = folder / "parts.parquet"
        return cls(
            read_table(folder / "table.parquet"),
            parts=read_table(parts) if parts.exists() else None,
            **meta,
        )

    def __str__(self) -> str:
        """A summary for a person: the mechanisms, then the parts of the cost difference per
        law for the largest mechanisms and of the primary outcome; ``table`` has them all."""
        from ..outputs import OUTCOMES, PRIMARY
        from ..vocabulary import format_number, label

        k = len(self.mechanisms)
        how = (
            f"exact over all {2**k} coalitions"
            if self.permutations is None
            else f"estimated from {self.permutations} sampled orders (seeded; the parts carry "
            "that sampling error)"
        )
        lines = [
            f"Why {self.alternative!r} differs from {self.baseline!r}: Shapley values of "
            f"{_count(k, 'mechanism')}, {how}; {_count(self.replications, 'replication')} on "
            f"common random numbers, {self.months} months, {self.households:,} households.",
            "Mechanisms (baseline → alternative):"
            if k
            else "The two policies do not differ in any setting or rule.",
        ]
        for name, units in self.mechanisms.items():
            what = "; ".join(_readable(u.split(": ", 1)[1]) for u in units)
            lines.append(f"  {name}: {what or '(the same in both)'}")
        t = self.table[self.table["mechanism"] != TOTAL]
        total = t[t["outcome"] == "cost_external_total"].set_index("mechanism")["mean"]
        top = list(total.abs().sort_values(ascending=False).index[:TOP])
        laws = [c for c in COSTS if c != "cost_benefit"]
        rows = []
        for mechanism in top:
            mine = t[t["mechanism"] == mechanism].set_index("outcome")
            row = {"mechanism": mechanism}
            for cost in laws:
                row[label(cost.removeprefix("cost_")).split(" (")[0]] = (
                    format_number(mine.loc[cost, "mean"] / 1000, 0) if cost in mine.index else ""
                )
            rows.append(row)
        all_parts = t.groupby("outcome")["mean"].sum()
        row = {"mechanism": f"all {_count(k, 'mechanism')}"}
        for cost in laws:
            row[label(cost.removeprefix("cost_")).split(" (")[0]] = format_number(
                all_parts.get(cost, 0.0) / 1000, 0
            )
        rows.append(row)
        lines += [
            "",
            f"Parts of the annual cost difference (EUR thousand), the {len(top)} largest "
            "mechanisms and all together:",
            pd.DataFrame(rows).to_string(index=False),
        ]
        primary = t[t["outcome"] == PRIMARY]
        if not primary.empty:
            decimals = OUTCOMES[PRIMARY].decimals + 1
            parts = ", ".join(
                f"{r['mechanism']} {r['mean']:+.{decimals}f}"
                for _, r in primary.reindex(
                    primary["mean"].abs().sort_values(ascending=False).index
                )
                .head(TOP)
                .iterrows()
            )
            lines.append(f"\n{label(PRIMARY)}, largest parts: {parts}.")
        lines.append("Every part with its 95% interval, for every cost line and outcome: .table")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<Decomposition of {self.alternative!r} − {self.baseline!r} into "
            f"{list(self.mechanisms)}>"
        )

    def _repr_html_(self) -> str:
        t = self.table.pivot(index="mechanism", columns="outcome", values="mean")
        costs = [o for o in COSTS if o in t.columns]
        order = [*self.mechanisms, TOTAL]
        return (
            f"<p>Annual cost (EUR) of {self.alternative!r} − {self.baseline!r} by mechanism "
            "(mean over replications; intervals in <code>.table</code>).</p>"
            + t.loc[order, costs].round(0).to_html()
        )

    def plot(self, outcomes: Sequence[str] | None = None):
        """Each mechanism's part with its 95% interval, one panel per outcome (matplotlib).

        Args:
            outcomes: Outcomes to show (default: the annual costs per law, collective,
                access and external total, in EUR thousand).

        Returns:
            A :class:`matplotlib.figure.Figure` (built without pyplot).
        """
        from matplotlib.figure import Figure

        outcomes = list(outcomes or [c for c in COSTS if c != "cost_benefit"])
        order = [*self.mechanisms, TOTAL]
        cols = min(3, len(outcomes))
        rows = math.ceil(len(outcomes) / cols)
        fig = Figure(figsize=(4.2 * cols, 0.45 * len(order) * rows + 1.2 * rows))
        axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
        for ax, outcome in zip(axes.ravel(), outcomes, strict=False):
            g = self.table[self.table["outcome"] == outcome].set_index("mechanism").loc[order]
            scale = 1000.0 if outcome.startswith("cost_") else 1.0
            mean = g["mean"].to_numpy() / scale
            err = np.vstack([mean - g["lo"] / scale, g["hi"] / scale - mean])
            y = np.arange(len(order))[::-1]
            colours = ["#4c72b0"] * (len(order) - 1) + ["#333333"]
            ax.barh(y, mean, xerr=np.nan_to_num(np.abs(err)), color=colours, capsize=3)
            ax.axvline(0, color="grey", lw=0.8)
            ax.set_yticks(y, order)
            ax.set_title(outcome.removeprefix("cost_"), fontsize=9)
            if scale > 1:
                ax.set_xlabel("EUR thousand per year", fontsize=8)
        for ax in axes.ravel()[len(outcomes) :]:
            ax.set_visible(False)
        fig.suptitle(f"{self.alternative} − {self.baseline}, by mechanism", fontsize=10)
        fig.tight_layout()
        return fig


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


#: Mechanisms shown by name in the printed summary (the largest parts of the external total).
TOP = 5


def _readable(detail: str) -> str:
    """``Policy.intensity → DemandDriven.intensity`` as ``intensity: the base rule → the
    DemandDriven rule``; a setting's ``name: a → b`` as it is."""
    if "." in detail and " → " in detail and ": " not in detail:
        before, after = (x.strip() for x in detail.split(" → ", 1))
        rule = before.rsplit(".", 1)[-1]
        return f"rule {rule}: {before.split('.')[0]}'s → {after.split('.')[0]}'s"
    return detail


def _number(x: float, scale: float) -> str:
    """A number without scientific notation, with as many decimals as its outcome's scale."""
    if not np.isfinite(x):
        return ""
    decimals = 0 if scale >= 100 else min(6, max(0, 3 - math.floor(math.log10(scale or 1.0))))
    text = f"{x:+,.{decimals}f}"
    return "0" if float(text.replace(",", "")) == 0 else text
