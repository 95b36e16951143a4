"""The life domains in which households have problems, and the ZRM scale they read on.

The seven domains are a subset of the Zelfredzaamheid-Matrix (ZRM, self-reliance matrix).
Each household has a severity in [0, 1] per domain (0 = fully self-reliant); the severity maps
onto the five ZRM levels (1 acute problem … 5 fully self-reliant) in equal bands of 0.2.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "DOMAINS",
    "HOUSEHOLD_TYPES",
    "domain_index",
    "zrm_level",
]

#: Problem domains, in the order of the rows of the severity array.
DOMAINS: tuple[str, ...] = (
    "finances",  # finances and debt
    "work",  # work and daytime activity
    "housing",
    "mental_health",
    "physical_health",  # physical health and (I)ADL
    "parenting",  # parenting and youth; only households with children
    "social_isolation",
)

#: Household types, in the order of the integer codes in the population arrays.
HOUSEHOLD_TYPES: tuple[str, ...] = (
    "single",  # one person under 75
    "single_75plus",
    "couple",  # couple (or other multi-person household) without children
    "couple_children",
    "single_parent",
)


def domain_index(name: str) -> int:
    """Return the row of a domain in the severity array.

    Example:
        >>> domain_index("mental_health")
        3
    """
    try:
        return DOMAINS.index(name)
    except ValueError:
        raise ValueError(f"unknown domain {name!r}; allowed: {', '.join(DOMAINS)}") from None


def zrm_level(severity: np.ndarray | float) -> np.ndarray:
    """Map severities in [0, 1] to ZRM levels 1 (acute) … 5 (fully self-reliant).

    Bands: [0, 0.2) → 5, [0.2, 0.4) → 4, [0.4, 0.6) → 3, [0.6, 0.8) → 2, [0.8, 1] → 1.

    Example:
        >>> zrm_level(np.array([0.0, 0.35, 0.6, 1.0])).tolist()
        [5, 4, 2, 1]
    """
    s = np.asarray(severity)
    band = np.minimum((s * 5).astype(np.int8), 4)
    return (5 - band).astype(np.int8)
