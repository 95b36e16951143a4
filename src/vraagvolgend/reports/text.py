"""The report's prose: the headline, what drives the difference, the budget rule, notes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..comparison import Comparison
from .numbers import (
    BUDGET_LINES,
    OUTCOME_FORMAT,
    PLOTTED_LINES,
    _established,
    _finite,
    _inhabitants,
    _is_cost,
    _join,
    _names,
    _replications,
    _row,
    _short,
    fmt_eur,
    fmt_eur_millions,
    fmt_millions,
    fmt_number,
    fmt_share,
    label,
)
from .tables import _decomposition_table


def _waiting_note(c: Comparison) -> str | None:
    """Why no waiting list formed, when none did (by design, not a defect)."""
    if "waiting_list" not in c.runs or (c.runs["waiting_list"] > 0).any():
        return None
    return (
        "No waiting list formed under any of the policies compared. That is by design: "
        "individual provisions are limited in capacity only under task-based contracts (a "
        "contracted capacity), and a collective provision that is full refers households on "
        "to individual care rather than letting them wait. Waiting lists form under a "
        "task-based contract, or when a budget rule caps the intake."
    )


def _decomposition_note(c: Comparison) -> str | None:
    """What the decomposition rests on, and how its total relates to the headline's."""
    dec = getattr(c, "decomposition", None)
    if dec is None or _decomposition_table(c) is None:
        return None
    n, total_reps = int(dec.replications), _replications(c)
    table = dec.table
    mine = table[(table["outcome"] == "cost_external_total") & (table["mechanism"] != "total")]
    parts = float(mine["mean"].sum())
    headline_d = _row(c.summary, "line", "external_total", dec.alternative)
    how = (
        f"all {2 ** len(dec.mechanisms)} combinations of its {len(dec.mechanisms)} mechanisms"
        if dec.permutations is None
        else f"{dec.permutations} sampled orders of its {len(dec.mechanisms)} mechanisms "
        "(the parts carry that sampling error too)"
    )
    text = (
        f"The difference between '{dec.alternative}' and '{dec.baseline}', split into "
        f"mechanisms (Shapley values over {how}), on {n} of the comparison's {total_reps} "
        f"replications; each part's interval is over those replications. Its parts add up to "
        f"{fmt_millions(parts, True)} million euro a year"
    )
    if headline_d is not None:
        if n == total_reps:
            text += ", the headline's difference."
        else:
            text += (
                f"; the headline's {fmt_millions(headline_d['difference'], True)} million is "
                f"the mean over all {total_reps} replications, so the two differ by "
                "simulation noise."
            )
    return text + " The five largest mechanisms are shown; the full table is in the data."


def headline(comparison: Comparison, inhabitants: float | None = None) -> list[str]:
    """The report's opening paragraphs in plain language, generated from the numbers.

    One paragraph per alternative policy: its annual external social-domain cost against the
    baseline (the first policy), in total and per inhabitant, with 95% intervals; whether
    household outcomes are better or worse; and what drives the difference (the decomposition
    by mechanism when the comparison has one, the cost line with the largest difference
    otherwise). A difference whose interval includes zero is "not established".

    Args:
        comparison: The comparison.
        inhabitants: Inhabitants, for the cost per inhabitant (default: drawn from the
            scenario's population).
    """
    c = comparison
    names = _names(c)
    base = names[0]
    if len(names) < 2:
        return [f"Only one policy ('{base}') was run, so there is no difference to report."]
    people = _inhabitants(c) if inhabitants is None else float(inhabitants)
    decomposition = _decomposition_table(c)
    paragraphs = []
    for alt in names[1:]:
        r = _row(c.summary, "line", "external_total", alt)
        d, lo, hi = r["difference"], r["difference_ci_low"], r["difference_ci_high"]
        if _established(lo, hi):
            more = "more" if d > 0 else "less"
            text = (
                f"'{alt}' costs {fmt_eur_millions(abs(d))} a year {more} than '{base}' in "
                f"external social-domain cost (95% interval {fmt_millions(lo, True)} to "
                f"{fmt_millions(hi, True)} million euro), about {fmt_eur(abs(d) / people)} "
                f"{more} per inhabitant (95% interval {fmt_number(lo / people, 0, True)} to "
                f"{fmt_number(hi / people, 0, True)} euro)."
            )
        elif _finite(lo, hi):
            text = (
                f"Whether '{alt}' costs more or less than '{base}' is not established: the "
                f"estimated difference in external social-domain cost is "
                f"{fmt_millions(d, True)} million euro a year, but its 95% interval "
                f"({fmt_millions(lo, True)} to {fmt_millions(hi, True)} million) includes zero."
            )
        else:
            text = (
                f"The estimated difference in external social-domain cost of '{alt}' against "
                f"'{base}' is {fmt_millions(d, True)} million euro a year; with a single "
                "replication it has no interval, so it is not established."
            )
        better, worse = [], []
        for outcome, (_, _, lower_better) in OUTCOME_FORMAT.items():
            o = _row(c.outcomes, "outcome", outcome, alt)
            if o is None or lower_better is None:
                continue
            if _established(o["difference_ci_low"], o["difference_ci_high"]):
                good = (o["difference"] < 0) == lower_better
                (better if good else worse).append(_short(outcome))
        if better or worse:
            parts = []
            if better:
                parts.append("better on " + _join(better))
            if worse:
                parts.append("worse on " + _join(worse))
            text += (
                " For households, outcomes are "
                + " and ".join(parts)
                + "; other differences in outcomes are not established."
            )
        else:
            text += " No difference in household outcomes is established."
        text += " " + _driver(c, alt, decomposition)
        paragraphs.append(text)
    return paragraphs


def _driver(c: Comparison, alt: str, decomposition: pd.DataFrame | None) -> str:
    """What drives the difference in cost: the largest contribution in the direction of the
    difference, and the largest one against it (mechanisms when there is a decomposition,
    cost lines otherwise)."""
    total = _row(c.summary, "line", "external_total", alt)
    direction = np.sign(total["difference"]) if total is not None else 0.0
    if decomposition is not None and (
        "policy" not in decomposition.columns or (decomposition["policy"] == alt).any()
    ):
        d = decomposition
        if "policy" in d.columns:
            d = d[d["policy"] == alt]
        cost = d[d["outcome"].map(_is_cost)]
        if not cost.empty:
            in_total = cost[cost["outcome"].astype(str).str.contains("external_total")]
            d = in_total if not in_total.empty else cost
            parts = [
                (row["mechanism"], row["mean"], row["lo"], row["hi"]) for _, row in d.iterrows()
            ]
            return _drivers(parts, direction, "the mechanism", "mechanism")
    parts = []
    for line in PLOTTED_LINES:
        r = _row(c.summary, "line", line, alt)
        if r is not None:
            parts.append((line, r["difference"], r["difference_ci_low"], r["difference_ci_high"]))
    return _drivers(parts, direction, "", "line")


def _drivers(parts: list[tuple], direction: float, prefix: str, kind: str) -> str:
    """One or two sentences: the largest part with the difference, the largest against it."""
    if not parts or direction == 0:
        return ""

    def phrase(part) -> str:
        key, mean, lo, hi = part
        name = f"{prefix} '{label(key)}'" if kind == "mechanism" else _short(key)
        status = "" if _established(lo, hi) else ", not established"
        return (
            f"{name} ({fmt_millions(mean, True)} million euro a year, 95% interval "
            f"{fmt_millions(lo, True)} to {fmt_millions(hi, True)}{status})"
        )

    way = "more" if direction > 0 else "less"
    along = [p for p in parts if np.sign(p[1]) == direction]
    against = [p for p in parts if np.sign(p[1]) == -direction]
    text = ""
    if along:
        top = max(along, key=lambda p: abs(p[1]))
        where = "in " if kind == "line" else ""
        text = f"Most of why it costs {way} is {where}{phrase(top)}."
    if against:
        top = max(against, key=lambda p: abs(p[1]))
        where = "in " if kind == "line" else ""
        text += f" The largest part the other way is {where}{phrase(top)}."
    return text.strip()


def _budget_notes(c: Comparison, people: float) -> list[str]:
    """How the budget was set, and where the budget rule bit: years whose spending on the
    budgeted lines (individual provisions and access) overran it, and what the rule did."""
    notes = []
    runs = c.runs
    baseline = _names(c)[0]
    budget = float(runs["budget_eur"].mean()) if "budget_eur" in runs else float("nan")
    if c.scenario.budget.set_from_baseline:
        notes.append(
            f"One budget for every policy: {fmt_eur_millions(budget)} a year, set from the "
            f"year-1 spending of '{baseline}' (run without its budget rule, on the same seed) on "
            "every line a budget holder controls (the individual provisions of each law, the "
            "benefit excluded, and access: conversations, reviews and outreach), plus a margin "
            f"of {fmt_share(c.scenario.budget.margin, 1)}. Collective provisions are funded as a "
            "capacity of their own, which a budget rule may cut."
        )
    else:
        notes.append(
            f"One budget for every policy: {fmt_eur_millions(budget)} a year, the scenario's "
            "own (individual provisions and access)."
        )
    y = c.details.get("yearly")
    reps = int(runs["replication"].nunique())
    for policy in c.policies:
        rule = getattr(policy, "budget_rule", None)
        if rule is None:
            continue
        if rule == "none":
            notes.append(f"'{policy.name}' has no budget rule: overruns are simply paid.")
            continue
        what = (
            f"cuts collective provisions by {fmt_share(policy.budget_cut, 0)} the next year"
            if rule == "cut_collective"
            else "caps the intake of individual provisions at the budget the next year"
        )
        mine_runs = runs[runs["policy"] == policy.name]
        acted = int((mine_runs["cost_budget_rule"] != 0).sum()) if len(mine_runs) else 0
        effect = float(mine_runs["cost_budget_rule"].mean()) if len(mine_runs) else 0.0
        did = (
            f" It acted in {acted} of {reps} replications and changed the external cost by "
            f"{fmt_eur_millions(effect)} a year on average (against the same policy without "
            "the rule, same seeds)."
            if acted
            else ""
        )
        if y is None or y.empty:
            notes.append(
                f"Under '{policy.name}' the budget rule {what} after an overrun year.{did}"
            )
            continue
        mine = y[(y["policy"] == policy.name) & y["line"].isin(BUDGET_LINES)]
        spent = mine.groupby(["year", "replication"])["cost_eur"].sum().groupby("year").mean()
        over = [int(year) for year, v in spent.items() if v > budget]
        last = int(spent.index.max()) if len(spent) else 0
        bites = [year for year in over if year < last]
        if bites:
            notes.append(
                f"Under '{policy.name}' the budgeted costs exceeded the budget on average in "
                f"year {_join([str(b) for b in bites])}, so the budget rule bites: it {what}. "
                "This lowers the costs of the following years and shows in the outcomes "
                "(collective provisions prevent and catch light problems; a cap leaves "
                f"households on waiting lists).{did}"
            )
        elif over:
            notes.append(
                f"Under '{policy.name}' the budgeted costs exceeded the budget on average only "
                f"in the last simulated year, so the budget rule would bite after the period "
                f"shown.{did}"
            )
        else:
            notes.append(
                f"Under '{policy.name}' the budgeted costs stayed within the budget on average, "
                f"so the budget rule ({label(rule).lower()}) did not bite on average.{did}"
            )
    return notes


LIMITATIONS = (
    "The municipality is synthetic: its households, network and problems are drawn from "
    "public shares and assumptions, not from a real population register.",
    "Provider behaviour under each contract (prolonging, upcoding, under-treatment) and the "
    "effects of care are assumptions with exposed strengths, not measured effects; vary them "
    "(vraagvolgend sweep) before drawing conclusions.",
    "Intervals cover the randomness of the simulation (replications), not the uncertainty in "
    "the parameters; with few replications they are wide.",
    "Costs are external costs of the social domain; the social-assistance benefit is shown apart "
    "and costs outside the social domain (health insurance, police, schools) are not modelled.",
    "Prices and budgets are those of the scenario and policy files, in euros of the reference "
    "year, without inflation or indexation.",
)
