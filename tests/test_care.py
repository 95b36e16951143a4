"""Formal care: costs, mechanisms of each regime and contract, common random numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import vraagvolgend as vv
from conftest import constant_hazard_scenario
from vraagvolgend import DemandDriven, PolicySwitch, SupplyDriven
from vraagvolgend.domains import DOMAINS

INDIVIDUAL = ["jeugdwet", "wmo", "participatiewet"]


@pytest.fixture(scope="module")
def care_scenario() -> vv.Scenario:
    """3,000 households; life events independent of the state, so both regimes see the same."""
    s = vv.Scenario.default().with_changes(n_households=3000, burn_in_months=36)
    events = {k: {**v.to_dict(), "severity_effect": {}} for k, v in s.life_events.items()}
    return s.with_changes(life_events=events)


def individual_cost(result) -> float:
    c = result.costs
    return float(c.loc[c["law"].isin(INDIVIDUAL) & (c["provision"] != "benefit"), "cost_eur"].sum())


def test_zero_problems_give_zero_individual_costs():
    s = constant_hazard_scenario(onset=0.0, recovery=0.1, n=2000)
    for policy in ("supply-driven", "demand-driven"):
        r = vv.run(s, policy, seed=1, months=24)
        c = r.costs
        assert c.loc[c["law"].isin(INDIVIDUAL), "cost_eur"].sum() == 0
        assert c.loc[c["law"] == "access", "cost_eur"].sum() == 0
        assert len(r.episodes) == 0
        assert c.loc[c["law"] == "collective", "cost_eur"].sum() > 0  # budgets are paid anyway


@pytest.mark.parametrize("contract", ["effort", "output", "task"])
def test_costs_equal_the_sum_over_episodes(care_scenario, contract):
    policy = SupplyDriven(contract=contract)
    r = vv.run(care_scenario, policy, seed=2, months=24)
    c = r.costs
    lines = c[~c["provision"].str.contains("idle") & (c["law"] != "access")]
    lines = lines[lines["provision"] != "network_programme"]
    from_costs = lines.groupby("provision")["cost_eur"].sum()
    from_episodes = r.episodes.groupby("provision", observed=True)["cost_eur"].sum()
    both = pd.concat([from_costs, from_episodes], axis=1, keys=["costs", "episodes"]).fillna(0)
    np.testing.assert_allclose(both["costs"], both["episodes"], rtol=1e-9, atol=1e-6)
    assert both["costs"].sum() > 1e6


def test_two_policies_on_one_seed_see_identical_draws_and_life_events(care_scenario):
    models = {}
    for policy in ("supply-driven", "demand-driven"):
        m = vv.MunicipalityModel(care_scenario, policy, rng=5)
        m.run_for(24)
        models[policy] = m
    a, b = models.values()
    for stream in ("events", "transitions", "access", "care"):
        # same position in every stream: the next draws agree
        assert np.array_equal(a.streams[stream].random(4), b.streams[stream].random(4))
    ma = a.datacollector.get_model_vars_dataframe()
    mb = b.datacollector.get_model_vars_dataframe()
    events = [c for c in ma.columns if c.startswith("events_")]
    pd.testing.assert_frame_equal(ma[events], mb[events])
    assert ma[events].to_numpy().sum() > 0
    assert not ma["served_wmo"].equals(mb["served_wmo"])  # but the care differs


def test_effort_contracts_give_longer_trajectories_than_output(care_scenario):
    """Each contract's response moves trajectory lengths in its documented direction."""
    lengths = {}
    variants = {
        "output": SupplyDriven(contract="output"),
        "effort": SupplyDriven(contract="effort"),
        "effort, prolonging": SupplyDriven().with_changes({"contracts.effort_prolongation": 1.0}),
    }
    for label, policy in variants.items():
        r = vv.run(care_scenario, policy, seed=3, months=36)
        e = r.episodes
        e = e[e["law"].isin(["jeugdwet", "wmo"]) & (e["start_month"] >= 1)]
        end = e["end_month"].fillna(36).astype(float)  # censored at the horizon
        lengths[label] = (end - e["start_month"] + 1).mean()  # months per episode, censored
    assert lengths["output"] < lengths["effort"] < lengths["effort, prolonging"]


def test_task_capacity_below_demand_creates_a_waiting_list(care_scenario):
    short = SupplyDriven(contract="task").with_changes({"contracts.task_capacity": 0.2})
    ample = SupplyDriven(contract="task").with_changes({"contracts.task_capacity": 10.0})
    tight = vv.run(care_scenario, short, seed=4, months=24).monthly
    loose = vv.run(care_scenario, ample, seed=4, months=24).monthly
    assert tight["waiting_list"].iloc[-12:].mean() > 50
    assert tight["mean_wait_months"].iloc[-1] > 1
    assert loose["waiting_list"].max() == 0


def test_budget_rule_cuts_collective_capacity_after_an_overrun(care_scenario):
    tiny = {"budget.per_inhabitant": {"jeugdwet": 1.0, "wmo": 1.0, "participatiewet": 1.0}}
    scenario = care_scenario.with_changes(tiny)
    cut = SupplyDriven().with_changes(budget_rule="cut_collective", budget_cut=0.25)
    keep = SupplyDriven().with_changes(budget_rule="none")
    r_cut = vv.run(scenario, cut, seed=6, months=36)
    r_keep = vv.run(scenario, keep, seed=6, months=36)
    mult = r_cut.monthly.set_index("month")["collective_capacity_multiplier"]
    assert mult[12] == 1.0 and mult[13] == pytest.approx(0.75) and mult[25] == pytest.approx(0.5625)
    assert (r_keep.monthly["collective_capacity_multiplier"] == 1.0).all()
    coll = r_cut.costs[r_cut.costs["law"] == "collective"].groupby("year")["cost_eur"].sum()
    assert coll[2] == pytest.approx(0.75 * coll[1], rel=1e-6)
    assert (r_cut.budget["deficit_eur"] > 0).all()


def test_cap_rule_stops_individual_intake_when_the_budget_is_spent(care_scenario):
    tiny = {"budget.per_inhabitant": {"jeugdwet": 20.0, "wmo": 20.0, "participatiewet": 5.0}}
    scenario = care_scenario.with_changes(tiny)
    capped = SupplyDriven().with_changes(budget_rule="cap")
    r = vv.run(scenario, capped, seed=6, months=24)
    assert r.monthly["waiting_list"].max() > 0
    free = vv.run(scenario, SupplyDriven().with_changes(budget_rule="none"), seed=6, months=24)
    assert individual_cost(r) < individual_cost(free)


def test_demand_driven_plans_give_fewer_parallel_episodes(care_scenario):
    parallel = {}
    for policy in ("supply-driven", "demand-driven"):
        m = vv.MunicipalityModel(care_scenario, policy, rng=7)
        m.run_for(12)
        multi = (m.severity >= care_scenario.problems.threshold).sum(axis=0) >= 3
        individual = (m.care.slot >= 0) & ~m.care.collective[np.maximum(m.care.slot, 0)]
        in_care = multi & individual.any(axis=0)  # multi-problem households in care
        parallel[policy] = individual[:, in_care].sum(axis=0).mean()
        if policy == "demand-driven":  # one plan, at most max_parallel domains at a time
            assert (m.care.slot >= 0).sum(axis=0).max() <= DemandDriven().max_parallel
    assert parallel["demand-driven"] < 0.8 * parallel["supply-driven"]


def test_switch_leaves_the_months_before_it_identical(care_scenario):
    switch = PolicySwitch(SupplyDriven(), DemandDriven(), at_month=24, ramp_months=6)
    pure = vv.run(care_scenario, SupplyDriven(), seed=8, months=36)
    switched = vv.run(care_scenario, switch, seed=8, months=36)
    pd.testing.assert_frame_equal(pure.monthly.iloc[:24], switched.monthly.iloc[:24])
    assert not pure.monthly.iloc[24:].equals(switched.monthly.iloc[24:])
    pc, sc = pure.costs, switched.costs
    pd.testing.assert_frame_equal(pc[pc["year"] <= 2], sc[sc["year"] <= 2])
    # Households already in care at the switch keep their running provision until its review
    running = switched.episodes
    kept = running[(running["start_month"] <= 24) & (running["law"] != "collective")]
    assert (kept["end_month"].fillna(99) > 24).any()


def test_outreach_finds_hidden_need(care_scenario):
    none = vv.run(care_scenario, SupplyDriven(), seed=9, months=24).monthly
    some = vv.run(care_scenario, SupplyDriven(outreach=0.3), seed=9, months=24).monthly
    assert none["found_by_outreach"].sum() == 0
    assert some["found_by_outreach"].sum() > 100
    assert some["hidden_need"].mean() < 0.8 * none["hidden_need"].mean()


def test_supplier_induced_referrals_move_light_needs_to_individual_care(care_scenario):
    def collective_share(induced):
        p = SupplyDriven().with_changes({"contracts.effort_induced_referral": induced})
        e = vv.run(care_scenario, p, seed=10, months=24).episodes
        return (e["law"] == "collective").mean()

    assert collective_share(0.8) < 0.7 * collective_share(0.0)


def test_upcoding_raises_output_based_costs(care_scenario):
    def cost(upcoding):
        p = SupplyDriven(contract="output").with_changes({"contracts.output_upcoding": upcoding})
        return individual_cost(vv.run(care_scenario, p, seed=11, months=24))

    assert cost(1.0) > 1.3 * cost(0.0)


def test_network_activation_strains_carers(care_scenario):
    calm = vv.run(care_scenario, DemandDriven(network_activation=0.0), seed=12, months=24)
    pushed = vv.run(care_scenario, DemandDriven(network_activation=3.0), seed=12, months=24)
    assert (
        pushed.monthly["carers_under_strain"].iloc[-12:].mean()
        > 1.1 * calm.monthly["carers_under_strain"].iloc[-12:].mean()
    )


def test_more_stacking_costs_more(care_scenario):
    sp = care_scenario.problems.spillover
    doubled = {k: {j: 2 * v for j, v in inner.items()} for k, inner in sp.items()}
    more = care_scenario.with_changes({"problems.spillover": doubled})
    assert individual_cost(vv.run(more, "supply-driven", seed=13, months=24)) > 1.2 * (
        individual_cost(vv.run(care_scenario, "supply-driven", seed=13, months=24))
    )


def test_benefit_cost_matches_the_closed_form():
    """No access to care, constant hazards: the benefit follows the work domain alone.

    A household in quintile 1–2 is on a benefit while its work severity is at least the
    threshold. Without escalation a new problem's severity is uniform on (0.4, 0.55), so a
    third of the active work problems lie above 0.5; the active share is π = a / (a + b).
    """
    onset, recovery = 0.03, 0.1
    s = constant_hazard_scenario(onset, recovery, n=30_000).with_changes(
        {
            "access.seek_base": 0.0,
            "access.seek_slope": 0.0,
            "provisions.participatiewet.benefit.need_window": [0.5, 1.0],
        }
    )
    r = vv.run(s, "supply-driven", seed=14, months=48)
    a = -np.expm1(-onset)
    pi = a / (a + recovery)
    low_income = (r.households["income_quintile"] <= 2).sum()
    expected_per_year = low_income * pi * (0.05 / 0.15) * 1200.0 * 12
    c = r.costs
    benefit = c[(c["provision"] == "benefit") & (c["year"] >= 2)]["cost_eur"].mean()
    assert benefit == pytest.approx(expected_per_year, rel=0.05)
    assert individual_cost(r) == 0


def _cost_pair(scenario, dd, seeds=(1, 2)):
    out = {"sd": 0.0, "dd": 0.0}
    for seed in seeds:
        out["sd"] += (
            vv.run(scenario, SupplyDriven(), seed=seed, months=36)
            .costs.query("provision != 'benefit'")["cost_eur"]
            .sum()
        )
        out["dd"] += (
            vv.run(scenario, dd, seed=seed, months=36)
            .costs.query("provision != 'benefit'")["cost_eur"]
            .sum()
        )
    return out


def test_demand_driven_can_cost_less(care_scenario):
    """Cheap conversations and a strong integrated-plan effect (problems addressed together)."""
    dd = DemandDriven(conversation_factor=1.0, review_factor=0.0, plan_stacking_relief=0.8)
    costs = _cost_pair(care_scenario, dd)
    assert costs["dd"] < 0.97 * costs["sd"]


def test_demand_driven_can_cost_more(care_scenario):
    """Outreach that finds much hidden need, long conversations, and no network to activate."""
    no_network = care_scenario.with_changes(
        {"support.capacity": {t: 0.0 for t in vv.HOUSEHOLD_TYPES}}
    )
    dd = DemandDriven(outreach=0.3, conversation_factor=6.0)
    costs = _cost_pair(no_network, dd)
    assert costs["dd"] > 1.05 * costs["sd"]


def test_household_cost_picture(care_scenario):
    r = vv.run(care_scenario, "supply-driven", seed=15, months=24)
    busiest = r.episodes.groupby("household_id")["cost_eur"].sum().idxmax()
    h = r.household(int(busiest))
    assert h.total_eur == pytest.approx(
        r.episodes.loc[r.episodes["household_id"] == busiest, "cost_eur"].sum()
    )
    assert h.by_law().sum() == pytest.approx(h.total_eur)
    assert set(h.problems.index) <= set(DOMAINS)
    text = str(h)
    assert f"Household {busiest}" in text and "Provisions" in text
    with pytest.raises(IndexError):
        r.household(10**9)


def test_no_care_has_no_costs(small):
    r = vv.run(small, None, seed=1, months=12)
    with pytest.raises(ValueError, match="no formal care"):
        _ = r.costs


@pytest.mark.parametrize("policy", ["supply-driven", "demand-driven"])
def test_sparse_bookkeeping_matches_the_dense_state(care_scenario, policy):
    """The engine keeps lists of running and waiting entries; they must match the arrays."""
    tight = vv.financing.resolve_policy(policy).with_changes(
        {"contract": "task", "contracts.task_capacity": 0.3}
    )
    m = vv.MunicipalityModel(care_scenario, tight, rng=16)
    for _ in range(12):
        m.step()
        running = m.care.running
        assert len(np.unique(running)) == len(running)
        np.testing.assert_array_equal(np.sort(running), np.flatnonzero(m.care.slot.ravel() >= 0))
        waiting = np.sort(m.care.waiting_at)
        np.testing.assert_array_equal(waiting, np.flatnonzero(m.care.waiting.ravel() >= 0))
    assert len(m.care.waiting_at) > 0


def test_youth_care_is_billed_per_young_person(care_scenario):
    """A youth-care episode bills the catalogue's monthly price for each child of the
    household (the youth-care share counts a household's children as its young people)."""
    r = vv.run(care_scenario, SupplyDriven(), seed=3, months=24)
    e = r.episodes[(r.episodes["provision"] == "youth_ambulant") & ~r.episodes["from_burn_in"]]
    children = r.households.set_index("household_id").loc[e["household_id"], "n_children"]
    price = care_scenario.provisions["youth_ambulant"].cost_month
    months = e["cost_eur"].to_numpy() / (price * children.to_numpy())
    assert len(e) > 20 and (children.to_numpy() >= 2).sum() > 5
    np.testing.assert_allclose(months, np.round(months), atol=1e-6)  # whole months per child
    assert (np.round(months) >= 1).all()


def test_running_rows_grow_keep_and_copy_as_plain_columns():
    import copy
    import pickle

    from vraagvolgend.care import Running

    run = Running()
    for start in range(0, 600, 200):  # grows past its first room
        k = np.arange(start, start + 200)
        run.append(**{name: k.astype(dtype) % 100 for name, dtype in Running.COLUMNS.items()})
    assert len(run) == 600 and run.pos.dtype == np.int64 and run.prov[-1] == 99
    run.keep(np.arange(0, 600, 3))
    assert len(run) == 200 and run.hh.tolist() == [(i * 3) % 100 for i in range(200)]
    for twin in (copy.deepcopy(run), pickle.loads(pickle.dumps(run))):
        twin.left -= 1  # a copy's columns are its own, and survive its next append
        twin.append(**{name: np.zeros(1, dtype) for name, dtype in Running.COLUMNS.items()})
        assert len(twin) == 201 and twin.left[0] == run.left[0] - 1
