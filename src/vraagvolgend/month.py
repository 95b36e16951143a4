"""One month: the state its processes share, the process lifecycle, and the ordered pipeline.

A month is one ordered list of small processes (:class:`Pipeline`). Every process has the same
lifecycle, as Starsim's modules do:

* ``init(model)`` once, when the model is built (before burn-in);
* ``step(state)`` every month, reading and writing the month's :class:`MonthState`;
* ``reporters()`` after each step: the values it adds to the ``monthly`` table.

Every process reads the state at the start of the month (a synchronous update): the severity,
the active problems and the carer strain in :class:`MonthState` are those of the start of the
month, and what a process produces (arrivals, offers, effects, support, the new severity,
costs) is put on the state for the processes after it. Nothing travels in hidden fields.

Example:
    >>> import vraagvolgend as vv
    >>> m = vv.MunicipalityModel(vv.Scenario.default().with_changes(n_households=300,
    ...     burn_in_months=0), "supply-driven", rng=1)
    >>> m.pipeline.names()[:3]
    ['life_events', 'access', 'allocation']
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from .model import MunicipalityModel

__all__ = ["MonthState", "Pipeline", "Process", "Requests"]


@dataclass
class Requests:
    """Requests for a provision: one per (domain, household) entry.

    Attributes:
        positions: Flat (domain × households) indices.
        provisions: Provision code per request.
        channels: Channel code per request (see :data:`vraagvolgend.vocabulary.ALL_CHANNELS`).
    """

    positions: np.ndarray
    provisions: np.ndarray
    channels: np.ndarray

    def __len__(self) -> int:
        return len(self.positions)

    @classmethod
    def empty(cls) -> Requests:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int16), np.zeros(0, np.int8))


@dataclass
class MonthState:
    """What the month's processes read and produce, in one typed object.

    Read at the start of the month (never changed during it):
        month: The month (burn-in months are ≤ 0).
        severity: (domains, households) severity, read-only.
        problems: Which problems are active (:class:`~vraagvolgend.problems.ProblemState`).
        strain: Carer strain per household.
        policy: The policy whose contract, levers and budget rule apply (``None``: no care).

    Produced during the month, in pipeline order:
        draws: The month's access draws (drawn for every household).
        events: This month's life events (applied at the end of the month).
        arrivals: Households that reach help, and how.
        rules: Per household, which regime decides for it (index into ``care.regimes``).
        requests: What the gatekeeper offers (before capacity).
        admitted: Requests admitted to a provision this month.
        flexible: Households given a one-off flexible-budget solution, and their rule.
        costs: This month's costs per cost line (see ``care.budget.line_names``).
        effects: Effects of formal care on this month's problem dynamics.
        support: Informal support flows.
        severity_end: The state at the end of the month (after problem dynamics).
        strain_end: Carer strain at the end of the month.
        counts: Numbers the processes counted (onsets, recoveries, escalations, …).
    """

    month: int
    severity: np.ndarray
    problems: Any
    strain: np.ndarray
    policy: Any = None
    draws: Any = None
    events: Any = None
    arrivals: Any = None
    rules: np.ndarray | None = None
    requests: Requests | None = None
    treat: np.ndarray | None = None
    admitted: Requests | None = None
    flexible: tuple[np.ndarray, np.ndarray] | None = None
    costs: np.ndarray | None = None
    effects: Any = None
    support: Any = None
    severity_end: np.ndarray | None = None
    strain_end: np.ndarray | None = None
    counts: dict[str, float] = field(default_factory=dict)


class Process:
    """A step of the month. Subclass it, give it a ``name``, and implement :meth:`step`.

    Attributes:
        name: Unique name in the pipeline (also its label in :meth:`Pipeline.plan`).
        after: For a process a user adds: the name of the process it runs after.
        outputs: The cost lines and outcomes it adds.
    """

    name: ClassVar[str] = "process"
    after: ClassVar[str | None] = None
    #: Cost lines and outcomes the process adds (:class:`~vraagvolgend.outputs.CostLine` with
    #: a ``reporter``, :class:`~vraagvolgend.outputs.Outcome`): they reach every summary,
    #: comparison and decomposition, the external total included for a line ``in_total``.
    outputs: ClassVar[tuple] = ()

    def init(self, model: MunicipalityModel) -> None:
        """Prepare the process for ``model`` (called once, before burn-in)."""
        self.model = model

    def step(self, state: MonthState) -> None:  # pragma: no cover - abstract
        """Do this month's work, reading and writing ``state``."""
        raise NotImplementedError

    def reporters(self) -> dict[str, float]:
        """Values this process adds to the ``monthly`` table (after its last step)."""
        return {}


class Pipeline:
    """The month's processes in order, with the time each took.

    Args:
        processes: The processes, in the order they run.
    """

    def __init__(self, processes: list[Process]):
        names = [p.name for p in processes]
        duplicate = {n for n in names if names.count(n) > 1}
        if duplicate:
            raise ValueError(f"process names must be unique: {', '.join(sorted(duplicate))}")
        self.processes = list(processes)
        self.seconds = dict.fromkeys(names, 0.0)
        self.calls = dict.fromkeys(names, 0)

    def names(self) -> list[str]:
        """The processes' names, in order."""
        return [p.name for p in self.processes]

    def __getitem__(self, name: str) -> Process:
        for p in self.processes:
            if p.name == name:
                return p
        raise KeyError(f"no process named {name!r}; the pipeline has: {', '.join(self.names())}")

    def insert(self, process: Process, after: str | None = None) -> None:
        """Insert ``process`` after the process named ``after`` (default: ``process.after``,
        else at the end)."""
        after = after if after is not None else process.after
        if process.name in self.seconds:
            raise ValueError(f"a process named {process.name!r} is already in the pipeline")
        where = len(self.processes) if after is None else self.names().index(self[after].name) + 1
        self.processes.insert(where, process)
        self.seconds[process.name] = 0.0
        self.calls[process.name] = 0

    def init(self, model: MunicipalityModel) -> None:
        for p in self.processes:
            p.init(model)

    def step(self, state: MonthState) -> None:
        """Run one month through every process, timing each."""
        clock = time.perf_counter
        for p in self.processes:
            t0 = clock()
            p.step(state)
            self.seconds[p.name] += clock() - t0
            self.calls[p.name] += 1

    def reporters(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for p in self.processes:
            out.update(p.reporters())
        return out

    def plan(self) -> pd.DataFrame:
        """The month's order: one row per process with its module, calls and time taken."""
        total = sum(self.seconds.values()) or 1.0
        return pd.DataFrame(
            {
                "process": self.names(),
                "module": [type(p).__module__ for p in self.processes],
                "calls": [self.calls[n] for n in self.names()],
                "seconds": [self.seconds[n] for n in self.names()],
                "share": [self.seconds[n] / total for n in self.names()],
            },
            index=pd.RangeIndex(1, len(self.processes) + 1, name="order"),
        )

    def __repr__(self) -> str:
        return "Pipeline(" + " → ".join(self.names()) + ")"
