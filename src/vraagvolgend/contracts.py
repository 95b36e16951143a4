"""Contract types for individual provisions, and how providers respond to each.

A contract is a small class: how it changes an episode's length and intensity, whether it
induces referrals or upcoding, how it bills a running episode, and whether it limits capacity.
Each reads its strengths from the policy's :class:`~vraagvolgend.financing.Contracts` section.
The three Dutch types:

* :class:`Effort` (*inspanningsgericht*, price × hours): pays to prolong, to over-provide and to
  refer (supplier-induced referral).
* :class:`Output` (*outputgericht*, a price per trajectory): pays to end early and to classify
  heavier (upcoding).
* :class:`Task` (*taakgericht*, a lump sum for a contracted capacity): pays to do less per client;
  capacity limits intake (waiting lists).

A user's own contract subclasses :class:`Contract` and registers under a name with
:func:`register_contract`; a policy then names it (``contract = "my_contract"``) and survives a
TOML round trip.

Example:
    >>> from vraagvolgend.contracts import CONTRACTS
    >>> {"effort", "output", "task"} <= set(CONTRACTS)
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .parameters import Section, param
from .registry import Registry

__all__ = ["CONTRACTS", "Contract", "Contracts", "Effort", "Output", "Task", "register_contract"]

#: The source of a default that is an assumption.
ASSUMED = "assumption"

F32 = np.float32

#: Registered contract types by name.
CONTRACTS = Registry("contract")


#: Class decorator: register a :class:`Contract` subclass under a name.
register_contract = CONTRACTS.register


class Contract:
    """Base contract: standard durations and intensities, billed per client-month.

    Args:
        params: The policy's ``contracts`` section (the response strengths).
    """

    name: ClassVar[str] = "contract"
    #: Individual provisions are paid as a lump sum for a contracted capacity.
    lump_sum: ClassVar[bool] = False

    def __init__(self, params):
        self.params = params

    def response(self, months, intensity, individual):
        """The provider's response at the start (or renewal) of episodes.

        Args:
            months: Months until the episode's end or review, per episode.
            intensity: Care intensity per episode (float32).
            individual: Per episode: an individual provision (contracts apply to these only).

        Returns:
            (months as int16, intensity as float32).
        """
        return np.asarray(months).astype(np.int16), np.asarray(intensity).astype(F32)

    def exit_lag(self, lag: int) -> int:
        """Months an individual episode runs on after its goal is reached (the regime's
        ``exit_lag_months`` is the lag without any incentive)."""
        return lag

    def _stretch(self, months, individual, factor: float):
        return np.where(individual, np.maximum(np.rint(months * factor), 1), months)

    def induced_referral(self) -> float:
        """Share of light needs referred to an individual provision anyway."""
        return 0.0

    def upcoded(self, individual: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Which new episodes are billed at the heavier tariff (``u``: uniform per episode)."""
        return np.zeros(len(individual), dtype=bool)

    def bill(self, cost_month, intensity, months_in, duration, upcoded) -> np.ndarray:
        """This month's amount per running individual episode (not lump-sum funded).

        Args:
            cost_month: Catalogue cost per client-month, per episode.
            intensity: Care intensity per episode.
            months_in: Months the episode has run.
            duration: The provision's standard duration, per episode.
            upcoded: Whether the episode is billed at the heavier tariff.
        """
        return cost_month * intensity

    def capacity(self, base: np.ndarray) -> np.ndarray:
        """Concurrent places of individual provisions (inf: not limited).

        A function of ``base`` and the contract's parameters only: the model computes it
        once per policy (and collective multiplier), not every month.
        """
        return np.full(len(base), np.inf)


CONTRACTS.base = Contract


@register_contract("effort")
class Effort(Contract):
    """Effort-based (*inspanningsgericht*): price × hours.

    Months to the next review, and the months care runs on after its goal is reached, are
    ``1 + effort_prolongation`` times as long; hours billed are
    ``1 + effort_over_provision`` times the hours needed, and a share
    ``effort_induced_referral`` of light needs is referred on anyway.
    """

    def response(self, months, intensity, individual):
        months = self._stretch(months, individual, 1 + self.params.effort_prolongation)
        return super().response(months, intensity, individual)

    def exit_lag(self, lag: int) -> int:
        return round((lag + 1) * (1 + self.params.effort_prolongation)) - 1

    def induced_referral(self) -> float:
        return self.params.effort_induced_referral

    def bill(self, cost_month, intensity, months_in, duration, upcoded):
        return cost_month * intensity * (1 + self.params.effort_over_provision)


@register_contract("output")
class Output(Contract):
    """Output-based (*outputgericht*): a price per trajectory.

    Months to the next review, and the months care runs on after its goal is reached, are
    ``1 − output_shortening`` times as long; a share
    ``output_upcoding`` is billed at ``output_upcode_factor`` times the tariff. The price of a
    trajectory (cost per month × standard duration) is billed at its start and again after
    every (shortened) standard duration that the episode runs on.
    """

    def response(self, months, intensity, individual):
        months = self._stretch(months, individual, 1 - self.params.output_shortening)
        return super().response(months, intensity, individual)

    def exit_lag(self, lag: int) -> int:
        return max(round((lag + 1) * (1 - self.params.output_shortening)) - 1, 0)

    def upcoded(self, individual, u):
        return individual & (u < self.params.output_upcoding)

    def bill(self, cost_month, intensity, months_in, duration, upcoded):
        c = self.params
        period = np.maximum(np.rint(duration * (1 - c.output_shortening)), 1)
        due = months_in % period == 0
        price = cost_month * duration
        price = np.where(upcoded, price * c.output_upcode_factor, price)
        return np.where(due, price, 0.0)


@register_contract("task")
class Task(Contract):
    """Task-based (*taakgericht*): a lump sum for a contracted capacity.

    Individual provisions get ``task_capacity`` times the catalogue's capacity (the rest
    waits), are paid as a lump sum whether used or not, and care intensity is
    ``1 − task_under_treatment`` times the standard.
    """

    lump_sum = True

    def response(self, months, intensity, individual):
        under = F32(1 - self.params.task_under_treatment)
        intensity = np.where(individual, intensity * under, intensity)
        return super().response(months, intensity, individual)

    def capacity(self, base):
        return base * self.params.task_capacity


# --- the response strengths, a section of every policy ----------------------------------------


@dataclass(frozen=True)
class Contracts(Section):
    """How providers respond to each contract type (the mechanisms, with exposed strengths)."""

    _path = "contracts"

    effort_prolongation: float = param(
        0.0,
        kind="float",
        lo=0.0,
        hi=5.0,
        source="counterfactual: observed practice, mostly effort-based contracts (VNG), whose "
        "durations the catalogue and the lifecycle already reflect; above 0: stronger than "
        "observed (price × hours pays to prolong)",
        doc="effort-based: months to the next review are (1 + this) × the regime's",
    )
    effort_over_provision: float = param(
        0.0,
        kind="float",
        lo=0.0,
        hi=5.0,
        source="counterfactual: observed practice; the catalogue's prices are realised costs "
        "under mostly effort-based contracts; above 0: more over-provision than observed",
        doc="effort-based: hours billed are (1 + this) × the hours needed",
    )
    effort_induced_referral: float = param(
        0.0,
        kind="float",
        lo=0.0,
        hi=1.0,
        source="counterfactual: observed practice (the access parameters are calibrated to it); "
        "up to about 0.14: referrals grew 14% faster where team members were employed by care "
        "providers (CPB 2019)",
        doc="effort-based: share of light needs referred to an individual provision anyway "
        "(supplier-induced referral)",
    )
    output_shortening: float = param(
        0.3,
        kind="float",
        lo=0.0,
        hi=0.95,
        source="assumption, relative to observed (effort-based) practice: a fixed price per "
        "trajectory pays to end early",
        doc="output-based: months to the next review are (1 − this) × the regime's",
    )
    output_upcoding: float = param(
        0.2,
        kind="float",
        lo=0.0,
        hi=1.0,
        source="assumption: a fixed price per trajectory pays to classify heavier",
        doc="output-based: share of trajectories billed at the heavier tariff",
    )
    output_upcode_factor: float = param(
        1.5,
        kind="float",
        lo=1.0,
        hi=10.0,
        source=ASSUMED,
        doc="output-based: heavier tariff ÷ standard tariff",
    )
    task_capacity: float = param(
        1.0,
        kind="float",
        lo=0.0,
        hi=10.0,
        source=ASSUMED,
        doc="task-based: contracted capacity × the catalogue's capacity_per_1000",
    )
    task_under_treatment: float = param(
        0.2,
        kind="float",
        lo=0.0,
        hi=1.0,
        source="assumption: a lump sum pays to do less per client",
        doc="task-based: care intensity × (1 − this)",
    )
