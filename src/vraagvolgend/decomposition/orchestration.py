"""Running a decomposition: every coalition on every replication, each distinct one once."""

from __future__ import annotations

import numbers
import os
import time
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..comparison import (
    BURN_IN,
    Start,
    mean_ci,
    municipal_budget,
    summarise_run,
    without_budget_rule,
)
from ..financing import Policy, PolicySwitch, resolve_policy
from ..outputs import added_by
from ..parallel import limit_threads
from ..parameters import ParameterError
from ..rng import SeedLike, as_seed_sequence
from ..scenario import Scenario
from .hybrid import _Parts
from .mechanisms import _groups, _split
from .result import COSTS, OUTCOME_NAMES, TOTAL, Decomposition
from .shapley import _shapley_exact, _shapley_sampled

#: Exact Shapley values (every coalition) up to this many mechanisms; sampled orders above.
EXACT_UP_TO = 6
#: Random orders sampled when there are more than :data:`EXACT_UP_TO` mechanisms.
DEFAULT_PERMUTATIONS = 20
#: Household-months below which the runs go in this process when no executor is given (about
#: ten seconds of work on one core).
SMALL_WORK = 50_000_000
# --- running coalitions ------------------------------------------------------------------------


def _evaluate(task) -> list[tuple[frozenset, dict[str, float]]]:
    """Some coalitions of one replication, each continued from one start (a module-level
    function, so any executor pickles it).

    The start is burnt in once for all of them, and the municipal budget is set from it as
    :func:`~vraagvolgend.comparison.compare` sets it (from the baseline's spending in a run
    without budget rule from the same start), when the scenario does so.
    """
    baseline, alternative, specs, split, scenario, seed, months, _, burn_in, procs = task
    parts = _Parts(baseline, alternative, split)
    with limit_threads(1):
        start = Start(scenario, baseline, seed, burn_in, procs)
        budget = None
        if scenario.budget.set_from_baseline:
            reference = start.run(without_budget_rule(baseline), months)
            budget = dict(municipal_budget(reference, scenario).budget.per_inhabitant)
        return [
            (spec, summarise_run(start.run(parts.build(spec), months, budget))) for spec in specs
        ]


def _tasks_per_replication(executor, workers: int | None, replications: int) -> int:
    """How many tasks one replication's coalitions are split into: as few as keep every
    worker busy, since each task burns in and sets the budget once for its coalitions."""
    if executor == "serial":
        return 1
    slots = workers or os.cpu_count() or 1
    return max(1, -(-slots // replications))


def _check_int(name: str, value: Any, lo: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lo:
        raise ParameterError(name, f"{value!r} must be an integer ≥ {lo}")


def decompose(
    baseline: Policy | str,
    alternative: Policy | str,
    scenario: Scenario | None = None,
    *,
    replications: int = 10,
    seed: SeedLike = 0,
    months: int = 60,
    groups: Mapping[str, Sequence[str]] | str | None = None,
    permutations: int | None = None,
    executor=None,
    workers: int | None = None,
    progress: bool | None = None,
    known: Mapping[frozenset, Sequence[Mapping[str, float]]] | None = None,
    burn_in: str = "baseline",
    processes: Sequence | None = None,
) -> Decomposition:
    """Split the paired difference *alternative − baseline* into mechanisms (Shapley values).

    Args:
        baseline: The policy (or name) the difference is taken against.
        alternative: The other policy (or name).
        scenario: The municipality (default: :meth:`Scenario.default`).
        replications: Replications, seeded as :func:`~vraagvolgend.comparison.compare` does
            (replication ``r`` uses child ``r`` of ``SeedSequence(seed)``).
        seed: Root seed.
        months: Months per run after burn-in (≥ 12: costs are annual).
        groups: Optional mechanisms of your own: label → selectors, each a top-level field
            name (``"contracts"``), ``"regime"``, ``"override:<method>"`` or
            ``"rule:<method>"`` (a library rule method switched on its own, apart from the
            rest of the regime). Settings not named keep the default grouping: declared
            parameters by :func:`mechanism_of`, the library rules in which the two regimes
            differ by :data:`RULE_MECHANISMS` (a rule joins the parameters of its
            mechanism). A group that is the same in both policies is reported with a part
            of exactly zero. ``"regime"``: the regime's rules as one mechanism.
        permutations: ``None``: exact when there are at most :data:`EXACT_UP_TO` mechanisms,
            else :data:`DEFAULT_PERMUTATIONS` sampled orders; a number: that many sampled
            orders (seeded from ``seed``), whatever the number of mechanisms.
        executor: ``"processes"`` (default: a local process pool, or this process when the
            work is small: under :data:`SMALL_WORK` household-months), ``"serial"``, ``"dask"``,
            a Dask client or any ``concurrent.futures.Executor`` (as
            :func:`~vraagvolgend.experiments.run_experiment`).
        workers: Worker processes (default: the cores).
        progress: Show a progress bar (default: only on a terminal).
        known: Runs already made: switched units (``frozenset()`` for the baseline, the set
            of all units for the alternative) → one summary per replication
            (:func:`~vraagvolgend.comparison.summarise_run`); used by
            :func:`decompose_comparison`.
        burn_in: Where every coalition's runs start, as in
            :func:`~vraagvolgend.comparison.compare`: ``"baseline"`` (one burn-in per
            replication under the baseline; every coalition continues from a fork of it) or
            ``"each"`` (every coalition burns in under itself).
        processes: Users' processes in every run (as in :func:`~vraagvolgend.simulation.run`);
            the cost lines and outcomes they declare are decomposed too.

    Returns:
        A :class:`Decomposition`.
    """
    from ..executors import _Runner

    a, b = resolve_policy(baseline), resolve_policy(alternative)
    for label, p in (("baseline", a), ("alternative", b)):
        if isinstance(p, PolicySwitch) or not isinstance(p, Policy):
            raise ParameterError(label, "must be a Policy (a policy switch cannot be decomposed)")
    _check_int("replications", replications, 1)
    _check_int("months", months, 12)
    if permutations is not None:
        _check_int("permutations", permutations, 1)
    scenario = Scenario.default() if scenario is None else scenario
    if burn_in not in BURN_IN:
        raise ParameterError("burn_in", f"{burn_in!r}: one of {', '.join(BURN_IN)}")
    processes = list(processes or ())
    extra_lines, extra_outcomes = added_by(processes)
    # a process's cost lines beside the built-in ones, its outcomes after theirs
    cut = len(COSTS)
    names = (*OUTCOME_NAMES[:cut], *extra_lines, *OUTCOME_NAMES[cut:], *extra_outcomes)
    parts = _Parts(a, b, _split(a, b, groups))
    mechanisms = _groups(parts, groups)
    labels = list(mechanisms)
    k = len(labels)
    if permutations is None and k > EXACT_UP_TO:
        permutations = DEFAULT_PERMUTATIONS
    if k == 0:
        masks = [0]
        orders = None
    elif permutations is None:
        masks = list(range(1 << k))
        orders = None
    else:
        # Orders from their own stream of the seed, apart from the replications' seeds.
        root = as_seed_sequence(seed)
        key = (*root.spawn_key, zlib.crc32(b"shapley orders"))
        rng = np.random.default_rng(np.random.SeedSequence(root.entropy, spawn_key=key))
        orders = np.array([rng.permutation(k) for _ in range(permutations)])
        masks = {0}
        for order in orders:
            mask = 0
            for i in order:
                mask |= 1 << i
                masks.add(mask)
        masks = sorted(masks)

    def switched_of(mask: int) -> frozenset[str]:
        return frozenset(
            u for i, lab in enumerate(labels) if mask >> i & 1 for u in mechanisms[lab]
        )

    specs = {mask: switched_of(mask) for mask in masks}
    unique = sorted(set(specs.values()), key=lambda s: (len(s), sorted(s)))
    seeds = as_seed_sequence(seed).spawn(replications)
    results: dict[tuple[frozenset, int], dict[str, float]] = {}
    for spec, rows in (known or {}).items():
        spec = frozenset(spec)
        for r, row in enumerate(rows[:replications]):
            results[(spec, r)] = {o: float(row[o]) for o in names}
    todo = [(spec, r) for spec in unique for r in range(replications) if (spec, r) not in results]
    started = time.perf_counter()
    # Small work runs in this process: a pool's start would cost more than it saves.
    work = len(todo) * scenario.n_households * months  # burn-ins shared (forks)
    if executor is None and (work < SMALL_WORK or len(todo) <= 1):
        executor = "serial"
    runner = _Runner(executor, workers)
    disable = None if progress is None else not progress
    cancel = True
    try:
        # Coalitions of one replication share its start (burn-in and budget): a task holds
        # as many of them as keeps every worker busy.
        split_into = _tasks_per_replication(executor, workers, replications)
        tasks = []
        for r in range(replications):
            mine = [spec for spec, rr in todo if rr == r]
            size = max(1, -(-len(mine) // split_into))
            for i in range(0, len(mine), size):
                tasks.append(
                    (
                        a,
                        b,
                        mine[i : i + size],
                        parts.split,
                        scenario,
                        seeds[r],
                        months,
                        r,
                        burn_in,
                        processes,
                    )
                )
        with tqdm(total=len(todo), desc="coalitions", disable=disable) as bar:
            for item, (value, error) in runner.outcomes(_evaluate, tasks):
                if error is not None:
                    raise RuntimeError(f"replication {item[7]}, mechanisms {item[2]}: {error}")
                for spec, summary in value:
                    results[(spec, item[7])] = summary
                bar.update(len(value))
        cancel = False
    finally:
        runner.close(cancel=cancel)
    seconds = time.perf_counter() - started

    def matrix(spec: frozenset) -> np.ndarray:
        return np.array([[results[(spec, r)][o] for o in names] for r in range(replications)])

    values = {mask: matrix(spec) for mask, spec in specs.items()}
    full = (1 << k) - 1
    total = matrix(switched_of(full)) - matrix(frozenset())
    if k == 0:
        phi = np.zeros((0, replications, len(names)))
    elif orders is None:
        phi = _shapley_exact(values, k)
    else:
        phi = _shapley_sampled(values, orders)

    rows = []
    for j, outcome in enumerate(names):
        for i, label in enumerate([*labels, TOTAL]):
            x = phi[i, :, j] if i < k else total[:, j]
            mean, lo, hi = mean_ci(x)
            rows.append({"outcome": outcome, "mechanism": label, "mean": mean, "lo": lo, "hi": hi})
    table = pd.DataFrame(rows, columns=["outcome", "mechanism", "mean", "lo", "hi"])
    shares = pd.DataFrame(
        [
            {"mechanism": label, "replication": r, "outcome": o, "value": float(phi[i, r, j])}
            for i, label in enumerate(labels)
            for r in range(replications)
            for j, o in enumerate(names)
        ],
        columns=["mechanism", "replication", "outcome", "value"],
    )
    return Decomposition(
        table,
        baseline=a.name,
        alternative=b.name,
        mechanisms={
            lab: [f"{u}: {parts.units[u]}" for u in units] for lab, units in mechanisms.items()
        },
        permutations=None if orders is None else len(orders),
        replications=replications,
        months=months,
        seed=seed if isinstance(seed, int) else str(seed),
        households=scenario.n_households,
        coalitions=len(unique),
        runs=len(todo),
        seconds=seconds,
        parts=shares,
    )


def decompose_comparison(
    comparison,
    alternative: int | str | None = None,
    *,
    replications: int | None = None,
    attach: bool = True,
    **kwargs,
) -> Decomposition:
    """Decompose a comparison's difference between its baseline and one other policy.

    The comparison's own runs serve as the baseline and alternative coalitions (same seeds),
    so only the hybrid coalitions are run.

    Args:
        comparison: A :class:`~vraagvolgend.comparison.Comparison`.
        alternative: The other policy: its position in ``comparison.policies`` or its name
            (default: the first policy that is not the baseline).
        replications: Replications (default: all of the comparison's; fewer use its first).
        attach: Set ``comparison.decomposition`` to the result.
        **kwargs: Passed to :func:`decompose` (``groups``, ``permutations``, ``executor``, …).
    """
    policies = comparison.policies
    names = [p.name for p in policies]
    if len(policies) < 2:
        raise ParameterError("alternative", "the comparison has only one policy")
    base = names.index(comparison.baseline)
    if alternative is None:
        alternative = next(i for i in range(len(names)) if i != base)
    if isinstance(alternative, str) and alternative not in names:
        raise ParameterError("alternative", f"{alternative!r} is not one of {names}")
    index = names.index(alternative) if isinstance(alternative, str) else alternative
    if not 0 <= index < len(policies) or index == base:
        others = [str(i) for i in range(len(names)) if i != base]
        raise ParameterError(
            "alternative",
            f"{alternative!r}: a position other than the baseline's ({', '.join(others)})",
        )
    a, b = policies[base], policies[index]
    available = int(comparison.runs["replication"].nunique())
    replications = available if replications is None else replications
    _check_int("replications", replications, 1)
    # The comparison's own runs are the empty and the full coalition (same seeds).
    known = {}
    runs = comparison.runs.sort_values("replication")
    everything = frozenset(_Parts(a, b, _split(a, b, kwargs.get("groups"))).units)
    for spec, name in ((frozenset(), a.name), (everything, b.name)):
        known[spec] = runs[runs["policy"] == name].to_dict("records")
    seed = comparison.seed
    if isinstance(seed, str):  # a loaded comparison whose seed was not an int: run afresh
        raise ParameterError("seed", f"{seed!r}: decompose a comparison made with an int seed")
    result = decompose(
        a,
        b,
        comparison.scenario,
        replications=replications,
        seed=seed,
        months=comparison.months,
        known=known,
        burn_in=getattr(comparison, "burn_in", "each"),
        processes=kwargs.pop("processes", getattr(comparison, "processes", ())),
        **kwargs,
    )
    if attach:
        comparison.decomposition = result
    return result
