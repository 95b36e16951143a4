"""Random streams."""

from __future__ import annotations

import numpy as np
import pytest

from vraagvolgend.rng import Streams, as_seed_sequence


def test_named_streams_are_reproducible_and_independent():
    a, b = Streams(1), Streams(1)
    x = a["onset"].random(5)
    assert np.array_equal(x, b["onset"].random(5))
    assert not np.array_equal(Streams(1)["recovery"].random(5), x)
    assert not np.array_equal(Streams(2)["onset"].random(5), x)


def test_stream_does_not_depend_on_order_of_use():
    a = Streams(3)
    a["events"].random(100)
    late = a["onset"].random(3)
    assert np.array_equal(late, Streams(3)["onset"].random(3))


def test_seed_sequence_children_give_distinct_runs():
    root = np.random.SeedSequence(9)
    c1, c2 = root.spawn(2)
    assert not np.array_equal(Streams(c1)["onset"].random(3), Streams(c2)["onset"].random(3))


@pytest.mark.parametrize("bad", [-1, 1.5, "x", True])
def test_bad_seeds(bad):
    with pytest.raises((TypeError, ValueError), match="seed"):
        as_seed_sequence(bad)
