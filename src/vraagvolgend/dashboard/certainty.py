"""How sure the answer is: the compare page's reading of an uncertainty analysis.

Plain functions of an :class:`~vraagvolgend.draws.UncertaintyResult` (no Solara, so they are
tested on their own): the probabilities in words, the interval over both sources of
uncertainty beside the simulation-only one, and what decides the answer
(:func:`vraagvolgend.drivers.sensitivity` and :func:`vraagvolgend.drivers.explain`).
Break-even values are left to the report: each needs runs of its own.

Example:
    >>> import vraagvolgend as vv
    >>> from vraagvolgend.uncertainty import Uncertainty
    >>> s = vv.Scenario.default().with_changes(n_households=200, burn_in_months=3)
    >>> c = vv.compare(["supply-driven", "demand-driven"], s, replications=1, months=12,
    ...                progress=False, uncertainty=2,
    ...                uncertainties=[Uncertainty("access.conversation_cost", 150, 500)])
    >>> probabilities(c.uncertainty, "demand-driven")[0].startswith("The probability that")
    True
    >>> drivers(c.uncertainty, "demand-driven").note
    'What decides the answer needs at least 10 draws (one input varied); this run has 2.'
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .. import outputs
from ..drivers import explain, parameter_label, sensitivity
from ..drivers.indices import MIN_DRAWS
from ..reports.numbers import fmt_number, fmt_share

__all__ = ["Drivers", "drivers", "interval_table", "probabilities"]

#: The differences shown with their intervals: the cost the municipality pays, then the
#: primary outcome and households with 3+ problems.
SHOWN = ("cost_external_total", outputs.PRIMARY, "share_3plus_problems")
#: The drivers listed on the page.
TOP = 5
#: Bootstrap resamples of the drivers' intervals: enough for a page, fast at a few hundred
#: draws (the library's default is 500).
BOOTSTRAP = 200


def probabilities(result, policy: str) -> list[str]:
    """The probability that ``policy`` is cheaper and that it leaves households worse off on
    the primary outcome, as two sentences."""
    h = result.headline(policy)
    n = h["draws"]
    primary = outputs.OUTCOMES[outputs.PRIMARY].label
    return [
        f"The probability that {policy} is cheaper than {result.baseline} (external cost): "
        f"{h['probability_cheaper']:.0%} of {n} parameter draws.",
        f"The probability that {policy} leaves households worse off ({primary}): "
        f"{h['probability_worse']:.0%} of {n} draws.",
    ]


def _text(column: str, x: float) -> str:
    """A signed difference in its unit: costs in EUR thousand a year, shares in points."""
    if column.startswith("cost_"):
        return fmt_number(x / 1000, 0, signed=True)
    o = outputs.OUTCOMES[column]
    if o.format == "share":
        return fmt_share(x, o.decimals, signed=True)
    return fmt_number(x, o.decimals, signed=True)


def _name(column: str) -> str:
    if column.startswith("cost_"):
        return "External cost (EUR thousand a year)"
    return outputs.OUTCOMES[column].label


def interval_table(result, policy: str) -> pd.DataFrame:
    """The difference (``policy`` − baseline) at the defaults with its simulation-only 95%
    interval, beside its median and 95% interval over the draws (parameters and simulation)."""
    rows = []
    for column in SHOWN:
        if column not in result.draws.columns:
            continue
        i = result.interval(column, policy)
        rows.append(
            {
                "Difference": _name(column),
                "At the defaults": _text(column, i["at_defaults"]),
                "95% interval, simulation only": (
                    f"{_text(column, i['simulation_low'])} to {_text(column, i['simulation_high'])}"
                ),
                "Median over the draws": _text(column, i["median"]),
                "95% interval, parameters and simulation": (
                    f"{_text(column, i['low'])} to {_text(column, i['high'])}"
                ),
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Drivers:
    """What decides the answer: the top inputs (``None`` with too few draws), sentences for a
    policy adviser, and a note when the drivers could not be read."""

    table: pd.DataFrame | None
    sentences: str
    note: str = ""


def _per_input(result, policy: str) -> tuple[pd.DataFrame, list[str]]:
    """The alternative's draws with one column per input: an input with a range per policy
    moves all its columns with one quantile, so the alternative's column stands for it (two
    identical-rank columns would split its index between them)."""
    draws = result.draws[result.draws["policy"] == policy]
    names = list(dict.fromkeys(result.inputs["input"]))
    columns = {n: n if n in draws.columns else f"{n}[{policy}]" for n in names}
    frame = draws[[*columns.values(), "cost_external_total"]]
    return frame.rename(columns={v: k for k, v in columns.items()}), names


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def drivers(result, policy: str, seed: int = 0) -> Drivers:
    """The inputs that explain most of the spread of the external cost difference over the
    draws (squared standardised rank regression coefficients, bootstrap intervals) and the
    sentences :func:`vraagvolgend.drivers.explain` makes of them."""
    frame, names = _per_input(result, policy)
    needed = MIN_DRAWS
    if len(frame) < needed:
        varied = "one input" if len(names) == 1 else f"{len(names)} inputs"
        return Drivers(
            None,
            "",
            f"What decides the answer needs at least {needed} draws ({varied} varied); "
            f"this run has {len(frame)}.",
        )
    table = sensitivity(frame, names, "cost_external_total", bootstrap=BOOTSTRAP, seed=seed)
    sentences = explain(table, alternative=policy)
    shown = table.head(TOP)
    return Drivers(
        pd.DataFrame(
            {
                "Parameter": [_capital(parameter_label(p)) for p in shown["parameter"]],
                "Path": shown["parameter"],
                "Share of the spread": shown["index"].map(lambda x: f"{x:.2f}"),
                "95% interval": [
                    f"{a:.2f} to {b:.2f}" for a, b in zip(shown["low"], shown["high"], strict=True)
                ],
                # the difference is the alternative minus the baseline: up is dearer
                "A higher value makes it": shown["coefficient"].map(
                    lambda b: "relatively dearer" if b > 0 else "relatively cheaper"
                ),
            }
        ),
        sentences,
    )
