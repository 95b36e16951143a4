"""Will a run fit in memory? An estimate from measured bytes per household, checked up front.

A run keeps per-household state and, for its result tables, rows that grow with the months.
Peak resident memory of ``run(...)`` followed by ``Result.save(...)`` was measured on the
default scenario (supply-driven, Python 3.13, 2026-12-05): 348 MB at 100,000 households × 12
months, 1,017 MB at 100,000 × 120, 2,651 MB at 300,000 × 120 and 4,805 MB at 1,000,000 × 60.
A fixed part, a part per household and a part per household-month fit all four within 4%
(:data:`FIXED_BYTES`, :data:`BYTES_PER_HOUSEHOLD`, :data:`BYTES_PER_HOUSEHOLD_MONTH`). A run
whose estimate exceeds the memory available now is refused before any work, with the
estimate, unless the caller insists (``check_memory=False``, ``--no-memory-check``).

Example:
    >>> round(estimate_peak_bytes(1_000_000, 60) / 1e9, 1)
    4.8
"""

from __future__ import annotations

import os

from .parameters import ParameterError

__all__ = [
    "BYTES_PER_HOUSEHOLD",
    "BYTES_PER_HOUSEHOLD_MONTH",
    "FIXED_BYTES",
    "available_bytes",
    "check_memory",
    "estimate_peak_bytes",
]

FIXED_BYTES = 200e6
BYTES_PER_HOUSEHOLD = 900.0
BYTES_PER_HOUSEHOLD_MONTH = 62.0


def estimate_peak_bytes(n_households: int, months: int) -> float:
    """Estimated peak resident memory of a run and its saved tables, in bytes."""
    return FIXED_BYTES + n_households * (BYTES_PER_HOUSEHOLD + BYTES_PER_HOUSEHOLD_MONTH * months)


def available_bytes() -> float | None:
    """Memory available to a new allocation now (Linux ``MemAvailable``), or ``None``."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return None


def check_memory(n_households: int, months: int, field: str = "n_households") -> None:
    """Refuse a run whose estimated peak exceeds the memory available now.

    Raises:
        ParameterError: naming ``field``, the estimate and what is available.
    """
    available = available_bytes()
    need = estimate_peak_bytes(n_households, months)
    if available is not None and need > available:
        raise ParameterError(
            field,
            f"{n_households:,} households × {months} months need about {need / 1e9:.1f} GB at "
            f"peak, but {available / 1e9:.1f} GB is available: use fewer households or months, "
            "or insist with check_memory=False (--no-memory-check)",
        )
