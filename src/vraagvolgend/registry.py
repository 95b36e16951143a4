"""Registries of named classes: regimes' contracts and budget rules, looked up by name.

A policy names its contract and budget rule by string (so that it survives a TOML round trip);
a registry turns the name back into the class. A user's own class registers with the
registry's decorator.

Example:
    >>> from vraagvolgend.registry import Registry
    >>> shapes = Registry("shape")
    >>> @shapes.register("square")
    ... class Square: ...
    >>> shapes["square"].name
    'square'
"""

from __future__ import annotations

__all__ = ["Registry"]


class Registry(dict):
    """Classes of one kind by name.

    Args:
        what: What the classes are (for messages), e.g. ``"contract"``.
    """

    def __init__(self, what: str):
        super().__init__()
        self.what = what
        #: The base class every registered class must derive from (set once it exists).
        self.base: type | None = None

    def register(self, name: str):
        """Class decorator: register the class under ``name`` (and set its ``name``)."""

        def register(cls):
            if not isinstance(cls, type) or (self.base and not issubclass(cls, self.base)):
                base = self.base.__name__ if self.base else "a class"
                raise TypeError(f"a {self.what} must be a subclass of {base}")
            cls.name = name
            self[name] = cls
            return cls

        return register
