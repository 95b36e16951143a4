"""A municipality that switches financing at a given month, with a ramp-up."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .financing import Policy
from .parameters import (
    ParameterError,
    _unknown_key,
    load_toml,
    to_toml_lines,
)

__all__ = ["PolicySwitch"]


@dataclass(frozen=True)
class PolicySwitch:
    """A municipality that switches policy at a given month, with a ramp-up.

    Up to and including ``at_month`` every decision follows ``before``. Over the next
    ``ramp_months`` a growing share of new access decisions (and reviews) follows ``after``;
    contract, levers and budget rule of ``after`` apply from the month after the switch.
    Households already in care keep their running provision until its review. The switch's
    ``implementation_cost`` (EUR: training, new contracts, double running) is booked on the
    access line, spread evenly over the ramp-up months.

    Example:
        >>> from vraagvolgend import DemandDriven, SupplyDriven
        >>> s = PolicySwitch(SupplyDriven(), DemandDriven(), at_month=24, ramp_months=12)
        >>> s.share_new(24), s.share_new(30), s.share_new(36)
        (0.0, 0.5, 1.0)
    """

    before: Policy
    after: Policy
    at_month: int
    ramp_months: int = 12
    name: str = ""
    implementation_cost: float = 0.0

    def __post_init__(self):
        for label in ("before", "after"):
            if not isinstance(getattr(self, label), Policy):
                raise ParameterError(label, "must be a Policy")
        if not isinstance(self.at_month, int) or self.at_month < 0:
            raise ParameterError("at_month", f"{self.at_month!r} must be an int ≥ 0")
        if not isinstance(self.ramp_months, int) or self.ramp_months < 0:
            raise ParameterError("ramp_months", f"{self.ramp_months!r} must be an int ≥ 0")
        cost = self.implementation_cost
        if isinstance(cost, bool) or not isinstance(cost, int | float) or not 0 <= cost <= 1e10:
            raise ParameterError(
                "implementation_cost", f"{cost!r} must be a number between 0 and 1e10 (EUR)"
            )
        object.__setattr__(self, "implementation_cost", float(cost))
        if not self.name:
            name = f"{self.before.name} → {self.after.name} at month {self.at_month}"
            object.__setattr__(self, "name", name)

    def share_new(self, month: int) -> float:
        """Share of decisions in ``month`` that follow ``after``."""
        if month <= self.at_month:
            return 0.0
        if self.ramp_months == 0:
            return 1.0
        return min(1.0, (month - self.at_month) / self.ramp_months)

    def implementation_at(self, month: int) -> float:
        """The switch's implementation cost booked in ``month`` (spread over the ramp-up)."""
        spread = max(self.ramp_months, 1)
        return self.implementation_cost / spread if 0 < month - self.at_month <= spread else 0.0

    def policy_at(self, month: int) -> Policy:
        """The policy whose contract, levers and budget rule apply in ``month``."""
        return self.before if month <= self.at_month else self.after

    def to_dict(self) -> dict:
        return {
            "switch": {
                "at_month": self.at_month,
                "ramp_months": self.ramp_months,
                "name": self.name,
                "implementation_cost": self.implementation_cost,
            },
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> PolicySwitch:
        """Build a switch from ``{"switch": {...}, "before": {...}, "after": {...}}`` (the
        policies may be partial: they merge into their regime's defaults)."""
        for key in data:
            if key not in ("switch", "before", "after"):
                raise _unknown_key("", key, ["switch", "before", "after"])
        switch = data.get("switch", {})
        if not isinstance(switch, Mapping):
            raise ParameterError("switch", "is not a table")
        for key in switch:
            allowed = ["at_month", "ramp_months", "name", "implementation_cost"]
            if key not in allowed:
                raise _unknown_key("switch", key, allowed)
        if "at_month" not in switch:
            raise ParameterError("switch.at_month", "is missing")
        sides = {}
        for side in ("before", "after"):
            if side not in data:
                raise ParameterError(side, "is missing: a switch needs [before] and [after]")
            try:
                sides[side] = Policy.from_partial_dict(data[side])
            except ParameterError as err:
                raise err.under(side) from None
        try:
            return cls(**sides, **switch)
        except TypeError as err:
            raise ParameterError("switch", str(err)) from None

    @classmethod
    def from_toml(cls, source) -> PolicySwitch:
        """Read a switch from a TOML file path or text."""
        return load_toml(source, cls.from_dict, "policy switch")

    def to_toml(self, path=None) -> str:
        """Write the switch as TOML: ``[switch]``, then the two policies as tables."""
        lines = [
            "# vraagvolgend policy switch",
            "[switch]",
            f"at_month = {self.at_month}",
            f"ramp_months = {self.ramp_months}",
            f"name = {json.dumps(self.name, ensure_ascii=False)}",
            f"implementation_cost = {self.implementation_cost!r}",
        ]
        for side in ("before", "after"):
            p = getattr(self, side)
            lines += ["", f"[{side}]", f'regime = "{p.regime}"', *to_toml_lines(p, side)[1:]]
        text = "\n".join(lines) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text
