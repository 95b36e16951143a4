"""Households and neighbourhoods: the synthetic population, held as columns.

Each household is one row in a set of numpy arrays (type, size, children, income quintile,
neighbourhood, latent vulnerability). :class:`HouseholdView` gives a read-only object view of one
row for inspection and custom rules; the simulation itself never loops over households.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .domains import DOMAINS, HOUSEHOLD_TYPES, zrm_level
from .scenario import Scenario

__all__ = ["HouseholdView", "Households", "build_households", "exact_counts"]

_TYPE_CODE = {name: i for i, name in enumerate(HOUSEHOLD_TYPES)}
_WITH_CHILDREN = np.array(
    [name in ("couple_children", "single_parent") for name in HOUSEHOLD_TYPES]
)
_ADULTS = np.array([1, 1, 2, 2, 1], dtype=np.int16)


def exact_counts(n: int, shares: np.ndarray) -> np.ndarray:
    """Split ``n`` into integer counts proportional to ``shares`` (largest remainder).

    Example:
        >>> exact_counts(10, np.array([0.33, 0.33, 0.34])).tolist()
        [3, 3, 4]
    """
    raw = n * np.asarray(shares, dtype=float) / np.sum(shares)
    counts = np.floor(raw).astype(np.int64)
    rest = n - counts.sum()
    counts[np.argsort(-(raw - counts), kind="stable")[:rest]] += 1
    return counts


@dataclass(frozen=True)
class Households:
    """The population as columns; row ``i`` is household ``i``.

    Attributes:
        household_type: int8 code into :data:`~vraagvolgend.domains.HOUSEHOLD_TYPES`.
        n_persons: household size.
        n_children: number of children (0 for types without children).
        income_quintile: 1 (lowest) … 5 (highest), by rank of a latent income score.
        neighbourhood: int16 index into the scenario's neighbourhoods.
        deprivation: deprivation of the household's neighbourhood (0–1).
        vulnerability: latent vulnerability (higher = more problem onset).
        neighbourhood_names: names of the neighbourhoods, by index.
    """

    household_type: np.ndarray
    n_persons: np.ndarray
    n_children: np.ndarray
    income_quintile: np.ndarray
    neighbourhood: np.ndarray
    deprivation: np.ndarray
    vulnerability: np.ndarray
    neighbourhood_names: tuple[str, ...]

    @property
    def n(self) -> int:
        """Number of households."""
        return len(self.household_type)

    @property
    def has_children(self) -> np.ndarray:
        """Boolean mask of households with children."""
        return self.n_children > 0

    @property
    def n_inhabitants(self) -> int:
        """Total number of persons."""
        return int(self.n_persons.sum(dtype=np.int64))

    def to_frame(self) -> pd.DataFrame:
        """The ``households`` table of a result."""
        return pd.DataFrame(
            {
                "household_id": np.arange(self.n, dtype=np.int64),
                "household_type": pd.Categorical.from_codes(
                    self.household_type, categories=list(HOUSEHOLD_TYPES)
                ),
                "n_persons": self.n_persons,
                "n_children": self.n_children,
                "income_quintile": self.income_quintile,
                "neighbourhood": pd.Categorical.from_codes(
                    self.neighbourhood, categories=list(self.neighbourhood_names)
                ),
                "vulnerability": self.vulnerability,
            }
        )


def build_households(scenario: Scenario, rng: np.random.Generator) -> Households:
    """Draw the synthetic population of a scenario.

    Household types and neighbourhood sizes are split exactly by their shares (largest
    remainder), so the composition matches the calibration shares up to rounding. Income
    quintiles are ranks of a latent score whose mean depends on the type, so each quintile
    holds a fifth of the households. Households sort into neighbourhoods by income
    (``scenario.income_sorting``): the lowest incomes tend to the most deprived homes.
    Vulnerability combines income, type and deprivation with a household-specific part and is
    normalised to a population-mean onset multiplier of 1 (:func:`_vulnerability`).

    Args:
        scenario: The scenario.
        rng: Generator for every draw.
    """
    pop, n = scenario.population, scenario.n_households
    shares = np.array([pop.type_shares[t] for t in HOUSEHOLD_TYPES])
    htype = np.repeat(np.arange(len(HOUSEHOLD_TYPES), dtype=np.int8), exact_counts(n, shares))
    htype = rng.permutation(htype)

    n_children = np.zeros(n, dtype=np.int16)
    with_children = _WITH_CHILDREN[htype]
    n_children[with_children] = 1 + rng.choice(
        len(pop.children_shares), size=int(with_children.sum()), p=pop.children_shares
    )
    n_persons = (_ADULTS[htype] + n_children).astype(np.int16)

    position = np.array([pop.income_position[t] for t in HOUSEHOLD_TYPES])
    income_score = position[htype] + rng.standard_normal(n)
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(income_score)] = np.arange(n)
    quintile = (1 + (5 * rank) // n).astype(np.int8)

    # Neighbourhoods: homes sorted from most to least deprived are matched to households sorted
    # from lowest to highest (noisy) income; the noise sets how strong the sorting is.
    nbh = scenario.neighbourhoods
    sizes = exact_counts(n, np.array([x.share for x in nbh]))
    home_nbh = np.repeat(np.arange(len(nbh), dtype=np.int16), sizes)
    # Homes from most to least deprived, in random order within a neighbourhood (a stable
    # sort of a shuffle by a small integer key is a fast radix sort).
    by_deprivation = np.argsort(np.argsort([-x.deprivation for x in nbh], kind="stable"))
    homes = rng.permutation(n)
    homes_by_deprivation = homes[
        np.argsort(by_deprivation[home_nbh[homes]].astype(np.int16), kind="stable")
    ]
    sort_key = scenario.income_sorting * income_score + rng.standard_normal(n)
    households_by_income = np.argsort(sort_key)
    neighbourhood = np.empty(n, dtype=np.int16)
    neighbourhood[households_by_income] = home_nbh[homes_by_deprivation]
    deprivation = np.array([x.deprivation for x in nbh], dtype=np.float32)[neighbourhood]

    vulnerability = _vulnerability(
        scenario, quintile, htype, deprivation, rng.standard_normal(n)
    ).astype(np.float32)

    # Number households neighbourhood by neighbourhood (by income and type within one, at
    # random among equals): most ties then join nearby rows, which keeps the network's
    # products and the per-household gathers cache-friendly in large municipalities.
    tiebreak = rng.bit_generator.random_raw(n) >> np.uint64(40)
    key = (neighbourhood.astype(np.uint64) << np.uint64(40)) | (
        quintile.astype(np.uint64) << np.uint64(32)
    )
    key |= (htype.astype(np.uint64) << np.uint64(24)) | tiebreak
    order = np.argsort(key)
    return Households(
        household_type=htype[order],
        n_persons=n_persons[order],
        n_children=n_children[order],
        income_quintile=quintile[order],
        neighbourhood=neighbourhood[order],
        deprivation=deprivation[order],
        vulnerability=vulnerability[order],
        neighbourhood_names=tuple(x.name for x in nbh),
    )


def _vulnerability(
    scenario: Scenario,
    quintile: np.ndarray,
    htype: np.ndarray,
    deprivation: np.ndarray,
    noise: np.ndarray,
) -> np.ndarray:
    """Latent vulnerability: a log relative risk of problem onset, normalised to mean risk 1.

    The systematic part adds income (per quintile below the middle), household type and
    neighbourhood deprivation; the household-specific part is normal with sd
    ``vulnerability_sd``. Onset hazards are multiplied by ``exp(effect × vulnerability)``
    (``problems.vulnerability_effect``); the vulnerability is shifted so that this multiplier
    averages 1 over the population (exactly for the systematic part, in expectation for the
    household-specific part). The gradients and the spread then change *who* gets problems,
    not how many: the onset rates stay the population-average hazards, and a fit of the
    gradients does not have to refit every level.
    """
    pop = scenario.population
    vt = np.array([pop.vulnerability_type[t] for t in HOUSEHOLD_TYPES])
    systematic = (
        pop.vulnerability_income * (3 - quintile.astype(float))
        + vt[htype]
        + pop.vulnerability_deprivation * deprivation.astype(float)
    )
    effect = scenario.problems.vulnerability_effect
    sd = pop.vulnerability_sd
    if effect > 0:
        # log-mean-exp of the systematic part, computed stably, and the lognormal mean of the
        # household-specific part: E[exp(effect × sd × Z)] = exp((effect × sd)² / 2)
        top = systematic.max()
        shift = top + np.log(np.mean(np.exp(effect * (systematic - top)))) / effect
        shift += effect * sd**2 / 2
    else:
        shift = 0.0
    return systematic - shift + sd * noise


class HouseholdView:
    """A read-only view of one household (one row of the model's columns) for inspection.

    Example:
        >>> import vraagvolgend as vv
        >>> m = vv.MunicipalityModel(vv.Scenario.default().with_changes(n_households=200), rng=1)
        >>> h = m.household(7)
        >>> sorted(h.problems) == sorted(vv.DOMAINS)
        True
    """

    def __init__(self, model, household_id: int):
        n = model.households.n
        if not 0 <= household_id < n:
            raise IndexError(f"household_id {household_id} is out of range: 0 … {n - 1}")
        self.model = model
        self.household_id = int(household_id)

    @property
    def household_type(self) -> str:
        return HOUSEHOLD_TYPES[self.model.households.household_type[self.household_id]]

    @property
    def n_persons(self) -> int:
        return int(self.model.households.n_persons[self.household_id])

    @property
    def n_children(self) -> int:
        return int(self.model.households.n_children[self.household_id])

    @property
    def income_quintile(self) -> int:
        return int(self.model.households.income_quintile[self.household_id])

    @property
    def neighbourhood(self) -> str:
        h = self.model.households
        return h.neighbourhood_names[h.neighbourhood[self.household_id]]

    @property
    def problems(self) -> dict[str, float]:
        """Current severity per domain."""
        col = self.model.severity[:, self.household_id]
        return {d: float(col[i]) for i, d in enumerate(DOMAINS)}

    @property
    def zrm_levels(self) -> dict[str, int]:
        """Current ZRM level (1 acute … 5 self-reliant) per domain."""
        return {d: int(zrm_level(s)) for d, s in self.problems.items()}

    @property
    def carer_strain(self) -> float:
        return float(self.model.strain[self.household_id])

    @property
    def neighbours(self) -> dict[int, float]:
        """Tied households and the strength of each tie."""
        w = self.model.network
        lo, hi = w.indptr[self.household_id], w.indptr[self.household_id + 1]
        return dict(zip(w.indices[lo:hi].tolist(), w.data[lo:hi].tolist(), strict=True))

    def __repr__(self) -> str:
        active = {d: round(s, 2) for d, s in self.problems.items() if s > 0}
        return (
            f"<Household {self.household_id}: {self.household_type}, {self.n_persons} persons, "
            f"quintile {self.income_quintile}, {self.neighbourhood}, problems {active}>"
        )
