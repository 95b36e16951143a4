"""The examples run (at small sizes) so they cannot rot."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_municipality_without_care(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["x", "--households", "1500", "--months", "24"])
    runpy.run_path(str(EXAMPLES / "municipality_without_care.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "Prevalence per domain" in out
    assert "by household type" in out and "by income quintile" in out
    assert "single_parent" in out


def test_compare_regimes(capsys, monkeypatch, tmp_path):
    out = tmp_path / "report"
    monkeypatch.setattr(
        sys,
        "argv",
        ["x", "--replications", "2", "--households", "1200", "--months", "24", "--out", str(out)],
    )
    runpy.run_path(str(EXAMPLES / "compare_regimes.py"), run_name="__main__")
    text = capsys.readouterr().out
    assert "External social-domain cost" in text and "demand-driven" in text
    report = (out / "report.md").read_text()
    assert "annual cost per law" in report and "demand-driven − supply-driven" in report
    assert (out / "report.html").exists() and (out / "costs_by_year.png").exists()
    assert (out / "summary.csv").exists() and (out / "runs.parquet").exists()
    assert (out / "scenario.toml").exists() and (out / "manifest.json").exists()


def test_sweep_contracts(capsys, monkeypatch, tmp_path):
    argv = [
        "x",
        "--replications",
        "2",
        "--households",
        "800",
        "--months",
        "12",
        "--store",
        str(tmp_path),
        "--workers",
        "2",
    ]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(EXAMPLES / "sweep_contracts.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "demand-driven__contract=task__collective_capacity=1.5" in out
    assert "Δ annual external cost" in out
    # run again: the lever sweep resumes from its store and computes nothing
    files = {f: f.stat().st_mtime_ns for f in (tmp_path / "contracts").iterdir()}
    assert len(files) == 2 * 3 * 2 * 2
    runpy.run_path(str(EXAMPLES / "sweep_contracts.py"), run_name="__main__")
    assert capsys.readouterr().out == out
    assert {f: f.stat().st_mtime_ns for f in files} == files


@pytest.mark.parametrize(
    ("script", "args", "expect"),
    [
        ("first_run.py", ["--households", "800", "--months", "12"], "Household"),
        (
            "custom_policy.py",
            ["--replications", "2", "--households", "800", "--months", "12"],
            "debt-first",
        ),
        (
            "custom_scenario.py",
            ["--households", "800", "--replications", "2", "--months", "12"],
            "weak networks",
        ),
    ],
)
def test_other_examples(capsys, monkeypatch, tmp_path, script, args, expect):
    if script == "custom_scenario.py":
        args = [*args, "--out", str(tmp_path)]
    monkeypatch.setattr(sys, "argv", ["x", *args])
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    assert expect in capsys.readouterr().out


def test_experiment_file_example_is_valid():
    from vraagvolgend.cli import load_experiment

    e = load_experiment(EXAMPLES / "experiment.toml")
    assert len(e.runs()) == 2 * 2 * 2 * 3


def test_notebook_display_and_plots():
    import matplotlib

    matplotlib.use("Agg")
    import vraagvolgend as vv

    s = vv.Scenario.default().with_changes(n_households=400, burn_in_months=6)
    r = vv.run(s, "supply-driven", months=12)
    assert "<table" in r._repr_html_() and "youth_care_share" in r._repr_html_()
    assert len(r.plot().axes[0].lines) == 4  # households served per law
    c = vv.compare(["supply-driven", "demand-driven"], s, replications=2, months=12, progress=False)
    assert "<table" in c._repr_html_()
    assert len(c.plot().axes[0].patches) == 2 * 7


def test_uncertainty(capsys, monkeypatch, tmp_path):
    out = tmp_path / "draws.csv"
    argv = ["x", "--draws", "2", "--replications", "1", "--households", "300", "--months", "12"]
    monkeypatch.setattr(sys, "argv", [*argv, "--workers", "1", "--out", str(out)])
    runpy.run_path(str(EXAMPLES / "uncertainty.py"), run_name="__main__")
    text = capsys.readouterr().out
    assert "probability it is cheaper" in text and "policy.continuation" in text
    import pandas as pd

    assert len(pd.read_csv(out)) == 2
