"""The baseline regression summary: a few fixed runs, summarised bit for bit.

Run ``python tests/baseline/record.py`` to regenerate ``baseline.json`` after a deliberate
change of behaviour, in the same commit, with a line in the message saying why. The summary
holds quantities whose definition does not depend on how tables are presented: costs per
provision line and year (months 1 onward), episodes started per provision from month 1, and
the monthly stacking counts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import vraagvolgend as vv

HERE = Path(__file__).parent
FILE = HERE / "baseline.json"
HOUSEHOLDS, MONTHS, SEED = 3000, 36, 11


def policies() -> dict:
    """The fixed runs: both regimes, a switch, and no formal care."""
    return {
        "supply-driven": vv.SupplyDriven(),
        "demand-driven": vv.DemandDriven(),
        "switch": vv.PolicySwitch(vv.SupplyDriven(), vv.DemandDriven(), at_month=12, ramp_months=6),
        "supply-task": vv.SupplyDriven().with_changes(contract="task", budget_rule="cap"),
        "demand-output": vv.DemandDriven().with_changes(contract="output", outreach=0.1),
        "no-care": None,
    }


def summarise(policy) -> dict:
    """The summary of one fixed run (floats as exact hex strings)."""
    scenario = vv.Scenario.default().with_changes(n_households=HOUSEHOLDS, burn_in_months=24)
    result = vv.run(scenario, policy, seed=SEED, months=MONTHS)
    monthly = result.monthly
    out = {
        "stacking": {
            k: monthly[f"households_{k}_problems"].astype(int).tolist()
            for k in ("0", "1", "2", "3plus")
        }
    }
    if policy is None:
        return out
    costs = result.costs
    costs = costs[costs["cost_eur"] != 0]
    out["costs"] = {
        f"{int(y)}|{p}": float(c).hex()
        for y, p, c in zip(costs["year"], costs["provision"], costs["cost_eur"], strict=True)
    }
    episodes = result.episodes
    started = episodes[episodes["start_month"] >= 1]
    if "from_burn_in" in started:  # episodes begun in the burn-in are shown from month 1
        started = started[~started["from_burn_in"]]
    out["started"] = {
        str(k): int(v) for k, v in started["provision"].astype(str).value_counts().items()
    }
    return out


def record() -> dict:
    return {name: summarise(p) for name, p in policies().items()}


if __name__ == "__main__":
    FILE.write_text(json.dumps(record(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {FILE}", file=sys.stderr)
