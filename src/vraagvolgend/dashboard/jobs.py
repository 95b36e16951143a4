"""A comparison run in a worker process, with its progress, off the dashboard's thread.

:class:`CompareJob` writes the scenario and policies as TOML into a folder, starts
``python -m vraagvolgend.dashboard.worker`` on it (which calls :func:`vraagvolgend.compare`,
with an uncertainty analysis when draws are asked for, saves the comparison and writes the
report) and follows the progress the worker tells, task by task. The dashboard stays
responsive while it runs and can cancel it.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path

import pandas as pd

from .worker import PROGRESS

__all__ = ["CompareJob"]


class CompareJob:
    """One comparison in a worker process.

    Args:
        scenario: The municipality.
        policies: Two or more policies (the first is the baseline).
        replications: Replications per policy.
        months: Months per run.
        seed: Root seed.
        draws: Parameter sets of an uncertainty analysis (0: none).
        draw_replications: Replications per draw.
        folder: Where to work (default: a new temporary folder).

    Attributes:
        state: ``"new"``, ``"running"``, ``"done"``, ``"failed"`` or ``"cancelled"``.
        done, total: Runs finished and runs in all (a run is one policy in one replication,
            of the comparison or of a draw).
        phase: What runs now: ``"replications"`` (the comparison), then ``"uncertainty"``.
        events: The progress told by the worker: ``(phase, done, total)`` in tasks (a task
            runs every policy in one replication).
        error: The worker's one-line error when it failed.
    """

    def __init__(
        self,
        scenario,
        policies,
        *,
        replications: int,
        months: int,
        seed: int = 0,
        draws: int = 0,
        draw_replications: int = 1,
        folder: str | Path | None = None,
    ):
        self.folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="vv-compare-"))
        self.scenario = scenario
        self.policies = list(policies)
        self.replications = replications
        self.months = months
        self.seed = seed
        self.draws = draws
        self.draw_replications = draw_replications
        self.state = "new"
        self.phase = "replications"
        self.events: list[tuple[str, int, int]] = []
        self._finished = {"replications": 0, "uncertainty": 0}  # tasks per phase
        self.done = 0
        self.total = self._tasks() * len(self.policies)
        self.error: str | None = None
        self._process: subprocess.Popen | None = None
        self._comparison = None

    @property
    def result_folder(self) -> Path:
        return self.folder / "result"

    def _tasks(self) -> int:
        """Tasks in all: the comparison's replications, and the draws' when there are any."""
        extra = self.draws * self.draw_replications if self.draws > 0 else 0
        return self.replications + max(extra, 0)

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0

    @property
    def draws_done(self) -> int:
        """Draws of the uncertainty analysis with all their replications finished (the worker
        runs them draw by draw)."""
        return self._finished["uncertainty"] // max(self.draw_replications, 1)

    def start(self) -> CompareJob:
        """Write the inputs and start the worker; returns at once."""
        (self.folder / "policies").mkdir(parents=True, exist_ok=True)
        self.scenario.to_toml(self.folder / "scenario.toml")
        files = []
        for i, policy in enumerate(self.policies):
            path = self.folder / "policies" / f"{i:02d}.toml"
            policy.to_toml(path)
            files.append(str(path))
        spec = {
            "policies": files,
            "replications": self.replications,
            "months": self.months,
            "seed": self.seed,
            "draws": self.draws,
            "draw_replications": self.draw_replications,
        }
        (self.folder / "job.json").write_text(json.dumps(spec), encoding="utf-8")
        env = {**os.environ, "VRAAGVOLGEND_THREADS": os.environ.get("VRAAGVOLGEND_THREADS", "1")}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "vraagvolgend.dashboard.worker", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.state = "running"
        threading.Thread(target=self._follow, daemon=True).start()
        return self

    def _follow(self) -> None:
        process = self._process
        fd = process.stderr.fileno()
        tail = partial = b""
        while chunk := os.read(fd, 4096):
            tail = (tail + chunk)[-4096:]
            *lines, partial = (partial + chunk).split(b"\n")
            for line in lines:
                self._told(line.decode("utf-8", "replace").strip())
        code = process.wait()
        process.stderr.close()
        if self.state == "cancelled":
            return
        if code == 0:
            self.done = self.total
            self.state = "done"
        else:
            lines = [
                line.strip()
                for line in tail.decode("utf-8", "replace").replace("\r", "\n").splitlines()
                if line.strip() and not line.startswith(PROGRESS)
            ]
            message = next((x for x in reversed(lines) if "error" in x.lower()), None)
            self.error = message or (lines[-1] if lines else f"worker exit status {code}")
            self.error = self.error.removeprefix("vraagvolgend: error: ")
            self.state = "failed"

    def _told(self, line: str) -> None:
        """Take in a progress line of the worker (other lines are left for the error)."""
        if not line.startswith(PROGRESS):
            return
        phase, done, total = json.loads(line.removeprefix(PROGRESS))
        self.events.append((phase, done, total))
        self.phase = phase
        self._finished[phase] = done
        self.done = min(sum(self._finished.values()) * len(self.policies), self.total)

    def wait(self, timeout: float | None = None) -> str:
        """Wait for the worker to end; returns the state."""
        if self._process is not None:
            self._process.wait(timeout)
            for _ in range(100):
                if self.state != "running":
                    break
                threading.Event().wait(0.05)
        return self.state

    def cancel(self) -> None:
        """Stop the worker."""
        if self._process is not None and self._process.poll() is None:
            self.state = "cancelled"
            self._process.terminate()

    def comparison(self):
        """The finished comparison (with its decomposition when the worker saved one)."""
        if self._comparison is None:
            from ..comparison import Comparison

            c = Comparison.load(self.result_folder)
            table = self.result_folder / "decomposition.parquet"
            if table.exists() and getattr(c, "decomposition", None) is None:
                c.decomposition = _Decomposition(pd.read_parquet(table))
            self._comparison = c
        return self._comparison

    @property
    def report(self) -> Path:
        return self.result_folder / "report.html"

    def zip_bytes(self) -> bytes:
        """The result folder as a zip archive."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(self.result_folder.rglob("*")):
                if path.is_file():
                    archive.write(path, Path("comparison") / path.relative_to(self.result_folder))
        return buffer.getvalue()


class _Decomposition:
    """A decomposition read back from its table."""

    def __init__(self, table: pd.DataFrame):
        self.table = table
