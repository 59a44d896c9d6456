"""The world a simulated mission runs in: what the planner knows, and the truth it does not.

The planner knows the orbital map (DEM, costmap, horizons, the water prior). The truth is the
seeded water under the ground (:class:`lupex.ice.truth.WaterTruth`) and the metre-scale rocks
and craters of :class:`lupex.sim.truth_terrain.TruthTerrain`, which only the rover's own
sensors reveal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from lupex.ice.params import IceParams
from lupex.ice.truth import WaterTruth
from lupex.planning.traverse import Search, prepare_search
from lupex.rover.model import RoverConfig
from lupex.sim.config import SimConfig
from lupex.sim.site_sky import SiteSky
from lupex.sim.truth_terrain import TruthTerrain, TruthTerrainConfig
from lupex.terrain.derive import HazardConfig

__all__ = ["World", "build_world"]


@dataclass
class World:
    """Everything a run reads; built once per site and shared by runs of other seeds and strategies.

    Attributes
    ----------
    dem : xarray.DataArray
        Heights [m].
    rocks : ndarray
        Rock area fraction k of each pixel [-].
    search : Search
        The strategic planner's lattice, node sky and model over the whole mission.
    sky : SiteSky
        The Sun and the Earth anywhere at every tick.
    prior : xarray.Dataset
        The water prior on the DEM's grid (``weh_top1m_mean``, ``weh_top1m_std``, ``ice_probability``,
        ``patch_fraction``, ``ice_depth_m``).
    ice : IceParams
        The water model.
    landing_xy : tuple of float
        Where the rover starts [m] (a node of the lattice).
    """

    dem: xr.DataArray
    rocks: np.ndarray
    search: Search
    sky: SiteSky
    prior: xr.Dataset
    ice: IceParams
    landing_xy: tuple[float, float]

    def truth(self, seed: int, terrain: TruthTerrainConfig | None = None,
              max_slope_deg: float | None = None) -> tuple[WaterTruth, TruthTerrain]:
        """The hidden water and the metre-scale terrain of one seed (``terrain`` settings and the
        rover's ``max_slope_deg`` [deg], defaults when absent)."""
        rocks = xr.DataArray(self.rocks, coords={"y": self.dem["y"], "x": self.dem["x"]}, dims=("y", "x"))
        rocks = rocks.rio.write_crs(self.dem.rio.crs).rio.write_transform(self.dem.rio.transform())
        return (WaterTruth.from_prior(self.prior, self.ice, seed),
                TruthTerrain(rocks, terrain, seed, max_slope_deg=max_slope_deg))


def build_world(dem: xr.DataArray, horizon, rocks: xr.DataArray | None, prior: xr.Dataset, ice: IceParams,
                rover: RoverConfig, config: SimConfig, start_utc: str, days: float,
                landing_xy: tuple[float, float], sun_mean: xr.DataArray | None = None,
                psr: xr.DataArray | None = None, step: Callable[[str], Any] | None = None,
                hazards: HazardConfig | None = None) -> World:
    """Precompute the planner's lattice and sky and the rover's sky for a mission.

    Parameters
    ----------
    dem, horizon, rocks, sun_mean, psr
        The site (heights [m], horizon cube [deg], rock area [-], mean Sun [-], PSR flag).
    prior : xarray.Dataset
        Water prior on the DEM's grid.
    ice : IceParams
        The water model of the prior.
    rover : RoverConfig
        The rover.
    config : SimConfig
        The simulation settings (its ``plan`` sets the lattice and tick).
    start_utc : str
        Landing time, ISO 8601 UTC.
    days : float
        Mission length [days].
    landing_xy : tuple of float
        Landing place [m].
    step : callable, optional
        Called with a short description as each stage starts.
    hazards : HazardConfig, optional
        The mission's hazard limits (its ``[hazards]`` table), which the planner's costmap obeys
        as the landing's does; the defaults when omitted.
    """
    search = prepare_search(dem, horizon, rover, [landing_xy], ["landing site"], start_utc, days, config.plan,
                            rocks, sun_mean, psr, hazards=hazards, step=step)
    tick_h = config.plan.tick_min / 60.0
    node_rc = search.lattice.pixel[search.nodes[0]]
    landing = (float(dem["x"].values[node_rc[1]]), float(dem["y"].values[node_rc[0]]))
    roam = config.search_radius_m + config.survey_size_m + config.sky_margin_m
    sky = SiteSky(horizon, dem, start_utc, int(np.ceil(days * 24.0 / tick_h)), tick_h, rover, (*landing, roam))
    rock_k = np.zeros(dem.shape) if rocks is None else np.nan_to_num(np.asarray(rocks.values, dtype=float))
    return World(dem, rock_k, search, sky, prior, ice, landing)
