"""Calibration: targets from public figures, a fit table, and fitting scenario parameters.

A :class:`Target` names a *statistic* (a registered function of a
:class:`~vraagvolgend.results.Result`), the public value, an acceptable range and the source.
The default targets live in the package's ``data/targets.toml`` (:func:`load_targets`): the
levels the default municipality is calibrated to (youth care, Wmo clients, social assistance,
cost per inhabitant), who uses provisions (by income and household type), youth-care
trajectory lengths (survival estimates that treat trajectories still running at the end of a
run as censored) and referral channels, and the cost split between youth care and Wmo.

:func:`fit_table` runs a scenario and policy for some replications and compares every target
with the model's value and its 95% interval. :func:`calibrate` fits named *scenario*
parameters (population heterogeneity, onset, recovery, help-seeking) to targets with
:func:`scipy.optimize.differential_evolution` or Nelder–Mead on a loss of standardised
distances to the target ranges, every candidate on the same seeds (common random numbers) and
the runs spread over the experiments executor (serial, a process pool or Dask). Policy,
regime and contract parameters are refused: they keep their sourced values, so that no regime
is fitted to land somewhere.

Example:
    >>> import vraagvolgend as vv
    >>> targets = vv.load_targets(names=["youth_care_share", "youth_care_income_ratio"])
    >>> [t.name for t in targets]
    ['youth_care_share', 'youth_care_income_ratio']
"""

from __future__ import annotations

import math
import re
import time
import tomllib
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .comparison import mean_ci
from .financing import Policy, PolicySwitch, resolve_policy
from .parameters import ParameterError
from .results import Result
from .scenario import Scenario
from .simulation import run

__all__ = [
    "FITTABLE_SECTIONS",
    "STATISTICS",
    "Fit",
    "Target",
    "calibrate",
    "evaluate",
    "fit_table",
    "format_table",
    "load_targets",
    "plot_fit_table",
    "register_statistic",
    "trajectories",
    "trajectory_survival",
]

#: Scenario sections whose parameters may be fitted. The catalogue (``provisions``: prices,
#: durations, capacities) and the municipality's size are sourced inputs, not fitted.
FITTABLE_SECTIONS = ("population", "problems", "life_events", "support", "access", "network")
#: The catalogue's routing that may be fitted (where the gatekeeper places a need, not what a
#: provision costs or does): an end of a provision's need window, as
#: ``provisions.<law>.<name>.need_window[0]`` (low end) or ``[1]`` (high end).
FITTABLE_CATALOGUE = re.compile(r"provisions\.\w+\.\w+\.need_window\[[01]\]")
_FIRST_YEAR = 2  # year 1 is a further burn-in: statistics use years 2 … the last

# --- statistics: functions of a result ---------------------------------------------------------

#: Registered statistics by name: ``name -> function(result) -> float``.
STATISTICS: dict[str, Callable[[Result], float]] = {}


def register_statistic(name: str) -> Callable:
    """Register a statistic of a result under ``name`` (a decorator), for use in targets.

    Example:
        >>> "youth_care_income_ratio" in STATISTICS
        True
    """

    def decorate(function: Callable[[Result], float]) -> Callable[[Result], float]:
        STATISTICS[name] = function
        return function

    return decorate


_USAGE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _Usage:
    """Who used what in each year of one result (built once per result, shared by statistics)."""

    def __init__(self, result: Result):
        self.result = result
        self.h = result.households
        self.years = list(range(_FIRST_YEAR, result.months // 12 + 1)) or [result.months // 12]
        e = result.episodes
        self.e = e
        self._cache: dict[str, np.ndarray] = {}

    def users(self, key: str, mask: np.ndarray) -> np.ndarray:
        """(years, households) bool: which households had an episode in ``mask`` in a year."""
        if key not in self._cache:
            e = self.e[mask]
            start = e["start_month"].to_numpy()
            out = np.zeros((len(self.years), len(self.h)), dtype=bool)
            for i, year in enumerate(self.years):
                lo, hi = 12 * (year - 1) + 1, 12 * year
                end = e["end_month"].fillna(hi).to_numpy(dtype=float)
                out[i, e["household_id"].to_numpy()[(start <= hi) & (end >= lo)]] = True
            self._cache[key] = out
        return self._cache[key]

    def law(self, law: str) -> np.ndarray:
        return self.users(f"law:{law}", (self.e["law"] == law).to_numpy())

    def provision(self, name: str) -> np.ndarray:
        return self.users(f"prov:{name}", (self.e["provision"] == name).to_numpy())


def _usage(result: Result) -> _Usage:
    usage = _USAGE.get(result)
    if usage is None:
        usage = _USAGE[result] = _Usage(result)
    return usage


def _indicator(name: str) -> Callable[[Result], float]:
    def statistic(result: Result) -> float:
        ind = result.indicators()
        return float(ind.loc[ind["year"] >= min(_usage(result).years), name].mean())

    statistic.__doc__ = f"Mean over years 2 … of ``Result.indicators()['{name}']``."
    return statistic


for _name in (
    "youth_care_share",
    "wmo_clients_per_1000",
    "social_assistance_share",
    "any_individual_share",
    "external_cost_per_inhabitant",
):
    register_statistic(_name)(_indicator(_name))


def _youth_share(result: Result, households: np.ndarray) -> float:
    """Young people with youth care ÷ young people, among ``households`` (mean over years)."""
    u = _usage(result)
    children = u.h["n_children"].to_numpy(dtype=float) * households
    return float((u.law("jeugdwet") * children).sum(axis=1).mean() / max(children.sum(), 1))


def _types(result: Result) -> np.ndarray:
    return result.households["household_type"].astype(str).to_numpy()


@register_statistic("youth_care_income_ratio")
def youth_care_income_ratio(result: Result) -> float:
    """Youth-care share of young people in the lowest ÷ the highest income quintile."""
    q = result.households["income_quintile"].to_numpy()
    return _youth_share(result, q == 1) / _youth_share(result, q == 5)


@register_statistic("youth_care_single_parent_ratio")
def youth_care_single_parent_ratio(result: Result) -> float:
    """Youth-care share of young people in single-parent ÷ couple-with-children households."""
    t = _types(result)
    return _youth_share(result, t == "single_parent") / _youth_share(result, t == "couple_children")


def _benefit_share(result: Result, types: Sequence[str]) -> float:
    """Share of the household-years on social assistance held by households of ``types``."""
    on = _usage(result).provision("benefit")
    return float(on[:, np.isin(_types(result), types)].sum() / max(on.sum(), 1))


@register_statistic("social_assistance_one_person_share")
def social_assistance_one_person_share(result: Result) -> float:
    """Share of social-assistance households that are one-person households."""
    return _benefit_share(result, ["single", "single_75plus"])


@register_statistic("social_assistance_single_parent_share")
def social_assistance_single_parent_share(result: Result) -> float:
    """Share of social-assistance households that are single-parent households."""
    return _benefit_share(result, ["single_parent"])


@register_statistic("social_assistance_couple_share")
def social_assistance_couple_share(result: Result) -> float:
    """Share of social-assistance households that are couples (with or without children)."""
    return _benefit_share(result, ["couple", "couple_children"])


_INCOME_GROUPS = {"low": (1, 2), "middle": (3, 4), "high": (5,)}


def _household_help_per_1000(result: Result, group: str) -> float:
    """Household-help clients (households) per 1,000 inhabitants of an income group."""
    u = _usage(result)
    inside = np.isin(u.h["income_quintile"].to_numpy(), _INCOME_GROUPS[group])
    persons = u.h["n_persons"].to_numpy()[inside].sum()
    return float(1000 * u.provision("household_help")[:, inside].sum(axis=1).mean() / persons)


@register_statistic("household_help_income_ratio")
def household_help_income_ratio(result: Result) -> float:
    """Household-help clients per 1,000: low income (quintiles 1–2) ÷ high (quintile 5)."""
    return _household_help_per_1000(result, "low") / _household_help_per_1000(result, "high")


@register_statistic("household_help_middle_low_ratio")
def household_help_middle_low_ratio(result: Result) -> float:
    """Household-help clients per 1,000: middle income (quintiles 3–4) ÷ low (1–2)."""
    return _household_help_per_1000(result, "middle") / _household_help_per_1000(result, "low")


def _clients_per_1000(result: Result, provision: str) -> float:
    u = _usage(result)
    n = u.h["n_persons"].to_numpy().sum()
    return float(1000 * u.provision(provision).sum(axis=1).mean() / n)


@register_statistic("household_help_per_1000")
def household_help_per_1000(result: Result) -> float:
    """Household-help clients per 1,000 inhabitants (one client per household)."""
    return _clients_per_1000(result, "household_help")


@register_statistic("individual_support_per_1000")
def individual_support_per_1000(result: Result) -> float:
    """Individual-support (begeleiding) clients per 1,000 inhabitants."""
    return _clients_per_1000(result, "individual_support")


def _law_cost_per_inhabitant(result: Result, law: str) -> float:
    c = result.costs
    c = c[(c["year"] >= min(_usage(result).years)) & (c["law"] == law)]
    years = len(_usage(result).years)
    return float(c["cost_eur"].sum() / years / result.households["n_persons"].sum())


@register_statistic("youth_care_cost_per_inhabitant")
def youth_care_cost_per_inhabitant(result: Result) -> float:
    """Annual youth-care (Jeugdwet) cost per inhabitant (EUR)."""
    return _law_cost_per_inhabitant(result, "jeugdwet")


@register_statistic("wmo_cost_per_inhabitant")
def wmo_cost_per_inhabitant(result: Result) -> float:
    """Annual Wmo cost per inhabitant (EUR)."""
    return _law_cost_per_inhabitant(result, "wmo")


@register_statistic("youth_care_cost_share")
def youth_care_cost_share(result: Result) -> float:
    """Youth care's share of the youth-care plus Wmo cost."""
    youth = youth_care_cost_per_inhabitant(result)
    return youth / (youth + wmo_cost_per_inhabitant(result))


@register_statistic("youth_care_residential_share")
def youth_care_residential_share(result: Result) -> float:
    """Share of young people with youth care during a year whose care included accommodation.

    The model's youth care is the household's (one parenting slot per household), so a
    household's children count as its young people in care; the ratio is the national one
    (young people with accommodation ÷ young people with any youth care, Jeugdautoriteit) as
    long as the number of children does not change the chance of accommodation. Mean over
    years 2 … the last.
    """
    u = _usage(result)
    children = u.h["n_children"].to_numpy(dtype=float)
    any_care = (u.law("jeugdwet") * children).sum(axis=1)
    residential = (u.provision("youth_residential") * children).sum(axis=1)
    return float(residential.sum() / max(any_care.sum(), 1))


#: Months without the benefit that do not break a spell (a month between two episodes).
BENEFIT_GAP_MONTHS = 1
#: The long spell of the benefit's duration target (months).
BENEFIT_LONG_MONTHS = 60


def benefit_spells(episodes: pd.DataFrame, gap: int = BENEFIT_GAP_MONTHS) -> pd.DataFrame:
    """Spells of the social-assistance benefit: a household's benefit episodes with breaks of
    at most ``gap`` months joined into one spell.

    Returns:
        One row per spell: ``household_id``, ``start`` and ``end`` month (``end`` missing
        while it runs).
    """
    e = episodes[episodes["provision"] == "benefit"]
    if e.empty:
        return pd.DataFrame({"household_id": [], "start": [], "end": []})
    e = e.sort_values(["household_id", "start_month"])
    hh = e["household_id"].to_numpy()
    start = e["start_month"].to_numpy()
    end = e["end_month"].to_numpy(dtype=float, na_value=np.inf)
    prev_end = np.r_[-np.inf, end[:-1]]
    same = np.r_[False, hh[1:] == hh[:-1]]
    new_spell = ~(same & (start - prev_end <= gap + 1))
    spell = np.cumsum(new_spell) - 1
    out = pd.DataFrame({"household_id": hh, "start": start, "end": end, "spell": spell})
    out = out.groupby("spell").agg(
        household_id=("household_id", "first"), start=("start", "min"), end=("end", "max")
    )
    out["end"] = out["end"].replace(np.inf, np.nan)
    return out.reset_index(drop=True)


@register_statistic("benefit_five_years_share")
def benefit_five_years_share(result: Result) -> float:
    """Share of the households on the benefit in the last month that have received it for
    five years or more, breaks of at most a month included (CBS, BUIG: about half)."""
    spells = benefit_spells(result.episodes)
    last = result.months
    current = spells[spells["end"].isna() | (spells["end"] >= last)]
    current = current[current["start"] <= last]
    if current.empty:
        return float("nan")
    return float((last - current["start"] + 1 >= BENEFIT_LONG_MONTHS).mean())


# --- trajectories and their survival -----------------------------------------------------------


def trajectories(episodes: pd.DataFrame, law: str = "jeugdwet", end: int | None = None):
    """Chain a law's episodes into trajectories per household.

    Episodes of a household under the law that follow each other without a month's gap
    (renewals, escalations, a second product) are one trajectory. Only trajectories that start
    in month 1 or later are kept (those started in the burn-in are left-truncated).

    Args:
        episodes: An ``episodes`` table (:attr:`Result.episodes`).
        law: The law.
        end: Last simulated month (trajectories still running then are censored there);
            default: the largest month in the table.

    Returns:
        A DataFrame with ``household_id``, ``start_month``, ``months`` (length, counting the
        first and last month), ``ended`` (False when still running: right-censored) and
        ``channel`` (of the first episode).
    """
    e = episodes[episodes["law"] == law]
    if end is None:
        end = int(max(e["start_month"].max(), e["end_month"].max())) if len(e) else 0
    frame = pd.DataFrame(
        {
            "household_id": e["household_id"].to_numpy(),
            "start": e["start_month"].to_numpy(dtype=np.int64),
            "end": e["end_month"].to_numpy(dtype=float, na_value=np.inf),
            "channel": e["channel"].astype(str).to_numpy(),
        }
    ).sort_values(["household_id", "start"], kind="stable", ignore_index=True)
    hh, start, stop = (frame[c].to_numpy() for c in ("household_id", "start", "end"))
    # A new trajectory starts where the household changes or a gap opens after every
    # earlier episode of the same trajectory has ended (the running maximum of end months).
    new = np.ones(len(frame), dtype=bool)
    running_end = -np.inf
    for i in range(len(frame)):
        if i > 0 and hh[i] == hh[i - 1] and start[i] <= running_end + 1:
            new[i] = False
            running_end = max(running_end, stop[i])
        else:
            running_end = stop[i]
    group = np.cumsum(new) - 1
    out = (
        frame.assign(group=group)
        .groupby("group")
        .agg(
            household_id=("household_id", "first"),
            start_month=("start", "min"),
            last=("end", "max"),
            channel=("channel", "first"),
        )
    )
    ended = np.isfinite(out["last"].to_numpy()) & (out["last"].to_numpy() <= end)
    last = np.where(ended, out["last"].to_numpy(), end)
    out = out.assign(months=(last - out["start_month"].to_numpy() + 1).astype(int), ended=ended)
    out = out[out["start_month"] >= 1]
    columns = ["household_id", "start_month", "months", "ended", "channel"]
    return out[columns].reset_index(drop=True)


def trajectory_survival(trajectories_: pd.DataFrame):
    """Kaplan–Meier estimate of trajectory length (months), trajectories still running censored.

    Returns:
        The :func:`scipy.stats.ecdf` result; ``.sf.evaluate(t)`` is the share still running
        after ``t`` months.
    """
    months = trajectories_["months"].to_numpy(dtype=float)
    ended = trajectories_["ended"].to_numpy(dtype=bool)
    data = stats.CensoredData(uncensored=months[ended], right=months[~ended])
    return stats.ecdf(data)


def _youth_trajectories(result: Result) -> pd.DataFrame:
    u = _usage(result)
    if "trajectories" not in u._cache:
        u._cache["trajectories"] = trajectories(u.e, "jeugdwet", end=result.months)
    return u._cache["trajectories"]


def _youth_survival_at(months: float) -> Callable[[Result], float]:
    def statistic(result: Result) -> float:
        t = _youth_trajectories(result)
        if not len(t) or not t["ended"].any():
            return float("nan")
        # "Longer than m months": a trajectory of exactly m months has ended by then.
        return float(trajectory_survival(t).sf.evaluate(months))

    statistic.__doc__ = f"Share of youth-care trajectories lasting longer than {months} months."
    return statistic


for _m in (3, 6, 12, 24):
    register_statistic(f"youth_care_longer_than_{_m}m")(_youth_survival_at(_m))


def _youth_channel_share(channel: str) -> Callable[[Result], float]:
    def statistic(result: Result) -> float:
        t = _youth_trajectories(result)
        return float((t["channel"] == channel).mean()) if len(t) else float("nan")

    statistic.__doc__ = f"Share of new youth-care trajectories referred through '{channel}'."
    return statistic


for _c in ("gp", "wijkteam", "self"):
    register_statistic(f"youth_care_channel_{_c}")(_youth_channel_share(_c))


# --- targets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A public figure the model should reproduce.

    Attributes:
        name: Unique name.
        statistic: Name of a registered statistic (:data:`STATISTICS`).
        value: The public value.
        low: Lowest acceptable model value.
        high: Highest acceptable model value.
        source: Where the value comes from.
        group: ``level``, ``gradient``, ``trajectory``, ``channel`` or ``cost`` (for selecting).
        description: What it is, in words.
        weight: Weight in the calibration loss.
    """

    name: str
    statistic: str
    value: float
    low: float
    high: float
    source: str
    group: str = "level"
    description: str = ""
    weight: float = 1.0

    def __post_init__(self):
        if self.statistic not in STATISTICS:
            raise ParameterError(
                f"targets.{self.name}.statistic",
                f"{self.statistic!r} is not a registered statistic: {sorted(STATISTICS)}",
            )
        if not (self.low <= self.value <= self.high and self.low < self.high):
            raise ParameterError(
                f"targets.{self.name}",
                f"needs low ≤ value ≤ high and low < high, got "
                f"{self.low}, {self.value}, {self.high}",
            )
        if not self.weight >= 0:
            raise ParameterError(f"targets.{self.name}.weight", f"{self.weight} must be ≥ 0")

    def within(self, model_value: float) -> bool:
        """Whether a model value lies in the acceptable range."""
        return bool(self.low <= model_value <= self.high)

    def distance(self, model_value: float) -> float:
        """Distance outside the range in units of the range's width (0 inside, inf for NaN)."""
        if not math.isfinite(model_value):
            return math.inf
        width = self.high - self.low
        return max(self.low - model_value, model_value - self.high, 0.0) / width


def load_targets(
    path: str | Path | None = None,
    *,
    names: Iterable[str] | None = None,
    groups: Iterable[str] | None = None,
) -> tuple[Target, ...]:
    """Read targets from a TOML file (default: the package's ``data/targets.toml``).

    The file has one table per target, ``[targets.<name>]`` with ``statistic`` (default: the
    name), ``value``, ``low``, ``high``, ``source`` and optionally ``group``, ``description``
    and ``weight``.

    Args:
        path: A TOML file; ``None`` for the package's targets.
        names: Keep only these targets (in this order).
        groups: Keep only targets of these groups.
    """
    if path is None:
        text = files("vraagvolgend").joinpath("data/targets.toml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    try:
        table = tomllib.loads(text)["targets"]
    except (tomllib.TOMLDecodeError, KeyError) as err:
        raise ParameterError("targets", f"cannot read targets from {path}: {err}") from None
    allowed = {"statistic", "value", "low", "high", "source", "group", "description", "weight"}
    targets = {}
    for name, spec in table.items():
        unknown = set(spec) - allowed
        if unknown:
            raise ParameterError(f"targets.{name}", f"unknown keys {sorted(unknown)}")
        missing = {"value", "low", "high", "source"} - set(spec)
        if missing:
            raise ParameterError(f"targets.{name}", f"missing keys {sorted(missing)}")
        targets[name] = Target(name=name, **{"statistic": name, **spec})
    if names is not None:
        names = list(names)
        unknown = [n for n in names if n not in targets]
        if unknown:
            raise ParameterError("targets", f"unknown targets {unknown}: {sorted(targets)}")
        chosen = [targets[n] for n in names]
    else:
        chosen = list(targets.values())
    if groups is not None:
        groups = set(groups)
        chosen = [t for t in chosen if t.group in groups]
    return tuple(chosen)


def evaluate(result: Result, targets: Iterable[Target]) -> dict[str, float]:
    """The model value of every target's statistic on one result."""
    return {t.name: float(STATISTICS[t.statistic](result)) for t in targets}


# --- runs on the experiments executor ----------------------------------------------------------


def _run_task(task) -> dict[str, float]:
    """Run one (scenario, policy, seed) and compute the statistics (sent to workers)."""
    from .parallel import limit_threads

    scenario, policy, seed, months, targets = task
    with limit_threads(1):
        result = run(scenario, policy, seed=seed, months=months)
    return evaluate(result, targets)


class _Runner:
    """Runs batches of tasks on the experiments executor, results in task order."""

    def __init__(self, executor, workers):
        self.executor, self.workers = executor, workers

    def map(self, tasks: list) -> list[dict[str, float]]:
        from .experiments import run_all

        done: dict[int, dict[str, float]] = {}
        order = {id(task): i for i, task in enumerate(tasks)}

        def handle(task, value, error):
            if error is not None:
                raise RuntimeError(f"calibration run failed: {error}")
            done[order[id(task)]] = value

        run_all(_run_task, tasks, executor=self.executor, workers=self.workers, handle=handle)
        return [done[i] for i in range(len(tasks))]

    def close(self) -> None:
        """Nothing to close: each batch opens and closes its own executor."""


def _seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise ParameterError("replications", f"{replications!r} must be an integer ≥ 1")
    return np.random.SeedSequence(seed).spawn(replications)


def _table(targets: Sequence[Target], values: list[dict[str, float]]) -> pd.DataFrame:
    rows = []
    for t in targets:
        x = np.array([v[t.name] for v in values], dtype=float)
        x = x[np.isfinite(x)]
        mean, lo, hi = mean_ci(x) if len(x) else (np.nan, np.nan, np.nan)
        rows.append(
            {
                "target": t.name,
                "group": t.group,
                "model": mean,
                "ci_low": lo,
                "ci_high": hi,
                "value": t.value,
                "low": t.low,
                "high": t.high,
                "within": t.within(mean),
                "source": t.source,
                "description": t.description,
            }
        )
    return pd.DataFrame(rows)


def fit_table(
    scenario: Scenario | None = None,
    policy: Policy | PolicySwitch | str = "supply-driven",
    targets: Sequence[Target] | None = None,
    replications: int = 5,
    *,
    months: int = 60,
    seed: int = 0,
    executor="serial",
    workers: int | None = None,
) -> pd.DataFrame:
    """Compare a scenario under a policy with targets.

    Args:
        scenario: The municipality (default: the embedded default).
        policy: The policy (object or name).
        targets: Targets (default: :func:`load_targets`).
        replications: Runs, on seeds ``SeedSequence(seed).spawn(replications)``.
        months: Months per run (statistics use years 2 … the last).
        seed: Root seed.
        executor: ``"serial"`` (default), ``"processes"``, ``"dask"``, a Dask client or an
            Executor (as in :func:`~vraagvolgend.experiments.run_experiment`).
        workers: Worker processes for ``"processes"`` and ``"dask"``.

    Returns:
        One row per target: ``target``, ``group``, ``model`` (mean over replications),
        ``ci_low``/``ci_high`` (its 95% interval), ``value``, ``low``/``high`` (the
        acceptable range), ``within`` (the mean lies in the range), ``source``,
        ``description``.
    """
    scenario = Scenario.default() if scenario is None else scenario
    targets = load_targets() if targets is None else tuple(targets)
    policy = resolve_policy(policy)
    tasks = [(scenario, policy, s, months, targets) for s in _seeds(seed, replications)]
    runner = _Runner(executor, workers)
    try:
        values = runner.map(tasks)
    finally:
        runner.close()
    return _table(targets, values)


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
    runner = _Runner(executor, workers)
    started = time.perf_counter()

    def scenario_at(x) -> Scenario:
        return scenario.with_changes(
            _changes(scenario, dict(zip(keys, map(float, x), strict=True)))
        )

    def losses(points: np.ndarray) -> np.ndarray:
        tasks = [(scenario_at(x), policy, s, months, targets) for x in points for s in seeds]
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
        values = runner.map([(fitted, policy, s, months, targets) for s in _seeds(seed, reps)])
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
