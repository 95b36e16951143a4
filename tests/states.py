"""Tiny models in a known state, for the tests of the month's processes.

The tests of single processes (allocation, episodes, billing, care effects, carer strain, social
assistance) build a model of a few households, put it in a state they choose, run one process
on a month state and read what it produced. Every read and write of the care state goes
through the functions here, so that a change of the care state's internal representation (for
instance from (domains × households) slot arrays to per-episode arrays) needs only this module
changed, not the tests.

Households are ids (0 … n − 1), domains and provisions are names, channels are names of
:data:`~vraagvolgend.vocabulary.ALL_CHANNELS`.

Example:
    >>> m = tiny_model(n=10)
    >>> give_episode(m, 3, "individual_support", "housing", intensity=0.5)
    0
    >>> [(e.provision, e.domain, e.intensity) for e in episodes_of(m, 3)]
    [('individual_support', 'housing', 0.5)]
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

import vraagvolgend as vv
from vraagvolgend.access import Arrivals
from vraagvolgend.domains import DOMAINS, domain_index
from vraagvolgend.month import MonthState, Process, Requests
from vraagvolgend.vocabulary import ALL_CHANNELS

__all__ = [
    "Episode",
    "LedgerEntry",
    "admitted_of",
    "arrive",
    "benefits_of",
    "book",
    "cost_line",
    "draws",
    "episodes_of",
    "give_episode",
    "households_with_quintile",
    "individual_provisions",
    "ledger_of",
    "mitigation_at",
    "month_state",
    "put_on_benefit",
    "put_on_waiting_list",
    "recovery_added",
    "requests",
    "set_severity",
    "step",
    "tiny_model",
    "tiny_scenario",
    "waiting_of",
]

OPEN = -(2**31)  # the ledger's end month of an open episode


@dataclass(frozen=True)
class Episode:
    """A running provision of a household, as the care state holds it."""

    id: int
    provision: str
    domain: str
    intensity: float
    months_in: int
    left: int  # months until the episode's end or review
    rule: int  # which regime runs it (index into care.regimes)
    upcoded: bool


@dataclass(frozen=True)
class LedgerEntry:
    """One episode of the ledger (running or ended)."""

    id: int
    household: int
    provision: str
    domain: str
    channel: str
    start: int
    end: int | None  # None while open
    cost: float


# --- models -----------------------------------------------------------------------------------


def tiny_scenario(n: int = 20, changes: dict | None = None) -> vv.Scenario:
    """The default municipality with ``n`` households, no burn-in, and ``changes`` (dotted)."""
    s = vv.Scenario.default().with_changes(n_households=n, burn_in_months=0)
    return s.with_changes(changes) if changes else s


def tiny_model(
    n: int = 20, policy="supply-driven", seed: int = 1, changes: dict | None = None
) -> vv.MunicipalityModel:
    """A model of ``n`` households with no problems, no care and nobody waiting (month 0)."""
    model = vv.MunicipalityModel(tiny_scenario(n, changes), policy, rng=seed)
    model.severity = np.zeros_like(model.severity)
    return model


def households_with_quintile(model, quintiles) -> np.ndarray:
    """Ids of the households whose income quintile is one of ``quintiles``."""
    return np.flatnonzero(np.isin(model.households.income_quintile, list(quintiles)))


def set_severity(model, household: int, domain: str, value: float) -> None:
    """Set one household's severity in one domain (the start-of-month state)."""
    severity = model.severity.copy()
    severity[domain_index(domain), household] = value
    model.severity = severity


# --- the care state -----------------------------------------------------------------------------


def _care(model):
    if model.care is None:
        raise ValueError("the model has no formal care")
    return model.care


def _code(model, provision: str) -> int:
    return _care(model).index[provision]


def _domain_of(model, provision: str, domain: str | None) -> int:
    if domain is not None:
        return domain_index(domain)
    serves = np.flatnonzero(_care(model).routing.serves[_code(model, provision)])
    if len(serves) == 0:
        raise ValueError(f"{provision} serves no domain: name the domain")
    return int(serves[0])


def individual_provisions(model) -> list[str]:
    """The provisions billed per episode (individual services, not entitlements)."""
    care = _care(model)
    return [name for name, ind in zip(care.names, care.billed_individually, strict=True) if ind]


def give_episode(
    model,
    household: int,
    provision: str,
    domain: str | None = None,
    *,
    intensity: float = 1.0,
    months_in: int = 0,
    left: int | None = None,
    rule: int = 0,
    upcoded: bool = False,
    start: int = 0,
    channel: str = "wijkteam",
) -> int:
    """Give a household a running episode of ``provision`` (in the first domain it serves,
    unless ``domain`` says otherwise); returns the episode's id.

    ``left`` (months until its end or review) defaults to the provision's standard duration.
    """
    care = _care(model)
    code, d = _code(model, provision), _domain_of(model, provision, domain)
    pos = d * care.n + household
    if care.row.ravel()[pos] >= 0:
        raise ValueError(f"household {household} already has a provision in {DOMAINS[d]}")
    (eid,) = care.ledger.start(
        np.array([household]),
        np.array([code]),
        np.array([d]),
        np.array([ALL_CHANNELS.index(channel)]),
        start,
    )
    one = np.ones(1, dtype=np.int16)
    care.add_running(
        np.array([pos]),
        prov=code * one,
        left=(care.duration[code] if left is None else left) * one,
        months_in=months_in * one,
        goal_months=0 * one,
        intensity=np.array([intensity], dtype=np.float32),
        episode=np.array([eid]),
        rule=rule * one,
        upcoded=np.array([upcoded]),
    )
    return int(eid)


def episodes_of(model, household: int) -> list[Episode]:
    """The household's running episodes, in domain order."""
    care = _care(model)
    out = []
    for d in range(len(DOMAINS)):
        code = int(care.slot[d, household])
        if code < 0:
            continue
        out.append(
            Episode(
                id=int(care.episode[d, household]),
                provision=care.names[code],
                domain=DOMAINS[d],
                intensity=float(care.intensity[d, household]),
                months_in=int(care.months_in[d, household]),
                left=int(care.left[d, household]),
                rule=int(care.slot_rules[d, household]),
                upcoded=bool(care.upcoded[d, household]),
            )
        )
    return out


def ledger_of(model, household: int | None = None) -> list[LedgerEntry]:
    """The ledger's episodes (of one household, or all), in the order they were opened."""
    care = _care(model)
    col = care.ledger.column
    ids = np.arange(care.ledger.n)
    if household is not None:
        ids = ids[col("household") == household]
    return [
        LedgerEntry(
            id=int(i),
            household=int(col("household")[i]),
            provision=care.names[col("provision")[i]],
            domain=DOMAINS[col("domain")[i]],
            channel=ALL_CHANNELS[col("channel")[i]],
            start=int(col("start")[i]),
            end=None if col("end")[i] == OPEN else int(col("end")[i]),
            cost=float(col("cost")[i]),
        )
        for i in ids
    ]


def put_on_waiting_list(
    model,
    household: int,
    provision: str,
    domain: str | None = None,
    *,
    since: int = 0,
    channel: str = "wijkteam",
) -> None:
    """Put a household on the waiting list for ``provision`` since month ``since``."""
    care = _care(model)
    pos = _domain_of(model, provision, domain) * care.n + household
    care.waiting.ravel()[pos] = _code(model, provision)
    care.wait_since.ravel()[pos] = since
    care.wait_channel.ravel()[pos] = ALL_CHANNELS.index(channel)
    care.waiting_at = np.append(care.waiting_at, pos)


def waiting_of(model, household: int) -> dict[str, tuple[str, int]]:
    """The household's places on the waiting list: {domain: (provision, waiting since)}."""
    care = _care(model)
    listed = set(care.waiting_at.tolist())
    return {
        DOMAINS[d]: (care.names[care.waiting[d, household]], int(care.wait_since[d, household]))
        for d in range(len(DOMAINS))
        if care.waiting[d, household] >= 0 and d * care.n + household in listed
    }


def put_on_benefit(model, household: int, start: int = 0, provision: str = "benefit") -> int:
    """Put a household on an entitlement (social assistance) since ``start``; returns the id."""
    care = _care(model)
    code = _code(model, provision)
    k = care.entitlements.index(code)
    (eid,) = care.ledger.start(
        np.array([household]),
        np.array([code]),
        np.array([_domain_of(model, provision, None)]),
        np.array([ALL_CHANNELS.index("entitlement")]),
        start,
    )
    care.entitled[k, household] = eid
    return int(eid)


def benefits_of(model, household: int) -> dict[str, int]:
    """The entitlements the household is on: {provision: episode id}."""
    care = _care(model)
    return {
        care.names[code]: int(care.entitled[k, household])
        for k, code in enumerate(care.entitlements)
        if care.entitled[k, household] >= 0
    }


def book(model, month: int, line: str, amount: float) -> None:
    """Book ``amount`` on one cost line of the budget in ``month`` (spending so far)."""
    care = _care(model)
    costs = np.zeros(len(care.budget.line_names))
    costs[care.budget.line_names.index(line)] = amount
    care.budget.add(month, costs)


# --- the month ----------------------------------------------------------------------------------


def draws(model, default: float = 0.5, **values) -> SimpleNamespace:
    """The month's uniforms per household, as the access process draws them.

    Every uniform is ``default`` unless ``values`` names it: a number for every household, or
    ``{household: value}``. Names: those of :class:`~vraagvolgend.access.AccessDraws`.
    """
    from vraagvolgend.access import AccessDraws

    n = model.households.n
    out = {}
    for name in AccessDraws.NAMES:
        u = np.full(n, default, dtype=np.float32)
        given = values.pop(name, None)
        if isinstance(given, dict):
            for household, value in given.items():
                u[household] = value
        elif given is not None:
            u[:] = given
        out[name] = u
    if values:
        raise TypeError(f"unknown draws: {', '.join(values)}")
    return SimpleNamespace(**out)


def month_state(model, month: int = 1, **fields) -> MonthState:
    """The month's state at its start: the model's severity and strain, the policy in effect,
    no costs yet, the given draws (default :func:`draws`), nobody arriving and nothing
    admitted; ``fields`` set any other field of the month state."""
    care = model.care
    n = model.households.n
    state = MonthState(
        month=month,
        severity=model.severity,
        problems=model.problems.read(model.severity),
        strain=model.strain,
        policy=care.levers(month) if care is not None else None,
    )
    state.draws = draws(model)
    state.rules = np.zeros(n, dtype=np.int8)
    state.requests = state.admitted = Requests.empty()
    state.flexible = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int8))
    if care is not None:
        state.costs = np.zeros(len(care.budget.line_names))
    arrive(model, state, {})
    for name, value in fields.items():
        if not hasattr(state, name):
            raise TypeError(f"MonthState has no field {name!r}")
        setattr(state, name, value)
    return state


def arrive(model, state: MonthState, treated: dict[int, list[str]], channel="wijkteam"):
    """Households reach help this month, each with the domains its plan treats."""
    hh = np.array(sorted(treated), dtype=np.int64)
    treat = np.zeros((len(DOMAINS), len(hh)), dtype=bool)
    for col, household in enumerate(hh):
        for domain in treated[household]:
            treat[domain_index(domain), col] = True
    state.arrivals = Arrivals(
        households=hh,
        channel=np.full(len(hh), ALL_CHANNELS.index(channel), dtype=np.int8),
        found=np.zeros(len(hh), dtype=bool),
        hidden=0,
    )
    state.treat = treat


def requests(model, *items) -> Requests:
    """Requests from ``(household, domain, provision)`` or ``(…, channel)`` tuples."""
    n = model.households.n
    pos, prov, chan = [], [], []
    for household, domain, provision, *channel in items:
        pos.append(domain_index(domain) * n + household)
        prov.append(_code(model, provision))
        chan.append(ALL_CHANNELS.index(channel[0] if channel else "wijkteam"))
    return Requests(
        np.array(pos, dtype=np.int64), np.array(prov, dtype=np.int16), np.array(chan, np.int8)
    )


def admitted_of(model, state: MonthState) -> set[tuple[int, str, str]]:
    """The month's admissions as ``(household, domain, provision)``."""
    d, hh = np.divmod(state.admitted.positions, model.households.n)
    names = _care(model).names
    return {
        (int(h), DOMAINS[int(x)], names[p])
        for h, x, p in zip(hh, d, state.admitted.provisions, strict=True)
    }


def step(model, process: str, state: MonthState) -> Process:
    """Run one process of the model's pipeline on ``state``; returns the process."""
    p = model.pipeline[process]
    p.step(state)
    return p


def cost_line(model, state: MonthState, line: str) -> float:
    """This month's cost on one cost line (a provision name, ``"<name> (idle capacity)"``, or
    an extra line such as ``"network_programme"``)."""
    return float(state.costs[_care(model).budget.line_names.index(line)])


def recovery_added(effects, household: int, domain: str) -> float:
    """Recovery probability that care adds to one household's problem in one domain."""
    return float(effects.recovery_at(np.array([domain_index(domain)]), np.array([household]))[0])


def mitigation_at(model, effects, household: int, domain: str) -> float:
    """Escalation mitigation that care gives one household's problem in one domain."""
    flat = domain_index(domain) * model.households.n + household
    return float(effects.mitigation_at(np.array([flat]))[0])
