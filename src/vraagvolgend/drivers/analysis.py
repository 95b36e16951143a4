"""What decides a probabilistic comparison, in one call: :func:`analyse`.

Reads the draws of ``compare(..., uncertainty=N)`` (:class:`~vraagvolgend.draws.UncertaintyResult`)
and returns a :class:`Drivers`: the sensitivity of the difference to every varied input, the
break-even values of the most influential ones (found on paired runs, the rest at their
defaults), a rule for where the alternative is cheaper, and the plain sentences. The
sensitivity and the rule are cheap (the draws are already there); every break-even value is a
few comparisons, so ``break_even`` says how many to find.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from ..parameters import ParameterError
from ..uncertainty import Uncertainty
from .breakeven import BreakEven, break_even, break_even_for, paired_difference
from .discovery import Limit, Rule, discover
from .indices import sensitivity
from .sentences import explain, parameter_label

__all__ = ["Drivers", "analyse", "varied_inputs"]


def varied_inputs(result, policy: str | None = None) -> list[str]:
    """The draws' parameter columns, one per input: for an input with a range per policy, the
    alternative's column (its columns move together, one quantile per draw)."""
    alt = result.alternative(policy)
    return [n for n in result.parameters if "[" not in n or n.endswith(f"[{alt}]")]


def _path(column: str) -> str:
    """``policy.review_factor[demand-driven]`` → ``policy.review_factor``."""
    return column.split("[", 1)[0]


def _target(column: str, baseline) -> str:
    """Which policy a break-even search sets, as the draws did: ``"alternative"`` for an input
    with a range per policy or one the baseline does not have, ``"both"`` otherwise."""
    from ..probabilistic import _flat_value

    if "[" in column:
        return "alternative"
    if column.startswith("policy."):
        has = _flat_value(baseline, column.removeprefix("policy.")) is not ...
        return "both" if has else "alternative"
    return "both"


def _break_even_together(u, column, comparison, pair, output, replications, max_evaluations,
                         executor, workers) -> BreakEven:  # fmt: skip
    """The break-even of an input with a range per policy, as the draws move it: one quantile
    applied to every policy's own range (searched on the quantile, reported in the
    alternative's values)."""
    from ..comparison import compare

    alt = pair[1].name
    path = _path(column).removeprefix("policy.")
    top = 1.0 - 1e-9  # quantiles are in [0, 1)

    def values(q: float) -> dict[str, float]:
        return {p: v[0] for p, v in u.by_unit([min(max(q, 0.0), top)]).items()}

    def paired(q: float):
        at = values(q)
        ps = [p.with_changes({path: at[p.name]}) if p.name in at else p for p in pair]
        c = compare(
            ps, comparison.scenario, replications=replications, seed=comparison.seed,
            months=comparison.months, baseline=pair[0].name, burn_in=comparison.burn_in,
            executor=executor, workers=workers, progress=False,
        )  # fmt: skip
        return paired_difference(c, output, alt, pair[0].name)

    b = break_even(paired, 0.0, top, parameter=column, max_evaluations=max_evaluations)

    def shown(q: float) -> float:
        return float(values(q)[alt]) if math.isfinite(q) else q

    table = b.table.assign(value=b.table["value"].map(shown))
    return replace(
        b,
        low=shown(0.0),
        high=shown(top),
        value=shown(b.value),
        interval=(shown(b.interval[0]), shown(b.interval[1])),
        table=table,
    )


@dataclass
class Drivers:
    """What decides the answer of a probabilistic comparison.

    Attributes:
        output: The difference analysed (a column of the draws, e.g. ``cost_external_total``).
        alternative: The alternative policy (the difference is it minus the baseline).
        sensitivity: One row per varied input: ``parameter``, ``index`` (its share of the
            difference's variance over the draws), ``low``/``high`` (bootstrap 95% interval),
            ``rank``, ``coefficient`` (signed), ``method``
            (:func:`~vraagvolgend.drivers.sensitivity`).
        break_evens: The break-even values of the most influential inputs
            (:class:`~vraagvolgend.drivers.BreakEven`).
        rule: Where the alternative is cheaper (:class:`~vraagvolgend.drivers.Rule`), or
            ``None`` when every draw (or none) is cheaper.
        text: Two to four sentences for a policy adviser (:func:`~vraagvolgend.drivers.explain`).
        seconds: How long each part took.
        settings: The break-even searches' replications, months and seed.
    """

    output: str
    alternative: str
    sensitivity: pd.DataFrame
    break_evens: list[BreakEven] = field(default_factory=list)
    rule: Rule | None = None
    text: str = ""
    seconds: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)

    def labels(self) -> dict[str, str]:
        """A short label for every input (the path without a policy suffix)."""
        return {p: parameter_label(p) for p in self.sensitivity["parameter"]}

    def break_even_table(self) -> pd.DataFrame:
        """One row per break-even search: parameter, value, interval, the range searched, the
        mean difference at its ends and the evaluations."""
        rows = [
            {
                "parameter": b.parameter,
                "value": b.value,
                "interval_low": b.interval[0],
                "interval_high": b.interval[1],
                "low": b.low,
                "high": b.high,
                "mean_low": b.mean_low,
                "mean_high": b.mean_high,
                "evaluations": b.evaluations,
            }
            for b in self.break_evens
        ]
        return pd.DataFrame(rows)

    def __str__(self) -> str:
        return self.text

    # --- storage ---------------------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        """Write the analysis into ``directory`` (JSON and CSV; :meth:`load` reads it)."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        self.sensitivity.to_csv(out / "sensitivity.csv", index=False)
        for i, b in enumerate(self.break_evens):
            b.table.to_csv(out / f"break_even_{i}.csv", index=False)
        info = {
            "output": self.output,
            "alternative": self.alternative,
            "text": self.text,
            "seconds": self.seconds,
            "settings": self.settings,
            "sensitivity_attrs": _plain(self.sensitivity.attrs),
            "break_evens": [_break_even_dict(b) for b in self.break_evens],
            "rule": None if self.rule is None else _rule_dict(self.rule),
        }
        (out / "drivers.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
        return out

    @classmethod
    def load(cls, directory: str | Path) -> Drivers:
        """Read an analysis written by :meth:`save`."""
        folder = Path(directory)
        info = json.loads((folder / "drivers.json").read_text(encoding="utf-8"))
        table = pd.read_csv(folder / "sensitivity.csv")
        table.attrs.update(info.get("sensitivity_attrs", {}))
        evens = []
        for i, b in enumerate(info["break_evens"]):
            frame = pd.read_csv(folder / f"break_even_{i}.csv")
            numbers = {k: _float(b[k]) for k in ("low", "high", "value", "mean_low", "mean_high")}
            evens.append(
                BreakEven(
                    **{
                        **b,
                        **numbers,
                        "interval": tuple(_float(x) for x in b["interval"]),
                        "open": tuple(b["open"]),
                    },
                    table=frame,
                )
            )
        rule = None
        if info["rule"] is not None:
            r = info["rule"]
            limits = tuple(
                Limit(
                    x["parameter"], _bound(x["low"], -1), _bound(x["high"], 1), _tuple(x["values"])
                )
                for x in r["limits"]
            )
            rule = Rule(**{**r, "limits": limits})
        return cls(
            info["output"],
            info["alternative"],
            table,
            evens,
            rule,
            info["text"],
            info["seconds"],
            info["settings"],
        )


def _float(value) -> float:
    """A stored number (``None`` where it was NaN)."""
    return float("nan") if value is None else float(value)


def _bound(value, side: int) -> float:
    """A stored limit of a rule (``None`` where it was unbounded: ∓inf)."""
    return side * float("inf") if value is None else float(value)


def _tuple(values):
    return None if values is None else tuple(values)


def _plain(value):
    """JSON-safe: NaN as None, numpy scalars as Python ones."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _break_even_dict(b: BreakEven) -> dict:
    return _plain(
        {
            "parameter": b.parameter,
            "low": b.low,
            "high": b.high,
            "value": b.value,
            "interval": list(b.interval),
            "open": list(b.open),
            "mean_low": b.mean_low,
            "mean_high": b.mean_high,
            "evaluations": b.evaluations,
            "converged": b.converged,
            "level": b.level,
        }
    )


def _rule_dict(rule: Rule) -> dict:
    out = {k: getattr(rule, k) for k in rule.__dataclass_fields__ if k != "limits"}
    out["limits"] = [
        {"parameter": x.parameter, "low": x.low, "high": x.high, "values": x.values}
        for x in rule.limits
    ]
    return _plain(out)


def analyse(
    comparison,
    *,
    policy: str | None = None,
    output: str = "cost_external_total",
    break_even: int = 2,
    replications: int = 3,
    max_evaluations: int = 6,
    executor="serial",
    workers: int | None = None,
    seed: int = 0,
    bootstrap: int = 500,
) -> Drivers:
    """What decides the probabilistic comparison's answer: drivers, break-even values, a rule.

    Args:
        comparison: A comparison made with ``compare(..., uncertainty=N)``.
        policy: The alternative (default: the first that is not the baseline).
        output: The difference analysed (a ``cost_<line>`` column or an outcome of the draws).
        break_even: How many of the most influential inputs get a break-even search (0: none).
            Each search is up to ``max_evaluations`` comparisons of ``replications`` paired
            runs, on the comparison's scenario, policies, months and seed.
        replications: Replications per break-even evaluation (≥ 2 for its interval).
        max_evaluations: Most evaluations per break-even search.
        executor: Executor of the break-even comparisons (as in
            :func:`~vraagvolgend.comparison.compare`).
        workers: Worker processes for ``"processes"`` and ``"dask"``.
        seed: Seed of the sensitivity's bootstrap.
        bootstrap: Bootstrap resamples of the sensitivity intervals.

    Returns:
        A :class:`Drivers`, also kept as ``comparison.uncertainty.drivers`` (saved with it).
    """
    result = getattr(comparison, "uncertainty", None)
    if result is None:
        raise ParameterError(
            "comparison", "has no uncertainty analysis: run compare(..., uncertainty=N) first"
        )
    if isinstance(break_even, bool) or not isinstance(break_even, int) or break_even < 0:
        raise ParameterError("break_even", f"{break_even!r} must be a whole number ≥ 0")
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 2:
        raise ParameterError("replications", f"{replications!r} must be a whole number ≥ 2")
    alt = result.alternative(policy)
    draws = result.draws[result.draws["policy"] == alt]
    if output not in draws.columns:
        raise ParameterError("output", f"{output!r} is not a column of the draws")
    inputs = varied_inputs(result, alt)
    seconds = {}

    started = time.perf_counter()
    table = sensitivity(draws, inputs, output, bootstrap=bootstrap, seed=seed)
    seconds["sensitivity"] = time.perf_counter() - started

    started = time.perf_counter()
    cheaper = draws[output] < 0
    rule = discover(draws, inputs, cheaper) if 0 < cheaper.sum() < len(cheaper) else None
    seconds["rule"] = time.perf_counter() - started

    started = time.perf_counter()
    top = table.sort_values("rank")["parameter"].head(break_even).tolist()
    pair = [next(p for p in comparison.policies if p.name == n) for n in (result.baseline, alt)]
    evens = []
    inputs_by_name = {x["name"]: Uncertainty(**x) for x in result.info["inputs"]}
    for column in top:
        if "[" in column:  # a range per policy: search on the quantile the draws share
            evens.append(
                _break_even_together(
                    inputs_by_name[_path(column)], column, comparison, pair, output,
                    replications, max_evaluations, executor, workers,
                )
            )  # fmt: skip
            continue
        b = break_even_for(
            _path(column),
            pair,
            comparison.scenario,
            output=output,
            target=_target(column, pair[0]),
            replications=replications,
            seed=comparison.seed,
            months=comparison.months,
            baseline=result.baseline,
            burn_in=comparison.burn_in,
            max_evaluations=max_evaluations,
            executor=executor,
            workers=workers,
        )
        evens.append(b)
    seconds["break_even"] = time.perf_counter() - started

    labels = {c: parameter_label(c) for c in inputs}
    text = explain(table, evens, rule, alternative=alt, output=output, labels=labels)
    drivers = Drivers(
        output,
        alt,
        table,
        evens,
        rule,
        text,
        seconds,
        {"replications": replications, "months": comparison.months, "seed": str(comparison.seed)},
    )
    result.drivers = drivers
    return drivers
