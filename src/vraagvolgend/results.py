"""The result of a run: tidy tables built from the model's arrays on first use."""

from __future__ import annotations

import json
import numbers
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from .domains import DOMAINS, domain_index, zrm_level
from .folders import read_table
from .households import Households
from .scenario import Scenario
from .vocabulary import (
    BENEFIT_LAW,
    TABLE_LAWS,
    format_number,
    plural,
)

__all__ = ["HouseholdCosts", "Result"]


def _file_benefit_apart(frame: pd.DataFrame, scenario) -> pd.DataFrame:
    """File the entitlements (the benefit, found by its billing kind) under their own law
    (:data:`BENEFIT_LAW`)."""
    from .outputs import is_entitlement, recode

    is_benefit = is_entitlement(frame["provision"], scenario)
    law = frame["law"].astype("category")
    # On the codes: the few laws are renamed, not every row (the rows' laws are the same)
    names = [*law.cat.categories.astype(str), BENEFIT_LAW]
    codes = law.cat.codes.to_numpy().copy()
    codes[is_benefit] = len(names) - 1
    present = {names[c] for c in np.unique(codes) if c >= 0}
    order = [x for x in TABLE_LAWS if x in present] + sorted(present - set(TABLE_LAWS))
    return frame.assign(law=recode(names, codes, order))


class Result:
    """What one run produced.

    Attributes:
        scenario: The scenario that was run.
        policy: The policy (``None``: no formal care).
        seed: The run's seed.
        months: Number of months simulated after burn-in.

    Tables (pandas DataFrames, built on first access):
        households: ``household_id``, ``household_type``, ``n_persons``, ``n_children``,
            ``income_quintile``, ``neighbourhood`` (and the latent ``vulnerability``).
        problems: one row per household, applicable domain and year end: ``household_id``,
            ``year``, ``domain``, ``severity``, ``zrm_level``. The parenting domain appears only
            for households with children.
        monthly: one row per month with the aggregates: ``mean_severity_<domain>`` and
            ``share_zrm_le2_<domain>`` (parenting over households with children),
            ``households_{0,1,2,3plus}_problems``, ``informal_support_given``,
            ``households_supported``, ``carers_under_strain``, ``new_problems``, ``recoveries``
            and ``events_<life event>``.
    """

    def __init__(
        self,
        *,
        scenario: Scenario,
        policy,
        seed,
        months: int,
        households: Households,
        snapshots: dict[int, np.ndarray],
        monthly: pd.DataFrame,
        care=None,
        process_outputs: tuple = (),
    ):
        self.scenario = scenario
        #: Cost lines and outcomes the run's processes declared (see vraagvolgend.outputs).
        self.process_outputs = tuple(process_outputs)
        self.policy = policy
        self.seed = seed
        self.months = months
        self._households = households
        self._snapshots = snapshots
        self.monthly = monthly
        self._care = care

    @cached_property
    def households(self) -> pd.DataFrame:
        return self._households.to_frame()

    @cached_property
    def problems(self) -> pd.DataFrame:
        h = self._households
        parenting = domain_index("parenting")
        frames = []
        for year, severity in sorted(self._snapshots.items()):
            for d, name in enumerate(DOMAINS):
                ids = np.flatnonzero(h.has_children) if d == parenting else np.arange(h.n)
                sev = severity[d, ids]
                frames.append(
                    pd.DataFrame(
                        {
                            "household_id": ids,
                            "year": np.int16(year),
                            "domain": name,
                            "severity": sev,
                            "zrm_level": zrm_level(sev),
                        }
                    )
                )
        columns = ["household_id", "year", "domain", "severity", "zrm_level"]
        if not frames:
            return pd.DataFrame(columns=columns)
        out = pd.concat(frames, ignore_index=True)
        out["domain"] = pd.Categorical(out["domain"], categories=list(DOMAINS))
        return out.sort_values(["household_id", "year", "domain"], ignore_index=True)[columns]

    @cached_property
    def episodes(self) -> pd.DataFrame:
        """Every provision episode running in months 1 … ``months`` (burn-in excluded).

        Columns: ``household_id``, ``provision``, ``law`` (``jeugdwet``, ``wmo``,
        ``participatiewet``, ``social_assistance`` for the benefit; ``collective`` for
        collective provisions), ``domain`` (the problem it was started for), ``channel``,
        ``start_month`` (an episode that began during the burn-in is cut to start at month 1),
        ``end_month`` (missing while ongoing), ``from_burn_in`` (it began during the burn-in),
        ``cost_eur`` (cost within months 1 … ``months``; burn-in is not booked).
        """
        from .vocabulary import ALL_CHANNELS

        care = self._require_care()
        e = care.ledger.frame(care.names, care.laws, DOMAINS, ALL_CHANNELS, first_month=1)
        # A renewal decided in the last month starts after the horizon: not an episode of it
        e = e[e["start_month"].to_numpy() <= self.months].reset_index(drop=True)
        started = e["start_month"].to_numpy()
        e = _file_benefit_apart(e, self.scenario)
        e["start_month"] = np.maximum(started, 1).astype(started.dtype)
        e.insert(e.columns.get_loc("end_month") + 1, "from_burn_in", started < 1)
        return e

    @cached_property
    def costs(self) -> pd.DataFrame:
        """Annual costs per cost line: ``year``, ``law``, ``provision``, ``cost_eur``.

        Besides every provision there are lines for idle capacity of lump-sum funded
        provisions (``"<provision> (idle capacity)"``), access conversations and outreach (law
        ``access``) and the network programme (law ``collective``). The social-assistance
        benefit is the line ``benefit`` under a law of its own, ``social_assistance``: the law
        ``participatiewet`` holds participation services only.
        """
        return _file_benefit_apart(self._require_care().budget.frame(), self.scenario)

    @cached_property
    def budget(self) -> pd.DataFrame:
        """Per year and law: ``budget_eur``, ``spent_eur``, ``deficit_eur`` (benefit excluded)."""
        return pd.DataFrame(self._require_care().budget.records)

    def household(self, household_id: int) -> HouseholdCosts:
        """The cost picture of one household: its problems, provisions, laws, channels, costs."""
        n = len(self.households)
        if isinstance(household_id, bool) or not isinstance(household_id, numbers.Integral):
            raise TypeError(f"household_id {household_id!r} is not an integer")
        if not 0 <= household_id < n:
            raise IndexError(f"household_id {household_id} is out of range: 0 … {n - 1}")
        return HouseholdCosts(self, int(household_id))

    def annual_costs(self) -> pd.DataFrame:
        """Cost per year and line: the three laws' provisions, ``collective``, ``access`` and
        the social-assistance ``benefit`` on a line of its own (columns year, line, cost_eur;
        :func:`vraagvolgend.outputs.annual_costs`)."""
        from .outputs import annual_costs

        return annual_costs(self)

    def indicators(self) -> pd.DataFrame:
        """Annual indicators comparable with public figures (one row per year).

        * ``youth_care_share``: young people in households with youth care (Jeugdwet) during
          the year ÷ all young people (every child of such a household is counted);
        * ``wmo_clients_per_1000``: households with a Wmo provision during the year per 1,000
          inhabitants (one client per household);
        * ``social_assistance_share``: households on a benefit during the year;
        * ``any_individual_share``: households with any individual provision (benefit
          included) during the year;
        * ``external_cost_per_inhabitant``: youth care, Wmo, participation services, collective
          provisions and access, without the benefit payments (EUR);
        * ``benefit_cost_per_inhabitant`` (EUR), ``mean_severity`` (all domains, year end),
          ``share_3plus_problems`` (year end).
        """
        self._require_care()
        if self._households is None:  # read back by Result.load: the saved table
            return self._saved_indicators.copy()
        return self._indicators.copy()  # computed once: every outcome reads it

    @cached_property
    def _indicators(self) -> pd.DataFrame:
        from .outputs import is_entitlement, text_values

        e = self.episodes
        h = self._households
        children = h.n_children.astype(float)
        rows = []
        costs = self.costs
        # Columns read once; each year is then a few boolean passes over the episodes
        start = e["start_month"].to_numpy()
        ends = e["end_month"].to_numpy(dtype=float, na_value=np.nan)
        ongoing = np.isnan(ends)
        household = e["household_id"].to_numpy()
        law = text_values(e["law"])
        kinds = {
            "youth": law == "jeugdwet",
            "wmo": law == "wmo",
            "benefit": is_entitlement(e["provision"], self.scenario),  # by its billing kind
            "individual": law != "collective",
        }
        cost_year = costs["year"].to_numpy()
        cost_eur = costs["cost_eur"].to_numpy()
        cost_benefit = is_entitlement(costs["provision"], self.scenario)
        # Which households had a kind of provision during a year: marked in a boolean array
        # (the same households, in the same ascending order, as np.unique of their ids)
        seen = np.empty(h.n, dtype=bool)

        def households_with(mask: np.ndarray) -> np.ndarray:
            seen[:] = False
            seen[household[mask]] = True
            return seen.copy()

        for year in range(1, self.months // 12 + 1):
            lo, hi = 12 * (year - 1) + 1, 12 * year
            during = (start <= hi) & (ongoing | (ends >= lo))
            youth, wmo, benefit, individual = (
                households_with(during & kind) for kind in kinds.values()
            )
            in_year = cost_year == year
            benefit_cost = cost_eur[in_year & cost_benefit].sum()
            external = cost_eur[in_year].sum() - benefit_cost
            year_end = self._snapshots.get(year)
            rows.append(
                {
                    "year": year,
                    "youth_care_share": children[youth].sum() / max(children.sum(), 1),
                    "wmo_clients_per_1000": 1000 * np.count_nonzero(wmo) / h.n_inhabitants,
                    "social_assistance_share": np.count_nonzero(benefit) / h.n,
                    "any_individual_share": np.count_nonzero(individual) / h.n,
                    "external_cost_per_inhabitant": external / h.n_inhabitants,
                    "benefit_cost_per_inhabitant": benefit_cost / h.n_inhabitants,
                    "mean_severity": float(year_end.mean()) if year_end is not None else np.nan,
                    "share_3plus_problems": float((self.active_problems(year) >= 3).mean())
                    if year_end is not None
                    else np.nan,
                }
            )
        return pd.DataFrame(rows)

    def save(self, directory, csv: bool = False) -> Path:
        """Write the tables (Parquet, and CSV on request), the scenario and policy as TOML and
        a manifest with the package version and seed, so the run can be reproduced from the
        folder alone."""
        from importlib.metadata import version

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        tables = {"households": self.households, "problems": self.problems, "monthly": self.monthly}
        if self._care is not None:
            tables.update(
                episodes=self.episodes,
                costs=self.costs,
                budget=self.budget,
                indicators=self.indicators(),
            )
        for name, table in tables.items():
            table.to_parquet(out / f"{name}.parquet", index=False)
            if csv:
                table.to_csv(out / f"{name}.csv", index=False)
        self.scenario.to_toml(out / "scenario.toml")
        if self.policy is not None and hasattr(self.policy, "to_toml"):
            self.policy.to_toml(out / "policy.toml")
        manifest = {
            "kind": "run",
            "version": version("vraagvolgend"),
            "seed": self.seed if isinstance(self.seed, int) else str(self.seed),
            "months": self.months,
            "policy": getattr(self.policy, "name", None),
        }
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        return out

    @classmethod
    def load(cls, directory) -> Result:
        """Read a run back from a folder written by :meth:`save`.

        The tables (``households``, ``problems``, ``monthly``, ``episodes``, ``costs``,
        ``budget``), :meth:`indicators`, :meth:`annual_costs`, :meth:`household`,
        :meth:`prevalence` and the scenario and policy are available; what needs the model's
        arrays (year-end severities: :meth:`stacking`, :meth:`active_problems`) is not.

        Raises:
            ParameterError: the folder is not a run folder.

        Example:
            >>> import vraagvolgend as vv, tempfile
            >>> s = vv.Scenario.default().with_changes(n_households=200, burn_in_months=3)
            >>> folder = vv.run(s, months=12).save(tempfile.mkdtemp())
            >>> vv.Result.load(folder).household(0).household_id
            0
        """
        from .financing import Policy

        folder = Path(directory)
        manifest = _manifest(folder, "run", "written by 'run' (Result.save)", ("months",))
        self = cls.__new__(cls)
        self.scenario = Scenario.from_toml(folder / "scenario.toml")
        policy_file = folder / "policy.toml"
        self.policy = Policy.from_toml(policy_file) if policy_file.exists() else None
        self.seed = manifest.get("seed")
        self.months = manifest.get("months")
        self._households = None
        self._snapshots = {}
        tables = {
            name: read_table(folder / f"{name}.parquet")
            for name in ("households", "problems", "monthly")
        }
        care = (folder / "episodes.parquet").exists()
        if care:
            for name in ("episodes", "costs", "budget", "indicators"):
                tables[name] = read_table(folder / f"{name}.parquet")
        self.monthly = tables.pop("monthly")
        self._saved_indicators = tables.pop("indicators", None)
        self.__dict__.update(tables)  # the cached tables
        self._care = True if care else None
        return self

    def _require_care(self):
        if self._care is None:
            raise ValueError("this run had no formal care (policy=None): there are no costs")
        return self._care

    def prevalence(self) -> pd.DataFrame:
        """Share of (eligible) households per domain at each ZRM level, by year end."""
        p = self.problems
        table = pd.crosstab([p["year"], p["domain"]], p["zrm_level"], normalize="index")
        return table.rename(columns=lambda z: f"zrm_{z}")

    def year_end(self, year: int | None = None) -> np.ndarray:
        """The (domains × households) severity at a year end (default: the last one),
        read-only."""
        if not self._snapshots:
            raise ValueError("the run was shorter than a year: there is no year-end state")
        year = max(self._snapshots) if year is None else year
        if year not in self._snapshots:
            raise ValueError(f"year {year} is not available: years {sorted(self._snapshots)}")
        view = self._snapshots[year].view()
        view.flags.writeable = False
        return view

    def active_problems(self, year: int | None = None) -> np.ndarray:
        """Number of active problems per household at a year end (default: the last one)."""
        threshold = np.float32(self.scenario.problems.threshold)
        return (self.year_end(year) >= threshold).sum(axis=0)

    def stacking(self, by: str | None = None, year: int | None = None) -> pd.DataFrame:
        """Share of households with 0, 1, 2 and 3+ active problems at a year end.

        Args:
            by: Optional column of :attr:`households` to break down by (e.g.
                ``"household_type"``, ``"income_quintile"``, ``"neighbourhood"``).
            year: Year end (default: the last).

        Example:
            >>> import vraagvolgend as vv
            >>> r = vv.run(vv.Scenario.default().with_changes(n_households=300), months=12)
            >>> list(r.stacking().columns)
            ['0', '1', '2', '3+']
        """
        n = np.minimum(self.active_problems(year), 3)
        labels = pd.Categorical.from_codes(n, categories=["0", "1", "2", "3+"])
        if by is None:
            shares = pd.Series(labels).value_counts(normalize=True, sort=False)
            return shares.to_frame().T.reset_index(drop=True).rename_axis(columns=None)
        if by not in self.households.columns:
            raise ValueError(
                f"by={by!r} is not a household column: {list(self.households.columns)}"
            )
        table = pd.crosstab(self.households[by], labels, normalize="index", dropna=False)
        return table.rename_axis(columns=None)

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>{self.scenario.name}</b>: {self._households.n:,} households, "
            f"{self.months} months, seed {self.seed}, policy "
            f"{getattr(self.policy, 'name', 'none (no formal care)')}</p>"
        )
        table = self.indicators() if self._care is not None else self.stacking()
        return head + table.to_html(index=False, float_format=lambda x: f"{x:,.3f}")

    def plot(self, columns: list[str] | None = None):
        """Monthly aggregates over time (matplotlib; returns the figure).

        Args:
            columns: Columns of :attr:`monthly` (default: households served per law with
                formal care, otherwise households with 0, 1, 2 and 3+ problems).
        """
        import matplotlib.pyplot as plt

        m = self.monthly
        if columns is None:
            columns = [c for c in m.columns if c.startswith("served_")] or [
                c for c in m.columns if c.startswith("households_") and c.endswith("_problems")
            ]
        fig, ax = plt.subplots(figsize=(7, 3.5))
        for col in columns:
            ax.plot(m["month"], m[col], label=col)
        ax.set_xlabel("month")
        ax.legend(fontsize=8)
        fig.tight_layout()
        return fig

    def __repr__(self) -> str:
        return (
            f"<Result {self.scenario.name!r}: {self._households.n} households, "
            f"{self.months} months, seed {self.seed}, policy {self.policy!r}>"
        )


class HouseholdCosts:
    """What the system spends on one household, on which provisions, and why.

    Attributes:
        household: The household's row of the ``households`` table.
        problems: Its severity and ZRM level per domain at each year end.
        episodes: Its provision episodes (with domain, law, channel and cost).
        total_eur: Everything spent on it in the simulated months.
    """

    def __init__(self, result: Result, household_id: int):
        self.household_id = household_id
        self.months = result.months
        self.household = result.households.iloc[household_id]
        p = result.problems
        self.problems = p[p["household_id"] == household_id].pivot(
            index="domain", columns="year", values="zrm_level"
        )
        if result._care is None:
            self.episodes = pd.DataFrame()
        else:
            e = result.episodes
            self.episodes = e[e["household_id"] == household_id].reset_index(drop=True)
        self.total_eur = float(self.episodes["cost_eur"].sum()) if len(self.episodes) else 0.0

    def by_law(self) -> pd.Series:
        """Spending per law (months 1 … ``months``; burn-in excluded)."""
        return self.episodes.groupby("law", observed=True)["cost_eur"].sum()

    def __str__(self) -> str:
        h = self.household
        lines = [
            f"Household {self.household_id}: {h['household_type']}, "
            f"{plural(int(h['n_persons']), 'person')}, "
            f"income quintile {h['income_quintile']}, {h['neighbourhood']}",
            "ZRM level per domain at each year end (1 acute … 5 self-reliant):",
            self.problems.to_string(),
        ]
        if len(self.episodes):
            lines.append(
                f"Provisions (EUR {format_number(self.total_eur, 0)} in months 1 … "
                f"{self.months}; burn-in excluded):"
            )
            cols = ["provision", "law", "domain", "channel", "start_month", "end_month", "cost_eur"]
            lines.append(
                self.episodes[cols].to_string(
                    index=False, formatters={"cost_eur": lambda x: format_number(x, 0)}
                )
            )
        else:
            lines.append("No provisions.")
        return "\n".join(lines) + "\n"

    def _repr_html_(self) -> str:
        return "<pre>" + str(self).replace("&", "&amp;").replace("<", "&lt;") + "</pre>"


def _manifest(folder: Path, kind: str, what: str, required: tuple[str, ...] = ()) -> dict:
    """The manifest of a result folder, checked to be of ``kind`` and to hold ``required``."""
    from .parameters import ParameterError

    file = folder / "manifest.json"
    if not file.exists():
        raise ParameterError(str(folder), f"is not a result folder {what} (no manifest.json)")
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ParameterError(str(file), f"is not a valid manifest: {err}") from None
    found = manifest.get("kind") if isinstance(manifest, dict) else None
    if found != kind:
        raise ParameterError(
            str(folder), f"is a {found or 'unknown'} folder, not a {kind} folder {what}"
        )
    if manifest.get("status") == "running":
        raise ParameterError(
            str(folder), f"is an unfinished {kind} (interrupted); run the same command again"
        )
    for key in required:
        if key not in manifest:
            raise ParameterError(f"{file}: {key}", "is missing from the manifest")
    return manifest
