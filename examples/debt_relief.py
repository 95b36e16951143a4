"""Adding a process of your own: a municipal debt-relief scheme, without editing the library.

A process is a small class with a name, the process it runs after, and ``init``/``step``/
``reporters``. This one buys out the debts of low-income households in acute financial trouble:
each month a share of eligible households takes it up, their finances severity is halved, and
each case costs a fixed amount. It draws from its own named random stream, so every other
process sees exactly the draws it would see without the scheme (common random numbers): the
difference between the two runs is the scheme's effect alone, including what it does downstream
(debt spills over into mental health and work).

Run:  python examples/debt_relief.py [--households N] [--months M] [--seed S]
"""

from __future__ import annotations

import argparse

import numpy as np

import vraagvolgend as vv
from vraagvolgend.cli import one_line_errors
from vraagvolgend.domains import domain_index


class DebtRelief(vv.Process):
    """A debt-relief scheme (*schuldsanering*) for households in acute financial trouble.

    Args:
        uptake: Monthly probability that an eligible household takes the scheme up.
        cost: Cost per case (EUR), paid by the municipality.
        relief: Fraction of the finances severity that remains after relief.
        min_severity: Finances severity from which a household is eligible.
        max_quintile: Highest income quintile that is eligible.
    """

    name = "debt_relief"
    after = "problem_dynamics"  # acts on the state at the end of the month
    # What the scheme adds to every summary, comparison and decomposition: a cost line in the
    # external total (from the reporter below) and an outcome.
    outputs = (
        vv.outputs.CostLine(
            "debt_relief",
            "Debt relief (schuldsanering)",
            "cases × cost per case",
            in_total=True,
            reporter="cost_debt_relief",
        ),
        vv.outputs.Outcome(
            "debt_relief_cases",
            "Debt-relief cases per year",
            "per year",
            None,
            "number",
            0,
            vv.outputs.monthly("debt_relief_cases", "sum"),
            count=True,
        ),
    )

    def __init__(self, uptake=0.05, cost=3500.0, relief=0.5, min_severity=0.6, max_quintile=2):
        self.uptake, self.cost, self.relief = uptake, cost, relief
        self.min_severity, self.max_quintile = min_severity, max_quintile
        self.cases = 0

    def init(self, model):
        super().init(model)
        self.rng = model.streams["debt_relief"]  # its own stream: others' draws are unchanged
        self.low_income = model.households.income_quintile <= self.max_quintile
        self.finances = domain_index("finances")

    def step(self, state):
        u = self.rng.random(state.severity.shape[1])  # every household, every month
        severity = state.severity_end
        eligible = self.low_income & (severity[self.finances] >= self.min_severity)
        helped = np.flatnonzero(eligible & (u < self.uptake))
        severity[self.finances, helped] *= np.float32(self.relief)
        self.cases = len(helped) if state.month >= 1 else 0

    def reporters(self):
        return {"debt_relief_cases": self.cases, "cost_debt_relief": self.cases * self.cost}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=6000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    scenario = vv.Scenario.default().with_changes(n_households=args.households)
    without = vv.run(scenario, "supply-driven", seed=args.seed, months=args.months)
    with_scheme = vv.run(
        scenario, "supply-driven", seed=args.seed, months=args.months, processes=[DebtRelief()]
    )
    model = vv.MunicipalityModel(scenario, "supply-driven", rng=args.seed, processes=[DebtRelief()])
    print("The month, in order:", " → ".join(model.pipeline.names()))

    m0, m1 = without.monthly, with_scheme.monthly
    last = slice(-12, None)
    print(f"Debt-relief cases per year: {m1['debt_relief_cases'].iloc[last].sum():,.0f}")
    print(f"Cost of the scheme per year: €{m1['cost_debt_relief'].iloc[last].sum():,.0f}")
    for domain in ("finances", "mental_health", "work"):
        a = m0[f"mean_severity_{domain}"].iloc[last].mean()
        b = m1[f"mean_severity_{domain}"].iloc[last].mean()
        print(f"Mean {domain.replace('_', ' ')} severity, last year: {a:.4f} → {b:.4f}")
    c0, c1 = without.annual_costs(), with_scheme.annual_costs()
    year = c0["year"].max()
    for line in ("benefit", "wmo"):
        a = c0.query("year == @year and line == @line")["cost_eur"].sum()
        b = c1.query("year == @year and line == @line")["cost_eur"].sum()
        print(f"{line} cost in year {year}: €{a:,.0f} → €{b:,.0f}")
    k0, k1 = m0["households_3plus_problems"].iloc[-1], m1["households_3plus_problems"].iloc[-1]
    print(f"Households with 3+ problems at the end: {k0:,} → {k1:,}")
    # The scheme's declared cost line and outcome reach a comparison's summary
    comparison = vv.compare(
        ["supply-driven", "demand-driven"],
        scenario,
        replications=2,
        months=args.months,
        seed=args.seed,
        processes=[DebtRelief()],
        progress=False,
    )
    print(comparison.table(labels=True).to_string())


if __name__ == "__main__":
    with one_line_errors(__file__):  # bad input: one line, no traceback
        main()
