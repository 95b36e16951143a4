"""Optional compiled kernels: a few of the month's passes fused into one loop (numba).

The month is some 500 numpy calls over arrays of up to (domains × households) entries; a few
of its processes make many passes over the same entries. With numba installed (the ``fast``
extra: ``pip install 'vraagvolgend[fast]'``) those processes run a compiled kernel instead,
one loop doing what the passes did. A kernel does **the same arithmetic in the same order and
precision** as the numpy code it stands for (float32 where that is float32, sums in the same
order, no fused multiply-add, transcendental functions left to numpy), so results are bit for
bit the same with and without numba: the tests run both on the same models and compare every
array. Without numba, or with ``VRAAGVOLGEND_COMPILED=0`` in the environment, or inside
:func:`use_compiled` ``(False)``, the numpy code runs.

Kernels are compiled on first use and cached on disk (numba's ``cache=True``), so a fresh
process pays the compilation once per machine and later only the loading.

Writing a kernel:
    * Decorate a plain Python function with :func:`kernel`; call it only when
      :func:`enabled` is true (the numpy path is the reference and stays).
    * Pass float32 constants as ``np.float32`` arguments: a Python float in a numba function
      is float64, and would change the bits.

Example:
    >>> from vraagvolgend import compiled
    >>> with compiled.use_compiled(False):
    ...     compiled.enabled()
    False
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from functools import cache

__all__ = ["ENV", "Kernel", "available", "enabled", "kernel", "use_compiled"]

#: Environment variable that turns the compiled kernels off (``0``) or on (``1``, the default).
ENV = "VRAAGVOLGEND_COMPILED"

_choice: ContextVar[bool | None] = ContextVar("vraagvolgend_compiled", default=None)


@cache
def available() -> bool:
    """Whether numba can be imported (imported on the first call only)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def enabled() -> bool:
    """Whether the month uses the compiled kernels now (numba installed and not turned off)."""
    choice = _choice.get()
    if choice is None:
        value = os.environ.get(ENV, "1").strip()
        if value not in ("0", "1"):
            raise ValueError(f"{ENV}={value!r} must be 0 (numpy only) or 1 (compiled kernels)")
        choice = value == "1"
    return choice and available()


@contextlib.contextmanager
def use_compiled(on: bool) -> Iterator[None]:
    """Use the compiled kernels (``True``, where numba is installed) or not, inside the block.

    Nothing process-wide changes; the environment variable applies outside the block.
    """
    token = _choice.set(bool(on))
    try:
        yield
    finally:
        _choice.reset(token)


class Kernel:
    """A Python function compiled by numba the first time it is called.

    Args:
        function: The kernel's code: loops over numpy arrays, in numba's subset of Python.
    """

    def __init__(self, function: Callable):
        self.function = function
        self.__name__ = self.__qualname__ = function.__name__
        self.__module__ = function.__module__
        self.__doc__ = function.__doc__
        self._compiled = None

    def __call__(self, *args):
        if self._compiled is None:
            import numba

            # nogil: the parallel row blocks may call a kernel from several threads
            self._compiled = numba.njit(cache=True, nogil=True)(self.function)
        return self._compiled(*args)

    def __reduce__(self):  # pickled and deep-copied by reference: the module's own kernel
        return self.__name__


def kernel(function: Callable) -> Kernel:
    """Decorator: compile ``function`` with numba on first use (see the module's notes)."""
    return Kernel(function)
