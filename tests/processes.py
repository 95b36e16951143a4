"""Child processes of tests: started with SIGINT at its default, dying with the test, and
which of them are alive (Linux, reads /proc)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys

#: The SIGINT disposition this test run started with (printed in pytest's header).
STARTED_WITH = signal.getsignal(signal.SIGINT)


def disposition(handler) -> str:
    """A signal disposition in words."""
    if handler is signal.SIG_IGN:
        return "ignored"
    if handler is signal.SIG_DFL:
        return "default (terminate)"
    if handler is signal.default_int_handler:
        return "Python's KeyboardInterrupt"
    return f"handler {getattr(handler, '__name__', handler)!r}"


def _child_setup() -> None:
    """In a test's child, before it runs: SIGINT at its default whatever the test run
    inherited (a child that inherits SIGINT ignored never sees Ctrl-C), and death with the test
    process (PR_SET_PDEATHSIG), so that nothing outlives a test killed by a timeout."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)


def popen(args, *, sigint=signal.SIG_DFL, **kwargs) -> subprocess.Popen:
    """Start a child process of a test (see :func:`_child_setup`); ``sigint`` may set the
    child's SIGINT disposition to ``signal.SIG_IGN`` on purpose."""

    def setup():
        _child_setup()
        signal.signal(signal.SIGINT, sigint)

    return subprocess.Popen(args, preexec_fn=setup, **kwargs)


def run(args, **kwargs) -> subprocess.CompletedProcess:
    """:func:`subprocess.run` with :func:`_child_setup`."""
    return subprocess.run(args, preexec_fn=_child_setup, **kwargs)


def session_pids(sid: int) -> set[int]:
    """Live (non-zombie) processes of session ``sid``."""
    pids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                pids.add(int(entry))
    return pids


def wait_until(condition, timeout: float = 60, poll: float = 0.02) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass (a bound against hangs,
    not a timing assertion); returns whether it held."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll)
    return True
