"""Rock size-frequency model: Golombek & Rapp (1997) cumulative fractional area.

The fraction of the surface covered by rocks of diameter >= D is
``F_k(D) = k exp(-q(k) D)`` with ``q(k) = 1.79 + 0.152 / k`` [m^-1], where ``k`` is the
total fractional area covered by rocks (Golombek & Rapp 1997, JGR 102(E2), 4117-4129,
eqs. 1-2; fitted to Viking/Pathfinder and applied to lunar Surveyor counts). The number
of rocks per unit area follows from ``dN = -dF / (pi D^2 / 4)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import integrate

__all__ = ["cumulative_area_fraction", "q_of_k", "rock_density"]


def q_of_k(k: ArrayLike) -> NDArray:
    """Exponent ``q(k) = 1.79 + 0.152 / k`` [m^-1] (Golombek & Rapp 1997, eq. 2)."""
    return 1.79 + 0.152 / np.asarray(k, dtype=float)


def cumulative_area_fraction(diameter_m: ArrayLike, k: ArrayLike) -> NDArray:
    """Fraction of the area covered by rocks at least ``diameter_m`` across [-].

    Parameters
    ----------
    diameter_m : array_like
        Rock diameter [m].
    k : array_like
        Total fractional rock area [-], in (0, 1).
    """
    k = np.asarray(k, dtype=float)
    return k * np.exp(-q_of_k(k) * np.asarray(diameter_m, dtype=float))


def rock_density(diameter_m: float, k: ArrayLike, max_diameter_m: float = 20.0) -> NDArray:
    """Number of rocks at least ``diameter_m`` across per square metre [m^-2].

    ``N(>D) = integral_D^Dmax k q exp(-q s) / (pi s^2 / 4) ds``, evaluated once on a table
    of ``k`` and interpolated (the integral has no closed form).

    Parameters
    ----------
    diameter_m : float
        Smallest rock diameter counted [m], > 0.
    k : array_like
        Total fractional rock area [-]; zero gives zero rocks.
    max_diameter_m : float
        Largest rock considered [m].
    """
    if diameter_m <= 0:
        raise ValueError("diameter_m must be positive")
    k = np.asarray(k, dtype=float)
    table_k = np.geomspace(1e-4, 0.6, 200)
    table = np.array(
        [
            integrate.quad(
                lambda s, kk=kk: kk * q_of_k(kk) * np.exp(-q_of_k(kk) * s) / (np.pi * s * s / 4.0),
                diameter_m,
                max_diameter_m,
            )[0]
            for kk in table_k
        ]
    )
    # Tiny k gives no rocks this large at all; a floor keeps the logarithm finite.
    log_table = np.log(np.maximum(table, 1e-300))
    log_density = np.interp(np.log(np.clip(k, table_k[0], table_k[-1])), np.log(table_k), log_table)
    return np.where(k > 0, np.exp(log_density), 0.0)
