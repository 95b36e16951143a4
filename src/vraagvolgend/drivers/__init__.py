"""What decides the answer: the drivers of a difference, its break-even values and where it holds.

Pure analysis of a table of parameter draws (one row per draw, or per draw and replication
with a ``replication`` column), whatever made it:

* :func:`sensitivity`: which inputs explain the spread of a difference (alternative − baseline)
  across the draws, with bootstrap intervals;
* :func:`break_even` and :func:`break_even_for`: the value of one parameter at which the mean
  paired difference crosses zero, the rest at their defaults, with the interval where the 95%
  band of the paired difference contains zero;
* :func:`discover`: a short rule (a box found by PRIM) for the draws in which the alternative is
  cheaper, with its coverage and density;
* :func:`explain`: two to four plain sentences for a policy adviser;
* :func:`analyse`: all of it for a probabilistic comparison (``compare(..., uncertainty=N)``).

Parameters are named by their dotted path: a scenario parameter as in
:meth:`~vraagvolgend.scenario.Scenario.with_changes` (``access.conversation_cost``,
``problems.onset_rate.work``; a leading ``scenario.`` is allowed), a policy parameter behind
``policy.`` (``policy.conversation_factor``).

Example:
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> draws = pd.DataFrame({"a": rng.random(300), "b": rng.random(300)})
    >>> draws["cost"] = 10 * draws["a"] - 3 + rng.normal(0, 0.1, 300)
    >>> table = sensitivity(draws, ["a", "b"], "cost", bootstrap=200)
    >>> table.loc[0, "parameter"], bool(table.loc[1, "high"] < 0.05)
    ('a', True)
    >>> b = break_even(lambda v: np.array([2.0 * v - 1.0, 2.0 * v - 0.9]), 0.0, 1.0)
    >>> round(b.value, 3)
    0.475
"""

from .analysis import Drivers, analyse, varied_inputs
from .breakeven import BreakEven, break_even, break_even_for
from .discovery import Limit, Rule, discover
from .indices import METHOD, sensitivity
from .sentences import LABELS, explain, parameter_label

__all__ = [
    "LABELS",
    "METHOD",
    "BreakEven",
    "Drivers",
    "Limit",
    "Rule",
    "analyse",
    "break_even",
    "break_even_for",
    "discover",
    "explain",
    "parameter_label",
    "sensitivity",
    "varied_inputs",
]
