"""The command line, through the installed console script."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "vraagvolgend"
SMALL = "n_households = 600\nburn_in_months = 6\n"


def cli(*args, check_ok=True, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(
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


def test_help_explains_every_option_with_its_default():
    for command in ("run", "compare", "sweep", "report", "household", "scenario", "policy"):
        text = cli(command, "--help").stdout
        assert "usage: vraagvolgend" in text
    assert "(default: 10)" in cli("compare", "--help").stdout
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
    assert cli("household", out, 99999, check_ok=False).returncode == 2


def test_compare_writes_the_report_and_report_rebuilds_it(tmp_path, small):
    out = tmp_path / "cmp"
    done = cli("compare", "--scenario", small, "--replications", 2, "--months", 12, "--out", out)
    assert "external_total" in done.stdout
    for name in ("report.html", "report.md", "costs_by_year.png", "lorenz.png", "runs.parquet"):
        assert (out / name).exists(), name
    (out / "report.html").unlink()
    cli("report", out)
    assert (out / "report.html").exists()
    assert done.stderr == "" or "runs" not in done.stderr  # no progress bar off a terminal


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


def test_sweep_interrupted_and_rerun_completes(tmp_path, small):
    experiment = tmp_path / "e.toml"
    experiment.write_text(
        'name = "cli"\npolicies = ["supply-driven", "demand-driven"]\nreplications = 3\n'
        'months = 24\nscenario = "small.toml"\n'
        '[[uncertainties]]\nname = "network.mean_degree"\nvalues = [5, 7, 9]\n'
    )
    store = tmp_path / "store"
    process = subprocess.Popen(
        [str(SCRIPT), "sweep", str(experiment), "--store", str(store), "--executor", "serial"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(list((store / "cli").glob("*.parquet"))) < 3:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert len(list((store / "cli").glob("*.parquet"))) < 18
    done = cli("sweep", experiment, "--store", store, "--executor", "serial")
    assert "18 runs" in done.stdout
    assert len(list((store / "cli").glob("*.parquet"))) == 18


def test_bad_experiment_file(tmp_path):
    path = tmp_path / "e.toml"
    path.write_text('name = "x"\nreplicatons = 3\n')
    done = cli("sweep", path, check_ok=False)
    assert done.returncode == 2 and "did you mean 'replications'" in done.stderr
