"""The result store: keys in the files, any label round-trips, damage is set aside."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vraagvolgend as vv
from vraagvolgend.store import ResultStore, RunKey, StoreWarning, check_name

TABLE = pd.DataFrame(
    {
        "year": np.arange(1, 6),
        "kind": "cost",
        "variable": ["jeugdwet", "wmo", "participatiewet", "benefit", "access"],
        "value": np.linspace(0.5, 1.5, 5) * 1e6,
    }
)
LABELS = st.text(min_size=1, max_size=40) | st.sampled_from(
    ["supply-driven__outreach=0.1", "x=1", "a__b__c", "..", "/etc/passwd", "ü€😀", "p r"]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    policy=LABELS,
    point=st.integers(0, 10**6),
    replication=st.integers(0, 10**4),
    experiment=st.text(min_size=1, max_size=20).filter(lambda s: _valid(s)),
)
def test_any_key_round_trips_through_the_file(
    tmp_path_factory, policy, point, replication, experiment
):
    store = ResultStore(tmp_path_factory.mktemp("s"))
    key = RunKey(experiment, point, policy, replication)
    file = store.write(key, TABLE, {"x": 1})
    assert file.parent == store.path / experiment  # never outside the experiment's folder
    assert store.finished(experiment) == {key}
    assert store.has(key)
    loaded = store.load(experiment)
    assert (loaded["policy"] == policy).all() and (loaded["point"] == point).all()
    pd.testing.assert_frame_equal(loaded[TABLE.columns], TABLE)


def _valid(name: str) -> bool:
    try:
        check_name(name)
    except vv.ParameterError:
        return False
    return True


@pytest.mark.parametrize("name", ["..", ".", "a/b", "../x", "a\\b", "", " x", "a\0b"])
def test_experiment_names_that_would_leave_the_store_are_refused(tmp_path, name):
    with pytest.raises(vv.ParameterError, match="name"):
        vv.Experiment(name, ["supply-driven"])
    with pytest.raises(vv.ParameterError, match="experiment"):
        ResultStore(tmp_path).write(RunKey(name, 0, "p", 0), TABLE, {})
    assert list(tmp_path.iterdir()) == []


def _damage(store: ResultStore, key: RunKey, how: str) -> None:
    file = store.file(key)
    data = bytearray(file.read_bytes())
    if how == "empty":
        file.write_bytes(b"")
    elif how == "truncated":
        file.write_bytes(bytes(data[: len(data) // 2]))
    elif how == "footer":
        file.write_bytes(bytes(data[:-12]) + b"\0" * 12)
    elif how == "renamed":  # another run's file under this run's name
        other = store.write(RunKey(key.experiment, 99, "other", 0), TABLE, {})
        os.replace(other, file)


@pytest.mark.parametrize("how", ["empty", "truncated", "footer", "renamed"])
def test_a_damaged_file_is_moved_aside_with_a_warning(tmp_path, how):
    store = ResultStore(tmp_path)
    good, bad = RunKey("e", 0, "a", 0), RunKey("e", 0, "b", 0)
    store.write(good, TABLE, {})
    store.write(bad, TABLE, {})
    _damage(store, bad, how)
    with pytest.warns(StoreWarning, match="damaged result file"):
        assert store.finished("e") == {good}
    assert len(list((tmp_path / "e").glob("*.corrupt"))) == 1
    # set aside once: later reads are quiet and the store loads
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(store.load("e")) == len(TABLE)


def test_every_single_bit_flip_is_caught_or_harmless(tmp_path):
    """Flip one bit at every byte of a stored file: reading either gives exactly the table that
    was written, or sets the file aside (page checksums and a digest of the footer)."""
    store = ResultStore(tmp_path)
    key = RunKey("e", 3, "supply-driven__outreach=0.1", 2)
    file = store.write(key, TABLE, {"x": 1})
    original = file.read_bytes()
    reference = store.load("e")
    caught = harmless = 0
    for position in range(0, len(original), 5):
        for f in (tmp_path / "e").iterdir():
            f.unlink()
        flipped = bytearray(original)
        flipped[position] ^= 0x04
        file.write_bytes(bytes(flipped))
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            loaded = store.load("e")
        if any(issubclass(w.category, StoreWarning) for w in seen):
            caught += 1
            assert len(loaded) == 0
        else:
            pd.testing.assert_frame_equal(loaded, reference)
            harmless += 1
    assert caught > 100 and harmless > 100  # both outcomes happen; no third one


def test_page_checksums_are_written(tmp_path):
    import pyarrow.parquet as pq

    store = ResultStore(tmp_path)
    file = store.write(RunKey("e", 0, "p", 0), TABLE, {})
    # verification on read succeeds (and would fail on a page with a wrong checksum)
    assert pq.read_table(file, page_checksum_verification=True).num_rows == len(TABLE)
    column = pq.ParquetFile(file).metadata.row_group(0).column(3)
    assert column.total_compressed_size > 0


def test_temporary_leftovers_are_removed(tmp_path):
    store = ResultStore(tmp_path)
    store.write(RunKey("e", 0, "p", 0), TABLE, {})
    leftover = tmp_path / "e" / ".run-abc.parquet.123.tmp"
    leftover.write_bytes(b"half a file")
    assert len(store.finished("e")) == 1
    assert not leftover.exists()


def test_a_corrupted_file_is_recomputed_by_the_next_run(tmp_path):
    s = vv.Scenario.default().with_changes(n_households=400, burn_in_months=6)
    e = vv.Experiment("c", ["supply-driven"], replications=2, months=12, scenario=s)
    first = vv.run_experiment(e, tmp_path, executor="serial", progress=False)
    store = ResultStore(tmp_path)
    key = sorted(store.finished("c"))[0]
    store.file(key).write_bytes(b"PAR1 not really")
    with pytest.warns(StoreWarning):
        again = vv.run_experiment(e, tmp_path, executor="serial", progress=False)
    keys = ["point", "policy", "replication", "year", "kind", "variable"]
    pd.testing.assert_frame_equal(
        first.sort_values(keys, ignore_index=True), again.sort_values(keys, ignore_index=True)
    )
    assert store.finished("c") == {s.key for s in e.runs()}
