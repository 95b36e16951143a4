"""Experiments: designs, the resumable store, and identical results on every executor."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzzing as fz
import processes as children
import vraagvolgend as vv
from processes import popen, wait_until
from processes import session_pids as _session_pids
from vraagvolgend.experiments import run_tables
from vraagvolgend.parameters import param
from vraagvolgend.store import ResultStore

KEYS = ["point", "policy", "replication", "year", "kind", "variable"]


@pytest.fixture(scope="module")
def small_experiment() -> vv.Experiment:
    s = vv.Scenario.default().with_changes(n_households=1200, burn_in_months=12)
    return vv.Experiment(
        "small",
        ["supply-driven", "demand-driven"],
        [vv.Uncertainty("network.mean_degree", values=[5, 9])],
        replications=2,
        months=12,
        scenario=s,
    )


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(KEYS).reset_index(drop=True)


def test_designs_and_common_random_numbers():
    full = vv.Experiment(
        "f",
        ["supply-driven"],
        [
            vv.Uncertainty("network.mean_degree", 6, 10),
            vv.Uncertainty("support.enabled", values=[True, False]),
        ],
        levers=[vv.Lever("outreach", values=[0.0, 0.1])],
        replications=3,
        levels=2,
    )
    assert len(full.scenario_points()) == 4
    assert [label for label, _ in full.policy_variants()] == [
        "supply-driven__outreach=0.0",
        "supply-driven__outreach=0.1",
    ]
    runs = full.runs()
    assert len(runs) == 4 * 2 * 3
    # replication r has the same seed at every point and for every policy
    by_rep = {}
    for spec in runs:
        by_rep.setdefault(spec.key.replication, set()).add(tuple(spec.seed.generate_state(2)))
    assert all(len(seeds) == 1 for seeds in by_rep.values())
    lhs = vv.Experiment(
        "l",
        ["supply-driven"],
        [vv.Uncertainty("network.mean_degree", 6, 10)],
        design="lhs",
        samples=8,
    )
    degrees = np.sort(lhs.scenario_points()["network.mean_degree"].to_numpy())
    assert len(degrees) == 8 and degrees[0] >= 6 and degrees[-1] <= 10
    assert (np.floor((degrees - 6) / 0.5) == np.arange(8)).all()  # one point per stratum
    table = pd.DataFrame({"network.mean_degree": [6.5, 7.5]})
    assert (
        len(
            vv.Experiment(
                "t", ["supply-driven"], [vv.Uncertainty("network.mean_degree", 6, 10)], design=table
            ).scenario_points()
        )
        == 2
    )


def test_bad_definitions_are_rejected_before_any_work():
    with pytest.raises(vv.ParameterError, match="mean_degre"):
        vv.Experiment("x", ["supply-driven"], [vv.Uncertainty("network.mean_degre", values=[6])])
    with pytest.raises(vv.ParameterError, match=r"between 0\.0 and 100\.0"):
        vv.Experiment("x", ["supply-driven"], [vv.Uncertainty("network.mean_degree", values=[-1])])
    with pytest.raises(vv.ParameterError, match="outreach"):
        vv.Experiment("x", ["supply-driven"], levers=[vv.Lever("outreach", values=[2.0])])
    with pytest.raises(vv.ParameterError, match="low ≤ high"):
        vv.Uncertainty("network.mean_degree", 9, 6)
    with pytest.raises(vv.ParameterError, match="replications"):
        vv.Experiment("x", ["supply-driven"], replications=0)


def test_serial_process_pool_and_dask_give_identical_results(small_experiment, tmp_path):
    serial = vv.run_experiment(
        small_experiment, tmp_path / "serial", executor="serial", progress=False
    )
    pool = vv.run_experiment(
        small_experiment, tmp_path / "pool", executor="processes", workers=2, progress=False
    )
    dask = vv.run_experiment(
        small_experiment, tmp_path / "dask", executor="dask", workers=2, progress=False
    )
    assert "error" not in serial.columns
    assert serial[["point", "policy", "replication"]].drop_duplicates().shape[0] == 8
    pd.testing.assert_frame_equal(tidy(serial), tidy(pool))
    pd.testing.assert_frame_equal(tidy(serial), tidy(dask))
    meta = ResultStore(tmp_path / "serial").metadata(
        sorted(ResultStore(tmp_path / "serial").finished("small"))[0]
    )
    assert meta["name"] == "small" and meta["version"] == vv.__version__


def test_a_finished_store_computes_nothing_again(small_experiment, tmp_path):
    vv.run_experiment(small_experiment, tmp_path, executor="serial", progress=False)
    files = sorted((tmp_path / "small").glob("*.parquet"))
    stamps = [f.stat().st_mtime_ns for f in files]
    again = vv.run_experiment(small_experiment, tmp_path, executor="serial", progress=False)
    assert [f.stat().st_mtime_ns for f in files] == stamps
    assert again[["point", "policy", "replication"]].drop_duplicates().shape[0] == 8


def test_a_run_that_raises_is_recorded_and_the_sweep_goes_on(tmp_path):
    s = vv.Scenario.default().with_changes(n_households=500, burn_in_months=6)

    class Broken(vv.SupplyDriven):
        def intensity(self, severity):
            raise RuntimeError("broken rule")

    e = vv.Experiment(
        "b", [vv.SupplyDriven(), Broken(name="broken")], replications=1, months=12, scenario=s
    )
    out = vv.run_experiment(e, tmp_path, executor="serial", progress=False)
    failed = out[out["error"].notna()]
    assert set(failed["policy"]) == {"broken"} and "broken rule" in failed["error"].iloc[0]
    assert (out.loc[out["error"].isna(), "policy"] == "supply-driven").all()


# --- Where the runs start: one burn-in per scenario point and replication, or one per run ------


def _forking(n_points=2, replications=2, **options) -> vv.Experiment:
    s = vv.Scenario.default().with_changes(n_households=800, burn_in_months=12)
    return vv.Experiment(
        "forks",
        ["demand-driven", "supply-driven"],
        [vv.Uncertainty("network.mean_degree", values=[5, 9][:n_points])],
        levers=[vv.Lever("outreach", values=[0.0, 0.1])],
        replications=replications,
        months=12,
        scenario=s,
        **options,
    )


@pytest.mark.parametrize("burn_in", ["baseline", "each"])
def test_every_variant_of_a_point_and_replication_starts_month_1_from_one_state(
    tmp_path, monkeypatch, burn_in
):
    """burn_in="baseline": one burn-in per (point, replication), under the baseline, forked for
    every policy variant, levers included: all start month 1 from one identical state (every
    array and random stream). "each": one burn-in per run, and the states differ."""
    from test_model import _assert_same, _state
    from vraagvolgend.model import MunicipalityModel

    e = _forking(burn_in=burn_in)
    assert e.baseline == "supply-driven"  # the default, though listed second
    built, starts = [], []
    build, run_for = MunicipalityModel.__init__, MunicipalityModel.run_for

    def counted(self, *args, **kwargs):
        built.append(kwargs.get("policy", args[1] if len(args) > 1 else None))
        build(self, *args, **kwargs)

    def recorded(self, months):  # every run's months after burn-in are one run_for
        starts.append((self.care.policy.name, _state(self)))
        return run_for(self, months)

    monkeypatch.setattr(MunicipalityModel, "__init__", counted)
    monkeypatch.setattr(MunicipalityModel, "run_for", recorded)
    out = vv.run_experiment(e, tmp_path, executor="serial", progress=False)
    assert "error" not in out.columns
    variants = [label for label, _ in e.policy_variants()]
    assert len(starts) == len(e.runs()) == 2 * 2 * len(variants)
    if burn_in == "each":
        assert len(built) == len(starts)
        a, b = (state for name, state in starts[:2])  # demand-driven with outreach 0 and 0.1
        with pytest.raises(AssertionError):
            _assert_same(a, b)  # each burnt in under its own policy
        return
    # one burn-in per (point, replication), under the baseline with its budget rule off
    assert len(built) == 4 and all(p.name == "supply-driven" for p in built)
    # serial: the groups in order, every variant of a group in order
    for g in range(4):
        group = starts[g * len(variants) : (g + 1) * len(variants)]
        assert [name for name, _ in group] == variants
        for _, state in group[1:]:
            _assert_same(group[0][1], state)
    with pytest.raises(AssertionError):  # another replication: another state
        _assert_same(starts[0][1], starts[len(variants)][1])


def test_each_is_the_plain_run_and_the_baseline_own_runs_are_too(tmp_path):
    """burn_in="each" reproduces the runs as they were: every stored run is
    ``simulation.run`` of its spec. Under "baseline" the baseline's own runs are plain runs
    too (it burns in under itself, its budget rule off, which is the default), and the other
    policies' are not: they start from the baseline's municipality."""
    from vraagvolgend.store import RunKey

    def plain(spec):
        table = run_tables(vv.run(spec.scenario, spec.policy, seed=spec.seed, months=12))
        return table.assign(
            experiment="e", point=spec.key.point, policy=spec.key.policy, replication=0
        )

    def stored(store, key: RunKey):
        return ResultStore(store).read(key)

    s = vv.Scenario.default().with_changes(n_households=600, burn_in_months=12)
    options = {"replications": 1, "months": 12, "scenario": s}
    each = vv.Experiment("e", ["supply-driven", "demand-driven"], burn_in="each", **options)
    vv.run_experiment(each, tmp_path / "each", executor="serial", progress=False)
    for spec in each.runs():
        pd.testing.assert_frame_equal(stored(tmp_path / "each", spec.key), plain(spec))
    base = vv.Experiment("e", ["supply-driven", "demand-driven"], **options)
    vv.run_experiment(base, tmp_path / "base", executor="serial", progress=False)
    supply, demand = base.runs()
    pd.testing.assert_frame_equal(stored(tmp_path / "base", supply.key), plain(supply))
    assert not stored(tmp_path / "base", demand.key).equals(plain(demand))


def test_a_group_split_over_workers_gives_the_same_runs(tmp_path):
    """One (point, replication) and four variants on two workers: the group is split in two,
    each part burning in again; the runs are those of the serial path (one burn-in)."""
    from vraagvolgend.experiments import _tasks

    e = _forking(n_points=1, replications=1)
    assert [len(t) for t in _tasks(e.runs(), 2)] == [2, 2]
    assert [len(t) for t in _tasks(e.runs(), 1)] == [4]
    serial = vv.run_experiment(e, tmp_path / "serial", executor="serial", progress=False)
    pool = vv.run_experiment(e, tmp_path / "pool", executor="processes", workers=2, progress=False)
    assert "error" not in serial.columns and serial["policy"].nunique() == 4
    pd.testing.assert_frame_equal(tidy(serial), tidy(pool))


def test_bad_burn_in_and_baseline_are_refused():
    with pytest.raises(vv.ParameterError, match=r"^burn_in: 'steady'"):
        vv.Experiment("x", ["supply-driven"], burn_in="steady")
    with pytest.raises(vv.ParameterError, match=r"^baseline: 'demand-driven' is not one of"):
        vv.Experiment("x", ["supply-driven"], baseline="demand-driven")
    e = vv.Experiment("x", ["demand-driven"], levers=[vv.Lever("outreach", values=[0.0, 0.1])])
    assert e.baseline == "demand-driven" and e.baseline_policy == vv.DemandDriven()
    assert {s.baseline for s in e.runs()} == {vv.DemandDriven()}  # without the levers


GATED_SWEEP = """
import sys
sys.path.insert(0, {tests!r})
import vraagvolgend as vv
from gates import Held
s = vv.Scenario.default().with_changes(n_households=400, burn_in_months=3)
# the held runs wait at point 2 (mean degree 9) only: points 0 and 1 finish
e = vv.Experiment("k", ["supply-driven", Held(name="held", hold=sys.argv[2], mean_degree=9)],
                  [vv.Uncertainty("network.mean_degree", values=[5, 7, 9])],
                  replications=3, months=12, scenario=s)
if __name__ == "__main__":
    vv.run_experiment(e, sys.argv[1], executor=sys.argv[3], workers=2, progress=False)
"""


def _gated_sweep(tmp_path) -> Path:
    script = tmp_path / "sweep.py"
    script.write_text(GATED_SWEEP.format(tests=str(Path(__file__).parent)))
    return script


def _stored(folder: Path) -> int:
    return len(list(folder.glob("*.parquet")))


def test_a_killed_sweep_resumes_to_the_uninterrupted_result(tmp_path):
    """SIGKILL a sweep once its free runs are stored (the held run waits at its gate, holding
    the run forked with it); resume it: exactly the uninterrupted result, no run computed
    twice."""
    script, hold = _gated_sweep(tmp_path), tmp_path / "hold"
    hold.write_text("")
    store, folder = tmp_path / "store", tmp_path / "store" / "k"
    process = popen([sys.executable, str(script), str(store), str(hold), "serial"])
    try:
        # serial order: points 0 and 1 (both policies, three replications), then the first
        # group of point 2 waits at the gate
        assert wait_until(lambda: _stored(folder) >= 12 or process.poll() is not None)
    finally:
        process.kill()
        process.wait()
    first = {f.name: f.stat().st_mtime_ns for f in folder.glob("*.parquet")}
    assert len(first) == 12

    hold.unlink()
    children.run([sys.executable, str(script), str(store), str(hold), "serial"], check=True)
    after = {f.name: f.stat().st_mtime_ns for f in folder.glob("*.parquet")}
    assert len(after) == 18
    assert all(after[name] == stamp for name, stamp in first.items())  # none computed twice

    clean = tmp_path / "clean"
    children.run([sys.executable, str(script), str(clean), str(hold), "serial"], check=True)
    resumed = tidy(ResultStore(store).load("k"))
    pd.testing.assert_frame_equal(resumed, tidy(ResultStore(clean).load("k")))


def test_killing_a_dask_worker_loses_no_run(tmp_path):
    """SIGKILL one worker process of a local cluster while its runs wait at a gate: every run
    still arrives, identical to the serial result."""
    import threading

    from dask.distributed import Client, LocalCluster

    from gates import Held

    hold = tmp_path / "hold"
    s = vv.Scenario.default().with_changes(n_households=400, burn_in_months=3)
    # One held group only (point 1's): Dask may start tasks in any order, and a held task on
    # every worker would leave none free for the others.
    e = vv.Experiment(
        "w",
        [
            "supply-driven",
            "demand-driven",
            vv.SupplyDriven(name="outreach", outreach=0.1),
            Held(name="held", hold=str(hold), mean_degree=9),
        ],
        [vv.Uncertainty("network.mean_degree", values=[5, 9])],
        replications=1,
        months=12,
        scenario=s,
    )
    serial = vv.run_experiment(e, tmp_path / "serial", executor="serial", progress=False)

    hold.write_text("")
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = Client(cluster)
    try:
        out = {}
        sweep = threading.Thread(
            target=lambda: out.update(
                r=vv.run_experiment(e, tmp_path / "dask", executor=client, progress=False)
            )
        )
        sweep.start()
        folder = tmp_path / "dask" / "w"
        # point 0's four runs finish; point 1's wait at the gate
        assert wait_until(lambda: _stored(folder) >= 4)
        pids = list(client.run(os.getpid).values())
        os.kill(pids[0], signal.SIGKILL)
        finished_at_kill = _stored(folder)
        hold.unlink()
        sweep.join(timeout=300)
        assert not sweep.is_alive()
    finally:
        client.close()
        cluster.close()
    assert finished_at_kill == 4, "the worker is killed while the held runs remain"
    result = out["r"]
    assert "error" not in result.columns
    pd.testing.assert_frame_equal(tidy(serial), tidy(result))


# --- Process-wide state, interrupts, workers that die with their parent -------------------------


def test_serial_runs_change_no_process_wide_state(small_experiment, tmp_path, monkeypatch):
    monkeypatch.delenv("VRAAGVOLGEND_THREADS", raising=False)
    before = dict(os.environ)
    vv.run_experiment(small_experiment, tmp_path, executor="serial", progress=False)
    assert dict(os.environ) == before
    from vraagvolgend import parallel

    assert parallel.n_threads() == len(os.sched_getaffinity(0))


def test_a_dask_run_that_failed_is_retried_on_the_same_client(tmp_path):
    """A run that failed on a cluster is computed again by the next run_experiment on the same
    client, not answered from the failed task's key."""
    from dask.distributed import Client, LocalCluster

    s = vv.Scenario.default().with_changes(n_households=300, burn_in_months=3)
    flag = tmp_path / "fail-once"
    flag.write_text("")
    e = vv.Experiment(
        "d", [_Flaky(name="flaky", flag=str(flag))], replications=1, months=12, scenario=s
    )
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        first = vv.run_experiment(e, tmp_path / "store", executor=client, progress=False)
        assert first["error"].str.contains("worker lost").all()
        again = vv.run_experiment(e, tmp_path / "store", executor=client, progress=False)
    assert "error" not in again.columns and len(again) > 0


@dataclass(frozen=True)
class _Flaky(vv.SupplyDriven):
    """A policy whose first run fails (as a run on a killed worker does)."""

    flag: str = param("", kind="str", source="test", doc="fail while this file exists")

    def intensity(self, severity):
        if os.path.exists(self.flag):
            os.remove(self.flag)
            raise RuntimeError("worker lost")
        return super().intensity(severity)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigkill_of_the_parent_leaves_no_worker_alive(tmp_path):
    script, hold = _gated_sweep(tmp_path), tmp_path / "hold"
    hold.write_text("")
    store = tmp_path / "store"
    process = popen(
        [sys.executable, str(script), str(store), str(hold), "processes"], start_new_session=True
    )
    try:
        # points 0 and 1 stored, then both workers wait at the gate (point 2)
        assert wait_until(lambda: _stored(store / "k") >= 12 or process.poll() is not None)
        assert len(_session_pids(process.pid) - {process.pid}) >= 2  # workers, forkserver
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert wait_until(lambda: not _session_pids(process.pid))  # a bound against hangs
    finally:
        for pid in _session_pids(process.pid):
            os.kill(pid, signal.SIGKILL)


# --- Fuzzed experiment files: refused in one line naming the key, or accepted and runnable ------

PATHS = ["network.mean_degree", "support.capacity.couple", "problems.onset_rate.finances"]
LEVERS = ["outreach", "collective_capacity", "contract"]


def _mostly(valid: st.SearchStrategy, bad: st.SearchStrategy = fz.junk) -> st.SearchStrategy:
    """Valid values four times in five, otherwise junk."""
    return st.integers(0, 4).flatmap(lambda i: bad if i == 3 else valid)


def _entry(names):
    return st.fixed_dictionaries(
        {"name": _mostly(st.sampled_from(names), st.text(max_size=8))},
        optional={
            "low": _mostly(st.floats(0, 1)),
            "high": _mostly(st.floats(1, 12)),
            "values": _mostly(
                st.lists(
                    st.floats(0, 12) | st.sampled_from(["effort", "task"]), min_size=1, max_size=3
                )
            ),
        },
    )


@st.composite
def experiment_files(draw) -> dict:
    """Experiment files: each key present or not, each value mostly valid; a rare typo."""
    options = {
        "name": _mostly(
            st.sampled_from(["x", "a b", "ü", "sweep-1"]),
            st.sampled_from(["..", ".", "a/b", "", " x", "a\\b"]) | st.text(max_size=6),
        ),
        "policies": _mostly(
            st.lists(
                st.sampled_from(["supply-driven", "demand-driven"]),
                min_size=1,
                max_size=2,
                unique=True,
            ),
            st.lists(st.sampled_from(["demand_driven", "none", "x.toml"]), max_size=2) | fz.junk,
        ),
        "replications": _mostly(st.integers(1, 3), st.integers(-1, 0) | fz.junk),
        "months": _mostly(st.integers(12, 1200), st.sampled_from([0, 11, 1201, 100000]) | fz.junk),
        "design": _mostly(st.sampled_from(["full", "lhs"]), st.just("sobol") | fz.junk),
        "samples": _mostly(st.integers(1, 4)),
        "levels": _mostly(st.integers(1, 3)),
        "seed": _mostly(st.integers(0, 10**6), st.sampled_from([-1, "x", 1.5]) | fz.junk),
        "uncertainties": _mostly(st.lists(_entry(PATHS), max_size=2)),
        "levers": _mostly(st.lists(_entry(LEVERS), max_size=2)),
        "replicatons": st.just(1),
    }
    out = {}
    for key, strategy in options.items():
        if draw(st.integers(0, 9)) in ({7} if key == "replicatons" else {1, 3, 5, 6, 8}):
            out[key] = draw(strategy)
    return out


EXPERIMENT_FILES = experiment_files()


@settings(
    max_examples=fz.examples(200),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=EXPERIMENT_FILES)
def test_fuzzed_experiment_files_are_refused_in_one_line_or_run(tmp_path, data):
    from vraagvolgend.cli import load_experiment

    path = tmp_path / "fuzzed.toml"
    path.write_text(fz.toml(data), encoding="utf-8", errors="surrogatepass")
    try:
        experiment = load_experiment(path)
    except vv.ParameterError as err:
        assert "\n" not in str(err) and str(path) in str(err)
        named = fz.names_a_key(err, [(k,) for k in data]) or "TOML" in str(err)
        assert named or (not data and "empty" in str(err)), (err, data)
        return
    # accepted: its first run (scenario point, policy variant, replication) runs cleanly
    assert experiment.months <= 1200 and experiment.seed >= 0
    points = experiment.scenario_points()
    scenario = experiment._scenario_at(points.iloc[0].dropna().to_dict(), "point 0")
    _, policy = experiment.policy_variants()[0]
    result = vv.run(fz.small(scenario), policy, seed=experiment.seed, months=fz.MONTHS)
    fz.check_result(result)


# --- A real cluster, started the way users start one ---------------------------------------------

# One held group only (Dask may start tasks in any order; see the local-cluster test above).
CLUSTER_EXPERIMENT = """
name = "cluster"
policies = ["supply-driven", "demand-driven", "outreach.toml", "held.toml"]
replications = 1
months = 12
scenario = "small.toml"
uncertainties = [{name = "network.mean_degree", values = [5.0, 9.0]}]
"""


@pytest.mark.slow
def test_a_sweep_on_a_real_dask_cluster_survives_a_killed_worker(tmp_path):
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1, each dying with this
    test (same process group, parent-death signal); the sweep runs through
    `vraagvolgend sweep --scheduler tcp://…`; a worker is killed while the held runs wait at
    their gate; the stored results are identical to the serial path."""
    bin_dir = Path(sys.executable).parent
    tests = Path(__file__).parent
    hold = tmp_path / "hold"
    (tmp_path / "small.toml").write_text("n_households = 400\nburn_in_months = 3\n")
    (tmp_path / "held.toml").write_text(
        f'regime = "held"\nname = "held"\nhold = "{hold}"\nmean_degree = 9.0\n'
    )
    (tmp_path / "outreach.toml").write_text(
        'regime = "supply-driven"\nname = "outreach"\noutreach = 0.1\n'
    )
    experiment = tmp_path / "e.toml"
    experiment.write_text(CLUSTER_EXPERIMENT)
    address_file = tmp_path / "scheduler.json"
    # the scheduler and workers unpickle the test regime: they import tests/gates.py
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tests), os.environ.get("PYTHONPATH", "")]),
    }
    logs = open(tmp_path / "cluster.log", "w")  # noqa: SIM115 - closed in finally
    dask = str(bin_dir / "dask")
    processes = [
        popen(
            [
                dask,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(address_file),
            ],
            stdout=logs,
            stderr=logs,
            env=env,
        )
    ]
    hold.write_text("")
    try:

        def address():
            try:
                return json.loads(address_file.read_text())["address"]
            except (OSError, ValueError, KeyError):
                return None

        assert wait_until(lambda: address() is not None)
        assert address().startswith("tcp://127.0.0.1:")
        worker = [dask, "worker", address(), "--nthreads", "1", "--no-nanny", "--no-dashboard"]
        workers = [
            popen(
                [*worker, "--host", "127.0.0.1", "--preload", "gates"],
                stdout=logs,
                stderr=logs,
                env=env,
            )
            for _ in range(2)
        ]
        processes += workers
        from dask.distributed import Client

        with Client(address()) as client:
            client.wait_for_workers(2, timeout=60)
        store = tmp_path / "dask"
        sweep = popen(
            [
                sys.executable,
                str(tests / "gated_cli.py"),
                "sweep",
                str(experiment),
                "--store",
                str(store),
                "--scheduler",
                address(),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # point 0's four runs finish; point 1's wait at the gate
        assert wait_until(lambda: len(list((store / "cluster").glob("*.parquet"))) >= 4)
        workers[0].kill()
        finished_at_kill = len(list((store / "cluster").glob("*.parquet")))
        hold.unlink()
        out, err = sweep.communicate(timeout=300)
        assert sweep.returncode == 0, out + err
    finally:
        for p in processes:
            p.kill()
            p.wait()
        logs.close()
    assert finished_at_kill == 4, "the worker is killed while the held runs remain"
    assert "8 runs" in out
    serial = tmp_path / "serial"
    children.run(
        [
            sys.executable,
            str(tests / "gated_cli.py"),
            "sweep",
            str(experiment),
            "--store",
            str(serial),
            "--executor",
            "serial",
        ],
        check=True,
        capture_output=True,
    )
    keys = ["point", "policy", "replication", "year", "kind", "variable"]
    a = ResultStore(store).load("cluster").sort_values(keys, ignore_index=True)
    b = ResultStore(serial).load("cluster").sort_values(keys, ignore_index=True)
    pd.testing.assert_frame_equal(a, b)


# --- A store that compares definitions -----------------------------------------------------------


def _tiny(**changes) -> vv.Experiment:
    options = {
        "name": "tiny",
        "policies": ["supply-driven"],
        "replications": 2,
        "months": 12,
        "scenario": vv.Scenario.default().with_changes(n_households=300, burn_in_months=3),
        "seed": 0,
        **changes,
    }
    return vv.Experiment(**options)


CHANGES = {
    "months": {"months": 24},
    "seed": {"seed": 99},
    "scenario.network.mean_degree": {
        "scenario": vv.Scenario.default().with_changes(
            {"network.mean_degree": 6}, n_households=300, burn_in_months=3
        )
    },
    "policy[0].outreach": {"policies": [vv.SupplyDriven().with_changes(outreach=0.2)]},
}


@pytest.mark.parametrize("field", [*CHANGES, "model"])
def test_a_changed_definition_is_refused_naming_the_field_then_recomputed(
    tmp_path, monkeypatch, field
):
    from vraagvolgend import provenance
    from vraagvolgend.store import StaleResults

    vv.run_experiment(_tiny(), tmp_path, executor="serial", progress=False)
    stamps = {f: f.stat().st_mtime_ns for f in (tmp_path / "tiny").iterdir()}
    if field == "model":  # the model's code changed (an edited editable install)
        monkeypatch.setattr(provenance, "model_version", lambda: "0.1.0+edited")
        changed = _tiny()
    else:
        changed = _tiny(**CHANGES[field])
    with pytest.raises(StaleResults) as info:
        vv.run_experiment(changed, tmp_path, executor="serial", progress=False)
    assert field in info.value.fields and "--recompute" in str(info.value)
    assert "\n" not in str(info.value) and info.value.runs == 2
    assert {f: f.stat().st_mtime_ns for f in (tmp_path / "tiny").iterdir()} == stamps
    again = vv.run_experiment(changed, tmp_path, executor="serial", progress=False, recompute=True)
    fresh = vv.run_experiment(changed, tmp_path / "fresh", executor="serial", progress=False)
    pd.testing.assert_frame_equal(tidy(again), tidy(fresh))
    # and now the store holds the new definition: reused as it is
    stamps = {f: f.stat().st_mtime_ns for f in (tmp_path / "tiny").iterdir()}
    vv.run_experiment(changed, tmp_path, executor="serial", progress=False)
    assert {f: f.stat().st_mtime_ns for f in (tmp_path / "tiny").iterdir()} == stamps


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"burn_in": "each"}, "burn_in"),
        ({"baseline": "demand-driven"}, "baseline.policy.name"),
        (
            {"policies": [vv.SupplyDriven(outreach=0.2), "demand-driven"]},
            "baseline.policy.outreach",
        ),
    ],
)
def test_where_the_runs_start_is_part_of_their_definition(tmp_path, changes, field):
    """The burn-in mode and the baseline's definition determine every forked run: a stored
    run made from another start is refused, naming it (a changed baseline makes the other
    policies' runs stale too)."""
    from vraagvolgend.store import StaleResults

    two = {"policies": ["supply-driven", "demand-driven"], "replications": 1}
    vv.run_experiment(_tiny(**two), tmp_path, executor="serial", progress=False)
    with pytest.raises(StaleResults) as info:
        vv.run_experiment(_tiny(**{**two, **changes}), tmp_path, executor="serial", progress=False)
    assert field in info.value.fields and info.value.runs == 2


def test_fewer_replications_return_only_the_current_runs(tmp_path):
    vv.run_experiment(_tiny(), tmp_path, executor="serial", progress=False)
    one = vv.run_experiment(_tiny(replications=1), tmp_path, executor="serial", progress=False)
    assert set(one["replication"]) == {0}


def test_a_run_stored_without_its_determinants_is_not_reused_silently(tmp_path):
    from vraagvolgend.store import StaleResults

    e = _tiny(replications=1)
    store = ResultStore(tmp_path)
    [spec] = e.runs()
    store.write(spec.key, run_tables(vv.run(spec.scenario, months=12)), {"name": "tiny"})
    with pytest.raises(StaleResults, match="determinants"):
        vv.run_experiment(e, store, executor="serial", progress=False)


def test_a_lever_with_equal_bounds_is_refused_naming_the_lever():
    with pytest.raises(vv.ParameterError, match=r"^outreach: low and high are both 0\.1"):
        vv.Lever("outreach", 0.1, 0.1)
    assert vv.Uncertainty("network.mean_degree", 6, 6).levels(2) == [6.0, 6.0]


def test_an_experiment_file_chooses_the_burn_in_and_the_baseline(tmp_path):
    """``burn_in`` and ``baseline`` in an experiment file reach the experiment; a bad one is
    refused in one line naming the key."""
    from vraagvolgend.cli import load_experiment

    path = tmp_path / "e.toml"
    path.write_text('policies = ["supply-driven", "demand-driven"]\nburn_in = "each"\n')
    assert load_experiment(path).burn_in == "each"
    path.write_text('policies = ["supply-driven", "demand-driven"]\nbaseline = "demand-driven"\n')
    experiment = load_experiment(path)
    assert experiment.burn_in == "baseline" and experiment.baseline == "demand-driven"
    path.write_text('policies = ["supply-driven"]\nburn_in = "sometimes"\n')
    with pytest.raises(vv.ParameterError, match="burn_in"):
        load_experiment(path)
