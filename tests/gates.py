"""A policy whose runs wait at a gate: interrupt tests without racing the machine.

Runs of :class:`Held` block while the file named by ``hold`` exists (only in a municipality of
mean network degree ``mean_degree``, when that is set); runs of every other policy go through.
A sweep forks every policy of one scenario point and replication from one burn-in and stores
them together, so a held policy holds its whole group: the gate is set at one scenario point,
and the groups of the other points finish. A test sends its signal once the free runs are
stored, so the sweep is interrupted mid-way on any machine, however fast or loaded: no sleeps,
no counts of seconds. Imported only by the child processes of tests (it registers the regime
``held``).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import ClassVar

import vraagvolgend as vv
from vraagvolgend.parameters import param


@dataclass(frozen=True)
class Held(vv.SupplyDriven):
    """Supply-driven, but every run waits while the file ``hold`` exists (with ``mean_degree``
    set, only the runs at scenario points of that mean network degree)."""

    regime: ClassVar[str] = "held"
    hold: str = param("-", kind="str", source="test", doc="runs wait while this file exists")
    mean_degree: float = param(
        0.0, kind="float", lo=0.0, hi=100.0, source="test", doc="wait only at this mean degree"
    )

    def intensity(self, severity):
        if self.hold != "-" and os.path.exists(self.hold) and self._here():
            while os.path.exists(self.hold):
                time.sleep(0.01)  # a run held at the gate; the signal ends it
        return super().intensity(severity)

    def _here(self) -> bool:
        """Whether the municipality this rule runs in is the gated scenario point (a policy
        does not see its scenario: the model is found among the callers)."""
        if not self.mean_degree:
            return True
        frame = sys._getframe(1)
        while frame is not None:
            model = frame.f_locals.get("self")
            if isinstance(model, vv.MunicipalityModel):
                return model.params.network.mean_degree == self.mean_degree
            frame = frame.f_back
        raise RuntimeError("Held: no municipality among the callers")


def experiment_file(folder, hold, *, replications=2) -> str:
    """An experiment file of supply-driven and held runs (held.toml beside it) at two scenario
    points, mean degree 5 and 9: every run at point 0 is free, the held runs at point 1 wait
    (and hold the supply-driven runs forked with them)."""
    (folder / "held.toml").write_text(
        f'regime = "held"\nname = "held"\nhold = "{hold}"\nmean_degree = 9.0\n'
    )
    (folder / "small.toml").write_text("n_households = 400\nburn_in_months = 3\n")
    path = folder / "gated.toml"
    path.write_text(
        'name = "gated"\npolicies = ["supply-driven", "held.toml"]\n'
        f'replications = {replications}\nmonths = 12\nscenario = "small.toml"\n'
        'uncertainties = [{name = "network.mean_degree", values = [5.0, 9.0]}]\n'
    )
    return str(path)
