"""What every section of a scenario shares: sources, the domains and household types."""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..domains import DOMAINS, HOUSEHOLD_TYPES
from ..parameters import ParameterError

ScenarioError = ParameterError

CBS_37975 = "CBS StatLine 37975 (households 1 Jan 2024)"
ASSUMED = "assumption"
#: Default access budget per inhabitant (EUR): see ``MunicipalBudget.per_inhabitant``.
ACCESS_BUDGET = 16.1
CALIBRATED = "calibrated (scripts/calibration_check.py --fit, supply-driven): "
T = HOUSEHOLD_TYPES
D = DOMAINS


def _shares_sum_to_one(path: str, values: Mapping[str, float] | tuple) -> None:
    total = sum(values.values()) if isinstance(values, Mapping) else sum(values)
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ParameterError(path, f"shares sum to {total:.6g}; they must sum to 1")
