"""Allocation: capacity, waiting lists and admission (process ``allocation``).

Collective provisions have a capacity (the catalogue's, times the policy's
``collective_capacity``, times what the budget rule left of it); under a contract with a
capacity (task-based) individual provisions have one too; a budget rule may close intake to
individual provisions. Requests (the waiting list first, then this month's offers) are admitted
up to the free places, oldest first:

* a request that does not fit a full collective provision is referred on to the domain's heavy
  default (the catalogue's routing);
* a request that does not fit an individual provision waits;
* a household whose need fell below ``need_threshold`` while it waited leaves the list.
"""

from __future__ import annotations

import numpy as np

from .month import MonthState, Process, Requests

__all__ = ["Allocation"]

F32 = np.float32


class Allocation(Process):
    """Admits requests up to capacity and keeps the waiting list (process ``allocation``)."""

    name = "allocation"
    left_waiting = waiting_list = 0
    mean_wait = 0.0

    def init(self, model) -> None:
        super().init(model)
        self.care = model.care

    def step(self, state: MonthState) -> None:
        care, month = self.care, state.month
        cap = care.capacity(month)
        if care.budget_rule(month).closes_intake(care.budget):
            care.intake_closed = True
        if care.intake_closed:
            cap[care.billed_individually] = 0
        in_use = np.bincount(care.run.prov, minlength=len(care.names))
        state.admitted = self.admit(
            month, cap - in_use, state.requests, state.draws.rules, state.severity
        )
        waiting = care.waiting_at
        self.waiting_list = len(waiting)
        self.mean_wait = (
            float((month - care.wait_since.ravel()[waiting]).mean()) if len(waiting) else 0.0
        )

    def admit(self, month, free, new: Requests, tiebreak, severity) -> Requests:
        """Admit the waiting list and ``new`` requests to the ``free`` places per provision."""
        care, n = self.care, self.care.n
        # Who recovered while waiting leaves the list (the place would otherwise block the slot)
        recovered = severity.ravel()[care.waiting_at] < F32(care.params.need_threshold)
        care.waiting.ravel()[care.waiting_at[recovered]] = -1
        self.left_waiting = int(recovered.sum())
        wait_pos = care.waiting_at = care.waiting_at[~recovered]
        pos = np.concatenate([wait_pos, new.positions])
        prov = np.concatenate([care.waiting.ravel()[wait_pos], new.provisions]).astype(np.int16)
        since = np.concatenate(
            [care.wait_since.ravel()[wait_pos], np.full(len(new.positions), month)]
        ).astype(np.int64)
        channel = np.concatenate([care.wait_channel.ravel()[wait_pos], new.channels])
        admitted = np.zeros(len(pos), dtype=bool)
        limited = np.isfinite(free)
        for collective_pass in (True, False):
            if not collective_pass:  # provisions without a capacity take everyone at once
                admitted |= ~limited[prov]
            # Provisions with requests pending, in code order (a count per code: no sort)
            pending = np.bincount(prov[~admitted], minlength=len(free)).nonzero()[0]
            for p in pending[(care.collective[pending] == collective_pass) & limited[pending]]:
                rows = ((prov == p) & ~admitted).nonzero()[0]
                if len(rows) > free[p]:
                    order = np.lexsort((tiebreak[pos[rows] % n], since[rows]))
                    take = rows[order[: max(int(free[p]), 0)]]
                    rest = rows[order[max(int(free[p]), 0) :]]
                else:
                    take, rest = rows, rows[:0]
                admitted[take] = True
                if collective_pass:  # a full collective provision refers on
                    prov[rest] = care.routing.heavy[pos[rest] // n]
        waiting = ~admitted
        # The waiting list is rebuilt: who still waits, for what, since when
        care.waiting.ravel()[wait_pos] = -1
        care.waiting.ravel()[pos[waiting]] = prov[waiting]
        care.wait_since.ravel()[pos[waiting]] = since[waiting]
        care.wait_channel.ravel()[pos[waiting]] = channel[waiting]
        care.waiting_at = pos[waiting]
        return Requests(pos[admitted], prov[admitted], channel[admitted])

    def reporters(self) -> dict[str, float]:
        return {
            "left_waiting_list_recovered": self.left_waiting,
            "waiting_list": self.waiting_list,
            "mean_wait_months": self.mean_wait,
        }
