"""Contract types: each provider response against the standard (no-response) contract."""

from __future__ import annotations

import numpy as np
import pytest

import vraagvolgend as vv
from vraagvolgend.contracts import CONTRACTS, Contract
from vraagvolgend.financing import Contracts

P = Contracts(effort_prolongation=0.25, effort_over_provision=0.15)
MONTHS = np.array([4, 9, 24])
ONES = np.ones(3, dtype=np.float32)
INDIVIDUAL = np.array([True, True, False])


def test_the_three_dutch_contract_types_are_registered():
    assert {"effort", "output", "task"} <= set(CONTRACTS)


def test_responses_relative_to_the_standard_contract():
    base_m, base_i = Contract(P).response(MONTHS, ONES, INDIVIDUAL)
    m, i = CONTRACTS["effort"](P).response(MONTHS, ONES, INDIVIDUAL)
    np.testing.assert_array_equal(m, [5, 11, 24])  # × 1.25, collective untouched
    np.testing.assert_array_equal(i, base_i)
    m, _ = CONTRACTS["output"](P).response(MONTHS, ONES, INDIVIDUAL)
    np.testing.assert_array_equal(m, [3, 6, 24])  # × 0.7
    m, i = CONTRACTS["task"](P).response(MONTHS, ONES, INDIVIDUAL)
    np.testing.assert_array_equal(m, base_m)
    np.testing.assert_allclose(i, [0.8, 0.8, 1.0])


def test_billing():
    cost, dur = np.array([100.0, 100.0]), np.array([6, 6])
    months_in = np.array([0, 1])
    up = np.array([False, True])
    effort = CONTRACTS["effort"](P).bill(cost, np.ones(2, np.float32), months_in, dur, up)
    np.testing.assert_allclose(effort, [115.0, 115.0])
    output = CONTRACTS["output"](P).bill(cost, np.ones(2, np.float32), months_in, dur, up)
    # the price of a trajectory at its start, nothing in between (period: round(6 × 0.7) = 4)
    np.testing.assert_allclose(output, [600.0, 0.0])
    output = CONTRACTS["output"](P).bill(cost, np.ones(2, np.float32), np.array([4, 4]), dur, up)
    np.testing.assert_allclose(output, [600.0, 900.0])  # upcoded: × 1.5
    strong = Contracts(effort_prolongation=1.0, output_shortening=0.5)
    assert CONTRACTS["effort"](strong).exit_lag(1) == 3  # (1 + 1) × 2 − 1
    assert CONTRACTS["output"](strong).exit_lag(1) == 0
    assert Contract(P).exit_lag(1) == 1
    assert CONTRACTS["task"].lump_sum and not CONTRACTS["effort"].lump_sum
    assert CONTRACTS["task"](P).capacity(np.array([10.0]))[0] == pytest.approx(10.0)
    assert np.isinf(CONTRACTS["effort"](P).capacity(np.array([10.0]))).all()


def test_a_lump_sum_contract_without_a_finite_capacity_is_refused():
    from vraagvolgend.contracts import Contract, register_contract

    @register_contract("lump_without_capacity")
    class LumpWithoutCapacity(Contract):
        lump_sum = True  # but capacity() is the base's: not limited

    with pytest.raises(vv.ParameterError, match=r"^contract: .*no finite capacity"):
        vv.SupplyDriven(contract="lump_without_capacity")
