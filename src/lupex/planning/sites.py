"""Landing sites: candidates in a region ranked by light, Earth, lander safety and reachable ice.

Candidates lie on a regular grid (``SiteConfig.spacing_m`` on the ground) inside a circular
region. Each is judged over its **landing disc**, the circle of ``landing_radius_m`` around it
where the lander may touch down:

* ``sun_fraction_mean``, ``max_darkness_h``, ``earth_visible_fraction``: the means over the disc
  of the :mod:`lupex.sky.maps` layers for the surface mission (the expected value for a
  touchdown point anywhere in the disc); ``psr_fraction``, the share of the disc in permanent
  shadow. Ranking polar sites by mean illumination, the longest continuous darkness and the
  time the Earth is in view follows Mazarico et al. (2011, Icarus 211, 1066-1081) and
  De Rosa et al. (2012, Planet. Space Sci. 74, 224-246, for ESA's Lunar Lander);
* ``lander_slope_deg`` and ``hazard_per_100m2``: the slope and the obstacle-rock density
  (:func:`lupex.terrain.derive.derive_layers`) that a share ``safe_fraction`` of the disc stays
  at or below, i.e. the ``safe_fraction`` quantile over the disc's pixels (the smallest value
  ``v`` with at least that share of pixels ``<= v``), so ``lander_slope_deg <= limit`` exactly
  when at least ``safe_fraction`` of the disc is within the limit;
* ``ice_reachable_m2``: the ice-stable area the rover can reach from the candidate on a drive
  whose energy over the costmap (:func:`lupex.planning.costmap.costmap`, with the 16-connected
  moves of :mod:`lupex.planning.grid_search`) is at most the energy of ``reach_m`` metres on
  level ground, ``reach_m x P(0) / v``. Ice-stable cells come from a thermal folder
  (``ice_depth_m`` finite: ice stable within 1.5 m) or, without one, from permanent shadow as
  the proxy for cold traps.

Hard filters reject a candidate (``feasible = False``, every failed limit named in ``reason``)
when its disc leaves the DEM or holds nodata, its lander slope, rock density, permanent shadow,
mean Sun, longest darkness or Earth visibility is beyond the limits of :class:`SiteConfig`, or
it reaches no more ice-stable area than ``min_ice_reachable_m2``. The feasible candidates are
scored by a weighted mean of their criteria, each normalised over the feasible candidates to
[0, 1] (1 the best value, 0 the worst; 1 for all when a criterion does not vary), and ranked
best first.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Circle
from matplotlib.patheffects import withStroke
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

from lupex.errors import LupexError
from lupex.files import atomic_output, check_writable, claim_folder
from lupex.geo import latlon_to_xy, scale_factor, validate_latlon, xy_to_latlon
from lupex.planning.costmap import costmap
from lupex.planning.grid_search import cost_to_go
from lupex.raster import ground_pixel_m, pixel_size, read_grid, same_grid
from lupex.report.quicklook import extent_km, hillshade
from lupex.rover.model import RoverConfig
from lupex.rover.power import drive_power_w
from lupex.sky.horizon_store import HORIZON_ENTRIES
from lupex.sky.maps import MAP_STYLES
from lupex.terrain.derive import HazardConfig, derive_layers

__all__ = [
    "CSV_NAME",
    "ICE_SOURCES",
    "PNG_NAME",
    "SITE_COLUMNS",
    "SKY_LAYERS",
    "Candidates",
    "Region",
    "SiteConfig",
    "candidate_sites",
    "disc_offsets",
    "feasibility",
    "ice_targets",
    "lander_criteria",
    "parse_region",
    "prepare_sites_folder",
    "rank_sites",
    "reach_budget_j",
    "reachable_area_m2",
    "read_illumination",
    "save_sites_png",
    "site_scores",
    "write_sites_csv",
]

CSV_NAME = "sites.csv"
PNG_NAME = "sites.png"

SKY_LAYERS = ("sun_fraction_mean", "psr", "max_darkness_h", "earth_visible_fraction")
"""The illumination layers (``lupex illuminate``'s ``NAME.tif``) the ranking reads."""

ICE_SOURCES = {
    "thermal": "thermal model (ice stable within 1.5 m)",
    "psr_proxy": "permanent shadow (cold-trap proxy)",
}
"""Where the ice-stable targets came from (the CSV's ``ice_source``) and how to say it."""

SITE_COLUMNS = (
    "rank", "lat", "lon", "x_m", "y_m", "score", "sun_fraction_mean", "max_darkness_h", "earth_visible_fraction",
    "lander_slope_deg", "hazard_per_100m2", "psr_fraction", "ice_reachable_m2", "ice_source", "feasible", "reason",
)
"""Columns of ``sites.csv``, in order."""

_CRITERIA = {  # criterion: (SiteConfig weight field, larger is better)
    "sun_fraction_mean": ("weight_sun", True),
    "max_darkness_h": ("weight_darkness", False),
    "earth_visible_fraction": ("weight_earth", True),
    "lander_slope_deg": ("weight_slope", False),
    "hazard_per_100m2": ("weight_hazard", False),
    "ice_reachable_m2": ("weight_ice", True),
}

class SiteConfig(BaseModel):
    """Candidate grid, landing disc, hard limits and score weights (validated, immutable)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    spacing_m: float = Field(
        250.0, gt=0.0,
        description="Distance between neighbouring candidates on the ground [m]. Assumption: 250 m, a few "
        "landing radii, so neighbouring discs overlap little.",
    )
    landing_radius_m: float = Field(
        100.0, gt=0.0,
        description="Radius of the landing disc: where the lander may touch down around its target [m]. "
        "Assumption: 100 m, the pinpoint accuracy JAXA's SLIM was built for and demonstrated in January "
        "2024 (it touched down about 55 m from its target).",
    )
    safe_fraction: float = Field(
        0.95, gt=0.0, le=1.0,
        description="Share of the landing disc that must be within the slope, rock and shadow limits [-]. "
        "Assumption: 0.95; the lander's hazard avoidance diverts from the rest.",
    )
    max_lander_slope_deg: float = Field(
        12.0, gt=0.0, lt=90.0,
        description="Steepest ground the lander may touch down on [deg]: 12 deg, the slope ISRO's "
        "Chandrayaan-3 lander (Vikram) was designed to land on; an ISRO-built LUPEX lander is assumed alike.",
    )
    max_hazard_per_100m2: float = Field(
        5.0, gt=0.0,
        description="Most obstacle rocks (HazardConfig.obstacle_diameter_m across) per 100 m^2 in the landing "
        "disc. Assumption: the rover's own limit (HazardConfig.max_rock_density_per_100m2), ground it cannot "
        "weave through being no place to set a lander down or roll off it.",
    )
    min_sun_fraction: float = Field(
        0.0, ge=0.0, le=1.0,
        description="Least mean visible fraction of the solar disk over the mission [-]. Assumption: 0, no hard "
        "limit (permanent shadow is refused through safe_fraction; the mean Sun is scored).",
    )
    max_darkness_h: float | None = Field(
        None, gt=0.0,
        description="Longest darkness the lander may face over the mission [h]. Assumption: none (scored "
        "instead); set the lander's survival time here.",
    )
    min_earth_visible_fraction: float = Field(
        0.0, ge=0.0, le=1.0,
        description="Least fraction of the mission with the Earth in view [-]. Assumption: 0, no hard limit "
        "(scored instead).",
    )
    reach_m: float = Field(
        2000.0, gt=0.0,
        description="Drive budget for reaching ice-stable ground, as the length of level ground its energy "
        "would cover [m]. Assumption: 2 km, a first sortie of 1.1 kWh with the default rover (about half its "
        "usable battery).",
    )
    min_ice_reachable_m2: float = Field(
        0.0, ge=0.0,
        description="Candidates must reach more ice-stable area than this [m^2]. Assumption: 0, i.e. some "
        "ice-stable ground within reach: finding water is the mission.",
    )
    weight_sun: float = Field(0.25, ge=0.0, description="Score weight of the mean Sun [-]. Assumption.")
    weight_darkness: float = Field(0.15, ge=0.0, description="Score weight of the longest darkness [-]. Assumption.")
    weight_earth: float = Field(0.2, ge=0.0, description="Score weight of Earth visibility [-]. Assumption.")
    weight_slope: float = Field(0.1, ge=0.0, description="Score weight of the lander slope [-]. Assumption.")
    weight_hazard: float = Field(0.1, ge=0.0, description="Score weight of the rock density [-]. Assumption.")
    weight_ice: float = Field(0.2, ge=0.0, description="Score weight of the reachable ice area [-]. Assumption.")

    @model_validator(mode="after")
    def _some_weight(self) -> SiteConfig:
        if sum(getattr(self, field) for field, _ in _CRITERIA.values()) <= 0.0:
            raise ValueError("at least one score weight must be positive")
        return self


@dataclass(frozen=True)
class Region:
    """A circular region of the surface.

    Attributes
    ----------
    lat, lon : float
        Centre latitude and east longitude [deg].
    radius_km : float
        Radius on the ground [km].
    """

    lat: float
    lon: float
    radius_km: float


def parse_region(text: str) -> Region:
    """Read ``LAT,LON,RADIUS_KM`` (degrees, degrees east, kilometres).

    Raises
    ------
    LupexError
        For text that is not three numbers, a latitude outside [-90, 90) or a radius <= 0.
    """
    parts = str(text).split(",")
    try:
        lat, lon, radius = (float(p) for p in parts)
    except ValueError:
        raise LupexError(f"region {text!r} is not LAT,LON,RADIUS_KM (e.g. '-89.45,222.7,3')") from None
    lat_a, lon_a = validate_latlon(lat, lon)
    if not (math.isfinite(radius) and radius > 0.0):
        raise LupexError(f"the region radius must be a positive number of km, got {radius:g}")
    return Region(float(lat_a), float(lon_a), radius)


@dataclass(frozen=True)
class Candidates:
    """Candidate landing sites, each at the centre of the DEM pixel holding its grid point.

    Attributes
    ----------
    rows, cols : numpy.ndarray
        Pixel of each candidate (int64).
    x_m, y_m : numpy.ndarray
        Map coordinates of the pixel centres [m].
    lat, lon : numpy.ndarray
        Latitude and east longitude of the pixel centres [deg].
    """

    rows: NDArray
    cols: NDArray
    x_m: NDArray
    y_m: NDArray
    lat: NDArray
    lon: NDArray


def _region_on_map(region: Region) -> tuple[float, float, float]:
    """Centre ``x, y`` and radius of the region on the polar stereographic map [m]."""
    x, y = latlon_to_xy(region.lat, region.lon)
    return float(x), float(y), region.radius_km * 1000.0 * float(scale_factor(region.lat))


def candidate_sites(dem: xr.DataArray, region: Region, spacing_m: float) -> Candidates:
    """Grid points ``spacing_m`` apart, anchored at the region's centre, inside the region and on the DEM.

    Ground lengths become map lengths with the map's scale factor at the region's centre
    (:func:`lupex.geo.scale_factor`).

    Parameters
    ----------
    dem : xarray.DataArray
        Heights [m] on the south polar stereographic map.
    region : Region
        Where to look.
    spacing_m : float
        Distance between neighbouring candidates on the ground [m], at least a DEM pixel.

    Raises
    ------
    LupexError
        When the spacing is finer than a pixel, the region does not overlap the DEM, or no
        grid point falls on it.
    """
    pixel = pixel_size(dem)
    xc, yc, radius = _region_on_map(region)
    k = float(scale_factor(region.lat))
    spacing = spacing_m * k
    if spacing < pixel * (1.0 - 1e-9):
        raise LupexError(f"the candidate spacing ({spacing_m:g} m) is finer than the DEM's pixels "
                         f"({pixel / k:.3g} m on the ground); raise --spacing")
    left, bottom, right, top = dem.rio.bounds()
    gap = math.hypot(max(left - xc, 0.0, xc - right), max(bottom - yc, 0.0, yc - top))
    where = f"region {region.lat:g},{region.lon:g},{region.radius_km:g} km"
    if gap >= radius:
        raise LupexError(f"the {where} does not overlap the DEM (x from {left:g} to {right:g} m, y from "
                         f"{bottom:g} to {top:g} m); choose a region on it")
    n = int(radius // spacing)
    i, j = np.meshgrid(np.arange(-n, n + 1), np.arange(-n, n + 1))
    inside = np.hypot(i, j) * spacing <= radius * (1.0 + 1e-12)
    x = xc + j[inside] * spacing
    y = yc - i[inside] * spacing
    on = (x >= left) & (x < right) & (y > bottom) & (y <= top)
    if not on.any():
        raise LupexError(f"no candidate site: none of the points {spacing_m:g} m apart in the {where} falls on "
                         "the DEM; lower --spacing or move the region")
    cols = np.minimum(((x[on] - left) // pixel).astype(np.int64), dem.sizes["x"] - 1)
    rows = np.minimum(((top - y[on]) // pixel).astype(np.int64), dem.sizes["y"] - 1)
    x_m, y_m = dem["x"].values[cols].astype(float), dem["y"].values[rows].astype(float)
    lat, lon = xy_to_latlon(x_m, y_m)
    return Candidates(rows, cols, x_m, y_m, lat, lon)


def disc_offsets(radius_m: float, pixel_m: float) -> tuple[NDArray, NDArray]:
    """Row and column offsets of the pixels whose centres lie within ``radius_m`` of a pixel's centre.

    Parameters
    ----------
    radius_m : float
        Disc radius [m].
    pixel_m : float
        Ground size of a pixel [m].

    Returns
    -------
    dr, dc : numpy.ndarray
        Offsets [pixels] (int64); the centre pixel always belongs.
    """
    n = int(radius_m // pixel_m)
    dr, dc = np.meshgrid(np.arange(-n, n + 1), np.arange(-n, n + 1), indexing="ij")
    inside = np.hypot(dr, dc) * pixel_m <= radius_m * (1.0 + 1e-12)
    return dr[inside].astype(np.int64), dc[inside].astype(np.int64)


def _gather(values: ArrayLike, rows: NDArray, cols: NDArray, dr: NDArray, dc: NDArray) -> NDArray:
    """Values at ``(rows + dr, cols + dc)``, shape ``(candidates, disc pixels)``, NaN off the grid."""
    grid = np.asarray(values, dtype=np.float64)
    r = rows[:, None] + dr[None, :]
    c = cols[:, None] + dc[None, :]
    on = (r >= 0) & (r < grid.shape[0]) & (c >= 0) & (c < grid.shape[1])
    out = np.full(r.shape, np.nan)
    out[on] = grid[r[on], c[on]]
    return out


def lander_criteria(layers: xr.Dataset, sky: xr.Dataset, candidates: Candidates, config: SiteConfig,
                    pixel_m: float) -> dict[str, NDArray]:
    """The criteria of every candidate over its landing disc.

    Parameters
    ----------
    layers : xarray.Dataset
        ``slope`` [deg] and ``hazard`` [rocks per 100 m^2] (:func:`lupex.terrain.derive.derive_layers`).
    sky : xarray.Dataset
        The :data:`SKY_LAYERS` on the same grid.
    candidates : Candidates
        The candidates.
    config : SiteConfig
        Landing radius and safe fraction.
    pixel_m : float
        Ground size of a pixel [m].

    Returns
    -------
    dict of numpy.ndarray
        ``sun_fraction_mean`` [-], ``max_darkness_h`` [h], ``earth_visible_fraction`` [-] (disc
        means), ``psr_fraction`` [-], ``lander_slope_deg`` [deg] and ``hazard_per_100m2``
        (``safe_fraction`` quantiles), and ``complete`` (bool: the whole disc is on the DEM
        with valid data).
    """
    dr, dc = disc_offsets(config.landing_radius_m, pixel_m)
    rows, cols = candidates.rows, candidates.cols
    out = {}
    complete = np.ones(rows.size, dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN discs give NaN
        for name in ("sun_fraction_mean", "max_darkness_h", "earth_visible_fraction"):
            values = _gather(sky[name].values, rows, cols, dr, dc)
            complete &= np.isfinite(values).all(axis=1)
            out[name] = np.nanmean(values, axis=1)
        psr = _gather(sky["psr"].values, rows, cols, dr, dc)
        complete &= np.isfinite(psr).all(axis=1)
        out["psr_fraction"] = np.nanmean(np.where(np.isfinite(psr), psr == 1, np.nan), axis=1)
        for name, layer in (("lander_slope_deg", "slope"), ("hazard_per_100m2", "hazard")):
            values = _gather(layers[layer].values, rows, cols, dr, dc)
            complete &= np.isfinite(values).all(axis=1)
            out[name] = np.nanquantile(values, config.safe_fraction, axis=1, method="inverted_cdf")
    out["complete"] = complete
    return out


def reach_budget_j(rover: RoverConfig, config: SiteConfig) -> float:
    """Energy budget of the drive to ice-stable ground: ``reach_m x P(0) / v`` [J]."""
    return config.reach_m * float(drive_power_w(rover, 0.0)) / rover.mobility.nominal_speed_m_s


def reachable_area_m2(cost_per_m: ArrayLike, pixel_m: float, rows: ArrayLike, cols: ArrayLike,
                      targets: ArrayLike, budget: float,
                      progress: Callable[[int, int], None] | None = None) -> NDArray:
    """Target area each start cell reaches within a cost budget over a costmap.

    A target cell counts when the cheapest 16-connected route to it
    (:func:`lupex.planning.grid_search.cost_to_go`, edge and corner rules included) costs at
    most ``budget``. Every move costs at least ``c_min`` (the cheapest finite cost per metre)
    times its length, so no such route leaves the disc of radius ``budget / c_min`` around the
    start: each search runs on that disc's window (plus two pixels for the cells moves touch)
    with everything beyond it forbidden, which gives the same answer as a search of the whole map.

    Parameters
    ----------
    cost_per_m : array_like
        Cost per metre, 2-D, ``inf`` or NaN where forbidden [unit/m].
    pixel_m : float
        Ground size of a square cell [m].
    rows, cols : array_like
        Start cells (ints).
    targets : array_like
        Boolean mask of target cells, the costmap's shape.
    budget : float
        Largest accumulated cost of a route [unit].
    progress : callable, optional
        ``progress(done, total)`` after each start cell.

    Returns
    -------
    numpy.ndarray
        Reachable target area per start [m^2] (count of cells times ``pixel_m^2``); 0 for a
        start on a forbidden cell.
    """
    cost = np.where(np.isnan(cost_per_m), np.inf, np.asarray(cost_per_m, dtype=np.float64))
    targets = np.asarray(targets, dtype=bool)
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    finite = np.isfinite(cost)
    c_min = float(cost[finite].min()) if finite.any() else np.inf
    reach_px = budget / (c_min * pixel_m) if c_min > 0.0 else np.inf
    half = int(min(math.ceil(reach_px) + 2, max(cost.shape)))
    offset = np.arange(-half, half + 1)
    beyond = np.hypot(offset[:, None], offset[None, :]) > reach_px + 2.0
    area = np.zeros(rows.size)
    ny, nx = cost.shape
    for i, (r, c) in enumerate(zip(rows, cols, strict=True)):
        if finite[r, c]:
            r0, r1, c0, c1 = max(r - half, 0), min(r + half + 1, ny), max(c - half, 0), min(c + half + 1, nx)
            window = cost[r0:r1, c0:c1].copy()
            window[beyond[r0 - r + half:r1 - r + half, c0 - c + half:c1 - c + half]] = np.inf
            field = cost_to_go(window, pixel_m, (r - r0, c - c0))
            area[i] = np.count_nonzero((field <= budget) & targets[r0:r1, c0:c1]) * pixel_m**2
        if progress is not None:
            progress(i + 1, rows.size)
    return area


def feasibility(criteria: dict[str, NDArray], config: SiteConfig) -> tuple[NDArray, list[str]]:
    """Which candidates pass every hard limit, and for the others every limit they fail.

    Parameters
    ----------
    criteria : dict of numpy.ndarray
        :func:`lander_criteria` plus ``ice_reachable_m2`` [m^2].
    config : SiteConfig
        The limits.

    Returns
    -------
    feasible : numpy.ndarray
        Bool per candidate.
    reasons : list of str
        ``"; "``-joined failed limits per candidate, empty for feasible ones.
    """
    c = criteria
    shadow_limit = 1.0 - config.safe_fraction
    quantile = f"{100 * config.safe_fraction:g} % of the disc"
    checks = [
        (~c["complete"], lambda i: "landing disc leaves the DEM or holds nodata"),
        (c["lander_slope_deg"] > config.max_lander_slope_deg,
         lambda i: f"slope {c['lander_slope_deg'][i]:.1f} deg > {config.max_lander_slope_deg:g} deg over {quantile}"),
        (c["hazard_per_100m2"] > config.max_hazard_per_100m2,
         lambda i: f"rocks {c['hazard_per_100m2'][i]:.3g} > {config.max_hazard_per_100m2:g} per 100 m2 "
                   f"over {quantile}"),
        (c["psr_fraction"] > shadow_limit,
         lambda i: f"permanent shadow over {100 * c['psr_fraction'][i]:.0f} % of the disc"),
        (c["sun_fraction_mean"] < config.min_sun_fraction,
         lambda i: f"mean Sun {c['sun_fraction_mean'][i]:.3f} < {config.min_sun_fraction:g}"),
        (c["max_darkness_h"] > (np.inf if config.max_darkness_h is None else config.max_darkness_h),
         lambda i: f"darkness {c['max_darkness_h'][i]:.0f} h > {config.max_darkness_h:g} h"),
        (c["earth_visible_fraction"] < config.min_earth_visible_fraction,
         lambda i: f"Earth in view {c['earth_visible_fraction'][i]:.3f} < {config.min_earth_visible_fraction:g}"),
        (c["ice_reachable_m2"] <= config.min_ice_reachable_m2,
         lambda i: "no ice-stable ground within reach" if config.min_ice_reachable_m2 == 0 else
         f"ice-stable area within reach {c['ice_reachable_m2'][i]:.0f} m2 <= {config.min_ice_reachable_m2:g} m2"),
    ]
    n = c["complete"].size
    reasons: list[list[str]] = [[] for _ in range(n)]
    for failed, say in checks:
        for i in np.flatnonzero(failed):
            reasons[i].append(say(i))
    feasible = np.array([not r for r in reasons], dtype=bool)
    return feasible, ["; ".join(r) for r in reasons]


def site_scores(criteria: dict[str, NDArray], feasible: NDArray, config: SiteConfig) -> NDArray:
    """Weighted mean of the normalised criteria of the feasible candidates [-].

    Each criterion is mapped linearly over the feasible candidates onto [0, 1], 1 for the
    best value (largest Sun, Earth and ice; smallest darkness, slope and rocks) and 0 for the
    worst; a criterion that does not vary gives 1 to all. The score is
    ``sum(w_i n_i) / sum(w_i)``, in [0, 1]; a candidate better in every criterion than another
    therefore scores higher whenever the weights that differ from zero cover one of them.

    Returns
    -------
    numpy.ndarray
        Score per candidate, NaN for infeasible ones.
    """
    feasible = np.asarray(feasible, dtype=bool)
    total = np.zeros(feasible.size)
    weights = 0.0
    for name, (field, larger_better) in _CRITERIA.items():
        weight = getattr(config, field)
        values = np.asarray(criteria[name], dtype=np.float64)[feasible]
        if weight == 0.0 or values.size == 0:
            weights += weight
            continue
        low, high = values.min(), values.max()
        if high == low:
            norm = np.ones(values.size)
        else:
            norm = (values - low) / (high - low) if larger_better else (high - values) / (high - low)
        total[feasible] += weight * norm
        weights += weight
    return np.where(feasible, total / weights, np.nan)


def ice_targets(sky: xr.Dataset, thermal: xr.Dataset | None = None) -> tuple[NDArray, str]:
    """Ice-stable cells: from a thermal folder when given, else permanent shadow as the proxy.

    Parameters
    ----------
    sky : xarray.Dataset
        Holds ``psr`` (1 = permanently shadowed).
    thermal : xarray.Dataset, optional
        :func:`lupex.thermal.products.read_thermal`'s layers; ``ice_depth_m`` finite where ice
        is stable within 1.5 m.

    Returns
    -------
    mask : numpy.ndarray
        Bool, the grid's shape.
    source : str
        A key of :data:`ICE_SOURCES`.
    """
    if thermal is not None:
        return np.isfinite(thermal["ice_depth_m"].values), "thermal"
    return np.asarray(sky["psr"].values) == 1, "psr_proxy"


def read_illumination(folder: str | os.PathLike, dem: xr.DataArray) -> xr.Dataset:
    """The :data:`SKY_LAYERS` of a ``lupex illuminate`` folder, checked to lie on the DEM's grid.

    Raises
    ------
    LupexError
        When the folder or a layer is missing or unreadable, or a layer is on another grid.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise LupexError(f"illumination folder {folder} does not exist; make one with 'lupex illuminate'")
    layers = {}
    for name in SKY_LAYERS:
        path = folder / f"{name}.tif"
        if not path.is_file():
            raise LupexError(f"illumination folder {folder} has no {path.name}; make it with 'lupex illuminate'")
        try:
            layer = read_grid(path, name)
        except (OSError, ValueError) as exc:
            raise LupexError(f"cannot read {path}: {' '.join(str(exc).split())}") from None
        if not same_grid(layer, dem):
            raise LupexError(f"{path} is not on the DEM's grid; run 'lupex illuminate' on this DEM")
        layers[name] = layer.rename(name)
    return xr.Dataset(layers)


def rank_sites(dem: xr.DataArray, region: Region, sky: xr.Dataset, rover: RoverConfig | None = None,
               config: SiteConfig | None = None, thermal: xr.Dataset | None = None,
               rocks: xr.DataArray | None = None, hazards: HazardConfig | None = None,
               progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Candidate landing sites in a region, ranked best first.

    Parameters
    ----------
    dem : xarray.DataArray
        Heights [m] on the south polar stereographic map.
    region : Region
        Where to look.
    sky : xarray.Dataset
        The :data:`SKY_LAYERS` over the surface mission on the DEM's grid.
    rover : RoverConfig, optional
        The rover (costmap and drive budget); defaults when absent.
    config : SiteConfig, optional
        Grid, disc, limits and weights; defaults when absent.
    thermal : xarray.Dataset, optional
        A thermal folder's layers; ice-stable targets from ``ice_depth_m`` when given, from
        ``psr`` otherwise.
    rocks : xarray.DataArray, optional
        Fractional rock area [-] on the DEM's grid (:func:`lupex.terrain.derive.derive_layers`).
    hazards : HazardConfig, optional
        Rock model and rover traversability limits.
    progress : callable, optional
        ``progress(done, total)`` over the candidates' reachability searches.

    Returns
    -------
    pandas.DataFrame
        One row per candidate with the :data:`SITE_COLUMNS`: feasible candidates first by
        descending score (ties: more Sun first), ranked from 1, then the infeasible ones
        (rank and score empty) in the order of
        :func:`candidate_sites`. ``ice_reachable_m2`` is in m^2; ``reason`` names every limit a
        candidate fails.
    """
    rover = rover or RoverConfig()
    config = config or SiteConfig()
    hazards = hazards or HazardConfig()
    pixel_m = ground_pixel_m(dem)
    candidates = candidate_sites(dem, region, config.spacing_m)
    layers = derive_layers(dem, rocks, hazards)
    targets, source = ice_targets(sky, thermal)
    criteria = lander_criteria(layers, sky, candidates, config, pixel_m)
    cost = costmap(layers, rover, hazards, psr=sky["psr"], pixel_m=pixel_m)
    criteria["ice_reachable_m2"] = reachable_area_m2(cost.values, pixel_m, candidates.rows, candidates.cols,
                                                     targets, reach_budget_j(rover, config), progress)
    feasible, reasons = feasibility(criteria, config)
    score = site_scores(criteria, feasible, config)
    table = pd.DataFrame({
        "lat": candidates.lat, "lon": candidates.lon, "x_m": candidates.x_m, "y_m": candidates.y_m, "score": score,
        **{name: criteria[name] for name in SITE_COLUMNS if name in criteria},
        "ice_source": source, "feasible": feasible, "reason": reasons,
    })
    sun = np.where(feasible, -criteria["sun_fraction_mean"], 0.0)  # ties: more Sun first; infeasible: grid order
    order = np.lexsort((np.arange(len(table)), sun, np.where(feasible, -score, 0.0), ~feasible))
    table = table.iloc[order].reset_index(drop=True)
    table["rank"] = pd.array([i + 1 if ok else pd.NA for i, ok in enumerate(table["feasible"])], dtype="Int64")
    return table[list(SITE_COLUMNS)]


def prepare_sites_folder(out_dir: str | os.PathLike, overwrite: bool) -> Path:
    """Check before any work that ``out_dir`` may receive a ranking, and create it.

    The horizon cube of an earlier or interrupted run there (``horizon.nc`` or its ``.part``) is
    reused or resumed when it matches; the ranking's own files need ``overwrite``.

    Raises
    ------
    LupexError
        When ``out_dir`` is a file, holds anything lupex did not write, or holds the ranking and
        ``overwrite`` is false.
    """
    return claim_folder(out_dir, (CSV_NAME, PNG_NAME, *(f"{n}.tif" for n in MAP_STYLES)), overwrite,
                        keep=HORIZON_ENTRIES)


def write_sites_csv(table: pd.DataFrame, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write the ranking as CSV atomically (``feasible`` as ``true``/``false``, empty rank and
    score for infeasible candidates)."""
    path = check_writable(path, overwrite)
    shown = table.assign(feasible=np.where(table["feasible"], "true", "false"))
    with atomic_output(path, overwrite) as tmp:
        shown.to_csv(tmp, index=False, float_format="%.8g")
    return path


def save_sites_png(path: str | os.PathLike, dem: xr.DataArray, region: Region, table: pd.DataFrame,
                   ice_stable: ArrayLike, config: SiteConfig, overwrite: bool = False, labelled: int = 5) -> Path:
    """Map of the ranking: hillshade, ice-stable cells, the region, candidates coloured by score.

    Parameters
    ----------
    path : path-like
        Output PNG.
    dem : xarray.DataArray
        Heights [m].
    region : Region
        The region searched (drawn as a circle).
    table : pandas.DataFrame
        :func:`rank_sites`'s table.
    ice_stable : array_like
        Bool mask of ice-stable cells on the DEM's grid.
    config : SiteConfig
        For the landing disc drawn around the best candidates.
    overwrite : bool
        Whether an existing file may be replaced.
    labelled : int
        How many of the best candidates get their rank written beside them.
    """
    xc, yc, radius = _region_on_map(region)
    margin = max(0.1 * radius, 3.0 * config.landing_radius_m)
    left, bottom, right, top = dem.rio.bounds()
    x0, x1 = max(xc - radius - margin, left), min(xc + radius + margin, right)
    y0, y1 = max(yc - radius - margin, bottom), min(yc + radius + margin, top)
    x, y = dem["x"].values, dem["y"].values
    pixel = pixel_size(dem)
    # The pixels the box touches, and two more on each side so that tiny regions still show terrain.
    cols = np.flatnonzero((x + pixel / 2 >= x0) & (x - pixel / 2 <= x1))
    rows = np.flatnonzero((y + pixel / 2 >= y0) & (y - pixel / 2 <= y1))
    c0, c1 = max(cols[0] - 2, 0), min(cols[-1] + 3, x.size)
    r0, r1 = max(rows[0] - 2, 0), min(rows[-1] + 3, y.size)
    crop = dem.isel(x=slice(c0, c1), y=slice(r0, r1))
    extent = extent_km(crop)
    ice = np.asarray(ice_stable, dtype=bool)[r0:r1, c0:c1]
    source = str(table["ice_source"].iloc[0]) if len(table) else "psr_proxy"

    fig = Figure(figsize=(7.5, 6.5), dpi=110, layout="constrained")
    ax = fig.subplots()
    ax.imshow(hillshade(crop), cmap="gray", extent=extent, vmin=0, vmax=1, interpolation="nearest")
    ax.imshow(np.ma.masked_where(~ice, ice), cmap=ListedColormap(["#3b8bff"]), extent=extent, alpha=0.55,
              interpolation="nearest")
    ax.add_patch(Circle((xc / 1e3, yc / 1e3), radius / 1e3, fill=False, color="white", lw=1.5, ls="--"))
    bad = table[~table["feasible"]]
    good = table[table["feasible"]]
    ax.scatter(bad["x_m"] / 1e3, bad["y_m"] / 1e3, marker="x", s=14, c="0.55", lw=0.8,
               label=f"infeasible ({len(bad)})")
    points = ax.scatter(good["x_m"] / 1e3, good["y_m"] / 1e3, c=good["score"], cmap="viridis", vmin=0, vmax=1,
                        s=36, edgecolors="black", linewidths=0.5, label=f"feasible ({len(good)})")
    k = float(scale_factor(region.lat))
    for _, site in good.head(labelled).iterrows():
        ax.add_patch(Circle((site["x_m"] / 1e3, site["y_m"] / 1e3), config.landing_radius_m * k / 1e3,
                            fill=False, color="red", lw=1.0))
        ax.annotate(str(site["rank"]), (site["x_m"] / 1e3, site["y_m"] / 1e3), xytext=(5, 5),
                    textcoords="offset points", color="red", fontsize=10, fontweight="bold",
                    path_effects=[withStroke(linewidth=2.5, foreground="white")])
    ax.scatter([], [], marker="s", c="#3b8bff", alpha=0.55, label=f"ice-stable: {ICE_SOURCES[source]}")
    fig.colorbar(points, ax=ax, shrink=0.85, label="score (feasible sites) [-]")
    fig.legend(loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xlabel("x, polar stereographic [km]")
    ax.set_ylabel("y, polar stereographic [km]")
    ax.set_title(f"Landing sites within {region.radius_km:g} km of {region.lat:g}, {region.lon:g} "
                 f"(top {min(labelled, len(good))} ranked, red: landing discs)", fontsize=10)
    with atomic_output(path, overwrite) as tmp:
        fig.savefig(tmp, format="png")
    return Path(path)
