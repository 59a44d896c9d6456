"""Counter-based random numbers: a value is a pure function of (seed, keys), whatever is asked first.

The ground truth is drawn tile by tile on demand, so each random number must depend only on
its address (tile, patch, quantity), never on the order of requests. Addresses are hashed with
the SplitMix64 finaliser (Steele, Lea & Flood 2014, OOPSLA; the mixer behind Java's
``SplittableRandom``), which passes BigCrush as a counter-based generator. Being plain 64-bit
integer arithmetic, it gives the same bits on every platform and NumPy version.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["MAX_SEED", "uniform"]

MAX_SEED = 2**63 - 1
"""Largest accepted seed (seeds are non-negative 63-bit integers, safe in JSON and NetCDF)."""

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)


def _mix(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64 finaliser: a bijection of 64-bit words with full avalanche (arrays wrap silently)."""
    z = (z ^ (z >> np.uint64(30))) * _MUL1
    z = (z ^ (z >> np.uint64(27))) * _MUL2
    return z ^ (z >> np.uint64(31))


def uniform(seed: int, *keys: ArrayLike) -> NDArray[np.float64]:
    """Uniform numbers in the open interval (0, 1), one per broadcast element of ``keys``.

    Parameters
    ----------
    seed : int
        Non-negative seed, at most :data:`MAX_SEED`.
    *keys : array_like of int
        The address of each number (negative integers allowed); broadcast together.

    Returns
    -------
    ndarray
        Float64 values ``(k + 0.5) / 2**53`` with ``k`` the top 53 bits of the hash.
    """
    arrays = np.broadcast_arrays(*(np.asarray(key, dtype=np.int64) for key in keys))
    shape = arrays[0].shape
    # 1-D arrays throughout: NumPy scalars would warn on the intended 64-bit wrap-around.
    h = _mix(np.full(max(arrays[0].size, 1), np.uint64(seed), dtype=np.uint64) + _GOLDEN)
    for key in arrays:
        h = _mix(h ^ _mix(key.astype(np.uint64).reshape(-1) + _GOLDEN))
    return (((h >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53).reshape(shape)
