"""The command line, through the installed console script."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzzing as fz
import processes as children
from gates import experiment_file as gates_file
from processes import popen, wait_until
from processes import session_pids as _session_pids

SCRIPT = Path(sys.executable).parent / "vraagvolgend"
#: The command line with the test regime ``held`` registered (tests/gates.py).
GATED = Path(__file__).parent / "gated_cli.py"
SMALL = "n_households = 600\nburn_in_months = 6\n"


def in_process(capsys, *args) -> subprocess.CompletedProcess:
    """Run the command line in this process (faster than the console script)."""
    from vraagvolgend.cli import main

    try:
        status = main([str(a) for a in args])
    except SystemExit as stop:
        status = stop.code
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, status, out, err)


def vv_load(folder):
    import vraagvolgend as vv

    return vv.Result.load(folder)


def cli(*args, check_ok=True, **kwargs) -> subprocess.CompletedProcess:
    done = children.run(
        [str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=300, **kwargs
    )
    if check_ok:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def small(tmp_path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


def test_help_explains_every_option_with_its_default_once(capsys, monkeypatch):
    import vraagvolgend as vv

    for command in ("run", "compare", "sweep", "report", "household", "scenario", "policy"):
        text = in_process(capsys, command, "--help").stdout
        assert "usage: vraagvolgend" in text
        flat = " ".join(text.split())
        assert "(default: None)" not in flat and "(default: False)" not in flat
        assert flat.count("(default:") == len(re.findall(r"\(default: [^)]*\)", flat))
        for option in re.findall(r"\n  (--[a-z-]+)[^\n]*", text):
            entry = flat.split(option, 2)[-1].split(" --", 1)[0]
            assert entry.count("(default") <= 1, (command, option)
    monkeypatch.setenv("COLUMNS", "80")
    assert "(default: 10)" in in_process(capsys, "compare", "--help").stdout
    assert cli("--version").stdout.strip() == f"vraagvolgend {vv.__version__}"
    done = subprocess.run(
        [sys.executable, "-m", "vraagvolgend", "--help"], capture_output=True, text=True, check=True
    )
    assert "compare" in done.stdout


def test_run_and_household(tmp_path, small):
    out = tmp_path / "run"
    cli("run", "--scenario", small, "--months", 12, "--out", out, "--csv")
    for name in ("households", "problems", "monthly", "episodes", "costs", "budget"):
        assert (out / f"{name}.parquet").exists() and (out / f"{name}.csv").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 0 and manifest["months"] == 12
    assert (out / "scenario.toml").exists() and (out / "policy.toml").exists()
    text = cli("household", out, 3).stdout
    assert "Household 3" in text and "ZRM level" in text
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert cli("household", out, 99999, check_ok=False).returncode == 2
    # the folder is not overwritten without --force, and nothing is computed first
    done = cli("run", "--scenario", small, "--months", 12, "--out", out, check_ok=False)
    assert done.returncode == 2 and "--force" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    done = cli(
        "run", "--scenario", small, "--months", 1, "--households", 300, "--out", out, "--force"
    )
    assert done.stdout.startswith("300 households, 1 month, ")
    assert len(vv_load(out).households) == 300
    # 'report' on a run folder: one line, not a KeyError
    done = cli("report", out, check_ok=False)
    assert done.returncode == 2 and "is a run folder" in done.stderr


def test_compare_writes_the_report_and_report_rebuilds_it(tmp_path, small):
    out = tmp_path / "cmp"
    done = cli("compare", "--scenario", small, "--replications", 2, "--months", 12, "--out", out)
    assert "External social-domain cost" in done.stdout and "external_total" not in done.stdout
    for name in ("report.html", "report.md", "costs_by_year.png", "lorenz.png", "runs.parquet"):
        assert (out / name).exists(), name
    (out / "report.html").unlink()
    cli("report", out)
    assert (out / "report.html").exists()
    assert done.stderr == "" or "runs" not in done.stderr  # no progress bar off a terminal


def test_compare_baseline_option(tmp_path, small, capsys):
    out = tmp_path / "cmp"
    args = ("compare", "--scenario", small, "--replications", 1, "--months", 12, "--no-plots")
    done = in_process(capsys, *args, "--out", out, "--baseline", "demand-driven")
    assert done.returncode == 0, done.stderr
    assert "difference against 'demand-driven'" in done.stdout
    from vraagvolgend import Comparison

    assert Comparison.load(out).baseline == "demand-driven"
    done = in_process(capsys, *args, "--out", tmp_path / "x", "--baseline", "nope")
    assert done.returncode == 2 and "baseline" in done.stderr


def test_compare_with_uncertainty_and_an_uncertainty_file(tmp_path, small, capsys):
    out = tmp_path / "cmp"
    args = ("compare", "--scenario", small, "--replications", 1, "--months", 12, "--no-plots")
    file = tmp_path / "u.toml"
    file.write_text(
        "[uncertainty]\ndefaults = false\n[[uncertainty.inputs]]\n"
        "name = 'access.conversation_cost'\nlow = 150\nhigh = 500\n"
    )
    done = in_process(capsys, *args, "--out", out, "--uncertainty", 2, "--uncertain", file)
    assert done.returncode == 0, done.stderr
    assert "probability it is cheaper" in done.stdout and "2 parameter sets" in done.stdout
    from vraagvolgend import Comparison

    u = Comparison.load(out).uncertainty
    assert len(u.draws) == 2 and u.parameters == ["access.conversation_cost"]
    assert "needs at least 10 draws; this run has 2" in done.stdout and u.drivers is None
    # with enough draws, what decides it: the drivers and a break-even value, in the report
    done = in_process(
        capsys, *args, "--out", tmp_path / "d", "--uncertainty", 10, "--uncertain", file,
        "--break-even", 1,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    drivers = Comparison.load(tmp_path / "d").uncertainty.drivers
    assert [b.parameter for b in drivers.break_evens] == ["access.conversation_cost"]
    assert "What decides it" in (tmp_path / "d" / "report.md").read_text()
    file.write_text("[uncertainty]\n[[uncertainty.inputs]]\nname = 'x'\nlow = 2\nhigh = 1\n")
    done = in_process(capsys, *args, "--out", tmp_path / "y", "--uncertain", file)
    assert done.returncode == 2 and "uncertainty.inputs[0].x: needs low ≤ high" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_scenario_and_policy_print_and_validate(tmp_path):
    text = cli("scenario").stdout
    assert "n_households = 24000" in text
    path = tmp_path / "s.toml"
    path.write_text(text)
    assert "valid scenario" in cli("scenario", "--validate", path).stdout
    policy = cli("policy", "demand-driven").stdout
    assert 'regime = "demand-driven"' in policy
    ppath = tmp_path / "p.toml"
    ppath.write_text(policy)
    assert "valid demand-driven policy" in cli("policy", "--validate", ppath).stdout


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("n_households = = 3\n", "is not valid TOML"),
        ("[network]\nmean_degree = 500\n", "network.mean_degree: 500 is out of range"),
        ("[network]\nmean_degre = 5\n", "did you mean 'mean_degree'"),
    ],
)
def test_bad_files_give_one_line_and_a_nonzero_exit(tmp_path, content, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    for args in (("scenario", "--validate", path), ("run", "--scenario", path)):
        done = cli(*args, check_ok=False)
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and fragment in lines[0] and "bad.toml" in lines[0]
        assert "Traceback" not in done.stderr


def test_bad_policy_value_names_the_key(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('regime = "supply-driven"\ncollective_capacity = -2\n')
    done = cli("policy", "--validate", path, check_ok=False)
    assert done.returncode == 2 and "collective_capacity" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def _gated(*args) -> list[str]:
    """The command line in a child that knows the test regime ``held`` (tests/gates.py)."""
    return [sys.executable, str(GATED), *map(str, args)]


def _stored(folder: Path) -> int:
    return len(list(folder.glob("*.parquet")))


def test_sweep_killed_mid_way_and_rerun_completes(tmp_path):
    """SIGKILL once the free runs are stored (point 0's; point 1's held runs cannot finish, nor
    the runs forked with them); the same command then computes only what is missing."""
    hold = tmp_path / "hold"
    hold.write_text("")
    experiment = gates_file(tmp_path, hold)
    store = tmp_path / "store"
    process = popen(_gated("sweep", experiment, "--store", store, "--executor", "serial"))
    try:
        # point 0's runs
        assert wait_until(lambda: _stored(store / "gated") >= 4 or process.poll() is not None)
        assert process.poll() is None
    finally:
        process.kill()
        process.wait()
    first = {f.name: f.stat().st_mtime_ns for f in (store / "gated").glob("*.parquet")}
    assert len(first) == 4
    hold.unlink()
    done = children.run(
        _gated("sweep", experiment, "--store", store, "--executor", "serial"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "8 runs" in done.stdout
    after = {f.name: f.stat().st_mtime_ns for f in (store / "gated").glob("*.parquet")}
    assert len(after) == 8 and all(after[k] == v for k, v in first.items())


def test_bad_experiment_file(tmp_path):
    path = tmp_path / "e.toml"
    path.write_text('name = "x"\nreplicatons = 3\n')
    done = cli("sweep", path, check_ok=False)
    assert done.returncode == 2 and "did you mean 'replications'" in done.stderr


def test_compare_in_parallel_equals_serial(tmp_path, small):
    args = ("compare", "--scenario", small, "--replications", 2, "--months", 12, "--no-plots")
    serial = cli(*args, "--out", tmp_path / "a", "--households", 500)
    pool = cli(
        *args,
        "--out",
        tmp_path / "b",
        "--households",
        500,
        "--executor",
        "processes",
        "--workers",
        2,
    )
    import pandas as pd

    a = pd.read_parquet(tmp_path / "a" / "runs.parquet")
    b = pd.read_parquet(tmp_path / "b" / "runs.parquet")
    pd.testing.assert_frame_equal(a, b)
    assert "500 households" in serial.stdout
    assert serial.stdout.split("Report:")[0] == pool.stdout.split("Report:")[0]
    # one number format: thousands separators, no scientific notation, intervals with a dash
    assert not re.search(r"\de[+-]\d", serial.stdout)
    assert re.search(r"\d{1,3}(,\d{3})* – \d{1,3}(,\d{3})*", serial.stdout)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("run", "--seed", "-1"), "--seed"),
        (("run", "--seed", "x"), "--seed"),
        (("run", "--months", "100000"), "--months"),
        (("run", "--households", "0"), "--households"),
        (("run", "--policy", "demand_driven"), "did you mean 'demand-driven'"),
        (("compare", "--policies", "supply-driven", "suply-driven"), "did you mean"),
        (("compare", "--workers", "0"), "--workers"),
        (("sweep", "missing.toml"), "missing.toml: file not found"),
        (("household", ".", "1"), "manifest"),
    ],
)
def test_bad_arguments_give_one_line_and_status_2(tmp_path, capsys, monkeypatch, args, fragment):
    monkeypatch.chdir(tmp_path)
    done = in_process(capsys, *args)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], done.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


EXPERIMENT = """
name = "cli"
policies = ["supply-driven", "demand-driven"]
replications = 3
months = 24
scenario = "small.toml"
[[uncertainties]]
name = "network.mean_degree"
values = [5, 7, 9]
"""


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("seed = -1", "seed"),
        ('seed = "x"', "seed"),
        ("seed = 1.5", "seed"),
        ("months = 100000", "months"),
        ('name = ".."', "name"),
        ('name = "a/b"', "name"),
        ("replications = 1" + "0" * 400, "replications"),
        ('[[uncertainties]]\nname = "network.mean_degree"\nlow = "a"\nhigh = 2', "low"),
        (
            '[[uncertainties]]\nname = "network.mean_degree"\nlow = 1' + "0" * 400 + "\nhigh = 2",
            "low",
        ),
        ('[[levers]]\nname = "outreach"\nvalues = "abc"', "values"),
        ('policies = "supply-driven"', "policies"),
        ("policies = [{a = 1}]", "policies[0]"),
        ("design = {a = 1}", "design"),
    ],
)
def test_bad_experiment_values_give_one_line(tmp_path, capsys, small, content, fragment):
    path = tmp_path / "e.toml"
    path.write_text(content + "\n")
    done = in_process(capsys, "sweep", path, "--store", tmp_path / "store")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "e.toml" in lines[0], done.stderr


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b'name = "caf\xe9"\n', "UTF-8"),
        (("n_households = 1" + "0" * 400 + "\n").encode(), "n_households"),
        (("[network]\nmean_degree = 1" + "0" * 400 + "\n").encode(), "mean_degree"),
    ],
)
def test_bad_scenario_bytes_give_one_line(tmp_path, capsys, content, fragment):
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    done = in_process(capsys, "scenario", "--validate", path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], done.stderr


def test_policy_regime_that_is_a_table_gives_one_line(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text("regime = {a = 1}\n")
    done = cli("policy", "--validate", path, check_ok=False)
    assert done.returncode == 2 and "regime" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_example_lever_sweep_resumes(tmp_path):
    """`vraagvolgend sweep examples/experiment.toml` twice: the second run computes nothing."""
    example = Path(__file__).parent.parent / "examples" / "experiment.toml"
    text = example.read_text().replace("months = 36", "months = 12")
    text = text.replace('# scenario = "my_scenario.toml"', 'scenario = "small.toml"')
    path = tmp_path / "experiment.toml"
    path.write_text(text)
    (tmp_path / "small.toml").write_text(SMALL)
    store = tmp_path / "s"
    first = cli("sweep", path, "--store", store, "--executor", "serial")
    files = {f: f.stat().st_mtime_ns for f in (store / "outreach_and_networks").iterdir()}
    assert len(files) == 2 * 2 * 2 * 3  # points × policies × lever values × replications
    second = cli("sweep", path, "--store", store, "--executor", "serial")
    assert {f: f.stat().st_mtime_ns for f in files} == files  # nothing computed again
    assert first.stdout == second.stdout
    assert "supply-driven, outreach = 0.1" in second.stdout


def _immutable(folder: Path, on: bool) -> bool:
    if os.geteuid() != 0:
        folder.chmod(0o555 if on else 0o755)
        return True
    done = subprocess.run(["chattr", "+i" if on else "-i", str(folder)], capture_output=True)
    return done.returncode == 0


def test_a_read_only_store_gives_one_line_before_computing(tmp_path, small):
    experiment = tmp_path / "e.toml"
    experiment.write_text(EXPERIMENT)
    store = tmp_path / "store"
    (store / "cli").mkdir(parents=True)
    if not _immutable(store / "cli", True):
        pytest.skip("cannot make a folder read-only here")
    try:
        done = cli("sweep", experiment, "--store", store, "--executor", "serial", check_ok=False)
    finally:
        _immutable(store / "cli", False)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "not writable" in lines[0], done.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(
    ("how", "status"),
    [
        ("ctrl-c", 130),  # SIGINT to the process group, as a terminal sends it
        ("sigterm-with-sigint-ignored", 143),  # e.g. started with & from a script, or nohup
    ],
)
@pytest.mark.parametrize("executor", ["processes", "serial"])
def test_an_interrupted_sweep_keeps_what_finished_and_resumes(tmp_path, how, status, executor):
    hold = tmp_path / "hold"
    hold.write_text("")
    experiment = gates_file(tmp_path, hold)
    store = tmp_path / "store"
    args = _gated("sweep", experiment, "--store", store, "--executor", executor, "--workers", 2)
    ignored = how.startswith("sigterm")
    process = popen(
        args,
        sigint=signal.SIG_IGN if ignored else signal.SIG_DFL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        # Point 0's four runs finish; point 1's held runs wait at the gate (with the
        # supply-driven runs forked from the same burn-ins).
        assert wait_until(lambda: _stored(store / "gated") >= 4 or process.poll() is not None)
        assert process.poll() is None, process.communicate()
        if ignored:
            os.kill(process.pid, signal.SIGTERM)
        else:
            os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=60)  # a bound against hangs only
        assert wait_until(lambda: not _session_pids(process.pid))  # no worker, no forkserver
    finally:
        for pid in _session_pids(process.pid):
            os.kill(pid, signal.SIGKILL)
    assert process.returncode == status, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "4 of 8 runs are stored in" in lines[0], stderr
    assert ("terminated" if ignored else "interrupted") in lines[0] and "resume" in lines[0]
    assert _stored(store / "gated") == 4
    hold.unlink()
    done = children.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "8 runs" in done.stdout, done.stderr


# --- Fuzzed command lines (in-process): status 0, or 2 with one line on stderr ------------------

VALUES = st.one_of(
    st.sampled_from(["-1", "0", "1", "12", "300", "1.5", "x", "", "1" + "0" * 400, "nan"]),
    st.integers(-3, 2000).map(str),
    st.text(max_size=5),
)
OPTIONS = {
    "run": ["--seed", "--months", "--households", "--policy", "--scenario", "--bogus"],
    "compare": [
        "--seed",
        "--months",
        "--households",
        "--policies",
        "--replications",
        "--workers",
        "--executor",
        "--replicatons",
    ],
    "policy": ["--validate"],
    "scenario": ["--validate"],
}
CHEAP = {
    "run": ["--households", "300", "--months", "12"],
    "compare": [
        "--households",
        "300",
        "--months",
        "12",
        "--replications",
        "1",
        "--executor",
        "serial",
        "--no-plots",
    ],
}


@st.composite
def command_lines(draw, folder: Path) -> list[str]:
    command = draw(st.sampled_from([*OPTIONS, "household", "report", "nothing"]))
    argv = [command]
    if command == "household":
        argv += [draw(st.sampled_from([str(folder / "run"), str(folder), "missing"])), draw(VALUES)]
    elif command == "report":
        argv += [draw(st.sampled_from([str(folder / "run"), str(folder), "missing"]))]
    elif command == "policy" and draw(st.booleans()):
        argv += [
            draw(st.sampled_from(["supply-driven", "demand-driven", "demand_driven", "none", "x"]))
        ]
    for option in draw(st.lists(st.sampled_from(OPTIONS.get(command, ["--x"])), max_size=3)):
        value = draw(VALUES)
        if option == "--policy":
            value = draw(st.sampled_from(["supply-driven", "none", "demand_driven"]) | VALUES)
        elif option in ("--scenario", "--validate"):
            value = draw(
                st.sampled_from(
                    [
                        str(folder / "bad.toml"),
                        str(folder / "ok.toml"),
                        str(folder / "latin1.toml"),
                        "missing.toml",
                    ]
                )
            )
        elif option == "--executor":
            value = draw(st.sampled_from(["serial", "processes", "threads"]))
        argv += [option, value]
    if command in CHEAP:
        argv += [*CHEAP[command], "--out", str(folder / f"out-{command}"), "--force"]
    return argv


@pytest.fixture(scope="module")
def fuzz_folder(tmp_path_factory) -> Path:
    from vraagvolgend.cli import main

    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "ok.toml").write_text(SMALL)
    (folder / "bad.toml").write_text("[network]\nmean_degree = 1" + "0" * 400 + "\n")
    (folder / "latin1.toml").write_bytes('name = "café"\n'.encode("latin-1"))
    assert (
        main(
            [
                "run",
                "--scenario",
                str(folder / "ok.toml"),
                "--months",
                "12",
                "--out",
                str(folder / "run"),
            ]
        )
        == 0
    )
    return folder


@settings(
    max_examples=fz.examples(120),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_fuzzed_command_lines_end_in_success_or_one_line(fuzz_folder, capsys, data):
    from vraagvolgend.cli import main

    argv = data.draw(command_lines(fuzz_folder))
    try:
        status = main(argv)
    except SystemExit as stop:  # argparse: --help, --version, usage errors
        status = stop.code
    _, err = capsys.readouterr()
    assert status in (0, 2), (argv, status, err)
    if status == 2:
        assert len(err.strip().splitlines()) == 1 and "error" in err, (argv, err)
    assert "Traceback" not in err
