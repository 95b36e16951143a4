"""Random streams: one generator per process, all derived from the run's seed.

Each process of the model (building the population, the network, life events, onset, recovery,
and later access and care) draws from its own stream. A stream is keyed by the process's *name*,
not by its position, so adding a process never shifts the draws of the others, and two policies
run on one seed see the same life events and the same onset draws.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["SeedLike", "Streams", "as_seed_sequence"]

SeedLike = int | np.random.SeedSequence | None


def as_seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """Turn an int, a SeedSequence or None (fresh entropy) into a SeedSequence."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
        raise TypeError(f"seed must be an int, a numpy SeedSequence or None, not {seed!r}")
    if seed is not None and seed < 0:
        raise ValueError(f"seed must be a non-negative int, not {seed}")
    return np.random.SeedSequence(seed)


class Streams:
    """Named, independent generators derived from one seed.

    Example:
        >>> s = Streams(42)
        >>> a = s["onset"].random()
        >>> Streams(42)["onset"].random() == a
        True
    """

    def __init__(self, seed: SeedLike = None):
        self.seed_sequence = as_seed_sequence(seed)
        self._generators: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        gen = self._generators.get(name)
        if gen is None:
            root = self.seed_sequence
            child = np.random.SeedSequence(
                entropy=root.entropy,
                spawn_key=(*root.spawn_key, zlib.crc32(name.encode())),
                pool_size=root.pool_size,
            )
            # SFC64: the fastest of numpy's bit generators, and these streams draw millions of
            # uniforms a month.
            gen = self._generators[name] = np.random.Generator(np.random.SFC64(child))
        return gen
