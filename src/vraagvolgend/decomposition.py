"""Why two policies differ: the paired difference split into named mechanisms (Shapley values).

:func:`decompose` explains the difference *alternative − baseline* in annual cost per law,
total cost and the main outcomes of :func:`~vraagvolgend.comparison.compare` by the
mechanisms that separate the two policies. A **mechanism** is a group of the policies'
declared settings that is switched as a whole from the baseline's setting to the
alternative's:

- every **declared parameter group** in which the two policies differ: the ``group`` of the
  parameter's declaration (lifecycle, conversations, network activation, flexible budget,
  integrated plan, package sizing, contract response, …), else :data:`MECHANISMS` (contract
  type, each lever, the budget rule), else the field's own name (:func:`mechanism_of`);
- every **rule** of the library's policy classes in which the two regimes differ (e.g.
  ``DemandDriven.intensity``, sizing packages to need), in the mechanism :data:`RULE_MECHANISMS`
  gives it, together with that mechanism's parameters (a rule and the parameters only its
  class declares, such as ``max_parallel``, travel together); rules not listed there stay in
  one mechanism :data:`REGIME` (``groups="regime"`` keeps all of them there);
- a **user's overridden rule**: a method of a user's subclass that overrides a rule of the
  library's policy classes (``review``, ``select_domains``, …) is a group of its own, switched
  between the regime's rule and the override.

Each mechanism's part is its Shapley value in the game whose players are the mechanisms and
whose value of a coalition is the outcome of a run in which the coalition's mechanisms take
the alternative's setting and all others the baseline's: the average of its marginal
contribution over all orders in which the mechanisms could be switched. The parts add up to
the total difference (the empty coalition is the baseline itself, the full one the
alternative itself), and a mechanism set the same in both policies contributes exactly zero
(its coalitions build the same policy, which runs once and gives the same numbers). With at
most :data:`EXACT_UP_TO` mechanisms every coalition is run (2^k); above that the values are
estimated from seeded random orders (their number is stated in the result).

Every coalition runs on the replications' seeds of :func:`~vraagvolgend.comparison.compare`
(common random numbers) and with the budget ``compare`` sets (the municipality's, from the
baseline's spending in a run without budget rule on the same seed), each distinct coalition
once; the parts are computed per replication
and summarised as a mean with a 95% interval over replications.

**Hybrid policies.** A policy is read as its class and its field values. :func:`hybrid`
builds the policy of a coalition as a frozen dataclass subclass of the baseline's regime class
(of the alternative's when the coalition holds :data:`REGIME`), with

- every field of that class, valued from the side its mechanism comes from;
- the fields only the other side's class declares (so that a switched-in rule finds the
  parameters it reads), with that side's values;
- each rule switched on its own taken from the side its mechanism comes from, and the user's
  methods of the side each override comes from (a zero-argument ``super()`` in them reaches
  the rule in force underneath). A user's method that names its class explicitly
  (``super(MyPolicy, self)``) cannot be mixed in.

**Cost.** Each distinct coalition runs once per replication, on a process pool;
:func:`decompose_comparison` reuses the comparison's runs for both ends. Supply- vs
demand-driven with the defaults has six mechanisms: 62 mixed coalitions per replication, plus
one reference run per replication for the municipal budget. A run of the main job (24,000
households, 60 months) takes about 1 s of one core, so its decomposition on two replications
(126 runs; ``vraagvolgend compare --decompose``) takes about a minute on two cores.

Example:
    >>> import vraagvolgend as vv
    >>> s = vv.Scenario.default().with_changes(n_households=300, burn_in_months=12)
    >>> b = vv.SupplyDriven(outreach=0.1, review_months=3, name="reviewed")
    >>> d = vv.decompose(vv.SupplyDriven(), b, s, replications=2, months=12,
    ...                  executor="serial", progress=False)
    >>> sorted(d.table["mechanism"].unique())
    ['lever: outreach', 'lifecycle', 'total']
"""

from __future__ import annotations

import json
import math
import numbers
import time
import types
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import field as dc_field
from dataclasses import fields, make_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .comparison import (
    COST_LINES,
    OUTCOMES,
    mean_ci,
    municipal_budget,
    summarise_run,
    without_budget_rule,
)
from .financing import REGIMES, Policy, PolicySwitch, resolve_policy
from .parallel import limit_threads
from .parameters import ParameterError, _plain
from .rng import SeedLike, as_seed_sequence
from .scenario import Scenario
from .simulation import run

__all__ = [
    "EXACT_UP_TO",
    "MECHANISMS",
    "OUTCOME_NAMES",
    "RULE_MECHANISMS",
    "Decomposition",
    "decompose",
    "decompose_comparison",
    "hybrid",
    "mechanism_of",
]

#: Exact Shapley values (every coalition) up to this many mechanisms; sampled orders above.
EXACT_UP_TO = 6
#: Random orders sampled when there are more than :data:`EXACT_UP_TO` mechanisms.
DEFAULT_PERMUTATIONS = 20
#: Household-months below which the runs go in this process when no executor is given (about
#: ten seconds of work on one core).
SMALL_WORK = 50_000_000
#: The outcomes decomposed: the keys of :func:`~vraagvolgend.comparison.summarise_run`.
#: (The budget rule's effect, a cost line of compare's summary, needs a run without the rule
#: for every coalition; where two policies differ in their budget rule, that is a mechanism.)
COSTS = tuple(f"cost_{c}" for c in COST_LINES if c != "budget_rule")
OUTCOME_NAMES = (*COSTS, *OUTCOMES)
TOTAL = "total"

# --- the grouping rule: which setting belongs to which mechanism -----------------------------

#: Mechanism of each top-level policy field without a ``group`` in its declaration (a declared
#: ``group`` wins; a field in neither keeps its own name). Every key names a declared field.
MECHANISMS: dict[str, str] = {
    "contract": "contract type",
    "contracts": "contract responses",
    "collective_capacity": "lever: collective capacity",
    "practice_support_youth": "lever: practice support (POH-jeugd)",
    "network_programme": "lever: network programme",
    "network_programme_cost": "lever: network programme",
    "outreach": "lever: outreach",
    "outreach_cost": "lever: outreach",
    "budget_rule": "budget rule",
    "budget_cut": "budget rule",
}
REGIME = "regime rules"
#: Mechanism of each rule method of the library's policy classes. Where two regimes differ in a
#: listed rule, the rule is switched on its own, together with the declared parameters of the
#: same mechanism (e.g. ``intensity`` with ``package sizing``); a rule not listed stays in
#: :data:`REGIME` (with ``groups="regime"`` every rule does).
RULE_MECHANISMS: dict[str, str] = {
    "select_domains": "integrated plan",
    "intensity": "package sizing",
    "conversation_units": "conversations",
    "review_units": "conversations",
    "duration": "lifecycle",
    "review": "lifecycle",
    "activation": "network activation",
    "flexible_share": "flexible budget",
}
#: Fields that do not change what a policy does.
COSMETIC = frozenset({"name"})
#: Members of the policy classes that are machinery, not rules.
MACHINERY = frozenset(
    {
        "changes_from",
        "from_dict",
        "from_toml",
        "provenance",
        "regime",
        "to_dict",
        "to_toml",
        "with_changes",
    }
)


def mechanism_of(policy_class: type[Policy], field_name: str) -> str:
    """The mechanism a top-level policy field belongs to (its human label).

    The field's ``group`` metadata if declared, else :data:`MECHANISMS`, else the field's name
    with spaces.
    """
    for f in fields(policy_class):
        if f.name == field_name and f.metadata.get("group"):
            return str(f.metadata["group"])
    return MECHANISMS.get(field_name, field_name.replace("_", " "))


def _library_class(cls: type) -> type[Policy]:
    """The first class of the library in the class's ancestry (the regime)."""
    for k in cls.__mro__:
        if k.__module__.split(".")[0] == "vraagvolgend":
            return k
    raise ParameterError("policy", f"{cls.__name__} does not derive from a vraagvolgend Policy")


def _field_names(cls: type) -> set[str]:
    return {f.name for f in fields(cls)}


def _rule_names(*classes: type) -> set[str]:
    """Public rule members (methods and class-level settings) of library policy classes."""
    names = set()
    for cls in classes:
        skip = _field_names(cls)
        for k in cls.__mro__:
            if not (isinstance(k, type) and issubclass(k, Policy)):
                continue
            names |= {
                n
                for n, v in vars(k).items()
                if not n.startswith("_")
                and n not in MACHINERY | skip
                and not isinstance(v, classmethod | staticmethod | property)
            }
    return names


def _user_members(cls: type) -> dict[str, Any]:
    """Members a user's subclasses define above the library class (most derived wins)."""
    library = _library_class(cls)
    skip = _field_names(cls)
    out: dict[str, Any] = {}
    for k in reversed(cls.__mro__[: cls.__mro__.index(library)]):
        for name, value in vars(k).items():
            if not name.startswith("__") and name not in skip:
                out[name] = value
    return out


def _same(x: Any, y: Any) -> bool:
    if x is y:
        return True
    if callable(x) or callable(y) or isinstance(x, classmethod | staticmethod | property):
        return False
    return _plain(x) == _plain(y)


def _static(cls: type, name: str) -> Any:
    for k in cls.__mro__:
        if name in vars(k):
            return vars(k)[name]
    return None


class _Parts:
    """The units that differ between two policies (each switched as a whole), and how to
    build the policy of any set of switched units."""

    def __init__(self, baseline: Policy, alternative: Policy, split: Iterable[str] = ()):
        self.a, self.b = baseline, alternative
        ta, tb = type(baseline), type(alternative)
        self.lib = (_library_class(ta), _library_class(tb))
        self.user = (_user_members(ta), _user_members(tb))
        rules = _rule_names(*self.lib)
        self.rules = rules
        self.split = tuple(sorted(set(split)))
        unknown = [m for m in self.split if m not in rules]
        if unknown:
            raise ParameterError(
                "groups", f"rule:{unknown[0]} is not a rule; rules: {', '.join(sorted(rules))}"
            )
        fa, fb = _field_names(ta), _field_names(tb)
        self.fields = {n for n in fa & fb if n not in COSMETIC}
        self.units: dict[str, str] = {}  # unit → description
        differing = sorted(
            m for m in rules if not _same(_static(self.lib[0], m), _static(self.lib[1], m))
        )
        # The regime is a unit while some rule in which the classes differ is not switched on
        # its own; what else differs between the classes (their name, their validation) does
        # not change a run.
        if any(m not in self.split for m in differing):
            names = [m for m in differing if m not in self.split]
            self.units["regime"] = (
                f"{self.lib[0].__name__} → {self.lib[1].__name__} ({', '.join(names)})"
            )
        for m in self.split:
            if m in differing:
                self.units[f"rule:{m}"] = f"{_owner(self.lib[0], m, None)} → " + _owner(
                    self.lib[1], m, None
                )
        for m in sorted(rules & (set(self.user[0]) | set(self.user[1]))):
            ua, ub = self.user[0].get(m), self.user[1].get(m)
            if not _same(ua, ub):
                self.units[f"override:{m}"] = f"{_owner(ta, m, ua)} → {_owner(tb, m, ub)}"
        changes = alternative.changes_from(baseline)
        for n in sorted(self.fields):
            if not _same(getattr(baseline, n), getattr(alternative, n)):
                detail = [
                    f"{k}: {_short(x)} → {_short(y)}"
                    for k, (x, y) in changes.items()
                    if k == n or k.startswith(n + ".")
                ]
                self.units[f"field:{n}"] = "; ".join(detail) or n

    def selectors(self) -> set[str]:
        """Every name a ``groups`` selector may use (differing or not)."""
        overrides = self.rules & (set(self.user[0]) | set(self.user[1]))
        return (
            {"regime"}
            | {f"field:{n}" for n in self.fields}
            | {f"rule:{m}" for m in self.rules}
            | {f"override:{m}" for m in overrides}
        )

    def default_mechanism(self, unit: str) -> str:
        kind, _, name = unit.partition(":")
        if kind == "regime":
            return REGIME
        if kind == "override":
            return f"override: {name}"
        if kind == "rule":
            return RULE_MECHANISMS.get(name, f"rule: {name}")
        return mechanism_of(type(self.b), name)

    def build(self, switched: frozenset[str]) -> Policy:
        """The policy in which the ``switched`` units take the alternative's setting."""
        switched = frozenset(switched) & set(self.units)
        if not switched:
            return self.a
        if switched == set(self.units):
            return self.b
        side = 1 if "regime" in switched else 0
        base = self.lib[side]
        namespace: dict[str, Any] = {}
        for m in self.split:  # library rules switched on their own
            chosen = 1 if f"rule:{m}" in switched else 0
            if chosen != side:
                namespace[m] = _static(self.lib[chosen], m)
        # The users' own helpers (members that override nothing) come along from both sides.
        for members in self.user:
            namespace.update({n: v for n, v in members.items() if n not in self.rules})
        for m in self.rules & (set(self.user[0]) | set(self.user[1])):
            chosen = 1 if f"override:{m}" in switched else 0
            value = self.user[chosen].get(m)
            if value is not None:
                namespace[m] = value
        # Fields: the regime class's, plus those only the other side's class declares.
        own = _field_names(base)
        values = {}
        extra = []
        for policy in (self.a, self.b):
            for f in fields(policy):
                if f.name not in own and f.name not in {e[0] for e in extra}:
                    extra.append((f.name, f.type, dc_field(default=None, metadata=f.metadata)))
        for n in own | {e[0] for e in extra}:
            if n in self.fields:
                source = self.b if f"field:{n}" in switched else self.a
            else:
                source = self.a if n in _field_names(type(self.a)) else self.b
            values[n] = getattr(source, n)
        values["name"] = "hybrid"
        # A new Policy subclass registers itself as a regime: keep the registry as it was.
        namespace["regime"] = base.regime
        registry = dict(REGIMES)
        try:
            cls = make_dataclass(
                f"Hybrid{base.__name__}",
                extra,
                bases=(base,),
                namespace=namespace,
                frozen=True,
                eq=True,
            )
        finally:
            REGIMES.clear()
            REGIMES.update(registry)
        cls.__module__ = __name__
        for n, value in namespace.items():
            if isinstance(value, types.FunctionType) and "__class__" in value.__code__.co_freevars:
                setattr(cls, n, _rebind_class(value, cls))
        return cls(**values)


def _owner(cls: type, name: str, value: Any) -> str:
    """Where ``cls`` gets member ``name`` from (``value``: a user's member; None: the library's)."""
    for k in (cls if value is not None else _library_class(cls)).__mro__:
        if name in vars(k) and (value is None or vars(k)[name] is value):
            return f"{k.__name__}.{name}"
    return f"{cls.__name__}.{name}"


def _rebind_class(function: types.FunctionType, cls: type) -> types.FunctionType:
    """A copy of ``function`` whose zero-argument ``super()`` starts from ``cls``."""
    cells = tuple(
        types.CellType(cls) if name == "__class__" else cell
        for name, cell in zip(function.__code__.co_freevars, function.__closure__, strict=True)
    )
    copy = types.FunctionType(
        function.__code__, function.__globals__, function.__name__, function.__defaults__, cells
    )
    copy.__kwdefaults__ = function.__kwdefaults__
    copy.__qualname__ = function.__qualname__
    return copy


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "…"


def hybrid(
    baseline: Policy,
    alternative: Policy,
    switched: Iterable[str],
    *,
    split: Iterable[str] = (),
) -> Policy:
    """The policy that takes the alternative's setting for the ``switched`` units.

    Args:
        baseline: The policy whose settings are kept.
        alternative: The policy whose settings are switched in.
        switched: Units: ``"regime"`` (the regime class and its rules), ``"field:<name>"``
            (a top-level field, e.g. ``"field:contracts"``), ``"override:<method>"`` (a user's
            override) and, for rules named in ``split``, ``"rule:<method>"``.
        split: Library rule methods switched on their own rather than with the regime.

    Example:
        >>> import vraagvolgend as vv
        >>> p = hybrid(vv.SupplyDriven(), vv.DemandDriven(contract="task"), ["field:contract"])
        >>> p.regime, p.contract
        ('supply-driven', 'task')
    """
    parts = _Parts(baseline, alternative, split)
    known = parts.selectors()
    for unit in switched:
        if unit not in known:
            raise ParameterError("switched", f"{unit!r} is not one of {', '.join(sorted(known))}")
    return parts.build(frozenset(switched))


def _split(a: Policy, b: Policy, groups) -> list[str]:
    """The library rules switched on their own: those :data:`RULE_MECHANISMS` lists (unless
    ``groups`` is ``"regime"``) and those ``groups`` names as ``"rule:<method>"``."""
    if isinstance(groups, str):
        if groups != "regime":
            raise ParameterError("groups", f"{groups!r}: None, 'regime' or label → selectors")
        return []
    if groups is not None and not isinstance(groups, Mapping):
        raise ParameterError("groups", f"{groups!r}: None, 'regime' or label → selectors")
    rules = _rule_names(_library_class(type(a)), _library_class(type(b)))
    named = [
        s.removeprefix("rule:")
        for selectors in (groups or {}).values()
        if not isinstance(selectors, str)
        for s in selectors
        if isinstance(s, str) and s.startswith("rule:")
    ]
    return sorted({m for m in RULE_MECHANISMS if m in rules} | set(named))


def _groups(parts: _Parts, groups) -> dict[str, list[str]]:
    """Mechanism label → its units (those named in ``groups`` first, then the default rule)."""
    out: dict[str, list[str]] = {}
    taken: set[str] = set()
    known = parts.selectors()
    for label, selectors in (groups if isinstance(groups, Mapping) else {}).items():
        if isinstance(selectors, str) or not isinstance(selectors, Sequence):
            raise ParameterError(f"groups.{label}", "must be a list of selectors")
        units = []
        for s in selectors:
            unit = s if s == "regime" or ":" in s else f"field:{s}"
            if unit not in known:
                raise ParameterError(
                    f"groups.{label}",
                    f"{s!r} is not a field, 'regime', 'rule:<method>' or 'override:<method>'",
                )
            if unit in taken:
                raise ParameterError(f"groups.{label}", f"{s!r} is already in another group")
            taken.add(unit)
            if unit in parts.units:
                units.append(unit)
        out[str(label)] = units
    for unit in parts.units:
        if unit not in taken:
            out.setdefault(parts.default_mechanism(unit), []).append(unit)
    return out


# --- running coalitions ------------------------------------------------------------------------


def _evaluate(task) -> dict[str, float]:
    """One coalition in one replication; a module-level function, so any executor pickles it."""
    baseline, alternative, switched, split, scenario, seed, months, _ = task
    policy = _Parts(baseline, alternative, split).build(switched)
    with limit_threads(1):
        return summarise_run(run(scenario, policy, seed=seed, months=months))


def _budgeted(task) -> Scenario:
    """The scenario of one replication with the budget :func:`~vraagvolgend.comparison.compare`
    sets (from the baseline's spending in a run without budget rule on the same seed)."""
    baseline, scenario, seed, months, _ = task
    if not scenario.budget.set_from_baseline:
        return scenario
    with limit_threads(1):
        reference = run(scenario, without_budget_rule(baseline), seed=seed, months=months)
    return municipal_budget(reference, scenario)


def _shapley_exact(values: dict[int, np.ndarray], k: int) -> np.ndarray:
    """Exact Shapley values: (k, replications, outcomes) from coalition bitmask → values."""
    phi = np.zeros((k, *values[0].shape))
    for i in range(k):
        bit = 1 << i
        for mask in range(1 << k):
            if mask & bit:
                continue
            s = mask.bit_count()
            weight = math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k)
            phi[i] += weight * (values[mask | bit] - values[mask])
    return phi


def _shapley_sampled(values: dict[int, np.ndarray], orders: np.ndarray) -> np.ndarray:
    """Shapley values estimated from the given orders (each a permutation of the players)."""
    k = orders.shape[1]
    phi = np.zeros((k, *values[0].shape))
    for order in orders:
        mask = 0
        for i in order:
            phi[i] += values[mask | (1 << i)] - values[mask]
            mask |= 1 << i
    return phi / len(orders)


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

    Returns:
        A :class:`Decomposition`.
    """
    from .experiments import _Runner

    a, b = resolve_policy(baseline), resolve_policy(alternative)
    for label, p in (("baseline", a), ("alternative", b)):
        if isinstance(p, PolicySwitch) or not isinstance(p, Policy):
            raise ParameterError(label, "must be a Policy (a policy switch cannot be decomposed)")
    _check_int("replications", replications, 1)
    _check_int("months", months, 12)
    if permutations is not None:
        _check_int("permutations", permutations, 1)
    scenario = Scenario.default() if scenario is None else scenario
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
            results[(spec, r)] = {o: float(row[o]) for o in OUTCOME_NAMES}
    todo = [(spec, r) for spec in unique for r in range(replications) if (spec, r) not in results]
    started = time.perf_counter()
    # Small work runs in this process: a pool's start would cost more than it saves.
    work = len(todo) * scenario.n_households * (scenario.burn_in_months + months)
    if executor is None and (work < SMALL_WORK or len(todo) <= 1):
        executor = "serial"
    runner = _Runner(executor, workers)
    disable = None if progress is None else not progress
    cancel = True
    try:
        # Every replication's budget as compare sets it: one reference run per replication.
        scenarios = [scenario] * replications
        if todo:
            budget_tasks = [(a, scenario, seeds[r], months, r) for r in range(replications)]
            for item, (value, error) in runner.outcomes(_budgeted, budget_tasks):
                if error is not None:
                    raise RuntimeError(f"replication {item[4]}, municipal budget: {error}")
                scenarios[item[4]] = value
        tasks = [(a, b, spec, parts.split, scenarios[r], seeds[r], months, r) for spec, r in todo]
        with tqdm(total=len(tasks), desc="coalitions", disable=disable) as bar:
            for item, (value, error) in runner.outcomes(_evaluate, tasks):
                if error is not None:
                    raise RuntimeError(f"replication {item[7]}, mechanisms {item[2]}: {error}")
                results[(item[2], item[7])] = value
                bar.update()
        cancel = False
    finally:
        runner.close(cancel=cancel)
    seconds = time.perf_counter() - started

    def matrix(spec: frozenset) -> np.ndarray:
        return np.array(
            [[results[(spec, r)][o] for o in OUTCOME_NAMES] for r in range(replications)]
        )

    values = {mask: matrix(spec) for mask, spec in specs.items()}
    full = (1 << k) - 1
    total = matrix(switched_of(full)) - matrix(frozenset())
    if k == 0:
        phi = np.zeros((0, replications, len(OUTCOME_NAMES)))
    elif orders is None:
        phi = _shapley_exact(values, k)
    else:
        phi = _shapley_sampled(values, orders)

    rows = []
    for j, outcome in enumerate(OUTCOME_NAMES):
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
            for j, o in enumerate(OUTCOME_NAMES)
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
        **kwargs,
    )
    if attach:
        comparison.decomposition = result
    return result


# --- the result ---------------------------------------------------------------------------------


class Decomposition:
    """The mechanisms behind a paired difference, with 95% intervals over replications.

    Attributes:
        table: One row per outcome and mechanism, plus a ``total`` row per outcome:
            ``outcome`` (a key of :func:`~vraagvolgend.comparison.summarise_run`: annual costs
            ``cost_<line>`` in EUR, then the outcome indicators), ``mechanism``, ``mean``,
            ``lo``, ``hi`` (95% CI over replications). Per replication the mechanisms add up
            to the total.
        mechanisms: Mechanism → the settings it switches (baseline → alternative).
        permutations: Number of sampled orders, or ``None`` when the values are exact.
        parts: Per mechanism, replication and outcome, the part (long table).
    """

    def __init__(
        self,
        table: pd.DataFrame,
        *,
        baseline: str,
        alternative: str,
        mechanisms: dict[str, list[str]],
        permutations: int | None,
        replications: int,
        months: int,
        seed,
        households: int,
        coalitions: int,
        runs: int = 0,
        seconds: float = float("nan"),
        parts: pd.DataFrame | None = None,
    ):
        self.table = table
        self.baseline = baseline
        self.alternative = alternative
        self.mechanisms = mechanisms
        self.permutations = permutations
        self.replications = replications
        self.months = months
        self.seed = seed
        self.households = households
        self.coalitions = coalitions
        self.runs = runs
        self.seconds = seconds
        self.parts = parts

    def _meta(self) -> dict:
        return {
            "kind": "decomposition",
            "baseline": self.baseline,
            "alternative": self.alternative,
            "mechanisms": self.mechanisms,
            "permutations": self.permutations,
            "replications": self.replications,
            "months": self.months,
            "seed": self.seed,
            "households": self.households,
            "coalitions": self.coalitions,
            "runs": self.runs,
            "seconds": self.seconds,
        }

    def save(self, directory: str | Path) -> Path:
        """Write ``table.parquet``, ``parts.parquet`` and ``decomposition.json`` to a folder."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        self.table.to_parquet(out / "table.parquet", index=False)
        if self.parts is not None:
            self.parts.to_parquet(out / "parts.parquet", index=False)
        text = json.dumps(self._meta(), indent=2, ensure_ascii=False)
        (out / "decomposition.json").write_text(text, encoding="utf-8")
        return out

    @classmethod
    def load(cls, directory: str | Path) -> Decomposition:
        """Read a decomposition written by :meth:`save`."""
        from .folders import read_table

        folder = Path(directory)
        meta_file = folder / "decomposition.json"
        if not meta_file.exists():
            raise ParameterError(
                str(folder), "is not a decomposition folder (no decomposition.json)"
            )
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        meta.pop("kind", None)
        parts = folder / "parts.parquet"
        return cls(
            read_table(folder / "table.parquet"),
            parts=read_table(parts) if parts.exists() else None,
            **meta,
        )

    def __str__(self) -> str:
        """A summary for a person: the mechanisms, then the parts of the cost difference per
        law for the largest mechanisms and of the primary outcome; ``table`` has them all."""
        from .outputs import OUTCOMES, PRIMARY
        from .vocabulary import format_number, label

        k = len(self.mechanisms)
        how = (
            f"exact over all {2**k} coalitions"
            if self.permutations is None
            else f"estimated from {self.permutations} sampled orders (seeded; the parts carry "
            "that sampling error)"
        )
        lines = [
            f"Why {self.alternative!r} differs from {self.baseline!r}: Shapley values of "
            f"{_count(k, 'mechanism')}, {how}; {_count(self.replications, 'replication')} on "
            f"common random numbers, {self.months} months, {self.households:,} households.",
            "Mechanisms (baseline → alternative):"
            if k
            else "The two policies do not differ in any setting or rule.",
        ]
        for name, units in self.mechanisms.items():
            what = "; ".join(_readable(u.split(": ", 1)[1]) for u in units)
            lines.append(f"  {name}: {what or '(the same in both)'}")
        t = self.table[self.table["mechanism"] != TOTAL]
        total = t[t["outcome"] == "cost_external_total"].set_index("mechanism")["mean"]
        top = list(total.abs().sort_values(ascending=False).index[:TOP])
        laws = [c for c in COSTS if c != "cost_benefit"]
        rows = []
        for mechanism in top:
            mine = t[t["mechanism"] == mechanism].set_index("outcome")
            row = {"mechanism": mechanism}
            for cost in laws:
                row[label(cost.removeprefix("cost_")).split(" (")[0]] = (
                    format_number(mine.loc[cost, "mean"] / 1000, 0) if cost in mine.index else ""
                )
            rows.append(row)
        all_parts = t.groupby("outcome")["mean"].sum()
        row = {"mechanism": f"all {_count(k, 'mechanism')}"}
        for cost in laws:
            row[label(cost.removeprefix("cost_")).split(" (")[0]] = format_number(
                all_parts.get(cost, 0.0) / 1000, 0
            )
        rows.append(row)
        lines += [
            "",
            f"Parts of the annual cost difference (EUR thousand), the {len(top)} largest "
            "mechanisms and all together:",
            pd.DataFrame(rows).to_string(index=False),
        ]
        primary = t[t["outcome"] == PRIMARY]
        if not primary.empty:
            decimals = OUTCOMES[PRIMARY].decimals + 1
            parts = ", ".join(
                f"{r['mechanism']} {r['mean']:+.{decimals}f}"
                for _, r in primary.reindex(
                    primary["mean"].abs().sort_values(ascending=False).index
                )
                .head(TOP)
                .iterrows()
            )
            lines.append(f"\n{label(PRIMARY)}, largest parts: {parts}.")
        lines.append("Every part with its 95% interval, for every cost line and outcome: .table")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<Decomposition of {self.alternative!r} − {self.baseline!r} into "
            f"{list(self.mechanisms)}>"
        )

    def _repr_html_(self) -> str:
        t = self.table.pivot(index="mechanism", columns="outcome", values="mean")
        costs = [o for o in COSTS if o in t.columns]
        order = [*self.mechanisms, TOTAL]
        return (
            f"<p>Annual cost (EUR) of {self.alternative!r} − {self.baseline!r} by mechanism "
            "(mean over replications; intervals in <code>.table</code>).</p>"
            + t.loc[order, costs].round(0).to_html()
        )

    def plot(self, outcomes: Sequence[str] | None = None):
        """Each mechanism's part with its 95% interval, one panel per outcome (matplotlib).

        Args:
            outcomes: Outcomes to show (default: the annual costs per law, collective,
                access and external total, in EUR thousand).

        Returns:
            A :class:`matplotlib.figure.Figure` (built without pyplot).
        """
        from matplotlib.figure import Figure

        outcomes = list(outcomes or [c for c in COSTS if c != "cost_benefit"])
        order = [*self.mechanisms, TOTAL]
        cols = min(3, len(outcomes))
        rows = math.ceil(len(outcomes) / cols)
        fig = Figure(figsize=(4.2 * cols, 0.45 * len(order) * rows + 1.2 * rows))
        axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
        for ax, outcome in zip(axes.ravel(), outcomes, strict=False):
            g = self.table[self.table["outcome"] == outcome].set_index("mechanism").loc[order]
            scale = 1000.0 if outcome.startswith("cost_") else 1.0
            mean = g["mean"].to_numpy() / scale
            err = np.vstack([mean - g["lo"] / scale, g["hi"] / scale - mean])
            y = np.arange(len(order))[::-1]
            colours = ["#4c72b0"] * (len(order) - 1) + ["#333333"]
            ax.barh(y, mean, xerr=np.nan_to_num(np.abs(err)), color=colours, capsize=3)
            ax.axvline(0, color="grey", lw=0.8)
            ax.set_yticks(y, order)
            ax.set_title(outcome.removeprefix("cost_"), fontsize=9)
            if scale > 1:
                ax.set_xlabel("EUR thousand per year", fontsize=8)
        for ax in axes.ravel()[len(outcomes) :]:
            ax.set_visible(False)
        fig.suptitle(f"{self.alternative} − {self.baseline}, by mechanism", fontsize=10)
        fig.tight_layout()
        return fig


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


#: Mechanisms shown by name in the printed summary (the largest parts of the external total).
TOP = 5


def _readable(detail: str) -> str:
    """``Policy.intensity → DemandDriven.intensity`` as ``intensity: the base rule → the
    DemandDriven rule``; a setting's ``name: a → b`` as it is."""
    if "." in detail and " → " in detail and ": " not in detail:
        before, after = (x.strip() for x in detail.split(" → ", 1))
        rule = before.rsplit(".", 1)[-1]
        return f"rule {rule}: {before.split('.')[0]}'s → {after.split('.')[0]}'s"
    return detail


def _number(x: float, scale: float) -> str:
    """A number without scientific notation, with as many decimals as its outcome's scale."""
    if not np.isfinite(x):
        return ""
    decimals = 0 if scale >= 100 else min(6, max(0, 3 - math.floor(math.log10(scale or 1.0))))
    text = f"{x:+,.{decimals}f}"
    return "0" if float(text.replace(",", "")) == 0 else text
