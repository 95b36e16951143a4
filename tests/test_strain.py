"""Carer strain (process ``carer_strain``): giving too much informal support wears carers out.

Tested on a model of a few households with known strain and giving: the new strain is the old
one faded by ``strain_recovery`` plus ``strain_gain`` times the giving above
``strain_threshold``, within [0, 1]; the start-of-month strain is left alone; the count of
carers under strain uses ``strain_level``; the parameters are the scenario's; without giving
strain only fades; without informal support nobody is ever strained; a seed fixes the strain.
"""

from __future__ import annotations

import numpy as np
import pytest

import vraagvolgend as vv
from states import month_state, step, tiny_model
from vraagvolgend.support import SupportFlow

# Defaults: threshold 0.45, gain 0.3, recovery 0.1, level 0.25


def _month(model, strain, given, month=1):
    n = model.households.n
    model.strain = np.zeros(n, dtype=np.float32)
    model.strain[: len(strain)] = strain
    state = month_state(model, month)
    g = np.zeros(n, dtype=np.float32)
    g[: len(given)] = given
    state.support = SupportFlow(coverage=np.zeros(n, dtype=np.float32), given=g)
    return state, step(model, "carer_strain", state)


def test_strain_builds_above_the_threshold_and_fades_below_it():
    m = tiny_model(n=10)
    strain = [0.0, 0.5, 0.5, 0.9, 0.2, 0.0]
    given = [0.95, 0.0, 0.45, 5.0, 0.75, 0.3]
    state, p = _month(m, strain, given)
    expected = [
        0.3 * 0.5,  # 0.15: from nothing, 0.5 above the threshold
        0.5 * 0.9,  # 0.45: fades
        0.5 * 0.9,  # at the threshold exactly: no build-up
        1.0,  # 0.81 + 0.3 × 4.55, clipped
        0.2 * 0.9 + 0.3 * 0.3,  # 0.27
        0.0,  # below the threshold from nothing
    ]
    np.testing.assert_allclose(state.strain_end[:6], expected, atol=1e-6)
    assert not state.strain_end[6:].any()
    np.testing.assert_allclose(state.strain[:6], strain, atol=1e-7)  # the start is kept
    assert p.reporters() == {"carers_under_strain": 4}  # 0.45, 0.45, 1 and 0.27 ≥ 0.25


def test_the_scenarios_parameters_are_used():
    changes = {
        "support.strain_threshold": 0.2,
        "support.strain_gain": 1.0,
        "support.strain_recovery": 0.5,
        "support.strain_level": 0.6,
    }
    m = tiny_model(n=10, changes=changes)
    state, p = _month(m, [0.4, 0.4], [0.5, 0.1])
    np.testing.assert_allclose(state.strain_end[:2], [0.2 + 0.3, 0.2], atol=1e-6)
    assert p.under_strain == 0  # 0.5 < 0.6


def test_without_giving_strain_fades_geometrically():
    m = tiny_model(n=10)
    strain = np.array([1.0, 0.5], dtype=np.float32)
    for month in range(1, 7):
        state, _ = _month(m, strain, [0.0, 0.0], month)
        strain = state.strain_end[:2]
    np.testing.assert_allclose(strain, [0.9**6, 0.5 * 0.9**6], rtol=1e-5)


def test_strain_never_leaves_zero_to_one():
    m = tiny_model(n=10)
    rng = np.random.default_rng(3)
    state, _ = _month(m, rng.random(10), rng.random(10) * 10)
    assert state.strain_end.dtype == np.float32
    assert (state.strain_end >= 0).all() and (state.strain_end <= 1).all()


def test_without_informal_support_nobody_is_ever_strained():
    s = vv.Scenario.default().with_changes(
        {"n_households": 300, "burn_in_months": 0, "support.enabled": False}
    )
    m = vv.MunicipalityModel(s, None, rng=2)
    m.run_for(6)
    assert not m.strain.any()
    assert m.pipeline["carer_strain"].under_strain == 0


def test_one_seed_gives_the_same_strain_and_another_seed_another():
    def strain(seed):
        s = vv.Scenario.default().with_changes(n_households=400, burn_in_months=0)
        m = vv.MunicipalityModel(s, vv.DemandDriven(network_activation=2.0), rng=seed)
        m.run_for(6)
        return m.strain.copy()

    a = strain(7)
    assert a.max() > 0
    np.testing.assert_array_equal(strain(7), a)
    assert not np.array_equal(strain(8), a)


@pytest.mark.parametrize("given", [0.0, 0.45])
def test_no_strain_and_no_giving_above_the_threshold_stays_zero(given):
    m = tiny_model(n=10)
    state, p = _month(m, [], [given] * 10)
    assert not state.strain_end.any() and p.under_strain == 0
