"""Informal support over the social network, and the strain it puts on carers.

Each month, from the state at the start of the month:

* A household's **need** is the summed severity of its active problems.
* A household's **spare capacity** is its type's capacity, reduced by its own problems
  (``1 − own total severity / load_scale``, floored at 0) and by its carer strain.
* A giver **offers** its spare capacity in full when the need among its ties reaches
  ``need_saturation``, proportionally less when there is less need around it, and splits the offer
  over its ties in proportion to tie strength × need.
* A receiver's **coverage** is the support it receives divided by its need (at most 1).
  Coverage slows escalation and helps light problems recover (see :mod:`vraagvolgend.problems`).
* **Carer strain** builds when a household gives more than ``strain_threshold`` in a month and
  fades otherwise; strain raises the giver's own onset hazards and lowers its capacity.

All of it is two sparse matrix-vector products per month, on the rows of the households in
need.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .domains import HOUSEHOLD_TYPES
from .month import MonthState, Process
from .parallel import in_parallel, n_threads, row_blocks

__all__ = ["InformalSupport", "SupportFlow"]

F32 = np.float32
TINY = np.finfo(F32).smallest_subnormal  # below every positive need


@dataclass
class SupportFlow:
    """The result of one month of informal support."""

    coverage: np.ndarray  # per receiver, 0–1
    given: np.ndarray  # per giver, units of need


class InformalSupport(Process):
    """Informal support over the network (process ``informal_support``).

    Reads the state at the start of the month, the activation by demand-driven plans
    (``state.effects``) and the policy's network programme; writes ``state.support``.
    Carer strain is updated from it by :class:`~vraagvolgend.strain.CarerStrain`.
    """

    name = "informal_support"
    last: SupportFlow | None = None

    def init(self, model) -> None:
        super().init(model)
        self.setup(model.params.support, model.households, model.network)

    def setup(self, params, households, network: sp.csr_array) -> None:
        """Prepare the sparse products (also usable without a model, for tests)."""
        self.params = params
        self.network = network
        # In a large municipality the sparse products run on row blocks in parallel threads
        # (scipy releases the GIL); see vraagvolgend.parallel.
        self.blocks = row_blocks(network) if network is not None else []
        capacity = np.array([params.capacity[t] for t in HOUSEHOLD_TYPES], dtype=F32)
        self.capacity = capacity[households.household_type]

    def flow(
        self,
        severity: np.ndarray,
        state,
        strain: np.ndarray,
        activation: np.ndarray | None = None,
        capacity_boost: float = 0.0,
    ) -> SupportFlow:
        """Compute this month's support from the state at the start of the month.

        Args:
            severity: (domains, households) severities.
            state: Which problems are active (:meth:`ProblemDynamics.read`).
            strain: Carer strain per household.
            activation: Extra pull per household on its network (a demand-driven plan
                activates the network: its need weighs ``1 + activation`` times in the givers'
                decisions, so they give more, and more of it to this household).
            capacity_boost: A network programme raises every household's capacity by this
                fraction.
        """
        n = severity.shape[1]
        if not self.params.enabled:
            zeros = np.zeros(n, dtype=F32)
            return SupportFlow(coverage=zeros, given=zeros)
        p = self.params
        need = np.bincount(
            state.active_household, weights=state.active_severity, minlength=n
        ).astype(F32)
        needy = (need > 0).nonzero()[0]
        pull = need[needy] if activation is None else need[needy] * (1 + activation[needy])
        pull = pull.astype(F32, copy=False)  # the products run in float32
        # spare = capacity · clip(1 − load / load_scale, 0, 1) · (1 − strain), in one buffer
        spare = np.divide(state.load, F32(p.load_scale))
        np.subtract(1, spare, out=spare)
        np.maximum(spare, 0, out=spare)  # clipped to [0, 1]: cheaper than np.clip's wrapper
        np.minimum(spare, 1, out=spare)
        if capacity_boost:
            spare *= self.capacity * F32(1 + capacity_boost)
        else:  # × 1 changes nothing: skip the product
            spare *= self.capacity
        spare *= 1 - strain
        # Only the rows of households in need matter (the network is symmetric): the need
        # around each giver is the transpose product of those rows, and only those households
        # receive. Slicing them out once is cheaper than two full products (a quarter or so
        # of the households are in need), and gives the same sums in the same order (a full
        # product only adds zeros more). In a large municipality this runs per row block:
        # the block's rows in need, their transpose product (partial sums of the need around
        # every giver), later their product with the offers.
        if len(self.blocks) == 1:
            parts = [(needy, pull)]
        else:
            cut = np.searchsorted(needy, [start for start, _ in self.blocks[1:]])
            parts = list(zip(np.split(needy, cut), np.split(pull, cut), strict=True))

        def slice_and_spread(block, part):
            (start, matrix), (ids, values) = block, part
            rows = matrix[ids - start] if start else matrix[ids]
            return rows, rows.T @ values

        # Added block by block, in order (as a sum over the stacked blocks would, without
        # the stacking copy). Each partial sum is a vector over all households: the blocks
        # run in waves of one per thread, so that no more of them exist at once (at 8.4
        # million households all 34 at once were 136 bytes a household).
        rows_per_block, need_around = [], None
        width = n_threads() if len(self.blocks) > 1 else 1  # one block: no threads to count
        for first in range(0, len(self.blocks), width):
            wave = slice(first, first + width)
            for rows, partial in in_parallel(slice_and_spread, self.blocks[wave], parts[wave]):
                rows_per_block.append(rows)
                if need_around is None:
                    need_around = partial
                else:
                    need_around += partial
        offer = np.divide(need_around, F32(p.need_saturation))
        np.minimum(offer, 1, out=offer)
        offer *= spare
        del spare
        # offer / need_around, and 0 where there is no need around (there the offer is 0): in
        # place, dividing by the need raised to the smallest float32 (no 0 / 0 to mask away)
        per_unit_need = np.maximum(need_around, TINY, out=need_around)
        np.divide(offer, per_unit_need, out=per_unit_need)
        del need_around
        received = in_parallel(lambda rows: rows @ per_unit_need, rows_per_block)
        received = received[0] if len(received) == 1 else np.concatenate(received)
        if activation is not None:
            received *= 1 + activation[needy]
        coverage = np.zeros(n, dtype=F32)
        coverage[needy] = np.minimum(received, 1)
        return SupportFlow(coverage=coverage, given=offer)

    def step(self, state: MonthState) -> None:
        activation = state.effects.activation if state.effects is not None else None
        boost = state.policy.network_programme if state.policy is not None else 0.0
        state.support = self.last = self.flow(
            state.severity, state.problems, state.strain, activation, boost
        )

    def reporters(self) -> dict[str, float]:
        if self.last is None:
            return {"informal_support_given": 0.0, "households_supported": 0}
        return {
            "informal_support_given": float(self.last.given.sum(dtype=np.float64)),
            "households_supported": np.count_nonzero(self.last.coverage > 0),
        }
