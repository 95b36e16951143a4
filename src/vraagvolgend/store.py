"""A resumable result store: one Parquet file per finished run.

Each run of an experiment is keyed by (experiment, scenario point, policy, replication) and
written to its own file, atomically: the table goes to a temporary name in the same folder
and is renamed into place only when complete, so a file with the final name is always a
finished run, and a half-written one (from a killed process) is never taken for one. Each file
carries the experiment's full definition and the package version as metadata. Re-running an
experiment on a store computes only the runs that are missing.

Example:
    >>> import tempfile, pandas as pd
    >>> store = ResultStore(tempfile.mkdtemp())
    >>> key = RunKey("demo", 0, "supply-driven", 3)
    >>> _ = store.write(key, pd.DataFrame({"year": [1], "cost_eur": [1.0]}), {"note": "x"})
    >>> store.has(key), len(store.load("demo"))
    (True, 1)
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = ["ResultStore", "RunKey"]

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _safe(text: str) -> str:
    return _SAFE.sub("_", text)


@dataclass(frozen=True, order=True)
class RunKey:
    """Which run: experiment, scenario point, policy (its label) and replication."""

    experiment: str
    point: int
    policy: str
    replication: int

    @property
    def filename(self) -> str:
        return f"p{self.point:05d}__{_safe(self.policy)}__r{self.replication:04d}.parquet"


class ResultStore:
    """A folder of Parquet files, one per finished run, grouped by experiment.

    Args:
        path: The store's folder (created if missing).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)

    def _folder(self, experiment: str) -> Path:
        return self.path / _safe(experiment)

    def file(self, key: RunKey) -> Path:
        """Where a run's file lives."""
        return self._folder(key.experiment) / key.filename

    def has(self, key: RunKey) -> bool:
        """Whether the run has finished (its file exists under its final name)."""
        return self.file(key).exists()

    def write(self, key: RunKey, table: pd.DataFrame, metadata: dict) -> Path:
        """Write one finished run atomically (temporary file, then rename)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        folder = self._folder(key.experiment)
        folder.mkdir(parents=True, exist_ok=True)
        keyed = table.assign(
            experiment=key.experiment,
            point=key.point,
            policy=key.policy,
            replication=key.replication,
        )
        arrow = pa.Table.from_pandas(keyed, preserve_index=False)
        meta = dict(arrow.schema.metadata or {})
        meta[b"vraagvolgend"] = json.dumps(metadata, default=str).encode()
        arrow = arrow.replace_schema_metadata(meta)
        final = self.file(key)
        temporary = folder / f".{final.name}.{uuid.uuid4().hex}.tmp"
        pq.write_table(arrow, temporary)
        os.replace(temporary, final)  # atomic on one file system
        return final

    def finished(self, experiment: str) -> set[RunKey]:
        """Keys of the finished runs of an experiment."""
        folder = self._folder(experiment)
        keys = set()
        for f in folder.glob("p*__*__r*.parquet") if folder.exists() else []:
            point, policy, rep = f.stem.split("__")
            keys.add(RunKey(experiment, int(point[1:]), policy, int(rep[1:])))
        return keys

    def metadata(self, key: RunKey) -> dict:
        """The definition and version stored with a run."""
        import pyarrow.parquet as pq

        raw = pq.read_schema(self.file(key)).metadata[b"vraagvolgend"]
        return json.loads(raw)

    def load(self, experiment: str) -> pd.DataFrame:
        """Every finished run of an experiment as one tidy DataFrame."""
        files = sorted(self._folder(experiment).glob("p*__*__r*.parquet"))
        if not files:
            return pd.DataFrame()
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
