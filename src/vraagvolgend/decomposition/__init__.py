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

One concept per module: :mod:`~vraagvolgend.decomposition.mechanisms` (the grouping rule),
:mod:`~vraagvolgend.decomposition.hybrid` (the policy of a coalition),
:mod:`~vraagvolgend.decomposition.shapley` (the arithmetic),
:mod:`~vraagvolgend.decomposition.orchestration` (running the coalitions) and
:mod:`~vraagvolgend.decomposition.result`.
"""

from .hybrid import hybrid
from .mechanisms import MECHANISMS, RULE_MECHANISMS, mechanism_of
from .orchestration import EXACT_UP_TO, decompose, decompose_comparison
from .result import OUTCOME_NAMES, Decomposition

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
