"""The vectorised library and the per-agent reference model compute the same model.

``benchmarks/reference_model.py`` re-implements the monthly processes with one Mesa agent per
household, the full episode lifecycle included (chronic needs reviewed on their own interval,
end on goal after the exit lag, reviews that wait for the lag, renew or prolong, the stacking
relief of plans). Both are run on the **default configuration**, the default scenario and each
regime's default policy, with only the municipality's size, the burn-in and the horizon made
small. They start from the same households, network, initial state and household traits
(persistent problems, avoiding help) on a seed, but draw different random numbers afterwards,
so they can only agree statistically.

The comparison is paired: on seeds 0 … k−1 each aggregate gives one difference per seed,
d = reference − library (pairing removes the variation the two share, the population and its
starting state), and the mean difference must lie within

    |mean(d)| ≤ Z · sd(d) / √k + REL_SLACK · |mean_lib|,

an interval of Z standard errors over the replications, widened by a relative slack. The
aggregates: mean severity per domain (averaged over the months), households served per law
(averaged over the months) and the cost of each year per cost key (the laws, access and the
benefit): 17 per regime, 34 per test.

Why Z = 4 and a 5 % slack (the fast test: 1,000 households, 24 burn-in months, 12 months, 8
seeds): over 24 paired seeds every aggregate of both regimes agreed, |z| ≤ 1.5 and within
9 % (no sign of a bias), but with k = 8 a standard deviation is itself only known to about
±25 %, and 34 aggregates are compared at once. Drawing 400 random sets of 8 of those 24 seeds,
some aggregate crossed the tolerance in 0.8 % of the draws with Z = 4 and a 5 % slack (3.8 %
with Z = 3, 8.8 % with no slack). The slack also absorbs what is (almost) deterministic: the
collective costs are lump sums fixed by the capacity and the budget rule, so only float32
(library) against float64 (reference) arithmetic separates them. The test runs on fixed seeds,
but any change to the library's random streams draws new ones, so it should not fail on
chance.

The fast test is therefore coarse: its tolerance is about 15–25 % of a mean severity or a
served count and 25–50 % of a cost, so it catches a wrong rule, not a subtle bias. The slow
test (3,000 households, 36 burn-in months, 24 months so two budget years and a year end, 8
seeds, the same Z and slack) is about half as wide; over 16 paired seeds at that size, 400
random sets of 8 crossed it in 0.5 % of the draws (3 % with a 3 % slack). At that size a few
aggregates differ by 3–5 % with |z| up to 3.3 (demand-driven: households in Wmo care −3.6 %,
access cost of year 1 −4.9 %, mental health −4.1 %; supply-driven: collective served +4.4 %),
more than chance alone would give over 46 aggregates: a small difference not yet explained,
inside the slack. Neither test can see the stacking relief of plans (switching it off moves
no aggregate of the library by 3 % at these sizes): the reference implements it, but only
reading the code shows that it does it right.

That the tolerance is not vacuous is shown by references with a rule changed: with doubled
onset rates every mean severity must be flagged (they rise by 60–100 %); without end on goal
(slow) supply-driven's served counts and costs must be (they rise by 40–65 %).
"""

from __future__ import annotations

import importlib.util
import math
import statistics
import sys
from pathlib import Path

import pytest

import vraagvolgend as vv
from vraagvolgend.domains import DOMAINS

POLICIES = ("supply-driven", "demand-driven")
Z = 4.0


def _load_reference():
    """Import benchmarks/reference_model.py (benchmarks/ is not a package)."""
    if "reference_model" in sys.modules:
        return sys.modules["reference_model"]
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "reference_model.py"
    spec = importlib.util.spec_from_file_location("reference_model", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


reference = _load_reference()


class Setting:
    """One size of the comparison: the default configuration at a small size."""

    def __init__(self, n: int, burn_in: int, months: int, seeds: int, slack: float):
        self.n, self.burn_in, self.months = n, burn_in, months
        self.seeds = range(seeds)
        self.slack = slack

    def scenario(self, **changes) -> vv.Scenario:
        return vv.Scenario.default().with_changes(
            {"n_households": self.n, "burn_in_months": self.burn_in, **changes}
        )


FAST = Setting(n=1000, burn_in=24, months=12, seeds=8, slack=0.05)
SLOW = Setting(n=3000, burn_in=36, months=24, seeds=8, slack=0.05)


def flatten(aggregates: dict) -> dict[str, float]:
    """One number per aggregate: mean severity per domain and households served per law
    (both averaged over the months), cost per year and cost key."""
    out = {
        f"mean_severity_{d}": statistics.fmean(v)
        for d, v in aggregates["mean_severity_monthly"].items()
    }
    out.update({f"served_{law}": statistics.fmean(v) for law, v in aggregates["served"].items()})
    for year, costs in aggregates["costs"].items():
        out.update({f"cost_{key}_year{year}": v for key, v in costs.items()})
    return out


def library_runs(setting: Setting, policy) -> list[dict[str, float]]:
    sc = setting.scenario()
    return [
        flatten(reference.library_aggregates(vv.run(sc, policy, seed=s, months=setting.months)))
        for s in setting.seeds
    ]


def reference_runs(setting: Setting, policy, sc: vv.Scenario | None = None) -> list[dict]:
    sc = setting.scenario() if sc is None else sc
    runs = []
    for s in setting.seeds:
        model = reference.ReferenceModel(sc, policy, rng=s)
        model.run_for(setting.months)
        runs.append(flatten(model.aggregates()))
    return runs


def compare(lib: list[dict], ref: list[dict], slack: float) -> dict[str, tuple]:
    """Per aggregate: (library mean, reference mean, tolerance), paired by seed."""
    table = {}
    for key in lib[0]:
        a, b = [r[key] for r in lib], [r[key] for r in ref]
        d = [y - x for x, y in zip(a, b, strict=True)]
        se = statistics.stdev(d) / math.sqrt(len(d))
        mean_a = statistics.fmean(a)
        table[key] = (mean_a, statistics.fmean(b), Z * se + slack * abs(mean_a))
    return table


def disagreements(table) -> dict[str, tuple[float, float, float]]:
    return {k: v for k, v in table.items() if abs(v[0] - v[1]) > v[2]}


def check_agreement(setting: Setting, policy: str, lib: list[dict]) -> None:
    table = compare(lib, reference_runs(setting, policy), setting.slack)
    years = math.ceil(setting.months / 12)
    assert len(table) == len(DOMAINS) + 4 + 6 * years
    bad = disagreements(table)
    assert not bad, "library vs reference (mean, mean, tolerance): " + repr(bad)


@pytest.fixture(scope="module")
def library() -> dict[str, list[dict]]:
    return {policy: library_runs(FAST, policy) for policy in POLICIES}


def test_reference_starts_from_the_library_households():
    # Same seed → same population, network, initial state and household traits: the means
    # agree exactly (up to float32 summation in the library).
    sc = vv.Scenario.default().with_changes(n_households=300, burn_in_months=0)
    lib = vv.MunicipalityModel(sc, "supply-driven", rng=11)
    ref = reference.ReferenceModel(sc, "supply-driven", rng=11)
    for d in DOMAINS:
        assert ref.mean_severity()[d] == pytest.approx(lib.aggregates[f"mean_severity_{d}"])
    assert len(ref.agents) == 300
    degree = sum(len(h.neighbours) for h in ref.agents)
    assert degree == lib.network.nnz
    households = list(ref.agents)
    assert [h.persistent for h in households] == lib.problems.persistent.tolist()
    assert [h.avoider for h in households] == lib.care.avoider.tolist()
    chronic = [h.chronic_type for h in households]
    assert chronic == lib.care.chronic_household.tolist() and any(chronic)
    ref.run_for(3)
    assert ref.time == 3 and len(ref.datacollector.get_model_vars_dataframe()) == 3
    assert all(len(v) == 3 for v in ref.aggregates()["served"].values())


def test_reference_lifecycle_on_one_household():
    # A chronic need is reviewed on its own interval and never ends on its goal between
    # reviews; another need ends once its goal has held for longer than the lag.
    sc = vv.Scenario.default().with_changes(n_households=300, burn_in_months=0)
    policy = vv.DemandDriven()
    ref = reference.ReferenceModel(sc, policy, rng=3)
    hh = next(h for h in ref.agents if h.chronic_type)
    physical = DOMAINS.index("physical_health")
    finances = DOMAINS.index("finances")
    hh.care.clear()
    hh.severity = [0.0] * len(DOMAINS)
    hh.severity[physical] = hh.severity[finances] = 0.6
    help_ = ref.catalogue["household_help"]
    hh.start_episode(physical, help_, 1, "gp")
    hh.start_episode(finances, ref.catalogue["individual_support"], 1, "gp")
    chronic, other = hh.care[physical], hh.care[finances]
    assert chronic.chronic and not other.chronic
    assert chronic.left == help_.duration  # chronic_review_months 0: the indication's length
    assert other.left == policy.review_months
    hh.severity = [0.0] * len(DOMAINS)  # both goals reached, and held
    lag = policy.exit_lag_months
    for month in range(1, lag + 2):
        hh._end_month(month)
    assert physical in hh.care and finances not in hh.care
    assert hh.care[physical].goal_months == lag + 1


@pytest.mark.parametrize("policy", POLICIES)
def test_reference_agrees_with_library(library, policy):
    check_agreement(FAST, policy, library[policy])


def test_tolerance_detects_doubled_onset_rates(library):
    # The same comparison, against a reference whose onset rates are doubled: the tolerance
    # must flag the severities it changes (so it is not vacuous).
    onset = vv.Scenario.default().problems.onset_rate
    doubled = FAST.scenario(**{"problems.onset_rate": {d: 2 * r for d, r in onset.items()}})
    table = compare(
        library["supply-driven"], reference_runs(FAST, "supply-driven", doubled), FAST.slack
    )
    flagged = disagreements(table)
    assert {f"mean_severity_{d}" for d in DOMAINS} <= set(flagged), flagged


@pytest.mark.slow
@pytest.mark.parametrize("policy", POLICIES)
def test_reference_agrees_with_library_larger(policy):
    check_agreement(SLOW, policy, library_runs(SLOW, policy))


@pytest.mark.slow
def test_tolerance_detects_a_lifecycle_without_end_on_goal(library):
    # A reference whose episodes end only at reviews (the lifecycle the reference had before)
    # must be flagged on supply-driven's care use and costs.
    policy = vv.SupplyDriven().with_changes(end_on_goal=False)
    table = compare(library["supply-driven"], reference_runs(FAST, policy), FAST.slack)
    flagged = disagreements(table)
    expected = {"served_wmo", "served_jeugdwet", "cost_wmo_year1", "cost_access_year1"}
    assert expected <= set(flagged), flagged
