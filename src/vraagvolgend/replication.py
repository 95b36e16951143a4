"""One replication of a comparison: where its runs start, the municipal budget, the runs.

Every policy of a replication starts from one state (:class:`Start`): by default one burn-in
under the baseline policy, forked for every policy. The baseline's run without its budget rule
sets the municipality's one budget (:func:`municipal_budget`); every policy then runs under it,
and where a policy's budget rule acted it runs again without it from the same start, so the
rule's effect is a counterfactual. A store keeps finished replications
(:class:`_ReplicationStore`), so an interrupted comparison resumes.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from . import outputs as _outputs
from .domains import DOMAINS, domain_index, zrm_level
from .financing import PolicySwitch
from .model import MunicipalityModel
from .scenario import BUDGET_LINES, Scenario
from .simulation import result_of

__all__ = [
    "BURN_IN",
    "Start",
    "default_baseline",
    "municipal_budget",
    "replicate",
    "run_details",
    "summarise_run",
    "without_budget_rule",
    "zrm_shares",
]


def summarise_run(result) -> dict[str, float]:
    """Mean annual cost per cost line and every outcome of one run
    (:func:`vraagvolgend.outputs.summarise`)."""
    return _outputs.summarise(result)


GROUPS = ("neighbourhood", "household_type", "income_quintile")
TOP_SHARES = (0.01, 0.05, 0.10)


def run_details(result) -> dict[str, pd.DataFrame]:
    """What a report needs from one run beyond the means.

    Returns tables: ``yearly`` (year, line, cost_eur), ``groups`` (by, group, households,
    cost_per_household, share_with_individual), ``concentration`` (top, share of individual
    cost in the costliest households), ``lorenz`` (households, cost: cumulative shares) and
    ``zrm`` (domain, zrm_level, share at the last year end).
    """
    yearly = result.annual_costs()
    years = max(yearly["year"].nunique(), 1)
    e = result.episodes
    benefit = _outputs.is_entitlement(e["provision"], result.scenario)
    individual = e[(e["law"] != "collective") & ~benefit]
    per_household = (
        individual.groupby("household_id")["cost_eur"]
        .sum()
        .reindex(result.households["household_id"], fill_value=0.0)
        .to_numpy()
        / years
    )
    h = result.households
    rows = []
    for by in GROUPS:
        for group, idx in h.groupby(by, observed=True).groups.items():
            c = per_household[idx]
            rows.append(
                {
                    "by": by,
                    "group": str(group),
                    "households": len(c),
                    "cost_per_household": float(c.mean()),
                    "share_with_individual": float((c > 0).mean()),
                }
            )
    groups = pd.DataFrame(rows)

    ordered = np.sort(per_household)[::-1]
    total = ordered.sum()
    concentration = pd.DataFrame(
        {
            "top": list(TOP_SHARES),
            "share": [
                float(ordered[: max(round(t * len(ordered)), 1)].sum() / total)
                if total > 0
                else np.nan
                for t in TOP_SHARES
            ],
        }
    )
    ascending = ordered[::-1]
    x = np.linspace(0, 1, 101)
    cum = np.concatenate([[0.0], np.cumsum(ascending)]) / (total if total > 0 else 1.0)
    lorenz = pd.DataFrame(
        {"households": x, "cost": np.interp(x * len(ascending), np.arange(len(cum)), cum)}
    )

    zrm = zrm_shares(result)
    return {
        "yearly": yearly,
        "groups": groups,
        "concentration": concentration,
        "lorenz": lorenz,
        "zrm": zrm,
    }


def zrm_shares(result) -> pd.DataFrame:
    """Share of (eligible) households per domain at each ZRM level at the last year end
    (columns ``domain``, ``zrm_level``, ``share``; levels nobody is at are left out): the
    :attr:`~vraagvolgend.results.Result.problems` table's last year, read from the state."""
    severity = result.year_end()
    has_children = result.households["n_children"].to_numpy() > 0
    parenting = domain_index("parenting")
    rows = []
    for d, name in enumerate(DOMAINS):
        levels = zrm_level(severity[d, has_children] if d == parenting else severity[d])
        counts = np.bincount(levels, minlength=6)
        for level in np.flatnonzero(counts):
            rows.append((name, level, counts[level] / len(levels)))
    zrm = pd.DataFrame(rows, columns=["domain", "zrm_level", "share"])
    return zrm.astype({"zrm_level": np.int8})


def without_budget_rule(policy):
    """The same policy (or switch) with budget rule ``none``: the budget rule's counterfactual."""
    if isinstance(policy, PolicySwitch):
        return PolicySwitch(
            without_budget_rule(policy.before),
            without_budget_rule(policy.after),
            policy.at_month,
            policy.ramp_months,
            policy.name,
            policy.implementation_cost,
        )
    return policy.with_changes(budget_rule="none")


def _rule_acted(result) -> bool:
    m = result.monthly
    return bool((m["collective_capacity_multiplier"] < 1).any() or m["intake_closed"].any())


def municipal_budget(reference, scenario: Scenario) -> Scenario:
    """The scenario with the budget set by the documented rule.

    The municipality's annual budget is the baseline policy's spending in year 1 of a run
    without a budget rule, on every line a budget holder controls: the individual provisions
    of each law (the benefit excluded: it is paid from a national budget) and access
    (conversations, reviews, outreach), plus the scenario's ``budget.margin`` (reference
    municipality A budgeted 4.7% above what it spent). Collective provisions are left out: they
    are funded as a capacity of their own, which the budget rule may cut. Every policy compared
    gets this one budget: the budget is the municipality's, not the regime's, and the same rule
    applies whichever policy is the baseline.

    Args:
        reference: The baseline policy's run without a budget rule.
        scenario: The scenario to set the budget in.
    """
    costs = reference.costs
    benefit = _outputs.is_entitlement(costs["provision"], reference.scenario)
    year1 = costs[(costs["year"] == 1) & ~benefit]
    spent = year1.groupby("law", observed=True)["cost_eur"].sum()
    inhabitants = float(reference.households["n_persons"].sum())
    factor = (1 + scenario.budget.margin) / inhabitants
    per_inhabitant = {law: float(spent.get(law, 0.0)) * factor for law in BUDGET_LINES}
    return scenario.with_changes({"budget.per_inhabitant": per_inhabitant})


def default_baseline(policies) -> str:
    """The baseline's name when none is given: the supply-driven policy if there is one (a
    policy of that name, else the first of that regime), else the first policy."""
    names = [p.name for p in policies]
    if "supply-driven" in names:
        return "supply-driven"
    for p in policies:
        if getattr(p, "regime", None) == "supply-driven":
            return p.name
    return names[0]


#: Where a comparison's runs start: ``"baseline"`` burns in once per seed under the baseline
#: policy ("the municipality as it is today") and forks every policy from it; ``"each"``
#: burns in every policy under itself (the steady state each financing leads to).
BURN_IN = ("baseline", "each")


class Start:
    """Where every run of one replication starts: the same state for every policy.

    With ``burn_in="baseline"`` the municipality burns in once under the baseline policy (its
    budget rule off: a rule acts only from month 1) and every policy continues from a copy of
    that state (:meth:`~vraagvolgend.model.MunicipalityModel.fork`): all start month 1 from one
    identical state, random streams included. With ``"each"`` every policy burns in under
    itself, as a single :func:`~vraagvolgend.simulation.run` does.

    Args:
        scenario: The municipality.
        baseline: The baseline policy.
        seed: The replication's seed.
        burn_in: ``"baseline"`` or ``"each"``.
        processes: Users' processes (copied for every model).
    """

    def __init__(self, scenario, baseline, seed, burn_in: str = "baseline", processes=()):
        self.scenario, self.seed, self.burn_in = scenario, seed, burn_in
        self.processes = list(processes or ())
        self.today = None
        if burn_in == "baseline":
            self.today = self._build(without_budget_rule(baseline))

    def _build(self, policy) -> MunicipalityModel:
        return MunicipalityModel(
            self.scenario, policy, rng=self.seed, processes=copy.deepcopy(self.processes)
        )

    def run(self, policy, months: int, budget: dict | None = None):
        """The result of ``policy`` over ``months`` months from this start (with ``budget``,
        per inhabitant and law, as the municipality's from month 1)."""
        model = self.today.fork(policy) if self.today is not None else self._build(policy)
        if budget is not None:
            model.set_budget(budget)
        model.run_for(months)
        return result_of(model, self.seed, months)


def replicate(
    scenario: Scenario,
    policies,
    seed,
    months: int,
    baseline: int = 0,
    burn_in: str = "baseline",
    processes=(),
    with_details: bool = True,
):
    """One replication of a comparison: every policy on one seed (common random numbers).

    Every policy starts from the same state (:class:`Start`). Sets the budget from the policy
    at position ``baseline`` by the documented rule (:func:`municipal_budget`, when the
    scenario's ``budget.set_from_baseline`` is on), runs every policy, and where a policy's
    budget rule acted, runs it again without the rule from the same start: the difference in
    external cost is the budget rule's effect (``cost_budget_rule``; zero where it never acted).

    Returns:
        (one row per policy with its cost lines and outcomes, {detail name: tables}); without
        ``with_details`` the tables are left out (an uncertainty analysis needs only the rows).
    """
    start = Start(scenario, policies[baseline], seed, burn_in, processes)
    reference, budget = None, None
    if scenario.budget.set_from_baseline:
        reference = start.run(without_budget_rule(policies[baseline]), months)
        scenario = municipal_budget(reference, scenario)
        budget = dict(scenario.budget.per_inhabitant)
    rows, details = [], {}
    for i, policy in enumerate(policies):
        result = start.run(policy, months, budget)
        row = {"policy": policy.name, **summarise_run(result)}
        if _rule_acted(result):
            free = reference if (i == baseline and reference is not None) else None
            free = free or start.run(without_budget_rule(policy), months, budget)
            row["cost_budget_rule"] = (
                row["cost_external_total"] - summarise_run(free)["cost_external_total"]
            )
        else:
            row["cost_budget_rule"] = 0.0
        people = float(result.households["n_persons"].sum())
        row["inhabitants"] = people
        row["budget_eur"] = float(sum(scenario.budget.per_inhabitant.values())) * people
        rows.append(row)
        for name, table in (run_details(result) if with_details else {}).items():
            details.setdefault(name, []).append(table.assign(policy=policy.name))
    return rows, details


def _compare_one(task) -> tuple[list[dict], dict[str, list[pd.DataFrame]]]:
    """One replication of every policy (sent to a worker): rows and report details."""
    from .parallel import limit_threads

    scenario, policies, child, months, r, baseline, burn_in, processes = task
    with limit_threads(1):
        rows, details = replicate(scenario, policies, child, months, baseline, burn_in, processes)
    rows = [{**row, "replication": r} for row in rows]
    details = {name: [t.assign(replication=r) for t in tables] for name, tables in details.items()}
    return rows, details


#: The tables a stored replication is kept in: its rows last (they mark it finished).
DETAILS = ("yearly", "groups", "concentration", "lorenz", "zrm")
STORED = "comparison"


class _ReplicationStore:
    """The replications of one comparison in a result store (one experiment, ``comparison``).

    A replication is kept as one file per table (its rows and each detail table), keyed by
    (part, replication), with the determinants of the comparison; it is reused only when every
    part is there and its determinants match.
    """

    def __init__(self, store, tasks, recompute: bool):
        from .provenance import code_of, determinants
        from .store import ResultStore, RunKey

        self.store = store if isinstance(store, ResultStore) else ResultStore(store)
        self.folder = self.store.path / STORED
        self.keys = {
            task[4]: {part: RunKey(STORED, 0, part, task[4]) for part in (*DETAILS, "rows")}
            for task in tasks
        }
        # the baseline decides the budget and the differences: it is part of the definition
        self.determinants = {
            r: determinants(
                scenario,
                policies,
                months,
                child,
                r,
                baseline=policies[at].name,
                burn_in=burn_in,
                processes=[code_of(p) for p in processes],
            )
            for scenario, policies, child, months, r, at, burn_in, processes in tasks
        }
        current = {
            key: self.determinants[r] for r, parts in self.keys.items() for key in parts.values()
        }
        self.reusable = self.store.reusable(STORED, current, recompute=recompute)
        self.store.check_writable(STORED)

    def load(self) -> dict[int, tuple[list, dict]]:
        """The finished replications: index → (rows, {detail: [table]})."""
        out = {}
        for r, parts in self.keys.items():
            if not set(parts.values()) <= self.reusable:
                continue
            rows = self.store.read(parts["rows"]).to_dict("records")
            details = {name: [self.store.read(parts[name])] for name in DETAILS}
            out[r] = (rows, details)
        return out

    def write(self, r: int, rows: list, details: dict) -> None:
        meta = {"determinants": self.determinants[r]}
        for name in DETAILS:
            table = pd.concat(details[name], ignore_index=True)
            self.store.write(self.keys[r][name], table, meta, key_columns=False)
        self.store.write(self.keys[r]["rows"], pd.DataFrame(rows), meta, key_columns=False)
