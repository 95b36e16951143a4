"""Result folders: --force replaces only what vraagvolgend wrote; damaged folders give one line."""

from __future__ import annotations

import json

import pytest

import vraagvolgend as vv
from vraagvolgend.cli import main
from vraagvolgend.folders import folder_kind, prepare_output, remove_result_folder

SMALL = ["--households", "200", "--months", "12"]


def status(capsys, *args):
    try:
        code = main([str(a) for a in args])
    except SystemExit as stop:  # argparse's own errors
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def run_folder(tmp_path, capsys):
    folder = tmp_path / "run"
    code, _, err = status(capsys, "run", *SMALL, "--out", folder)
    assert code == 0, err
    return folder


def test_force_refuses_a_folder_vraagvolgend_did_not_write(tmp_path, capsys):
    user = tmp_path / "mine"
    (user / "sub").mkdir(parents=True)
    (user / "notes.txt").write_text("my notes")
    (user / "sub" / "data.csv").write_text("1,2")
    code, _, err = status(capsys, "run", *SMALL, "--out", user, "--force")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "not written by vraagvolgend" in err
    assert (user / "notes.txt").read_text() == "my notes"
    assert (user / "sub" / "data.csv").read_text() == "1,2"


def test_force_refuses_the_working_directory(tmp_path, capsys, monkeypatch):
    (tmp_path / "keep.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    code, _, err = status(capsys, "run", *SMALL, "--out", ".", "--force")
    assert code == 2 and "not written by vraagvolgend" in err
    assert (tmp_path / "keep.txt").exists()


def test_force_refuses_a_result_folder_holding_a_users_file(run_folder, capsys):
    (run_folder / "my_analysis.ipynb").write_text("{}")
    code, _, err = status(capsys, "run", *SMALL, "--out", run_folder, "--force")
    assert code == 2 and "my_analysis.ipynb" in err
    assert (run_folder / "my_analysis.ipynb").exists() and folder_kind(run_folder) == "run"


def test_force_replaces_a_result_folder(run_folder, capsys):
    before = (run_folder / "manifest.json").stat().st_mtime_ns
    code, _, err = status(capsys, "run", *SMALL, "--seed", "3", "--out", run_folder, "--force")
    assert code == 0, err
    assert json.loads((run_folder / "manifest.json").read_text())["seed"] == 3
    assert (run_folder / "manifest.json").stat().st_mtime_ns != before


def test_without_force_an_existing_result_folder_is_refused(run_folder, capsys):
    code, _, err = status(capsys, "run", *SMALL, "--out", run_folder)
    assert code == 2 and "--force" in err


def test_prepare_output_in_python(tmp_path):
    assert prepare_output(tmp_path / "new", force=False) == (tmp_path / "new", False)
    with pytest.raises(vv.ParameterError, match="not written by vraagvolgend"):
        remove_result_folder(tmp_path)
    (tmp_path / "file").write_text("")
    with pytest.raises(vv.ParameterError, match="is not a folder"):
        prepare_output(tmp_path / "file", force=True)


def _truncate(file):
    data = file.read_bytes()
    file.write_bytes(data[: len(data) // 2])


def test_a_truncated_table_gives_one_line(run_folder, tmp_path, capsys):
    _truncate(run_folder / "episodes.parquet")
    code, _, err = status(capsys, "household", run_folder, 1)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "episodes.parquet" in err and "damaged or truncated" in err


@pytest.fixture
def compare_folder(tmp_path, capsys):
    folder = tmp_path / "compare"
    code, _, err = status(
        capsys, "compare", *SMALL, "--replications", 2, "--no-plots", "--out", folder
    )
    assert code == 0, err
    return folder


def test_report_on_damaged_comparison_folders_gives_one_line(compare_folder, capsys):
    manifest = compare_folder / "manifest.json"
    data = json.loads(manifest.read_text())
    del data["months"]
    manifest.write_text(json.dumps(data))
    code, _, err = status(capsys, "report", compare_folder, "--no-plots")
    assert code == 2 and "months" in err and "missing" in err, err
    data["months"] = 12
    manifest.write_text(json.dumps(data))
    _truncate(compare_folder / "runs.parquet")
    code, _, err = status(capsys, "report", compare_folder, "--no-plots")
    assert code == 2 and "runs.parquet" in err and len(err.strip().splitlines()) == 1, err


def test_compare_again_on_its_folder_reuses_its_replications(compare_folder, capsys):
    stored = compare_folder / "replications" / "comparison"
    stamps = {f: f.stat().st_mtime_ns for f in stored.iterdir()}
    code, _, err = status(
        capsys, "compare", *SMALL, "--replications", 2, "--no-plots", "--out", compare_folder
    )
    assert code == 0, err
    assert {f: f.stat().st_mtime_ns for f in stored.iterdir()} == stamps
    code, _, err = status(
        capsys,
        "compare",
        *SMALL,
        "--replications",
        2,
        "--seed",
        5,
        "--no-plots",
        "--out",
        compare_folder,
    )
    assert code == 2 and "seed" in err and "--recompute" in err, err


@pytest.mark.parametrize("args", [["--port", "-1"], ["--port", "99999"], ["--host", ""]])
def test_dashboard_refuses_a_bad_address_in_one_line(capsys, args):
    code, _, err = status(capsys, "dashboard", *args)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert ("--port" in err and "65" in err) or "empty" in err


def test_an_empty_experiment_file_is_refused(tmp_path, capsys):
    path = tmp_path / "empty.toml"
    path.write_text("")
    code, _, err = status(capsys, "sweep", path)
    assert code == 2 and "empty" in err and "policies" in err


def test_a_population_too_large_for_memory_is_refused_with_an_estimate(tmp_path, capsys):
    from vraagvolgend import memory

    code, _, err = status(capsys, "run", "--households", 20_000_000, "--out", tmp_path / "r")
    need = memory.estimate_peak_bytes(20_000_000, 60)
    if memory.available_bytes() is not None and need > memory.available_bytes():
        assert code == 2 and "GB at peak" in err and "--no-memory-check" in err, err
        assert not (tmp_path / "r").exists()
    else:  # pragma: no cover - a machine with more than ~90 GB free
        pytest.skip("this machine has memory for 20 M households")


def test_the_memory_check_compares_the_estimate_with_what_is_available(monkeypatch):
    from vraagvolgend import memory

    monkeypatch.setattr(memory, "available_bytes", lambda: 1e9)
    memory.check_memory(100_000, 60)  # about 0.7 GB
    with pytest.raises(vv.ParameterError, match=r"about 1\.9 GB at peak, but 1\.0 GB"):
        memory.check_memory(200_000, 120)
    monkeypatch.setattr(memory, "available_bytes", lambda: None)
    memory.check_memory(10**9, 1200)  # unknown: no refusal


def test_main_leaves_no_sigterm_handler_behind(capsys):
    import signal

    before = signal.getsignal(signal.SIGTERM)
    status(capsys, "scenario")
    assert signal.getsignal(signal.SIGTERM) is before
