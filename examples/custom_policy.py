"""A custom policy: subclass a regime to try your own rule.

"Debt first" is demand-driven financing that treats only one domain at a time and always
starts with debt when a household has it. It is compared with the two defaults on common
random numbers. Override ``select_domains``, ``intensity``, ``duration`` or ``review`` of a
regime to change its rules.

Run:  python examples/custom_policy.py [--replications 3] [--households N]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

import vraagvolgend as vv
from vraagvolgend.cli import one_line_errors
from vraagvolgend.domains import domain_index


@dataclass(frozen=True)
class DebtFirst(vv.DemandDriven):
    """Demand-driven, one domain at a time, debt first."""

    def select_domains(self, need, severity, in_care):
        chosen = super().select_domains(need, severity, in_care)
        debt = need[domain_index("finances")]
        # Households with a debt need get only that; the others the plan's first domain.
        first = chosen & (np.cumsum(chosen, axis=0) <= 1)
        only_debt = np.zeros_like(need)
        only_debt[domain_index("finances")] = debt
        return np.where(debt[None, :], only_debt, first) & ~in_care.any(axis=0)


def main(replications: int = 3, n_households: int | None = None, months: int = 36):
    scenario = vv.Scenario.default()
    if n_households:
        scenario = scenario.with_changes(n_households=n_households)
    policies = [vv.SupplyDriven(), vv.DemandDriven(), DebtFirst(name="debt-first")]
    comparison = vv.compare(policies, scenario, replications=replications, months=months)
    print(comparison.table(labels=True).to_string())
    return comparison


if __name__ == "__main__":
    with one_line_errors(__file__):  # bad input: one line, no traceback
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--replications", type=int, default=3, help="default: 3")
        parser.add_argument("--households", type=int, default=None, help="default: the scenario's")
        parser.add_argument("--months", type=int, default=36, help="default: 36")
        a = parser.parse_args()
        main(a.replications, a.households, a.months)
