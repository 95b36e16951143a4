"""The answer of a probabilistic comparison: the plane's quadrants and the probabilities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vraagvolgend.draws import QUADRANTS, UncertaintyResult

POLICIES = ["supply-driven", "demand-driven"]


@given(
    st.lists(
        st.tuples(st.sampled_from([-1.0, 0.0, 2.0]), st.sampled_from([-0.1, 0.0, 0.3])),
        min_size=1,
        max_size=30,
    )
)
def test_the_quadrant_shares_add_up_to_one_ties_included(pairs):
    cost, severity = np.array(pairs).T
    draws = pd.DataFrame(
        {
            "draw": range(len(pairs)),
            "policy": "demand-driven",
            "cost_external_total": cost,
            "mean_severity": severity,
        }
    )
    info = {"baseline": "supply-driven", "policies": POLICIES, "parameters": [], "draws": 1}
    u = UncertaintyResult(draws, None, None, None, pd.DataFrame({"input": []}), [], None, info)
    shares = u.quadrants()
    assert list(shares.index) == list(QUADRANTS)
    assert shares.sum() == pytest.approx(1.0)
    # a tie is neither cheaper nor better
    assert shares["cheaper and better"] == np.mean((cost < 0) & (severity < 0))
    assert u.probability_cheaper() + shares["dearer and better"] + shares[
        "dearer and worse"
    ] == pytest.approx(1.0)
