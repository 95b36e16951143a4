"""Fitting scenario parameters to the targets (differential evolution), and showing a fit."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..financing import Policy, PolicySwitch, resolve_policy
from ..parameters import ParameterError
from ..scenario import Scenario
from .statistics import FITTABLE_CATALOGUE, FITTABLE_SECTIONS
from .targets import Target, _Runner, _seeds, _table

# --- fitting -----------------------------------------------------------------------------------


def _check_parameters(scenario: Scenario, parameters: Mapping[str, tuple[float, float]]):
    if not parameters:
        raise ParameterError("parameters", "name at least one scenario parameter to fit")
    policy_fields = set(resolve_policy("supply-driven").to_dict()) | {"policy", "contracts"}
    policy_fields |= set(resolve_policy("demand-driven").to_dict())
    for key, bounds in parameters.items():
        head = key.split(".")[0]
        if FITTABLE_CATALOGUE.fullmatch(key):
            head = "routing"
        if head in policy_fields and head not in FITTABLE_SECTIONS:
            raise ParameterError(
                key,
                "is a policy (regime or contract) parameter; calibrate fits scenario parameters "
                f"only ({', '.join(FITTABLE_SECTIONS)})",
            )
        if head not in (*FITTABLE_SECTIONS, "routing"):
            raise ParameterError(
                key, f"cannot be fitted: only parameters in {', '.join(FITTABLE_SECTIONS)} can"
            )
        try:
            low, high = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise ParameterError(key, f"bounds {bounds!r} must be (low, high)") from None
        if not low < high:
            raise ParameterError(key, f"bounds ({low}, {high}) need low < high")
        for value in (low, high):  # both ends must be valid values of a known parameter
            scenario.with_changes(_changes(scenario, {key: value}))


def _changes(scenario: Scenario, values: Mapping[str, float]) -> dict:
    """``with_changes`` keys from fitted values; ``key[i]`` sets one element of a list."""
    out: dict = {}
    for key, value in values.items():
        m = re.fullmatch(r"(.+)\[(\d+)\]", key)
        if m is None:
            out[key] = value
            continue
        base = m.group(1)
        current = list(out.get(base) or _node(scenario, base))
        current[int(m.group(2))] = value
        out[base] = current
    return out


def _loss(targets: Sequence[Target], values: list[dict[str, float]], pull: float) -> float:
    """Σ weight × (distance outside the range² + pull × distance to the value²)."""
    total = 0.0
    for t in targets:
        x = np.array([v[t.name] for v in values], dtype=float)
        mean = float(np.nanmean(x)) if np.isfinite(x).any() else math.nan
        d = t.distance(mean)
        if not math.isfinite(d):
            return 1e6
        total += t.weight * (d**2 + pull * ((mean - t.value) / (t.high - t.low)) ** 2)
    return total


@dataclass
class Fit:
    """The outcome of :func:`calibrate`.

    Attributes:
        parameters: The fitted values, by dotted scenario key.
        bounds: The search bounds.
        scenario: The scenario with the fitted values.
        table: The fit table at the fitted values (see :func:`fit_table`).
        loss: The loss at the fitted values.
        history: One row per evaluated candidate (parameter values and loss).
        evaluations: Number of candidates evaluated.
        seconds: Wall-clock time of the fit.
        optimiser: Which optimiser ran, and scipy's message.
    """

    parameters: dict[str, float]
    bounds: dict[str, tuple[float, float]]
    scenario: Scenario
    table: pd.DataFrame
    loss: float
    history: pd.DataFrame
    evaluations: int
    seconds: float
    optimiser: str = ""
    policy_name: str = ""
    extra: dict = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [
            f"Calibration under {self.policy_name}: {self.evaluations} candidates in "
            f"{self.seconds:.0f} s ({self.optimiser}), loss {self.loss:.4g}",
            "",
            "Fitted parameters:",
        ]
        for key, value in self.parameters.items():
            lo, hi = self.bounds[key]
            lines.append(f"  {key:48} {value:10.4g}   (search {lo:g} … {hi:g})")
        lines += ["", format_table(self.table)]
        return "\n".join(lines)

    def plot(self, ax=None):
        """Model values with 95% intervals against each target's range (matplotlib).

        Every target is drawn on its own scale: the range maps to [0, 1], the public value is
        a tick, the model value a dot with its interval (green within the range, red outside).

        Returns:
            The matplotlib figure.
        """
        return plot_fit_table(self.table, ax=ax)


def format_table(table: pd.DataFrame) -> str:
    """A fit table as aligned text."""
    lines = [
        f"{'target':38} {'model':>10} {'95% interval':>21} {'range':>19}  within  source",
    ]
    for r in table.itertuples():
        fmt = _formatter(r.value)
        interval = "" if not math.isfinite(r.ci_low) else f"{fmt(r.ci_low)} … {fmt(r.ci_high)}"
        lines.append(
            f"{r.target:38} {fmt(r.model):>10} {interval:>21} "
            f"{fmt(r.low) + ' – ' + fmt(r.high):>19}  {'yes' if r.within else 'NO':6}  "
            f"{r.source}"
        )
    return "\n".join(lines)


def _formatter(value: float) -> Callable[[float], str]:
    if abs(value) >= 100:
        return lambda x: f"{x:,.0f}"
    if abs(value) >= 10:
        return lambda x: f"{x:.1f}"
    return lambda x: f"{x:.3f}"


def plot_fit_table(table: pd.DataFrame, ax=None):
    """Plot a fit table (see :meth:`Fit.plot`); returns the figure."""
    from matplotlib.figure import Figure

    if ax is None:
        fig = Figure(figsize=(7, 0.35 * len(table) + 1))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    width = (table["high"] - table["low"]).to_numpy()
    scale = lambda x: (np.asarray(x, dtype=float) - table["low"].to_numpy()) / width  # noqa: E731
    y = np.arange(len(table))[::-1]
    ax.barh(y, 1.0, left=0.0, height=0.6, color="0.9", label="acceptable range")
    ax.plot(scale(table["value"]), y, "|", color="k", markersize=12, label="public value")
    model, lo, hi = scale(table["model"]), scale(table["ci_low"]), scale(table["ci_high"])
    colours = np.where(table["within"].to_numpy(), "tab:green", "tab:red")
    for i in range(len(table)):
        if np.isfinite(lo[i]):
            ax.plot([lo[i], hi[i]], [y[i], y[i]], color=colours[i], linewidth=1.5)
        ax.plot(model[i], y[i], "o", color=colours[i])
    ax.set_yticks(y, table["target"])
    ax.set_xlabel("position in the acceptable range (0 = low, 1 = high)")
    ax.tick_params(axis="y", labelsize=8)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def calibrate(
    targets: Sequence[Target],
    parameters: Mapping[str, tuple[float, float]],
    *,
    scenario: Scenario | None = None,
    policy: Policy | PolicySwitch | str = "supply-driven",
    replications: int = 3,
    months: int = 60,
    seed: int = 0,
    method: str = "differential_evolution",
    maxiter: int = 15,
    popsize: int = 6,
    pull: float = 0.1,
    executor="serial",
    workers: int | None = None,
    table_replications: int | None = None,
    optimiser_seed: int = 0,
    processes: Sequence | None = None,
) -> Fit:
    """Fit named scenario parameters to targets.

    The loss is Σ weight × (d² + pull × e²) over the targets, with d the distance of the mean
    model value outside the target's range and e its distance to the public value, both in
    units of the range's width: any point inside every range beats any point outside one, and
    among those the pull prefers the public values. Every candidate runs on the same
    ``replications`` seeds (common random numbers), so differences between candidates are not
    seed noise.

    Args:
        targets: The targets to fit.
        parameters: ``{dotted scenario key: (low, high)}``, e.g.
            ``{"population.vulnerability_income": (0, 0.5)}``. Policy, regime and contract
            parameters, the catalogue and the municipality's size are refused.
        scenario: The scenario to start from (default: the embedded default).
        policy: The policy under which to fit (the baseline regime: supply-driven).
        replications: Runs per candidate.
        months: Months per run.
        seed: Root seed of the runs.
        method: ``"differential_evolution"`` (global, the population of each generation runs
            as one batch on the executor) or ``"nelder-mead"`` (local, from the scenario's
            current values; the replications of a candidate run as one batch).
        maxiter: Generations (differential evolution) or iterations (Nelder–Mead).
        popsize: Population per parameter (differential evolution).
        pull: Weight of the distance to the public value inside the range.
        executor: ``"serial"`` (default), ``"processes"``, ``"dask"``, a Dask client or an
            Executor.
        workers: Worker processes for ``"processes"`` and ``"dask"``.
        table_replications: Replications of the final fit table (default: ``replications``).
        optimiser_seed: Seed of the optimiser's own draws (differential evolution).
        processes: Processes of your own in every run (as in
            :func:`~vraagvolgend.simulation.run`).

    Returns:
        A :class:`Fit`.

    Raises:
        ParameterError: For a parameter that may not be fitted, unknown or bad bounds.
    """
    scenario = Scenario.default() if scenario is None else scenario
    policy = resolve_policy(policy)
    if policy is None:
        raise ParameterError("policy", "calibration needs a policy with formal care")
    targets = tuple(targets)
    if not targets:
        raise ParameterError("targets", "give at least one target")
    _check_parameters(scenario, parameters)
    if method not in ("differential_evolution", "nelder-mead"):
        raise ParameterError("method", f"{method!r}: 'differential_evolution' or 'nelder-mead'")
    keys = list(parameters)
    bounds = [tuple(float(b) for b in parameters[k]) for k in keys]
    seeds = _seeds(seed, replications)
    history: list[dict] = []
    extra = tuple(processes or ())  # users' processes in every run
    runner = _Runner(executor, workers)
    started = time.perf_counter()

    def scenario_at(x) -> Scenario:
        return scenario.with_changes(
            _changes(scenario, dict(zip(keys, map(float, x), strict=True)))
        )

    def losses(points: np.ndarray) -> np.ndarray:
        tasks = [(scenario_at(x), policy, s, months, targets, extra) for x in points for s in seeds]
        values = runner.map(tasks)
        out = []
        for i, x in enumerate(points):
            loss = _loss(targets, values[i * len(seeds) : (i + 1) * len(seeds)], pull)
            history.append({**dict(zip(keys, map(float, x), strict=True)), "loss": loss})
            out.append(loss)
        return np.array(out)

    # Start from the scenario's current values (clipped into the bounds): a refit from
    # calibrated defaults then keeps them unless the targets or the rules have moved.
    x0 = np.array(
        [min(max(_lookup(scenario, k), lo), hi) for k, (lo, hi) in zip(keys, bounds, strict=True)]
    )
    from scipy import optimize  # lazily: slow to import

    try:
        if method == "differential_evolution":
            res = optimize.differential_evolution(
                lambda xs: losses(np.atleast_2d(xs.T)),
                bounds,
                maxiter=maxiter,
                popsize=popsize,
                seed=optimiser_seed,
                polish=False,
                vectorized=True,
                updating="deferred",
                tol=1e-3,
                x0=x0,
            )
        else:
            res = optimize.minimize(
                lambda x: float(losses(np.clip(x, *zip(*bounds, strict=True))[None, :])[0]),
                x0,
                method="Nelder-Mead",
                bounds=bounds,
                options={"maxiter": maxiter, "xatol": 1e-3, "fatol": 1e-4},
            )
        best = dict(zip(keys, map(float, res.x), strict=True))
        fitted = scenario_at(res.x)
        reps = replications if table_replications is None else table_replications
        values = runner.map(
            [(fitted, policy, s, months, targets, extra) for s in _seeds(seed, reps)]
        )
    finally:
        runner.close()
    table = _table(targets, values)
    return Fit(
        parameters=best,
        bounds=dict(zip(keys, bounds, strict=True)),
        scenario=fitted,
        table=table,
        loss=float(res.fun),
        history=pd.DataFrame(history),
        evaluations=len(history),
        seconds=time.perf_counter() - started,
        optimiser=f"{method}: {res.message}",
        policy_name=getattr(policy, "name", str(policy)),
    )


def _node(scenario: Scenario, key: str):
    node = scenario.to_dict()
    for part in key.split("."):
        node = node[part]
    return node


def _lookup(scenario: Scenario, key: str) -> float:
    """The current value of a dotted scenario key (``key[i]``: an element of a list)."""
    m = re.fullmatch(r"(.+)\[(\d+)\]", key)
    if m:
        return float(_node(scenario, m.group(1))[int(m.group(2))])
    return float(_node(scenario, key))
