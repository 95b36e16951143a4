"""Result folders: recognising what the library wrote, and replacing only that.

A result folder (from ``run``, ``compare`` or ``report``) carries a ``manifest.json`` naming
its kind. Replacing a folder (``--force``) removes only such a folder, and only the entries the
library writes into one; a folder holding anything else (a user's notes, a subfolder of their
own) is refused with one line and left as it is, so no user file is ever deleted.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / "notes.txt").write_text("mine")
    4
    >>> prepare_output(folder, force=True)
    Traceback (most recent call last):
    ...
    vraagvolgend.parameters.ParameterError: --out: ... was not written by vraagvolgend ...
"""

from __future__ import annotations

import fnmatch
import json
import shutil
from pathlib import Path

from .parameters import ParameterError

__all__ = [
    "KINDS",
    "LIBRARY_ENTRIES",
    "folder_kind",
    "prepare_output",
    "read_table",
    "remove_result_folder",
]

#: The kinds of folder the library writes (the manifest's ``kind``).
KINDS = ("run", "comparison")
#: What the library writes into a result folder (names or patterns, at its top level).
LIBRARY_ENTRIES = (
    "manifest.json",
    "*.parquet",
    "*.csv",
    "*.png",
    "scenario.toml",
    "policy.toml",
    "policies",
    "decomposition",
    "uncertainty",
    "replications",
    "report.html",
    "report.md",
)


def read_table(path: str | Path):
    """A Parquet table of a result folder; one line naming the file when it cannot be read.

    Raises:
        ParameterError: the file is missing, truncated or otherwise damaged.
    """
    import pandas as pd

    path = Path(path)
    try:
        return pd.read_parquet(path)
    except FileNotFoundError:
        raise ParameterError(str(path), "is missing from the result folder") from None
    except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ParameterError(
            str(path), f"cannot be read (damaged or truncated: {reason}); write it again"
        ) from None


def folder_kind(path: str | Path) -> str | None:
    """The kind of result folder the library wrote at ``path``, or ``None`` if it did not."""
    manifest = Path(path) / "manifest.json"
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    kind = data.get("kind") if isinstance(data, dict) else None
    return kind if kind in KINDS else None


def _foreign(path: Path) -> list[str]:
    """Entries of a folder that the library does not write."""
    return sorted(
        entry.name
        for entry in path.iterdir()
        if not any(fnmatch.fnmatchcase(entry.name, p) for p in LIBRARY_ENTRIES)
    )


def remove_result_folder(path: str | Path, field: str = "--out") -> None:
    """Remove a result folder the library wrote; refuse anything else.

    Raises:
        ParameterError: naming ``field``, when the folder has no manifest of the library's or
            holds entries the library does not write (nothing is removed then).
    """
    path = Path(path)
    if folder_kind(path) is None:
        raise ParameterError(
            field,
            f"{path} was not written by vraagvolgend (no result manifest): it is not replaced; "
            "choose an empty or new folder",
        )
    foreign = _foreign(path)
    if foreign:
        shown = ", ".join(foreign[:3]) + (" …" if len(foreign) > 3 else "")
        raise ParameterError(
            field,
            f"{path} holds files vraagvolgend did not write ({shown}): it is not replaced; "
            "move them or choose another folder",
        )
    shutil.rmtree(path)


def prepare_output(
    path: str | Path, force: bool, *, resume: str | None = None, field: str = "--out"
) -> tuple[Path, bool]:
    """A folder to write results into, checked before any work.

    Args:
        path: The folder.
        force: Replace an existing result folder (only one the library wrote).
        resume: A kind of folder (``"comparison"``) that is continued rather than refused when
            it exists without ``force``.
        field: The option named in errors.

    Returns:
        (the folder, whether an existing folder is resumed).

    Raises:
        ParameterError: the path is a file; the folder holds results and neither ``force`` nor
            ``resume`` applies; or ``force`` was asked for a folder the library did not write.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ParameterError(field, f"{out} exists and is not a folder")
    if not out.exists() or not any(out.iterdir()):
        return out, False
    if force:
        remove_result_folder(out, field)
        return out, False
    kind = folder_kind(out)
    if resume is not None and kind == resume:
        return out, True
    if kind is None:
        raise ParameterError(
            field, f"{out} is not empty and was not written by vraagvolgend; choose another folder"
        )
    raise ParameterError(field, f"{out} already holds results; pass --force to replace them")
