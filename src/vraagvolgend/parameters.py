"""Declared, validated, immutable parameter sections (the machinery behind scenarios and policies).

A section is a frozen dataclass whose fields are declared with :func:`param`. Each declaration
carries the kind of value, the allowed range and the source of the default (a citation, or the
word "assumption" and why). Validation happens once, in the constructor, so that an invalid value
is rejected before any work is done, with an error that names the field, the value and what is
allowed. Sections convert to and from plain dictionaries (and so TOML) and know their own
provenance for reports.
"""

from __future__ import annotations

import difflib
import json
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

__all__ = [
    "MAX_MONTHS",
    "ParameterError",
    "Section",
    "load_toml",
    "param",
    "printable",
    "read_text",
    "to_toml_lines",
]


#: Most months a run may simulate after burn-in (checked up front by every entry point).
MAX_MONTHS = 1200


def printable(text: str) -> str:
    """One line whatever the input: control characters (newlines too) are shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


class ParameterError(ValueError):
    """An invalid parameter value. ``field`` is the dotted path of the offending key."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(printable(f"{field}: {message}"))

    def under(self, prefix: str) -> ParameterError:
        """Return the same error with ``prefix`` put in front of the field path."""
        return type(self)(f"{prefix}.{self.field}" if prefix else self.field, self.message)


def param(
    default: Any,
    *,
    kind: str,
    source: str,
    lo: float | None = None,
    hi: float | None = None,
    keys: tuple[str, ...] | None = None,
    inner_keys: tuple[str, ...] | None = None,
    section: type | None = None,
    doc: str = "",
    group: str = "",
    plausible: tuple | None = None,
    plausible_why: str = "",
) -> Any:
    """Declare a parameter field.

    Args:
        default: Default value (mutable defaults are copied per instance).
        kind: One of ``float``, ``int``, ``bool``, ``str``, ``choice`` (a string from ``keys``),
            ``floats`` (tuple of floats),
            ``strs`` (tuple of strings from ``keys``), ``map`` (key → float), ``map2``
            (key → key → float), ``section``, ``sections`` (tuple of sections) or
            ``named`` (name → section).
        source: Where the default comes from, or ``"assumption: ..."``.
        lo: Smallest allowed number (inclusive).
        hi: Largest allowed number (inclusive).
        keys: Allowed keys of a map (outer keys of a ``map2``) or values of ``strs``.
        inner_keys: Allowed inner keys of a ``map2``.
        section: The section class for ``section``, ``sections`` and ``named``.
        doc: One line on what the parameter means.
        group: The mechanism the parameter belongs to (for explanations of differences
            between policies); empty: the parameter is a mechanism of its own.
        plausible: The range a defensible value lies in, ``(low, high)`` (for a choice: the
            values that are defensible). Not a validation bound (``lo``/``hi`` say what is
            *allowed*): it says what the evidence supports, for the table of assumptions
            and for uncertainty analysis.
        plausible_why: Why that range (a source, or "assumption: ..." and the reasoning).
    """
    if plausible is not None and not plausible_why:
        raise TypeError("param(): a plausible range needs plausible_why")  # programming error
    meta = {
        "kind": kind,
        "source": source,
        "lo": lo,
        "hi": hi,
        "keys": keys,
        "inner_keys": inner_keys,
        "section": section,
        "doc": doc,
        "group": group,
        "plausible": tuple(plausible) if plausible is not None else None,
        "plausible_why": plausible_why,
    }
    if isinstance(default, dict | list | tuple) or kind in ("section", "sections", "named"):
        return field(default_factory=lambda: _copy_default(default), metadata=meta)
    return field(default=default, metadata=meta)


def _copy_default(default: Any) -> Any:
    if isinstance(default, dict):
        return {k: _copy_default(v) for k, v in default.items()}
    if isinstance(default, list):
        return tuple(default)
    if isinstance(default, type):  # a section class: build its default instance
        return default()
    return default


def _range_text(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"between {lo} and {hi}"
    if lo is not None:
        return f"at least {lo}"
    if hi is not None:
        return f"at most {hi}"
    return "any number"


def _number(value: Any, path: str, lo: float | None, hi: float | None, integer: bool) -> Any:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        want = "an integer" if integer else "a number"
        raise ParameterError(path, f"{value!r} is not {want} ({_range_text(lo, hi)})")
    given = value
    if integer:
        if isinstance(value, float) and not value.is_integer():
            raise ParameterError(path, f"{value!r} is not an integer ({_range_text(lo, hi)})")
        value = int(value)
    else:
        try:
            value = float(value)
        except OverflowError:  # an integer too large for a float (e.g. 400 digits)
            raise ParameterError(
                path, f"{_short(given)} is out of range: must be {_range_text(lo, hi)}"
            ) from None
        if not math.isfinite(value):
            raise ParameterError(path, f"{value!r} is not finite ({_range_text(lo, hi)})")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ParameterError(
            path, f"{_short(given)} is out of range: must be {_range_text(lo, hi)}"
        )
    return value


def _short(value: Any) -> str:
    """A value for an error message, at most one short line."""
    text = repr(value)
    return text if len(text) <= 40 else text[:20] + "…" + text[-8:] + f" ({len(text)} chars)"


def _unknown_key(path: str, key: str, allowed: tuple[str, ...] | list[str]) -> ParameterError:
    close = difflib.get_close_matches(str(key), list(allowed), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(allowed)}"
    where = f"{path}.{key}" if path else str(key)
    return ParameterError(where, f"unknown key{hint}")


def _mapping(value: Any, path: str, keys: tuple[str, ...] | None) -> Mapping:
    if not isinstance(value, Mapping):
        raise ParameterError(path, f"{value!r} is not a table (key = value pairs)")
    if keys is not None:
        for k in value:
            if k not in keys:
                raise _unknown_key(path, k, keys)
    return value


def _coerce(meta: Mapping, value: Any, path: str) -> Any:
    """Check one field's value against its declaration; return the stored (immutable) form."""
    kind, lo, hi = meta["kind"], meta["lo"], meta["hi"]
    if kind == "float":
        return _number(value, path, lo, hi, integer=False)
    if kind == "int":
        return _number(value, path, lo, hi, integer=True)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ParameterError(path, f"{value!r} is not true or false")
        return value
    if kind == "str":
        if not isinstance(value, str) or not value:
            raise ParameterError(path, f"{value!r} is not a non-empty string")
        return value
    if kind == "choice":
        if value not in meta["keys"]:
            raise ParameterError(
                path, f"{value!r} is not allowed: one of {', '.join(meta['keys'])}"
            )
        return value
    if kind == "floats":
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise ParameterError(path, f"{value!r} is not a list of numbers")
        return tuple(_number(v, f"{path}[{i}]", lo, hi, False) for i, v in enumerate(value))
    if kind == "strs":
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise ParameterError(path, f"{value!r} is not a list of names")
        for v in value:
            if v not in meta["keys"]:
                raise _unknown_key(path, v, meta["keys"])
        return tuple(value)
    if kind == "map":
        value = _mapping(value, path, meta["keys"])
        return MappingProxyType(
            {k: _number(v, f"{path}.{k}", lo, hi, False) for k, v in value.items()}
        )
    if kind == "map2":
        value = _mapping(value, path, meta["keys"])
        out = {}
        for k, inner in value.items():
            inner = _mapping(inner, f"{path}.{k}", meta["inner_keys"])
            out[k] = MappingProxyType(
                {j: _number(v, f"{path}.{k}.{j}", lo, hi, False) for j, v in inner.items()}
            )
        return MappingProxyType(out)
    cls = meta["section"]
    if kind == "section":
        return _as_section(cls, value, path)
    if kind == "sections":
        if isinstance(value, Mapping) or not isinstance(value, list | tuple):
            raise ParameterError(path, "is not a list of tables")
        return tuple(_as_section(cls, v, f"{path}[{i}]") for i, v in enumerate(value))
    if kind == "named":
        value = _mapping(value, path, None)
        return MappingProxyType({k: _as_section(cls, v, f"{path}.{k}") for k, v in value.items()})
    raise TypeError(f"unknown parameter kind {kind!r}")  # a programming error, not user input


def _as_section(cls: type[Section], value: Any, path: str) -> Section:
    if isinstance(value, cls):
        return value
    if isinstance(value, Mapping):
        return cls.from_dict(value, path=path)
    raise ParameterError(path, f"{value!r} is not a {cls.__name__} or a table")


@dataclass(frozen=True)
class Section:
    """Base class of a validated parameter section.

    Subclasses are frozen dataclasses whose fields are declared with :func:`param`; they may
    override :meth:`_check` for rules that involve several fields.
    """

    _path: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = _coerce(f.metadata, getattr(self, f.name), self._field_path(f.name))
            object.__setattr__(self, f.name, value)
        self._check()

    def _field_path(self, name: str) -> str:
        return f"{self._path}.{name}" if self._path else name

    def _check(self) -> None:
        """Cross-field rules; raise :class:`ParameterError` naming the field."""

    @classmethod
    def from_dict(cls, data: Mapping, *, path: str | None = None) -> Section:
        """Build the section from a plain mapping (as read from TOML), validating every key.

        Args:
            data: Keys are field names; nested sections are nested mappings.
            path: Dotted location of this section, used in error messages.
        """
        path = cls._path if path is None else path
        if not isinstance(data, Mapping):
            raise ParameterError(path or cls.__name__, f"{data!r} is not a table")
        names = [f.name for f in fields(cls)]
        for key in data:
            if key not in names:
                raise _unknown_key(path, key, names)
        try:
            return cls(**data)
        except ParameterError as err:
            if cls._path and err.field.startswith(cls._path) and path != cls._path:
                raise type(err)(path + err.field[len(cls._path) :], err.message) from None
            if not cls._path and path:
                raise err.under(path) from None
            raise

    def __reduce__(self):
        # Read-only mappings do not pickle; rebuilding from plain values does (and validates).
        return (_rebuild, (type(self), self.to_dict()))

    def to_dict(self) -> dict:
        """Return the section as plain Python values (tuples become lists)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            out[f.name] = _plain(getattr(self, f.name))
        return out

    def with_changes(self, changes: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Section:
        """Return a copy with some values changed; keys may be dotted paths into sub-sections.

        Example:
            >>> from vraagvolgend import Scenario
            >>> s = Scenario.default().with_changes({"network.mean_degree": 6}, n_households=500)
            >>> s.network.mean_degree, s.n_households
            (6.0, 500)
        """
        data = self.to_dict()
        for key, value in {**(changes or {}), **kwargs}.items():
            parts = key.split(".")
            target = data
            for i, part in enumerate(parts[:-1]):
                nxt = target.get(part) if isinstance(target, dict) else None
                if not isinstance(nxt, dict):
                    raise ParameterError(".".join(parts[: i + 1]), "is not a table of parameters")
                target = nxt
            if parts[-1] not in target and len(parts) == 1:
                raise _unknown_key("", parts[-1], list(target))
            target[parts[-1]] = _plain(value)
        return type(self).from_dict(data, path=self._path)

    def provenance(self, prefix: str | None = None) -> list[dict]:
        """List every parameter with its value, allowed range and source (for reports)."""
        prefix = self._path if prefix is None else prefix
        rows = []
        for f in fields(self):
            meta, value = f.metadata, getattr(self, f.name)
            path = f"{prefix}.{f.name}" if prefix else f.name
            if meta["kind"] == "section":
                rows += value.provenance(path)
            elif meta["kind"] == "sections":
                for i, item in enumerate(value):
                    rows += item.provenance(f"{path}[{i}]")
            elif meta["kind"] == "named":
                for name, item in value.items():
                    rows += item.provenance(f"{path}.{name}")
            else:
                if meta["kind"] in ("float", "int", "floats", "map", "map2"):
                    allowed = _range_text(meta["lo"], meta["hi"])
                elif meta["kind"] in ("choice", "strs"):
                    allowed = "one of " + ", ".join(meta["keys"])
                else:
                    allowed = meta["kind"]
                rows.append(
                    {
                        "parameter": path,
                        "value": json.dumps(_plain(value)),
                        "allowed": allowed,
                        "source": meta["source"],
                        "meaning": meta["doc"],
                    }
                )
        return rows

    def assumptions(self, prefix: str | None = None) -> list[dict]:
        """Every parameter declared with a plausible range: value, range, why and source.

        Nested sections are included (a named table's entries under their names).
        """
        prefix = self._path if prefix is None else prefix
        rows = []
        for f in fields(self):
            meta, value = f.metadata, getattr(self, f.name)
            path = f"{prefix}.{f.name}" if prefix else f.name
            if meta["kind"] == "section":
                rows += value.assumptions(path)
            elif meta["kind"] == "named":
                for name, item in value.items():
                    rows += item.assumptions(f"{path}.{name}")
            elif meta.get("plausible") is not None:
                rows.append(
                    {
                        "parameter": path,
                        "value": _plain(value),
                        "plausible": meta["plausible"],
                        "why": meta["plausible_why"],
                        "source": meta["source"],
                        "meaning": meta["doc"],
                    }
                )
        return rows


def _rebuild(cls: type[Section], data: dict) -> Section:
    return cls.from_dict(data)


def _plain(value: Any) -> Any:
    if isinstance(value, Section):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# --- TOML output --------------------------------------------------------------------------------
# The standard library reads TOML (tomllib) but does not write it; the values here are a small
# subset (numbers, booleans, strings, lists, nested tables), so a short writer suffices.


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as a TOML value")


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def to_toml_lines(section: Section, table: str = "", array: bool = False) -> list[str]:
    """Write a section as TOML lines, each value preceded by its source as a comment."""
    scalars, tables = [], []
    for f in fields(section):
        meta, value, key = f.metadata, getattr(section, f.name), _toml_key(f.name)
        sub = f"{table}.{key}" if table else key
        comment = f"# {meta['doc']} [{meta['source']}]" if meta["doc"] else f"# [{meta['source']}]"
        if meta["kind"] == "section":
            tables += ["", *to_toml_lines(value, sub)]
        elif meta["kind"] == "sections":
            for item in value:
                tables += ["", *to_toml_lines(item, sub, array=True)]
        elif meta["kind"] == "named":
            for name, item in value.items():
                tables += ["", *to_toml_lines(item, f"{sub}.{_toml_key(name)}")]
        elif meta["kind"] == "map":
            tables += ["", comment, f"[{sub}]"]
            tables += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()]
        elif meta["kind"] == "map2":
            tables += ["", comment]
            for k, inner in value.items():
                tables.append(f"[{sub}.{_toml_key(k)}]")
                tables += [f"{_toml_key(j)} = {_toml_value(v)}" for j, v in inner.items()]
        else:
            scalars += [comment, f"{key} = {_toml_value(_plain(value))}"]
    header = []
    if table:
        header = [f"[[{table}]]" if array else f"[{table}]"]
    return header + scalars + tables


def read_text(source: str | Path) -> tuple[str, str]:
    """Return (text, file name or '') for a TOML file path or TOML text."""
    if isinstance(source, Path) or (
        isinstance(source, str) and "\n" not in source and source.endswith(".toml")
    ):
        path = Path(source)
        if not path.is_file():
            raise ParameterError(str(path), "file not found")
        try:
            return path.read_bytes().decode("utf-8"), str(path)
        except UnicodeDecodeError as err:
            raise ParameterError(
                str(path), f"is not UTF-8 text (byte {err.start}); save it as UTF-8"
            ) from None
        except OSError as err:
            raise ParameterError(str(path), f"cannot be read: {err.strerror}") from None
    return str(source), ""


def load_toml(source: str | Path, build, what: str):
    """Parse TOML from a file path or text and build it with ``build(data)``; errors name the
    file (when there is one), the key, the value and what is allowed."""
    import tomllib

    text, where = read_text(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ParameterError(where or what, f"is not valid TOML: {err}") from None
    try:
        return build(data)
    except ParameterError as err:
        if where:
            raise ParameterError(f"{where}: {err.field}", err.message) from None
        raise


# --- one merge rule ---------------------------------------------------------------------------


def merge_partial(cls: type[Section], base: Mapping, changes: Mapping, path: str = "") -> dict:
    """``base`` (a section's plain values) with a partial table ``changes`` laid over it.

    The one rule for every section (scenarios, policies, catalogues): sub-sections and tables
    merge at every depth, lists and values replace. In a table of named entries (provisions,
    life events) a name that is not in ``base`` must be declared new with ``new = true``, so
    that a misspelt name gets a "did you mean" instead of becoming a phantom entry.

    Args:
        cls: The section class ``base`` belongs to (its declarations say what is a table).
        base: The complete values to start from.
        changes: The partial values.
        path: Dotted location, for error messages.
    """
    if not isinstance(changes, Mapping):
        raise ParameterError(path or cls.__name__, f"{changes!r} is not a table")
    declared = {f.name: f.metadata for f in fields(cls)}
    out = dict(base)
    for key, value in changes.items():
        where = f"{path}.{key}" if path else str(key)
        meta = declared.get(key)
        if meta is None:
            if key == "regime" and "regime" in base:
                out[key] = value
                continue
            raise _unknown_key(path, key, list(declared))
        kind = meta["kind"]
        if kind == "section" and isinstance(value, Mapping):
            out[key] = merge_partial(meta["section"], base[key], value, where)
        elif kind == "named" and isinstance(value, Mapping):
            entries = dict(base[key])
            for name, entry in value.items():
                at = f"{where}.{name}"
                is_new = isinstance(entry, Mapping) and entry.get("new") is True
                if name in entries:
                    if is_new and entries[name].get("new") is not True:
                        raise ParameterError(at, "already exists: leave out new = true")
                    entries[name] = merge_partial(meta["section"], entries[name], entry, at)
                elif is_new:
                    entries[name] = dict(entry)
                else:
                    close = difflib.get_close_matches(str(name), list(entries), n=1)
                    hint = (
                        f"did you mean {close[0]!r}?"
                        if close
                        else f"known: {', '.join(entries) or 'none'}"
                    )
                    raise ParameterError(
                        at, f"unknown entry; {hint} (declare a new one with new = true)"
                    )
            out[key] = entries
        elif kind in ("map", "map2") and isinstance(value, Mapping):
            out[key] = _merge_tables(base.get(key) or {}, value)
        else:
            out[key] = value
    return out


def _merge_tables(base: Mapping, changes: Mapping) -> dict:
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), Mapping):
            out[key] = _merge_tables(base[key], value)
        else:
            out[key] = value
    return out
