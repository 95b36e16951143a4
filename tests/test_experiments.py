"""Experiments: designs, the resumable store, and identical results on every executor."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzzing as fz
import vraagvolgend as vv
from processes import session_pids as _session_pids
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


def test_a_killed_sweep_resumes_to_the_uninterrupted_result(tmp_path):
    """SIGKILL a sweep part-way, resume it: exactly the uninterrupted result, no run twice."""
    script = tmp_path / "sweep.py"
    script.write_text(
        textwrap.dedent("""
        import sys, vraagvolgend as vv
        s = vv.Scenario.default().with_changes(n_households=2000, burn_in_months=24)
        e = vv.Experiment("k", ["supply-driven", "demand-driven"],
                          [vv.Uncertainty("network.mean_degree", values=[5, 7, 9])],
                          replications=3, months=24, scenario=s)
        if __name__ == "__main__":
            vv.run_experiment(e, sys.argv[1], executor="serial", progress=False)
    """)
    )
    store = tmp_path / "store"
    folder = store / "k"
    process = subprocess.Popen([sys.executable, str(script), str(store)])
    deadline = time.time() + 120
    while time.time() < deadline and len(list(folder.glob("*.parquet"))) < 5:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    first = {f.name: f.stat().st_mtime_ns for f in folder.glob("*.parquet")}
    assert 5 <= len(first) < 18, "the sweep should be killed part-way"

    subprocess.run([sys.executable, str(script), str(store)], check=True)
    after = {f.name: f.stat().st_mtime_ns for f in folder.glob("*.parquet")}
    assert len(after) == 18
    assert all(after[name] == stamp for name, stamp in first.items())  # none computed twice

    subprocess.run([sys.executable, str(script), str(tmp_path / "clean")], check=True)
    resumed = tidy(ResultStore(store).load("k"))
    clean = tidy(ResultStore(tmp_path / "clean").load("k"))
    pd.testing.assert_frame_equal(resumed, clean)


def test_killing_a_dask_worker_loses_no_run(tmp_path):
    """SIGKILL one worker process of a local cluster while the sweep runs: every run still
    arrives, identical to the serial result."""
    import threading

    from dask.distributed import Client, LocalCluster

    s = vv.Scenario.default().with_changes(n_households=2000, burn_in_months=24)
    e = vv.Experiment(
        "w",
        ["supply-driven", "demand-driven"],
        [vv.Uncertainty("network.mean_degree", values=[5, 7, 9])],
        replications=2,
        months=24,
        scenario=s,
    )
    serial = vv.run_experiment(e, tmp_path / "serial", executor="serial", progress=False)

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = Client(cluster)
    try:
        pids = list(client.run(os.getpid).values())
        out = {}
        sweep = threading.Thread(
            target=lambda: out.update(
                r=vv.run_experiment(e, tmp_path / "dask", executor=client, progress=False)
            )
        )
        sweep.start()
        folder = tmp_path / "dask" / "w"
        deadline = time.time() + 120
        while time.time() < deadline and len(list(folder.glob("*.parquet"))) < 2:
            time.sleep(0.02)
        os.kill(pids[0], signal.SIGKILL)
        finished_at_kill = len(list(folder.glob("*.parquet")))
        sweep.join(timeout=300)
        assert not sweep.is_alive()
    finally:
        client.close()
        cluster.close()
    assert finished_at_kill < 12, "the worker should be killed while runs remain"
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


SWEEP = """
import sys, vraagvolgend as vv
s = vv.Scenario.default().with_changes(n_households=3000, burn_in_months=24)
e = vv.Experiment("i", ["supply-driven", "demand-driven"],
                  [vv.Uncertainty("network.mean_degree", values=[5, 6, 7, 8, 9, 10])],
                  replications=4, months=36, scenario=s)
if __name__ == "__main__":
    vv.run_experiment(e, sys.argv[1], executor="processes", workers=2, progress=False)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigkill_of_the_parent_leaves_no_worker_alive(tmp_path):
    script = tmp_path / "sweep.py"
    script.write_text(SWEEP)
    store = tmp_path / "store"
    process = subprocess.Popen([sys.executable, str(script), str(store)], start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not list((store / "i").glob("*.parquet")):
            time.sleep(0.05)
        children = _session_pids(process.pid) - {process.pid}
        assert len(children) >= 2  # the workers (and the forkserver)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        deadline = time.time() + 5
        while time.time() < deadline and _session_pids(process.pid):
            time.sleep(0.1)
        assert _session_pids(process.pid) == set()
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
        assert fz.names_a_key(err, [(k,) for k in data]) or "TOML" in str(err), (err, data)
        return
    # accepted: its first run (scenario point, policy variant, replication) runs cleanly
    assert experiment.months <= 1200 and experiment.seed >= 0
    points = experiment.scenario_points()
    scenario = experiment._scenario_at(points.iloc[0].dropna().to_dict(), "point 0")
    _, policy = experiment.policy_variants()[0]
    result = vv.run(fz.small(scenario), policy, seed=experiment.seed, months=fz.MONTHS)
    fz.check_result(result)


# --- A real cluster, started the way users start one ---------------------------------------------

CLUSTER_EXPERIMENT = """
name = "cluster"
policies = ["supply-driven", "demand-driven"]
replications = 3
months = 24
scenario = "small.toml"
[[uncertainties]]
name = "network.mean_degree"
values = [5, 7, 9]
[[levers]]
name = "outreach"
values = [0.0, 0.1]
"""


@pytest.mark.slow
def test_a_sweep_on_a_real_dask_cluster_survives_a_killed_worker(tmp_path):
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1; the sweep runs through
    `vraagvolgend sweep --scheduler tcp://…`; one worker is killed mid-sweep; the stored
    results are identical to the serial path."""
    bin_dir = Path(sys.executable).parent
    (tmp_path / "small.toml").write_text("n_households = 2000\nburn_in_months = 24\n")
    experiment = tmp_path / "e.toml"
    experiment.write_text(CLUSTER_EXPERIMENT)
    address_file = tmp_path / "scheduler.json"
    logs = open(tmp_path / "cluster.log", "w")  # noqa: SIM115 - closed in finally
    processes = [
        subprocess.Popen(
            [
                str(bin_dir / "dask"),
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
            start_new_session=True,
        )
    ]
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not address_file.exists():
            time.sleep(0.1)
        time.sleep(0.2)
        address = json.loads(address_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        workers = [
            subprocess.Popen(
                [
                    str(bin_dir / "dask"),
                    "worker",
                    address,
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                ],
                stdout=logs,
                stderr=logs,
                start_new_session=True,
            )
            for _ in range(2)
        ]
        processes += workers
        from dask.distributed import Client

        with Client(address) as client:
            client.wait_for_workers(2, timeout=60)
        store = tmp_path / "dask"
        sweep = subprocess.Popen(
            [
                str(bin_dir / "vraagvolgend"),
                "sweep",
                str(experiment),
                "--store",
                str(store),
                "--scheduler",
                address,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.time() + 60
        while time.time() < deadline and len(list((store / "cluster").glob("*.parquet"))) < 3:
            time.sleep(0.02)
        workers[0].kill()
        finished_at_kill = len(list((store / "cluster").glob("*.parquet")))
        out, err = sweep.communicate(timeout=120)
        assert sweep.returncode == 0, err
    finally:
        for p in processes:
            p.kill()
            p.wait()
        logs.close()
    assert finished_at_kill < 36, "the worker should be killed while runs remain"
    assert "36 runs" in out
    serial = tmp_path / "serial"
    subprocess.run(
        [
            str(bin_dir / "vraagvolgend"),
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
