"""The README's numbers come from a run (scripts/readme_numbers.py)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location(
        "readme_numbers", ROOT / "scripts/readme_numbers.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_holds_what_the_script_last_wrote():
    script = _script()
    numbers = json.loads(script.RECORD.read_text(encoding="utf-8"))
    assert script.block(numbers) in script.README.read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_fresh_run_gives_the_readmes_numbers():
    script = _script()
    recorded = json.loads(script.RECORD.read_text(encoding="utf-8"))
    fresh = json.loads(json.dumps(script.compute(workers=2)))
    assert fresh.keys() == recorded.keys()
    assert fresh["settings"] == recorded["settings"]
    now = _flat(fresh)
    for key, value in _flat(recorded).items():
        assert now[key] == pytest.approx(value, rel=1e-9), key


def _flat(data, prefix=""):
    """Numbers of a nested record by dotted key."""
    out = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out.update(_flat(value, name))
        elif isinstance(value, list):
            out.update({f"{name}[{i}]": v for i, v in enumerate(value)})
        else:
            out[name] = value
    return out
