"""Contract type × collective capacity × both regimes, with replications, on a Dask cluster.

A sweep over two policy levers (the contract for individual provisions and the capacity of
collective provisions) for both financing regimes, each variant on the same replications
(common random numbers). It runs on a local Dask cluster of worker processes (or, with
``--scheduler tcp://host:8786``, on a running cluster), stores every run in a resumable
Parquet store, and prints the paired differences in annual external cost against the
supply-driven, effort-based baseline with today's collective capacity.

Run:  python examples/sweep_contracts.py [--replications 5] [--households N] [--store DIR]
Interrupt it and run it again: finished runs are not computed twice.
"""

from __future__ import annotations

import argparse

import pandas as pd

import vraagvolgend as vv
from vraagvolgend.analysis import paired_differences
from vraagvolgend.cli import one_line_errors
from vraagvolgend.vocabulary import format_interval, format_number


def main(
    replications: int = 5,
    n_households: int | None = None,
    months: int = 36,
    store: str = "out/sweep_contracts",
    scheduler: str | None = None,
    workers: int | None = None,
    executor: str = "dask",
):
    scenario = vv.Scenario.default()
    if n_households is not None:
        scenario = scenario.with_changes(n_households=n_households)
    experiment = vv.Experiment(
        "contracts",
        [vv.SupplyDriven(), vv.DemandDriven()],
        levers=[
            vv.Lever("contract", values=["effort", "output", "task"]),
            vv.Lever("collective_capacity", values=[1.0, 1.5]),
        ],
        replications=replications,
        months=months,
        scenario=scenario,
    )
    if scheduler:
        from dask.distributed import Client

        client = Client(scheduler)
        results = vv.run_experiment(experiment, store, executor=client)
        client.close()
    else:
        results = vv.run_experiment(experiment, store, executor=executor, workers=workers)

    baseline = "supply-driven__contract=effort__collective_capacity=1.0"
    diff = paired_differences(results, baseline, columns=["cost_external_total", "mean_severity"])
    cost = diff[diff["outcome"] == "cost_external_total"].set_index("policy")
    severity = diff[diff["outcome"] == "mean_severity"].set_index("policy")
    table = pd.DataFrame(
        {
            "Δ annual external cost (EUR k)": cost["difference"] / 1000,
            "95% CI (EUR k)": [
                format_interval(lo / 1000, hi / 1000)
                for lo, hi in zip(cost["ci_low"], cost["ci_high"], strict=True)
            ],
            "Δ mean severity": severity["difference"],
        }
    ).sort_values("Δ annual external cost (EUR k)")
    print(
        f"Paired differences against {baseline} ({replications} replications, "
        f"{experiment.months} months, {scenario.n_households:,} households):\n"
    )
    print(table.to_string(float_format=format_number))
    return table


if __name__ == "__main__":
    with one_line_errors(__file__):  # bad input: one line, no traceback
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--replications", type=int, default=5, help="default: 5")
        parser.add_argument("--households", type=int, default=None, help="default: the scenario's")
        parser.add_argument("--months", type=int, default=36, help="default: 36")
        parser.add_argument(
            "--store", default="out/sweep_contracts", help="default: out/sweep_contracts"
        )
        parser.add_argument("--scheduler", default=None, help="a running Dask scheduler, tcp://…")
        parser.add_argument("--workers", type=int, default=None, help="default: the cores")
        parser.add_argument("--executor", default="dask", help="dask, processes or serial")
        a = parser.parse_args()
        main(a.replications, a.households, a.months, a.store, a.scheduler, a.workers, a.executor)
