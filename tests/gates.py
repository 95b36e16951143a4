"""A policy whose runs wait at a gate: interrupt tests without racing the machine.

Runs of :class:`Held` block while the file named by ``hold`` exists; runs of every other
policy go through. A test sends its signal once the free runs are stored, so the sweep is
interrupted mid-way on any machine, however fast or loaded: no sleeps, no counts of seconds.
Imported only by the child processes of tests (it registers the regime ``held``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import ClassVar

import vraagvolgend as vv
from vraagvolgend.parameters import param


@dataclass(frozen=True)
class Held(vv.SupplyDriven):
    """Supply-driven, but every run waits while the file ``hold`` exists."""

    regime: ClassVar[str] = "held"
    hold: str = param("-", kind="str", source="test", doc="runs wait while this file exists")

    def intensity(self, severity):
        while self.hold != "-" and os.path.exists(self.hold):
            time.sleep(0.01)  # a run held at the gate; the signal ends it
        return super().intensity(severity)


def experiment_file(folder, hold, *, replications=2) -> str:
    """An experiment file with free supply-driven runs and held runs (held.toml beside it)."""
    (folder / "held.toml").write_text(f'regime = "held"\nname = "held"\nhold = "{hold}"\n')
    (folder / "small.toml").write_text("n_households = 400\nburn_in_months = 3\n")
    path = folder / "gated.toml"
    path.write_text(
        'name = "gated"\npolicies = ["supply-driven", "held.toml"]\n'
        f'replications = {replications}\nmonths = 12\nscenario = "small.toml"\n'
    )
    return str(path)
