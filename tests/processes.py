"""Which processes are alive: for tests of interrupts and killed parents (Linux, reads /proc)."""

from __future__ import annotations

import os


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
