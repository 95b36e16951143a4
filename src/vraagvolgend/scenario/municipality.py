"""The scenario: a municipality and its behaviour, every section together."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..parameters import ParameterError, Section, load_toml, merge_partial, param, to_toml_lines
from ..provisions import Catalogue
from .common import ASSUMED, _shares_sum_to_one
from .population import _DEFAULT_NEIGHBOURHOODS, Neighbourhood, Network, Population
from .problems import _DEFAULT_EVENTS, LifeEvent, Problems
from .support import Access, MunicipalBudget, Support


@dataclass(frozen=True)
class Scenario(Section):
    """A municipality and its behavioural parameters. Immutable; validated when built.

    Build the default with :meth:`default`, read one with :meth:`from_toml`, change one with
    :meth:`with_changes` (dotted keys reach into sections). :meth:`describe` lists every
    parameter with its value, allowed range and source.

    Example:
        >>> s = Scenario.default().with_changes({"support.enabled": False})
        >>> s.support.enabled
        False
    """

    name: str = param("default", kind="str", source=ASSUMED, doc="name of the scenario")
    n_households: int = param(
        24_000,
        kind="int",
        lo=10,
        hi=20_000_000,
        source="reference municipality A (Pijnacker-Nootdorp): about 23,000 households",
        doc="number of households",
    )
    burn_in_months: int = param(
        120,
        kind="int",
        lo=0,
        hi=1200,
        source=ASSUMED,
        doc="months simulated before month 1 so that problems start near their steady state",
    )
    income_sorting: float = param(
        1.5,
        kind="float",
        lo=0.0,
        hi=20.0,
        source="assumption: households sort into neighbourhoods by income",
        doc="strength with which low incomes concentrate in deprived neighbourhoods",
    )
    population: Population = param(Population, kind="section", section=Population, source="")
    neighbourhoods: tuple[Neighbourhood, ...] = param(
        _DEFAULT_NEIGHBOURHOODS, kind="sections", section=Neighbourhood, source=""
    )
    network: Network = param(Network, kind="section", section=Network, source="")
    problems: Problems = param(Problems, kind="section", section=Problems, source="")
    life_events: Mapping[str, LifeEvent] = param(
        _DEFAULT_EVENTS, kind="named", section=LifeEvent, source=""
    )
    support: Support = param(Support, kind="section", section=Support, source="")
    access: Access = param(Access, kind="section", section=Access, source="")
    provisions: Catalogue = param(Catalogue, kind="section", section=Catalogue, source="")
    budget: MunicipalBudget = param(
        MunicipalBudget, kind="section", section=MunicipalBudget, source=""
    )

    def _check(self) -> None:
        if not self.neighbourhoods:
            raise ParameterError("neighbourhoods", "at least one neighbourhood is needed")
        _shares_sum_to_one("neighbourhoods.share", tuple(n.share for n in self.neighbourhoods))
        names = [n.name for n in self.neighbourhoods]
        if len(set(names)) != len(names):
            raise ParameterError("neighbourhoods.name", "names must be unique")

    # --- construction and I/O --------------------------------------------------------------

    @classmethod
    def default(cls) -> Scenario:
        """The embedded default: a Dutch municipality of about 24,000 households."""
        return cls()

    @classmethod
    def from_toml(cls, source: str | Path) -> Scenario:
        """Read a scenario from a TOML file path or TOML text; keys left out keep their default.

        Raises:
            ParameterError: naming the file, the key, the value and what is allowed.
        """
        return load_toml(source, cls.from_partial_dict, "scenario")

    @classmethod
    def from_partial_dict(cls, data: Mapping[str, Any]) -> Scenario:
        """Build a scenario from a mapping that overrides some defaults.

        Tables merge into the default at every depth, so a file only needs the keys it
        changes (one provision's price, one household type's capacity); lists (such as
        ``neighbourhoods``) replace the default's list.
        """
        return cls.from_dict(merge_partial(cls, cls.default().to_dict(), data))

    def to_toml(self, path: str | Path | None = None) -> str:
        """Write the scenario as TOML (with the source of every value as a comment).

        Args:
            path: If given, the file to write.

        Returns:
            The TOML text.
        """
        text = "\n".join(["# vraagvolgend scenario", *to_toml_lines(self)]) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def describe(self) -> pd.DataFrame:
        """Every parameter with its value, allowed range, meaning and source."""
        return pd.DataFrame(self.provenance())
