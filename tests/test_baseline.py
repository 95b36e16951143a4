"""Baseline regression: a few fixed runs reproduce their recorded summary bit for bit.

When behaviour changes on purpose, regenerate with ``python tests/baseline/record.py`` in the
same commit and say why in its message.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "baseline"))
import record

BASELINE = json.loads(record.FILE.read_text())


@pytest.mark.parametrize("name", sorted(BASELINE))
def test_fixed_run_reproduces_its_baseline(name):
    got = record.summarise(record.policies()[name])
    want = BASELINE[name]
    assert got.keys() == want.keys()
    for part in want:
        diff = {
            k for k in set(got[part]) | set(want[part]) if got[part].get(k) != want[part].get(k)
        }
        assert not diff, f"{name}.{part} differs at {sorted(diff)[:5]}"
