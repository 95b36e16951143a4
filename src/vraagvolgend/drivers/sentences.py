"""Plain sentences for a policy adviser: parameter labels from the declarations, values in
their units, and :func:`explain`."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .breakeven import BreakEven
    from .discovery import Rule

__all__ = ["LABELS", "explain", "parameter_label"]


#: Short labels for the parameters a policy adviser meets most; others come from declarations.
LABELS = {
    "access.conversation_cost": "the price of an access conversation",
    "policy.conversation_factor": "how many ordinary conversations an integrated one costs",
    "policy.reference_severity": "the severity at which a plan gives the standard package",
    "policy.exit_lag_months": "the months a goal must hold before care ends",
    "policy.review_months": "the months between reviews of a plan",
    "policy.review_factor": "the cost of a review, in conversations",
    "policy.max_parallel": "how many problems a plan treats at once",
    "policy.network_programme_cost": "the yearly cost of a network programme per household",
    "policy.outreach_cost": "the cost of finding a household by outreach",
    "policy.exit_threshold": "the severity below which a goal counts as reached",
    "policy.chronic_review_months": "the months between reviews of a chronic need",
    "policy.network_activation": "how strongly plans draw on the household's network",
    "policy.flexible_budget": "the chance that a plan includes a one-off flexible solution",
    "policy.plan_stacking_relief": "how much an integrated plan eases stacked problems",
    "policy.min_intensity": "the smallest package, relative to the standard one",
    "policy.max_intensity": "the largest package, relative to the standard one",
}


@functools.cache
def _declarations() -> dict[str, str]:
    """Every declared parameter path and what it means (scenario and both regimes)."""
    from ..regimes import DemandDriven, SupplyDriven
    from ..scenario import Scenario

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
    parameter = parameter.partition("[")[0]
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
        >>> parameter_label("policy.outreach")
        'monthly probability that outreach finds a household with hidden need'
    """
    for table in (labels or {}, LABELS):
        for name in (parameter, parameter.removeprefix("scenario.")):
            if name in table:
                return table[name]
    # a draws column of an input with a range per policy: ``policy.review_factor[demand-driven]``
    path, _, policy = parameter.partition("[")
    if policy:
        return f"{parameter_label(path, labels)} (each regime on its own range; {policy[:-1]}'s)"
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
    from ..vocabulary import format_number

    v = _about(x)
    unit = _unit(parameter)
    if unit == "EUR":
        return f"€{format_number(v, 0 if abs(v) >= 10 else 2)}"
    text = format_number(v, 0 if abs(v) >= 10 else None).rstrip("0").rstrip(".")
    return f"{text} months" if unit == "months" else text


def _words(output: str) -> tuple[int, str, str]:
    """The sign of a good difference; what it does when good, and when not, in words."""
    from ..outputs import OUTCOMES

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
    values and where the alternative wins (one sentence per part given; empty for none).

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
        >>> from vraagvolgend.drivers import break_even
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
    sentences, crossings, driver, others = [], [], None, []
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
            crossings.append(f"{alternative} {verb} over the whole range of {value}")
        elif b.parameter == driver and ": below" not in sentences[0]:
            lower, upper = (does, short) if below else (short, does)
            sentences[0] += f": below about {value} it {lower}, above it {upper}{note}"
        else:
            where, other = ("below", "above") if below else ("above", "below")
            crossings.append(
                f"{alternative} {does} when {label(b.parameter)} is {where} about {value}, "
                f"not {other} it{note}"
            )
    if others:
        sentences.append("it also depends on " + " and ".join(others))
    # at most four sentences: a second break-even, then the other drivers give way to the rule
    sentences += crossings[: 4 - len(sentences) - (rule is not None)]
    if rule is not None:
        text = f"it {does} in {rule.base_rate:.0%} of the draws"
        if rule.limits:
            text += (
                f"; it does so in {rule.density:.0%} of those where {rule.text(labels=True)}, "
                f"which hold {rule.coverage:.0%} of all the draws in which it {does}"
            )
        sentences.append(text)
    return " ".join(s[0].upper() + s[1:] + "." for s in sentences[:4])
