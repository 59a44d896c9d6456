"""Costmaps for traverse planning: energy per metre of driving, with forbidden cells.

A cell's cost is the battery energy the rover spends per metre driven across it [J/m]:

    c = (P(s) + P(-s)) / (2 v) x (1 + w_rough r / r_0) x (1 + w_rock n / n_max),

``P(s)`` the driving power on slope ``s`` (:func:`lupex.rover.power.drive_power_w`, up and
down the fall line averaged, since a scalar map does not know the direction of travel), ``v``
the nominal speed, ``r`` the roughness, ``n`` the obstacle density. A cell is forbidden
(``inf``) where

* its slope exceeds the rover's planning limit (``max_slope_deg - slope_margin_deg``),
* its obstacle density exceeds the hazard limit (:class:`lupex.terrain.derive.HazardConfig`),
* it is nodata, or
* it lies in permanent shadow farther from sunlit ground than the rover can drive in and out
  again within its shadow limit (``thermal.max_shadow_h``): the *PSR entry rule*. A PSR cell
  whose straight-line distance to the nearest cell outside the PSR exceeds
  ``v x max_shadow_h / 2 x psr_reach_fraction`` is out of reach.

The time-dependent planner (:mod:`lupex.planning.timed`) checks the battery and the shadow limit
along the actual route in time; the PSR rule here keeps static routes from diving into
shadows no rover could leave.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field
from scipy import ndimage

from lupex.raster import like, pixel_size
from lupex.rover.model import RoverConfig
from lupex.rover.power import drive_power_w
from lupex.terrain.derive import HazardConfig

__all__ = ["CostmapConfig", "costmap", "forbidden_masks", "forbidden_reason", "psr_reach_m"]


class CostmapConfig(BaseModel):
    """Weights of the costmap's terrain penalties and the PSR entry rule (validated, immutable)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    roughness_scale_m: float = Field(
        1.0, gt=0.0,
        description="Roughness r_0 that doubles the cost when roughness_weight is 1 [m]. Assumption: 1 m, "
        "about the rover's ground clearance times three.",
    )
    roughness_weight: float = Field(1.0, ge=0.0, description="Weight of roughness in the cost [-]. Assumption.")
    rock_weight: float = Field(
        1.0, ge=0.0,
        description="Weight of the obstacle density in the cost [-]: at the hazard limit the cost doubles "
        "(weaving between rocks). Assumption.",
    )
    psr_reach_fraction: float = Field(
        1.0, ge=0.0, le=1.0,
        description="Fraction of the shadow limit a static route may spend reaching into a PSR and back [-]; "
        "0 forbids PSRs. Assumption: 1.",
    )


def psr_reach_m(rover: RoverConfig, config: CostmapConfig) -> float:
    """Deepest a route may reach into permanent shadow, measured from sunlit ground [m].

    ``v max_shadow_h / 2 x psr_reach_fraction``: in and out again within the shadow limit.
    """
    return rover.mobility.nominal_speed_m_s * rover.thermal.max_shadow_h * 3600.0 / 2.0 * config.psr_reach_fraction


def forbidden_masks(layers: xr.Dataset, rover: RoverConfig, hazards: HazardConfig | None = None,
                    psr: xr.DataArray | None = None, config: CostmapConfig | None = None,
                    pixel_m: float | None = None) -> dict[str, np.ndarray]:
    """Where each rule of the costmap forbids driving (True = forbidden), one boolean grid per rule.

    The rules, in the order a reason is reported: ``nodata`` (no slope), ``slope`` (above the
    rover's planning limit), ``rocks`` (obstacle density above the hazard limit), ``shadow``
    (permanent shadow beyond :func:`psr_reach_m` from sunlit ground; only with ``psr``).
    Parameters as for :func:`costmap`.
    """
    hazards = hazards or HazardConfig()
    config = config or CostmapConfig()
    slope = layers["slope"].values.astype(float)
    rocks = layers["hazard"].values.astype(float)
    masks = {"nodata": ~np.isfinite(slope)}
    with np.errstate(invalid="ignore"):
        masks["slope"] = slope > rover.mobility.planning_slope_deg
        masks["rocks"] = rocks > hazards.max_rock_density_per_100m2
    masks["shadow"] = np.zeros(slope.shape, dtype=bool)
    if psr is not None:
        shadow = np.asarray(psr.values) == 1
        if shadow.any():
            size = pixel_m if pixel_m is not None else pixel_size(layers["slope"])
            masks["shadow"] = ndimage.distance_transform_edt(shadow) * size > psr_reach_m(rover, config)
    return masks


def forbidden_reason(layers: xr.Dataset, rc: tuple[int, int], rover: RoverConfig,
                     hazards: HazardConfig | None = None, psr: xr.DataArray | None = None,
                     config: CostmapConfig | None = None, pixel_m: float | None = None) -> str | None:
    """Why the costmap forbids the cell at ``rc`` (row, column), in words; None when it is allowed.

    Parameters as for :func:`costmap`.
    """
    hazards = hazards or HazardConfig()
    config = config or CostmapConfig()
    masks = forbidden_masks(layers, rover, hazards, psr, config, pixel_m)
    slope = float(layers["slope"].values[rc])
    rocks = float(layers["hazard"].values[rc])
    reasons = {
        "nodata": "it is nodata",
        "slope": f"its slope {slope:.1f} deg exceeds the rover's planning limit "
                 f"{rover.mobility.planning_slope_deg:g} deg",
        "rocks": f"it has {rocks:.1f} obstacle rocks per 100 m^2, above {hazards.max_rock_density_per_100m2:g}",
        "shadow": f"it lies in permanent shadow more than {psr_reach_m(rover, config):.0f} m from sunlit ground, "
                  "beyond the rover's reach",
    }
    return next((reasons[name] for name, mask in masks.items() if mask[rc]), None)


def costmap(layers: xr.Dataset, rover: RoverConfig, hazards: HazardConfig | None = None,
            psr: xr.DataArray | None = None, config: CostmapConfig | None = None,
            pixel_m: float | None = None) -> xr.DataArray:
    """Energy per metre of driving across each cell, ``inf`` where the rover may not go [J/m].

    Parameters
    ----------
    layers : xarray.Dataset
        ``slope`` [deg], ``roughness`` [m] and ``hazard`` [rocks per 100 m^2] on one grid
        (:func:`lupex.terrain.derive.derive_layers`).
    rover : RoverConfig
        The rover (speed, power model, planning slope, shadow limit).
    hazards : HazardConfig, optional
        The obstacle-density limit; defaults when absent.
    psr : xarray.DataArray, optional
        1 where permanently shadowed (``lupex illuminate``'s ``psr``); no PSR rule when absent.
    config : CostmapConfig, optional
        Penalty weights; defaults when absent.
    pixel_m : float, optional
        Ground size of a pixel [m] for the PSR rule; the grid's own spacing when absent.

    Returns
    -------
    xarray.DataArray
        ``cost`` [J/m], float64, on the layers' grid.
    """
    hazards = hazards or HazardConfig()
    config = config or CostmapConfig()
    slope = layers["slope"].values.astype(float)
    roughness = np.nan_to_num(layers["roughness"].values.astype(float), nan=0.0)
    rocks = layers["hazard"].values.astype(float)
    speed = rover.mobility.nominal_speed_m_s
    with np.errstate(invalid="ignore"):
        energy = 0.5 * (drive_power_w(rover, slope) + drive_power_w(rover, -slope)) / speed
        cost = (energy * (1.0 + config.roughness_weight * roughness / config.roughness_scale_m)
                * (1.0 + config.rock_weight * rocks / hazards.max_rock_density_per_100m2))
    forbidden = np.logical_or.reduce(list(forbidden_masks(layers, rover, hazards, psr, config, pixel_m).values()))
    cost = np.where(~forbidden & np.isfinite(cost), cost, np.inf)
    return like(layers["slope"], cost, "cost", "J/m",
                f"driving energy per metre for {rover.name}, inf where forbidden")
