"""The compiled kernels (:mod:`vraagvolgend.compiled`) give the numpy path's results bit for bit."""

from __future__ import annotations

import copy
import pickle

import pytest

import vraagvolgend as vv
from test_model import SWITCH, _assert_same, _state
from vraagvolgend import compiled
from vraagvolgend.model import MunicipalityModel

needs_numba = pytest.mark.skipif(not compiled.available(), reason="numba is not installed")


def test_the_switch_turns_the_kernels_off_and_on(monkeypatch):
    monkeypatch.setenv(compiled.ENV, "1")
    assert compiled.enabled() == compiled.available()
    with compiled.use_compiled(False):
        assert not compiled.enabled()
    monkeypatch.setenv(compiled.ENV, "0")
    assert not compiled.enabled()
    with compiled.use_compiled(True):
        assert compiled.enabled() == compiled.available()
    monkeypatch.setenv(compiled.ENV, "yes")
    with pytest.raises(ValueError, match="VRAAGVOLGEND_COMPILED='yes' must be 0"):
        compiled.enabled()


@compiled.kernel
def _twice(x):
    return 2 * x


def test_a_kernel_is_copied_and_pickled_by_reference():
    assert copy.deepcopy(_twice) is _twice
    assert pickle.loads(pickle.dumps(_twice)) is _twice


@needs_numba
def test_a_kernel_runs_compiled():
    assert _twice(21) == 42
    assert _twice._compiled is not None


def _run(policy, compiled_on: bool, n: int = 2500, months: int = 30) -> dict:
    s = vv.Scenario.default().with_changes(n_households=n, burn_in_months=12)
    with compiled.use_compiled(compiled_on):
        model = MunicipalityModel(s, policy, rng=7)
        model.run_for(months)
    return _state(model)


@needs_numba
@pytest.mark.parametrize("policy", ["supply-driven", "demand-driven", SWITCH, None])
def test_compiled_and_numpy_give_the_same_bits(policy):
    _assert_same(_run(policy, True), _run(policy, False))
