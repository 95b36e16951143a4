"""The examples run (at small sizes) so they cannot rot."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_municipality_without_care(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["x", "--households", "1500", "--months", "24"])
    runpy.run_path(str(EXAMPLES / "municipality_without_care.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "Prevalence per domain" in out
    assert "by household type" in out and "by income quintile" in out
    assert "single_parent" in out
