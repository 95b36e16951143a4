"""Billing (process ``billing``): this month's cost of every running provision, per cost line.

* Individual provisions are billed per episode as the contract says
  (:meth:`~vraagvolgend.contracts.Contract.bill`): per client-month under effort-based
  contracts, per trajectory under output-based ones; a provision priced per young person
  (youth care) bills for each child of the household.
* Lump sums: collective provisions always, individual ones under a lump-sum contract
  (task-based), are paid for their capacity (less the volunteers' share) and the sum is spread
  over the running episodes; capacity nobody uses is booked on the provision's idle-capacity
  line.
* Entitlements (the social-assistance benefit) are paid per household on them, on their own line.
* One-off flexible-budget solutions of new plans and the network programme.

Costs of burn-in months are not booked on episodes (and the budget ignores them).
"""

from __future__ import annotations

import numpy as np

from .financing import PolicySwitch
from .month import MonthState, Process

__all__ = ["Billing"]


class Billing(Process):
    """Books the month's costs on episodes and cost lines (process ``billing``)."""

    name = "billing"

    def init(self, model) -> None:
        super().init(model)
        self.care = model.care

    def step(self, state: MonthState) -> None:
        care, month, pol = self.care, state.month, state.policy
        contract = care.contract(month)
        p_count = len(care.names)
        costs = state.costs
        run = care.run  # every row runs: the ended were dropped at the last month's end
        prov = run.prov
        # Lump sums: collective provisions always, individual ones under lump-sum contracts.
        lump = care.collective | care.billed_individually if contract.lump_sum else care.collective
        cap = care.capacity(month)
        cap = np.where(cap == np.inf, 0.0, cap)  # unlimited: no contracted capacity to pay
        lump_total = np.where(lump, cap * care.cost_month * (1 - care.volunteer_share), 0)
        running = np.bincount(prov, minlength=p_count)
        # Per provision, each running episode's share of its lump sum (0: none)
        share = np.zeros(p_count)
        np.divide(lump_total, running, out=share, where=lump & (running > 0))
        amount = share[prov]
        if not contract.lump_sum:  # individual provisions (never collective) billed per episode
            ind = care.billed_individually[prov].nonzero()[0]
            p_ind = prov[ind]
            young = care.per_young_person[p_ind]
            clients = np.ones(len(p_ind))
            clients[young] = care.children[run.hh[ind[young]]]
            amount[ind] = contract.bill(
                care.cost_month[p_ind] * clients,
                run.intensity[ind],
                run.months_in[ind],
                care.duration[p_ind],
                run.upcoded[ind],
            )
        idle = lump & (running == 0)
        line = np.zeros(len(costs))
        line[p_count + idle.nonzero()[0]] = lump_total[idle]
        # Entitlements live outside the slots (one per household and entitlement)
        if month >= 1:
            care.ledger.add_cost(run.episode, amount)
        line[:p_count] += np.bincount(prov, weights=amount, minlength=p_count)
        for k, code in enumerate(care.entitlements):
            on = care.entitled[k]
            on = on.take((on >= 0).nonzero()[0])  # a take: numpy's boolean gather is slower
            if month >= 1:
                care.ledger.add_cost(on, np.full(len(on), care.cost_month[code]))
            line[code] += len(on) * care.cost_month[code]
        if care.flex >= 0:
            line[care.flex] += len(state.flexible[0]) * care.cost_month[care.flex]
        line[care.line("network_programme")] += (
            pol.network_programme * pol.network_programme_cost * care.n / 12.0
        )
        if isinstance(care.policy, PolicySwitch):
            line[care.line("implementation")] += care.policy.implementation_at(month)
        costs += line
