"""Informal support and carer strain."""

from __future__ import annotations

import numpy as np
import pytest

import vraagvolgend as vv
from vraagvolgend.strain import update_strain


def test_switching_support_off_raises_severities(small):
    on = vv.run(small, seed=3, months=36).monthly
    off = vv.run(small.with_changes({"support.enabled": False}), seed=3, months=36).monthly
    cols = [c for c in on.columns if c.startswith("mean_severity_")]
    assert off[cols].iloc[-12:].to_numpy().sum() > 1.1 * on[cols].iloc[-12:].to_numpy().sum()
    assert (off["informal_support_given"] == 0).all()
    assert (on["informal_support_given"] > 0).all()


def test_coverage_and_giving_are_bounded(small):
    m = vv.MunicipalityModel(small, None, rng=1)
    flow = m.support.flow(m.severity, m.problems.read(m.severity), m.strain)
    assert flow.coverage.min() >= 0 and flow.coverage.max() <= 1
    need = (m.severity * (m.severity >= small.problems.threshold)).sum(axis=0)
    assert (flow.coverage[need == 0] == 0).all()
    assert (flow.coverage[need > 0] > 0).mean() > 0.5
    capacity = m.support.capacity
    assert (flow.given <= capacity + 1e-6).all()


def test_strain_builds_with_heavy_giving_and_fades():
    params = vv.Scenario.default().support
    h = vv.build_households(
        vv.Scenario.default().with_changes(n_households=100), np.random.default_rng(0)
    )
    assert len(h.household_type) == 100
    strain = np.zeros(3, dtype=np.float32)
    given = np.array([0.0, params.strain_threshold, 1.0], dtype=np.float32)
    for _ in range(6):
        strain = update_strain(params, strain, given)
    assert strain[0] == 0 and strain[1] == 0 and strain[2] > 0.5
    peak = float(strain[2])
    for _ in range(12):
        strain = update_strain(params, strain, np.zeros(3, dtype=np.float32))
    assert strain[2] == pytest.approx(peak * (1 - params.strain_recovery) ** 12, rel=1e-5)


def test_carer_strain_raises_the_givers_problems(small):
    # Same households, same draws; only the effect of strain on the givers' own hazards differs.
    harmless = small.with_changes({"support.strain_effect": {}})
    harmful = small.with_changes({"support.strain_effect": {"mental_health": 3.0}})
    results = {}
    for name, s in (("harmless", harmless), ("harmful", harmful)):
        m = vv.MunicipalityModel(s, None, rng=8)
        m.run_for(36)
        results[name] = m
    strained = results["harmless"].strain >= 0.25
    assert strained.sum() > 50
    mh = vv.domains.domain_index("mental_health")
    givers_harmless = results["harmless"].severity[mh, strained].mean()
    givers_harmful = results["harmful"].severity[mh, strained].mean()
    assert givers_harmful > 1.2 * givers_harmless
