"""How fast buried ice is lost through the dry regolith above it, and the ice-stability depth.

Ice at depth ``z`` sublimates into the pores; the vapour escapes to space by Knudsen
diffusion through the dry layer above (molecules collide with grains, not with each other).
Treating the ice surface (Hertz-Knudsen) and the layer (Fick) as resistances in series, the
loss flux is

    J(z) = < rho_v(T_z) / (1 / v_HK(T_z) + z / D(T_z)) >   [kg m^-2 s^-1]

with ``rho_v = p_v m / (k T)`` the saturated vapour density, ``v_HK = sqrt(k T / (2 pi m))``
and the Knudsen diffusivity ``D = (2/3) r (phi / tau) sqrt(8 k T / (pi m))`` (pore radius
``r``, porosity ``phi``, tortuosity ``tau``; e.g. Schorghofer & Aharonson 2005, JGR 110;
Schorghofer & Taylor 2007, JGR 112). Both resistances scale as ``T^-1/2``, so

    J(z) = (m / k) < p_v(T_z) / sqrt(T_z) > / (sqrt(2 pi m / k) + z / c_D),
    c_D = (2/3) r (phi / tau) sqrt(8 k / (pi m)),

and only ``u(T) = p_v(T) / sqrt(T)`` needs averaging over the temperature history at each
depth. At ``z = 0`` this is the free sublimation of :mod:`lupex.thermal.sublimation`. Ice is
stable where it loses less than 1 mm per billion years (Siegler et al. 2016, Nature 531;
Schorghofer & Williams 2020, PSJ 1); the ice-stability depth is the shallowest such depth.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field

from lupex.thermal.products import ICE_DEPTH_LIMIT_M, NO_STABLE_ICE
from lupex.thermal.solver import VAPOUR_TABLE_START_K
from lupex.thermal.sublimation import (
    BOLTZMANN,
    ICE_DENSITY,
    SECONDS_PER_GYR,
    STABILITY_LOSS_M_PER_GYR,
    WATER_MOLECULE_KG,
    vapour_pressure_ice,
)

__all__ = ["DiffusionBarrier", "loss_rate_at_depth", "stability_depth", "vapour_table"]

VAPOUR_TABLE_STEP_K = 0.01
"""Temperature step of the ``u(T)`` table: linear interpolation errs by < 1e-5 relative [K]."""

VAPOUR_TABLE_END_K = 420.0
"""Top of the ``u(T)`` table; hotter regolith holds no ice whatever the barrier [K]."""


class DiffusionBarrier(BaseModel):
    """The dry regolith above buried ice, as a Knudsen diffusion barrier (validated, immutable)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pore_radius_m: float = Field(
        1e-5, gt=0, le=1e-2,
        description="Mean pore radius [m]. Assumption: 10 um, a few times smaller than the ~70 um median "
        "grain size of lunar soil (Carrier et al. 1991, Lunar Sourcebook ch. 9).")
    porosity: float = Field(0.5, gt=0, lt=1, description="Pore volume fraction [-] (Carrier et al. 1991: 0.45-0.55 "
                            "in the top 30 cm).")
    tortuosity: float = Field(2.0, ge=1, description="Tortuosity of the pore paths [-]. Assumption: 2 "
                              "(Schorghofer & Aharonson 2005 use 2-5 for Mars soils).")
    loss_limit_m_per_gyr: float = Field(STABILITY_LOSS_M_PER_GYR, gt=0,
                                        description="Loss below which ice counts as stable [m Gyr^-1] "
                                        "(1 mm/Gyr, Siegler et al. 2016).")

    @property
    def diffusivity_coefficient(self) -> float:
        """``c_D``: the Knudsen diffusivity is ``c_D sqrt(T)`` [m^2 s^-1 K^-1/2]."""
        thermal = np.sqrt(8.0 * BOLTZMANN / (np.pi * WATER_MOLECULE_KG))
        return float(2.0 / 3.0 * self.pore_radius_m * self.porosity / self.tortuosity * thermal)


def vapour_table() -> tuple[NDArray, float]:
    """``u(T) = p_v(T) / sqrt(T)`` [Pa K^-1/2] from 85 K in steps of 0.01 K, and the step [K]."""
    t = VAPOUR_TABLE_START_K + VAPOUR_TABLE_STEP_K * np.arange(
        int(round((VAPOUR_TABLE_END_K - VAPOUR_TABLE_START_K) / VAPOUR_TABLE_STEP_K)) + 1)
    return vapour_pressure_ice(t) / np.sqrt(t), VAPOUR_TABLE_STEP_K


def loss_rate_at_depth(u_mean: ArrayLike, depth_m: ArrayLike, barrier: DiffusionBarrier) -> NDArray:
    """Loss of ice buried at a depth, from the time mean of ``u(T)`` there [m Gyr^-1].

    Parameters
    ----------
    u_mean : array_like
        Time mean of ``p_v(T) / sqrt(T)`` at the ice's depth [Pa K^-1/2].
    depth_m : array_like
        Thickness of the dry layer above the ice [m] (0: exposed ice).
    barrier : DiffusionBarrier
        Properties of the dry layer.
    """
    resistance = np.sqrt(2.0 * np.pi * WATER_MOLECULE_KG / BOLTZMANN) + np.asarray(depth_m, float) / (
        barrier.diffusivity_coefficient)
    flux = WATER_MOLECULE_KG / BOLTZMANN * np.asarray(u_mean, float) / resistance
    return flux / ICE_DENSITY * SECONDS_PER_GYR


def stability_depth(loss_m_per_gyr: ArrayLike, depth_m: ArrayLike, limit_m_per_gyr: float = STABILITY_LOSS_M_PER_GYR,
                    max_depth_m: float = ICE_DEPTH_LIMIT_M) -> NDArray:
    """Shallowest depth where buried ice loses less than the limit [m].

    The loss is interpolated linearly in its logarithm between nodes.

    Parameters
    ----------
    loss_m_per_gyr : array_like, shape (..., nodes)
        Loss rate of ice buried at each node's depth [m Gyr^-1], nodes from the surface down.
    depth_m : array_like, shape (nodes,)
        Node depths, 0 first, increasing [m].
    limit_m_per_gyr : float
        Stability limit [m Gyr^-1].
    max_depth_m : float
        Deepest depth reported [m].

    Returns
    -------
    ndarray, shape (...)
        0 where ice is stable at the surface; :data:`NO_STABLE_ICE` (NaN) where no depth down
        to ``max_depth_m`` keeps it.
    """
    loss = np.log(np.maximum(np.asarray(loss_m_per_gyr, float), 1e-300))
    z = np.asarray(depth_m, float)
    limit = np.log(limit_m_per_gyr)
    stable = loss < limit
    first = np.argmax(stable, axis=-1)
    found = stable.any(axis=-1)
    above = np.maximum(first - 1, 0)
    l_hi = np.take_along_axis(loss, above[..., None], -1)[..., 0]
    l_lo = np.take_along_axis(loss, first[..., None], -1)[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(first > 0, (l_hi - limit) / (l_hi - l_lo), 0.0)
    depth = z[above] + np.clip(w, 0.0, 1.0) * (z[first] - z[above])
    return np.where(found & (depth <= max_depth_m), depth, NO_STABLE_ICE)
