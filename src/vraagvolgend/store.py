"""A resumable, self-healing result store: one Parquet file per finished run.

Each run of an experiment is keyed by (experiment, scenario point, policy label, replication).
The key lives in the file itself (the Parquet footer's metadata), never in its name: a file's
name is only a digest of its key, so any label (lever values, ``__``, ``=``, unicode) round-trips.
Files are written atomically (a temporary name in the same folder, renamed into place when
complete) with Parquet page checksums, and every read verifies them. A file that cannot be read,
whose key is missing or does not match its name, or whose pages fail their checksums is moved
aside (``*.corrupt``) with a :class:`StoreWarning` and counts as not finished, so the next run
of the experiment computes it again. Temporary files left by a killed process are removed.

Example:
    >>> import tempfile, pandas as pd
    >>> store = ResultStore(tempfile.mkdtemp())
    >>> key = RunKey("demo", 0, "supply-driven__outreach=0.1", 3)
    >>> _ = store.write(key, pd.DataFrame({"year": [1], "value": [1.0]}), {"note": "x"})
    >>> store.finished("demo") == {key}, len(store.load("demo"))
    (True, 1)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from .parameters import ParameterError
from .provenance import changed_fields, describe_changes

__all__ = ["ResultStore", "RunKey", "StaleResults", "StoreWarning", "check_name"]

_KEY = b"vraagvolgend.key"
_META = b"vraagvolgend"
_DIGEST = b"vraagvolgend.digest"
_SUFFIX = ".parquet"
_FORBIDDEN = ("/", "\\", "\0")


class StoreWarning(UserWarning):
    """A damaged file was found in the store and moved aside (it is computed again)."""


class StaleResults(ParameterError):
    """Stored runs were made with another definition than the one asked for now.

    ``fields`` names what changed (``months``, ``seed``, ``scenario.network.mean_degree``,
    ``model`` for the model's code, ...); ``runs`` counts the stored runs concerned.
    """

    def __init__(self, folder, fields: list[str], runs: int):
        self.fields, self.runs = fields, runs
        super().__init__(
            str(folder),
            f"{runs} stored run{'s' if runs != 1 else ''} were made with another definition "
            f"(changed: {describe_changes(fields)}); pass --recompute (recompute=True) to "
            "replace them, or store the new definition under another name",
        )


def check_name(name, field: str = "name") -> str:
    """An experiment name usable as one folder of the store (no path separators, not ``..``).

    Raises:
        ParameterError: naming ``field``.
    """
    if not isinstance(name, str) or not name.strip():
        raise ParameterError(field, f"{name!r} is not a non-empty string")
    if name in (".", "..") or any(c in name for c in _FORBIDDEN) or name != name.strip():
        raise ParameterError(
            field,
            f"{name!r} cannot name a folder: no '/', '\\', '.', '..' or surrounding spaces",
        )
    return name


@dataclass(frozen=True, order=True)
class RunKey:
    """Which run: experiment, scenario point, policy (its label) and replication."""

    experiment: str
    point: int
    policy: str
    replication: int

    def to_json(self) -> str:
        """The key as canonical JSON (stored in the file's metadata)."""
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> RunKey:
        data = json.loads(text)
        key = cls(data["experiment"], data["point"], data["policy"], data["replication"])
        if not (
            isinstance(key.experiment, str)
            and isinstance(key.policy, str)
            and type(key.point) is int
            and type(key.replication) is int
        ):
            raise ValueError(f"malformed key {data!r}")
        return key

    @property
    def filename(self) -> str:
        """The file's name: a digest of the key (the key itself is read from the file)."""
        return "run-" + hashlib.sha256(self.to_json().encode()).hexdigest()[:32] + _SUFFIX


def _digest(frame: pd.DataFrame) -> str:
    """A digest of a table's column names, types and values."""
    h = hashlib.sha256()
    h.update(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


class ResultStore:
    """A folder of Parquet files, one per finished run, grouped by experiment.

    Args:
        path: The store's folder (created if missing).

    Raises:
        ParameterError: when the folder cannot be created.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            message = f"{self.path} cannot be created: {err.strerror}"
            raise ParameterError("store", message) from None

    def _folder(self, experiment: str) -> Path:
        return self.path / check_name(experiment, "experiment")

    def file(self, key: RunKey) -> Path:
        """Where a run's file lives."""
        return self._folder(key.experiment) / key.filename

    def has(self, key: RunKey) -> bool:
        """Whether the run has finished (its file exists and reads back with its key)."""
        file = self.file(key)
        if not file.exists():
            return False
        try:
            return self._read(file)[0] == key
        except Exception:
            return False

    def check_writable(self, experiment: str) -> None:
        """Raise a :class:`ParameterError` now if runs of ``experiment`` cannot be written."""
        folder = self._folder(experiment)
        probe = folder / f".probe-{uuid.uuid4().hex}.tmp"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as err:
            raise ParameterError(
                "store", f"{folder} is not writable ({err.strerror}); choose another --store"
            ) from None

    def write(
        self, key: RunKey, table: pd.DataFrame, metadata: dict, key_columns: bool = True
    ) -> Path:
        """Write one finished run atomically (temporary file, then rename), with checksums.

        Args:
            key: The run.
            table: Its table.
            metadata: Stored beside it (its definition and ``determinants``).
            key_columns: Add the key's fields as columns (``experiment``, ``point``, ``policy``,
                ``replication``); off for tables that have columns of those names already.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        folder = self._folder(key.experiment)
        folder.mkdir(parents=True, exist_ok=True)
        keyed = table
        if key_columns:
            keyed = table.assign(
                experiment=key.experiment,
                point=key.point,
                policy=key.policy,
                replication=key.replication,
            )
        arrow = pa.Table.from_pandas(keyed, preserve_index=False)
        meta = dict(arrow.schema.metadata or {})
        meta[_META] = json.dumps(metadata, default=str).encode()
        meta[_KEY] = key.to_json().encode()
        # The footer has no checksum of its own: a digest of the decoded table catches damage
        # there too (a column's name, type or the pandas metadata).
        meta[_DIGEST] = _digest(arrow.to_pandas()).encode()
        arrow = arrow.replace_schema_metadata(meta)
        final = self.file(key)
        temporary = folder / f".{final.name}.{uuid.uuid4().hex}.tmp"
        try:
            pq.write_table(arrow, temporary, write_page_checksum=True)
            os.replace(temporary, final)  # atomic on one file system
        finally:
            temporary.unlink(missing_ok=True)
        return final

    def _read(self, file: Path) -> tuple[RunKey, pd.DataFrame, dict]:
        """Read and verify one file (key, table, metadata); raise if it is damaged."""
        import pyarrow.parquet as pq

        table = pq.read_table(file, page_checksum_verification=True)
        raw = (table.schema.metadata or {}).get(_KEY)
        if raw is None:
            raise ValueError("no run key in its metadata")
        key = RunKey.from_json(raw)
        if key.filename != file.name:
            raise ValueError("its key does not match its name")
        frame = table.to_pandas()
        if _digest(frame).encode() != table.schema.metadata.get(_DIGEST):
            raise ValueError("its content does not match its digest")
        meta = json.loads(table.schema.metadata.get(_META, b"{}"))
        return key, frame, meta if isinstance(meta, dict) else {}

    def _scan(self, experiment: str) -> dict[RunKey, tuple[pd.DataFrame, dict]]:
        """Every readable run of an experiment; damaged files moved aside, leftovers removed."""
        folder = self._folder(experiment)
        if not folder.exists():
            return {}
        for leftover in folder.glob(".*.tmp"):
            with contextlib.suppress(OSError):  # from a process killed while writing
                leftover.unlink(missing_ok=True)
        runs = {}
        for file in sorted(folder.glob("*" + _SUFFIX)):
            try:
                key, table, meta = self._read(file)
                if key.experiment != experiment:
                    raise ValueError(f"it belongs to experiment {key.experiment!r}")
            except Exception as err:  # any damage: set aside, compute again
                aside = file.with_name(file.name + f".{uuid.uuid4().hex[:8]}.corrupt")
                try:
                    os.replace(file, aside)
                    where = f"moved to {aside.name}"
                except OSError:
                    where = "left in place (the store is read-only)"
                warnings.warn(
                    f"{file}: damaged result file ({type(err).__name__}: {err}); {where}, "
                    "the run will be computed again",
                    StoreWarning,
                    stacklevel=3,
                )
                continue
            runs[key] = (table, meta)
        return runs

    def finished(self, experiment: str) -> set[RunKey]:
        """Keys of the finished runs of an experiment (read from the files, verified)."""
        return set(self._scan(experiment))

    def stored_determinants(self, experiment: str) -> dict[RunKey, dict | None]:
        """What determined each finished run (``None`` for a run stored without it)."""
        return {k: meta.get("determinants") for k, (_, meta) in self._scan(experiment).items()}

    def read(self, key: RunKey) -> pd.DataFrame:
        """One finished run's table, verified (raises if missing or damaged)."""
        found, table, _ = self._read(self.file(key))
        if found != key:
            raise ValueError(f"{self.file(key)} holds another run")
        return table

    def metadata(self, key: RunKey) -> dict:
        """The definition and version stored with a run."""
        import pyarrow.parquet as pq

        raw = pq.read_schema(self.file(key)).metadata[_META]
        return json.loads(raw)

    def reusable(
        self, experiment: str, current: dict[RunKey, dict], *, recompute: bool = False
    ) -> set[RunKey]:
        """The finished runs among ``current`` that may be reused as they are.

        Args:
            experiment: The experiment.
            current: Key → determinants of every run the experiment defines now.
            recompute: Compute stale runs again instead of refusing.

        Raises:
            StaleResults: a stored run differs from its current definition (unless
                ``recompute``), naming the changed fields.
        """
        stored = self.stored_determinants(experiment)
        stale = {}
        for key, now in current.items():
            if key in stored:
                fields = changed_fields(stored[key], now)
                if fields:
                    stale[key] = fields
        if stale and not recompute:
            fields = sorted({f for changed in stale.values() for f in changed})
            raise StaleResults(self._folder(experiment), fields, len(stale))
        return {k for k in current if k in stored and k not in stale}

    def load(self, experiment: str, keys=None) -> pd.DataFrame:
        """Every finished run of an experiment (or only those of ``keys``) as one DataFrame."""
        runs = self._scan(experiment)
        chosen = sorted(runs) if keys is None else sorted(k for k in runs if k in set(keys))
        if not chosen:
            return pd.DataFrame()
        return pd.concat([runs[k][0] for k in chosen], ignore_index=True)
