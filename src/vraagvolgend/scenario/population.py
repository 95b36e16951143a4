"""Who lives in the municipality and how they are tied: population profile, neighbourhoods,
the social network."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..parameters import ParameterError, Section, param
from .common import ASSUMED, CALIBRATED, CBS_37975, T, _shares_sum_to_one


@dataclass(frozen=True)
class Population(Section):
    """Who lives in the municipality: household types, children, income and vulnerability."""

    _path = "population"

    type_shares: Mapping[str, float] = param(
        {
            "single": 0.319,
            "single_75plus": 0.080,
            "couple": 0.285,
            "couple_children": 0.244,
            "single_parent": 0.072,
        },
        kind="map",
        keys=T,
        lo=0.0,
        hi=1.0,
        source=f"{CBS_37975}: one-person 39.9%, couple without children 28.5%, with children "
        "31.6%; the split of one-person households at age 75 and of households with children "
        "into couples and single parents is an assumption",
        doc="share of households of each type",
    )
    children_shares: tuple[float, ...] = param(
        (0.40, 0.42, 0.14, 0.04),
        kind="floats",
        lo=0.0,
        hi=1.0,
        source="assumption: shares of 1, 2, 3 and 4 children giving a mean household size of "
        "about 2.1 (RIVM vzinfo 2023)",
        doc="shares of households with children that have 1, 2, 3, 4 … children",
    )
    income_position: Mapping[str, float] = param(
        {
            "single": -0.4,
            "single_75plus": -0.5,
            "couple": 0.35,
            "couple_children": 0.45,
            "single_parent": -0.9,
        },
        kind="map",
        keys=T,
        lo=-5.0,
        hi=5.0,
        source="assumption: low income concentrates in single and single-parent households "
        "(SCP, Voorzieningen in 3D)",
        doc="mean of the latent income score per type (score sd 1; quintiles are its ranks)",
    )
    # Vulnerability is a log relative risk of problem onset, normalised so that the onset
    # multiplier averages 1 over the population (households.py): these gradients move *who*
    # gets problems, not how many. Fitted together with problems.onset_rate.parenting.
    vulnerability_income: float = param(
        0.1314,
        kind="float",
        lo=0.0,
        hi=3.0,
        source=f"{CALIBRATED}youth care in the lowest vs the highest income quintile about 2.5× "
        "(CBS 2022: 15.7% vs 6.3%), fitted with every other target (issue 17); household type, "
        "neighbourhood deprivation and spill-over from debt give most of the gradient",
        doc="vulnerability added per income quintile below the middle one",
    )
    vulnerability_type: Mapping[str, float] = param(
        {
            "single": 1.299,
            "single_75plus": 0.1,
            "couple": -0.1,
            "couple_children": -0.1,
            "single_parent": 0.039,
        },
        kind="map",
        keys=T,
        lo=-3.0,
        hi=3.0,
        source=f"single_parent and single {CALIBRATED}youth care of single-parent vs couple "
        "children about 2.1× (CBS 2016), social assistance 65% one-person, 18% single-parent, "
        "17% couples (CBS 2018); the rest assumption (SCP, Voorzieningen in 3D)",
        doc="vulnerability added per household type",
    )
    vulnerability_deprivation: float = param(
        0.0,
        kind="float",
        lo=0.0,
        hi=5.0,
        source="assumption: deprivation acts on onset once, through problems.deprivation_effect "
        "(it was counted twice, in vulnerability and in the hazard)",
        doc="vulnerability added per unit of neighbourhood deprivation (0–1)",
    )
    vulnerability_sd: float = param(
        1.0,
        kind="float",
        lo=0.0,
        hi=3.0,
        source="assumption: raised from 0.6 to 1.0 when the income gradient was calibrated "
        "down, so that problems still stack in some households beyond their income and type "
        "(3+ problems about 2.5× as common as with independent domains; SCP, Voorzieningen in "
        "3D); no public figure pins it",
        doc="standard deviation of the household-specific part of vulnerability",
    )

    def _check(self) -> None:
        missing = [t for t in T if t not in self.type_shares]
        if missing:
            raise ParameterError(f"{self._path}.type_shares.{missing[0]}", "is missing")
        _shares_sum_to_one(f"{self._path}.type_shares", self.type_shares)
        if not self.children_shares:
            raise ParameterError(f"{self._path}.children_shares", "must not be empty")
        _shares_sum_to_one(f"{self._path}.children_shares", self.children_shares)


@dataclass(frozen=True)
class Neighbourhood(Section):
    """A neighbourhood (wijk): its share of the households and its deprivation."""

    _path = "neighbourhoods"

    name: str = param("wijk", kind="str", source=ASSUMED, doc="name")
    share: float = param(0.1, kind="float", lo=0.0, hi=1.0, source=ASSUMED, doc="share of homes")
    deprivation: float = param(
        0.5,
        kind="float",
        lo=0.0,
        hi=1.0,
        source=ASSUMED,
        doc="deprivation index: housing quality, unemployment, poverty (0 least … 1 most)",
    )


_DEFAULT_NEIGHBOURHOODS = [
    # Ten neighbourhoods of a suburban municipality of about 57,000 inhabitants (reference
    # municipality A in calibration.md has eleven); shares and deprivation are assumptions that
    # give a realistic spread from a deprived post-war district to a rural fringe.
    {"name": "Centrum", "share": 0.10, "deprivation": 0.45},
    {"name": "Oost", "share": 0.12, "deprivation": 0.70},
    {"name": "West", "share": 0.11, "deprivation": 0.35},
    {"name": "Noord", "share": 0.09, "deprivation": 0.85},
    {"name": "Zuid", "share": 0.12, "deprivation": 0.25},
    {"name": "Dorp", "share": 0.08, "deprivation": 0.15},
    {"name": "Haven", "share": 0.10, "deprivation": 0.60},
    {"name": "Parkwijk", "share": 0.10, "deprivation": 0.30},
    {"name": "Nieuwbouw", "share": 0.12, "deprivation": 0.10},
    {"name": "Buitengebied", "share": 0.06, "deprivation": 0.05},
]


@dataclass(frozen=True)
class Network(Section):
    """The social network between households."""

    _path = "network"

    mean_degree: float = param(
        8.0,
        kind="float",
        lo=0.0,
        hi=100.0,
        source="assumption: about 6–10 supportive ties per household (design.md)",
        doc="mean number of ties per household",
    )
    within_neighbourhood: float = param(
        0.8,
        kind="float",
        lo=0.0,
        hi=1.0,
        source=ASSUMED,
        doc="share of ties to a household in the same neighbourhood",
    )
    homophily: float = param(
        0.6,
        kind="float",
        lo=0.0,
        hi=1.0,
        source=ASSUMED,
        doc="share of ties drawn among households of similar income and type",
    )
    homophily_window: int = param(
        40,
        kind="int",
        lo=1,
        hi=100_000,
        source=ASSUMED,
        doc="how many most-similar households a homophilous tie is drawn from (on either side)",
    )
    tie_strength_a: float = param(
        2.0, kind="float", lo=0.01, hi=100.0, source=ASSUMED, doc="Beta(a, b) tie strength: a"
    )
    tie_strength_b: float = param(
        3.0, kind="float", lo=0.01, hi=100.0, source=ASSUMED, doc="Beta(a, b) tie strength: b"
    )
