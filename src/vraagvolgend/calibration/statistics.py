"""Statistics of a result that calibration targets compare with public figures."""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from ..results import Result

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
    from scipy import stats  # lazily: slow to import

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
