"""Carer strain (*mantelzorg*-overload): giving too much informal support wears carers out.

Strain builds when a household gives more than ``support.strain_threshold`` in a month and fades
otherwise; it raises the giver's own onset hazards (:mod:`vraagvolgend.problems`) and lowers its
capacity to give (:mod:`vraagvolgend.support`).
"""

from __future__ import annotations

import numpy as np

from .month import MonthState, Process

__all__ = ["CarerStrain", "update_strain"]

F32 = np.float32


def update_strain(params, strain: np.ndarray, given: np.ndarray) -> np.ndarray:
    """Carer strain after a month of giving ``given`` (``params``: the support section)."""
    # In place: the same float32 operations, two temporaries instead of five
    excess = np.subtract(given, F32(params.strain_threshold))
    np.maximum(excess, 0, out=excess)
    excess *= F32(params.strain_gain)
    new = np.multiply(strain, F32(1 - params.strain_recovery))
    new += excess
    # Clipped to [0, 1] by two ufuncs: np.clip's wrapper costs more than the work here
    np.maximum(new, 0, out=new)
    return np.minimum(new, 1, out=new)


class CarerStrain(Process):
    """Updates carer strain from the month's support (process ``carer_strain``)."""

    name = "carer_strain"
    under_strain = 0

    def init(self, model) -> None:
        super().init(model)
        self.params = model.params.support

    def step(self, state: MonthState) -> None:
        state.strain_end = update_strain(self.params, state.strain, state.support.given)
        self.under_strain = np.count_nonzero(state.strain_end >= self.params.strain_level)

    def reporters(self) -> dict[str, float]:
        return {"carers_under_strain": self.under_strain}
