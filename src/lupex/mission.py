"""The mission orchestrator: terrain -> sky -> thermal/ice -> site -> plan -> simulate -> report.

``run_mission`` builds the site (a synthetic south-pole tile, or a DEM given by the user), its
hazard layers, its sky over the surface mission (horizons, Sun and Earth, permanent shadow),
the water prior from a coarser thermal run (:mod:`lupex.sim.precompute`), chooses the landing,
lays the strategic planner's lattice and sky, simulates the rover (:mod:`lupex.sim.engine`)
and writes the report. Interrupted (Ctrl-C or SIGTERM), it keeps the stages finished so far, with a
``summary.json`` whose status is ``interrupted``.

The site stages (terrain to ice) are :func:`write_site`, which campaigns (:mod:`lupex.campaign`)
run once per site into a folder of their own; :func:`read_site` loads such a folder back, and
:func:`site_world` turns a site into the simulation's world for one configuration (landing,
lattice, sky), the part that depends on the rover.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, model_validator

from lupex import __version__
from lupex.errors import LupexError
from lupex.files import MANIFEST_NAME, atomic_folder
from lupex.geo import xy_to_latlon
from lupex.ice.params import IceParams
from lupex.ice.prior import water_prior
from lupex.interrupts import requested
from lupex.limits import MAX_EPOCHS, MAX_HORIZON_AZIMUTHS, check_memory
from lupex.mission_cost import MissionCost, mission_cost
from lupex.planning.costmap import costmap
from lupex.raster import like, pixel_size, write_geotiff
from lupex.report.layers import write_layer_files
from lupex.report.mission_report import mission_map, mission_report_html, mission_timeline
from lupex.report.quicklook import save_quicklook
from lupex.rover.model import MobilityConfig, RoverConfig
from lupex.sim.config import SimConfig
from lupex.sim.engine import SimResult, Simulation
from lupex.sim.precompute import choose_landing, prior_from_coarse_thermal
from lupex.sim.world import World, build_world
from lupex.sky.ephemeris import parse_utc
from lupex.sky.horizon_map import check_request, compute_horizon_file
from lupex.sky.horizon_store import open_horizon
from lupex.sky.maps import MAP_STYLES, IlluminationConfig, illumination_maps, maps_bytes
from lupex.sky.tracks import epochs
from lupex.terrain.derive import HazardConfig
from lupex.terrain.info import summarize
from lupex.terrain.outputs import write_layers
from lupex.terrain.readers import open_dem, read_dem
from lupex.terrain.synth import SynthConfig, synthesize

__all__ = ["MISSION_FILES", "SITE_FILES", "MissionConfig", "MissionInterrupted", "Site", "check_site",
           "choose_site_landing", "holes_frame", "load_world", "read_site", "run_mission", "sim_summary", "site_grid",
           "site_world", "write_site"]

MISSION_FILES = ("summary.json", "telemetry.parquet", "events.csv", "holes.csv", "map.png", "timeline.png",
                 "report.html")
"""What the simulation stage adds to the output folder."""

_SITE_LAYERS = ("slope", "roughness", "hazard")
_SITE_MAPS = ("sun_fraction_mean", "psr", "earth_visible_fraction", "max_darkness_h")
SITE_FILES = ("dem.tif", "horizon.nc", "ice_depth_m.tif", *(f"{name}.tif" for name in _SITE_LAYERS + _SITE_MAPS))
"""The files of a site folder that :func:`read_site` reads (``rocks.tif`` too when the site is synthetic)."""

MISSION_BYTES_PER_PX = 800
"""Peak memory of a mission run per site pixel [bytes]: the site's layers, sky maps and prior, the
planner's lattice and the simulation's world, all held together from the landing on, and the
temporaries of the stage at work. Measured: the resident memory grows by 530 B a pixel through those
stages (``lupex mission`` on 512 x 512 and 1024 x 1024 synthetic sites, 2-day missions); 800 B leaves
room for the stages' temporaries (deriving the hazard layers again takes 160 B a pixel). The sky
maps' peak (:func:`lupex.sky.maps.maps_bytes`) comes on top: the whole run peaks in that stage on
both sites, at 1.1 GB."""


class MissionInterrupted(Exception):
    """The run was interrupted; ``summary`` is what was written (status ``interrupted``)."""

    def __init__(self, summary: dict[str, Any]):
        super().__init__("interrupted")
        self.summary = summary


class MissionConfig(BaseModel):
    """Everything a mission run needs (validated, immutable; loaded from TOML)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = Field(2028, ge=0, description="Seed of every random draw in the run.")
    site_seed: int | None = Field(None, ge=0, description="Seed of the synthetic site; default: the run's seed "
                                  "(campaigns fix it to vary the run's seed on one site).")
    dem: Path | None = Field(None, description="Real terrain to use instead of a synthetic site.")
    site: SynthConfig = Field(
        default_factory=lambda: SynthConfig(size=1024, resolution_m=20.0, center_lat=-89.45, center_lon=222.7),
        description="The synthetic site (used when no DEM is given): 20.5 km square at 20 m near "
        "the south pole, large enough for the >= 10 km traverse JAXA plans.",
    )
    hazards: HazardConfig = Field(default_factory=HazardConfig, description="Traversability limits.")
    landing_utc: str = Field(
        "2028-08-20T00:00:00Z",
        description="Landing time, ISO 8601 UTC. Assumption: JAXA plans the H3 launch for FY2028 (the day "
        "is not published); a solar rover lands in the south-polar summer, and at 89.45 S the Sun stays "
        "below the level horizon from February to June 2028 but stands 0.8-1.5 deg up from mid-August to "
        "November (DE421), so 100 days from 20 August 2028 have the Sun.",
    )
    days: float = Field(100.0, gt=0.0, le=3650.0,
                        description="Surface mission length [days]; about 100 for LUPEX (JAXA, ISRO).")
    sky_step_h: float = Field(1.0, gt=0.0, le=24.0, description="Time step of the Sun and Earth maps [h].")
    horizon_azimuths: int = Field(360, ge=8, le=MAX_HORIZON_AZIMUTHS,
                                  description="Azimuths of the horizon cube (lupex.limits.MAX_HORIZON_AZIMUTHS).")
    rover: RoverConfig = Field(default_factory=RoverConfig, description="The rover ([rover] table).")
    sim: SimConfig = Field(default_factory=SimConfig, description="Strategy and operations ([sim] table).")
    ice: IceParams = Field(default_factory=IceParams, description="The water model ([ice] table).")
    thermal_max_pixels: int = Field(
        128, ge=16, le=1024,
        description="Most pixels along a side of the coarse grid of the thermal model [-] (160 m pixels for the "
        "default site; see lupex.sim.precompute).")
    landing_radius_m: float = Field(
        2000.0, gt=0.0, description="The landing is chosen within this distance of the site's centre [m].")

    @model_validator(mode="before")
    @classmethod
    def _one_slope_limit(cls, values: Any) -> Any:
        """The slope limit is the rover's (``[rover.mobility] max_slope_deg``): ``[hazards]`` takes it
        from there for ``traversable.tif``, and a different value there is refused."""
        if not isinstance(values, dict):
            return values
        rover, hazards = values.get("rover", {}), values.get("hazards", {})
        mobility = rover.get("mobility", {}) if isinstance(rover, dict) else getattr(rover, "mobility", None)
        if not isinstance(mobility, dict | MobilityConfig) or not isinstance(hazards, dict | HazardConfig):
            return values  # not tables: the fields' own validation refuses them
        rover_limit = (mobility.get("max_slope_deg") if isinstance(mobility, dict) else mobility.max_slope_deg)
        rover_limit = MobilityConfig.model_fields["max_slope_deg"].default if rover_limit is None else rover_limit
        if isinstance(hazards, dict):
            given = hazards.get("max_slope_deg")
            if given is not None and given != rover_limit:
                raise ValueError(f"[hazards] max_slope_deg ({given}) differs from the rover's [rover.mobility] "
                                 f"max_slope_deg ({rover_limit}); state the slope limit once, in [rover.mobility]")
            return {**values, "hazards": {**hazards, "max_slope_deg": rover_limit}}
        if hazards.max_slope_deg != rover_limit:
            raise ValueError(f"hazards.max_slope_deg ({hazards.max_slope_deg:g}) differs from the rover's "
                             f"max_slope_deg ({rover_limit:g}); state the slope limit once, in the rover")
        return values

    @model_validator(mode="after")
    def _counts(self) -> MissionConfig:
        """Refuse more sky epochs or simulation ticks than ``lupex.limits.MAX_EPOCHS``, before any is made."""
        for count, what, fix in (
            (self.days * 24.0 / self.sky_step_h + 1, f"sky epochs (every {self.sky_step_h:g} h)",
             "a longer sky_step_h"),
            (self.days * 1440.0 / self.sim.plan.tick_min + 1, f"simulation ticks (of {self.sim.plan.tick_min:g} min)",
             "a longer sim.plan.tick_min"),
        ):
            if count > MAX_EPOCHS:
                raise ValueError(f"{self.days:g} days make {count:,.0f} {what}, more than the limit of {MAX_EPOCHS:,}; "
                                 f"choose {fix} or fewer days")
        return self

    def mission_end_utc(self) -> str:
        """The end of the surface mission, ISO 8601 UTC."""
        end = parse_utc(self.landing_utc) + np.timedelta64(int(round(self.days * 86400)), "s")
        return np.datetime_as_string(end, unit="s") + "Z"

    def check_period(self) -> None:
        """Refuse a mission period outside the ephemeris before any work starts."""
        epochs(self.landing_utc, self.mission_end_utc(), self.sky_step_h)

    def check_size(self, shape: tuple[int, int], pixel_m: float) -> None:
        """Refuse a site too small for the mission, or too large for this machine's memory, before
        any work starts."""
        spacing_px = self.sim.plan.node_spacing_px(pixel_m)
        if min(shape) < 4 * spacing_px:
            raise LupexError(f"the DEM ({shape[1]} x {shape[0]} pixels) is too small for the mission: the "
                             f"planner needs at least 4 x 4 lattice blocks of {spacing_px} pixels; use a larger DEM")
        check_memory(float(shape[0]) * shape[1] * MISSION_BYTES_PER_PX + maps_bytes(shape, self.horizon_azimuths),
                     f"a mission on a {shape[1]} x {shape[0]} pixel site",
                     "choose a smaller [site] size, or crop the DEM with 'lupex terrain crop'")

    def cost(self, shape: tuple[int, int], pixel_m: float) -> MissionCost:
        """The estimated time of each stage of this mission on a site of ``shape`` pixels of
        ``pixel_m`` [m] (:mod:`lupex.mission_cost`)."""
        spacing_px = self.sim.plan.node_spacing_px(pixel_m)
        coarse = max(1, math.ceil(max(shape) / self.thermal_max_pixels))
        return mission_cost(
            shape, self.horizon_azimuths,
            map_epochs=int(self.days * 24.0 / self.sky_step_h) + 1,
            thermal_px=math.ceil(shape[0] / coarse) * math.ceil(shape[1] / coarse),
            nodes=math.ceil(shape[0] / spacing_px) * math.ceil(shape[1] / spacing_px),
            sky_steps=int(self.days * 24.0 / self.sim.plan.sky_step_h) + 2,
            ticks=math.ceil(self.days * 1440.0 / self.sim.plan.tick_min))

    def synth_config(self) -> SynthConfig:
        """The synthetic site with its seed (``site_seed``, else the run's ``seed``)."""
        return self.site.model_copy(update={"seed": self.seed if self.site_seed is None else self.site_seed})


@dataclass
class Site:
    """The products of the site stages (terrain, hazards, sky, thermal, ice), as written to its folder.

    Attributes
    ----------
    dem : xarray.DataArray
        Heights [m], as read back from ``dem.tif``.
    rocks : xarray.DataArray or None
        Rock area fraction [-] of a synthetic site.
    layers : xarray.Dataset
        ``slope`` [deg], ``roughness`` [m], ``hazard`` [rocks per 100 m^2] (and more, in memory).
    horizon
        The horizon cube of ``horizon.nc`` [deg] (:func:`lupex.sky.horizon_store.open_horizon`).
    maps : xarray.Dataset
        ``sun_fraction_mean`` [-], ``psr`` (1 = permanent shadow), ``earth_visible_fraction`` [-],
        ``max_darkness_h`` [h] (and more, in memory).
    prior : xarray.Dataset
        The water prior on the DEM's grid.
    """

    dem: xr.DataArray
    rocks: xr.DataArray | None
    layers: xr.Dataset
    horizon: Any
    maps: xr.Dataset
    prior: xr.Dataset


def _sky_summary(maps: xr.Dataset) -> dict[str, float]:
    sun = maps["sun_fraction_mean"].values
    return {
        "sun_fraction_mean_site": float(np.nanmean(sun)),
        "sun_fraction_best_pixel": float(np.nanmax(sun)),
        "psr_fraction": float(np.mean(maps["psr"].values)),
        "earth_visible_fraction_site": float(np.nanmean(maps["earth_visible_fraction"].values)),
        "max_darkness_h_median": float(np.nanmedian(maps["max_darkness_h"].values)),
        "max_earth_blackout_h_median": float(np.nanmedian(maps["max_earth_blackout_h"].values)),
    }


def holes_frame(result: SimResult) -> pd.DataFrame:
    """One row per hole: place [m], time, depth [m], rock stop, highest and mean measured and true WEH [wt%]."""
    return pd.DataFrame({
        "x_m": [h.x for h in result.holes],
        "y_m": [h.y for h in result.holes],
        "time": [str(result.telemetry.rows["time"][min(h.tick, len(result.telemetry.rows["time"])) - 1])
                 for h in result.holes],
        "depth_m": [h.result.depth_reached_m for h in result.holes],
        "stopped_on_rock": [h.result.stopped_on_rock for h in result.holes],
        "max_wt_pct": [h.max_wt_pct for h in result.holes],
        "mean_wt_pct": [h.mean_wt_pct for h in result.holes],
        "true_max_wt_pct": [float(np.max(h.result.true_weh_wt_pct, initial=0.0)) for h in result.holes],
    }, columns=["x_m", "y_m", "time", "depth_m", "stopped_on_rock", "max_wt_pct", "mean_wt_pct", "true_max_wt_pct"])


def sim_summary(result: SimResult, seed: int, threshold_wt_pct: float) -> dict[str, Any]:
    """The figures of a run for ``summary.json`` (and for campaigns)."""
    holes = holes_frame(result)
    return {
        "status": "interrupted" if result.interrupted else result.status,
        "reason": result.reason,
        "days_simulated": round(result.days_simulated, 6),
        "distance_km": round(result.distance_m / 1000.0, 6),
        "drills": len(holes),
        "max_water_wt_pct": round(float(holes["max_wt_pct"].max()) if len(holes) else 0.0, 6),
        "mean_water_wt_pct_at_drills": round(float(holes["mean_wt_pct"].mean()) if len(holes) else 0.0, 6),
        "drills_at_threshold_fraction": round(float((holes["max_wt_pct"] >= threshold_wt_pct).mean())
                                              if len(holes) else 0.0, 6),
        "min_soc": round(result.min_soc, 6),
        "energy_in_kwh": round(result.energy_in_wh / 1000.0, 6),
        "energy_out_kwh": round(result.energy_out_wh / 1000.0, 6),
        "downlinked_mb": round(result.downlinked_mb, 6),
        "hazards_avoided": result.hazards_avoided,
        "strategic_replans": result.replans,
        "neutron_measurements": result.neutron_measurements,
        "seed": seed,
    }


def _write_sim(result: SimResult, summary: dict[str, Any], dem: xr.DataArray, psr: xr.DataArray | None,
               work: Path, outputs: list[str]) -> None:
    """Write the simulation's files into ``work``, naming each in ``outputs`` once it is whole."""
    telemetry = result.telemetry.frame()
    telemetry.to_parquet(work / "telemetry.parquet", index=False)
    outputs.append("telemetry.parquet")
    events = result.telemetry.event_frame()
    events.to_csv(work / "events.csv", index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    outputs.append("events.csv")
    holes = holes_frame(result)
    holes.to_csv(work / "holes.csv", index=False, float_format="%.4f")
    outputs.append("holes.csv")
    if len(telemetry):
        mission_map(dem, psr, telemetry, holes, work / "map.png")
        outputs.append("map.png")
        mission_timeline(telemetry, work / "timeline.png")
        outputs.append("timeline.png")
        mission_report_html(summary, holes, {"Route, holes and shadow": work / "map.png",
                                             "Battery, power, Sun, Earth and activity": work / "timeline.png"},
                            work / "report.html")
        outputs.append("report.html")


def _drop_unfinished(work: Path, outputs: list[str]) -> None:
    """Remove from ``work`` what ``outputs`` does not name: a file cut off half-written, or the
    ``horizon.nc.part`` of a cube, which a mission never resumes."""
    for entry in work.iterdir():
        if entry.name in outputs or entry.name == MANIFEST_NAME:
            continue
        shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)


def _refuse_interrupted(out_dir: Path, overwrite: bool) -> None:
    """Refuse, before any work, to run into the folder of an interrupted mission without ``overwrite``:
    a mission does not resume, so the message says so and how to run it again."""
    try:
        held = json.loads((Path(out_dir) / "summary.json").read_text())
    except (OSError, ValueError):
        return
    if not overwrite and isinstance(held, dict) and held.get("status") == "interrupted":
        stages = ", ".join(map(str, held.get("stages_completed") or [])) or "none"
        raise LupexError(f"{out_dir} holds an interrupted mission (stages done: {stages}); a mission does not resume: "
                         "pass --overwrite to run it again from the start, or choose another --out")


def check_site(config: MissionConfig) -> xr.DataArray | None:
    """Refuse a mission whose period or terrain cannot work, before any long work starts.

    Returns
    -------
    xarray.DataArray or None
        The DEM given by ``config.dem`` [m] (read and checked), None for a synthetic site.
    """
    config.check_period()
    given_dem = read_dem(config.dem) if config.dem is not None else None
    if given_dem is not None:
        check_request(given_dem, config.horizon_azimuths, 0.0)
    config.check_size(*site_grid(config, given_dem))
    return given_dem


def site_grid(config: MissionConfig, given_dem: xr.DataArray | None) -> tuple[tuple[int, int], float]:
    """The site's rows and columns [pixels] and pixel size [m]: the given DEM's, else the synthetic site's."""
    if given_dem is not None:
        return given_dem.shape, pixel_size(given_dem)
    return (config.site.size, config.site.size), config.site.resolution_m


def write_site(config: MissionConfig, given_dem: xr.DataArray | None, work: Path, summary: dict[str, Any],
               outputs: list[str], step: Callable[[str], Any] | None = None,
               horizon_progress: Callable[[int, int], None] | None = None) -> Site:
    """Run the site stages (terrain, hazards, sky, thermal, ice) and write their files into ``work``.

    What the stages find goes into ``summary`` (``site``, ``terrain``, ``sky``, ``ice``, ...; each
    stage appended to ``summary["stages_completed"]`` once written) and the names of the files
    written into ``outputs``, as they happen, so an interrupted caller knows what is done.

    Parameters
    ----------
    config : MissionConfig
        The run's configuration (only the fields of the site stages are used).
    given_dem : xarray.DataArray or None
        The DEM of ``config.dem`` from :func:`check_site`; None for the synthetic site.
    work : Path
        Existing folder the files go into.
    summary : dict
        Updated in place.
    outputs : list of str
        Extended in place.
    step, horizon_progress : callable, optional
        As for :func:`run_mission`.
    """
    step = step or (lambda message: None)
    done = summary["stages_completed"]
    sky_config = IlluminationConfig(start=config.landing_utc, end=config.mission_end_utc(), step_h=config.sky_step_h)
    step("terrain: building the site")
    if given_dem is not None:
        dem, rocks, craters = given_dem, None, None
        summary["site"] = {"source": str(config.dem)}
    else:
        synthetic = synthesize(config.synth_config())
        dem, rocks, craters = synthetic.dem, synthetic.rocks, len(synthetic.craters)
        summary["site"] = {"source": "synthetic", **synthetic.config.model_dump()}
        write_geotiff(rocks, work / "rocks.tif")
        rocks = read_dem(work / "rocks.tif")
        outputs.append("rocks.tif")
    write_geotiff(dem, work / "dem.tif")
    dem = read_dem(work / "dem.tif")  # later stages, and later commands on the folder, see the file's DEM
    save_quicklook(dem, work / "site.png", "mission site: heights over hillshade", "gist_earth",
                   "height above 1737.4 km sphere [m]", relief=dem)
    outputs += ["dem.tif", "site.png"]
    step("terrain: slope, roughness, rock hazard, traversability")
    layers, written = write_layers(dem, rocks, config.hazards, work)
    outputs += [p.name for p in written]
    summary["terrain"] = summarize(open_dem(work / "dem.tif")) | {"path": "dem.tif"}
    summary["craters"] = craters
    summary["traversable_fraction"] = float(np.mean(layers["traversable"].values))
    summary["hazard_median_per_100m2"] = float(np.nanmedian(layers["hazard"].values))
    done += ["terrain", "hazards"]

    step(f"sky: horizons at {config.horizon_azimuths} azimuths")
    compute_horizon_file(dem, work / "horizon.nc", config.horizon_azimuths, progress=horizon_progress)
    outputs.append("horizon.nc")
    horizon = open_horizon(work / "horizon.nc", dem)
    maps = illumination_maps(dem, horizon, sky_config, step=step)
    for name, style in MAP_STYLES.items():
        outputs += [p.name for p in write_layer_files(maps[name], style, work, dem)]
    summary["sky"] = _sky_summary(maps)
    done.append("sky")

    thermal, prior = prior_from_coarse_thermal(dem, config.ice, config.thermal_max_pixels, step=step)
    write_geotiff(like(dem, prior["weh_top1m_mean"].values.astype(np.float32), "weh_top1m_mean", "wt%"),
                  work / "water_prior_top1m.tif")
    write_geotiff(like(dem, prior["ice_depth_m"].values.astype(np.float32), "ice_depth_m", "m"),
                  work / "ice_depth_m.tif")
    outputs += ["water_prior_top1m.tif", "ice_depth_m.tif"]
    summary["ice"] = {"thermal_pixel_m": abs(thermal.rio.transform().a),
                      "ice_stable_fraction": float(np.mean(np.isfinite(thermal["ice_depth_m"].values))),
                      "expected_weh_top1m_site_wt_pct": float(np.nanmean(prior["weh_top1m_mean"].values))}
    done += ["thermal", "ice"]
    return Site(dem, rocks, layers, horizon, maps, prior)


def read_site(folder: str | Path, ice: IceParams) -> Site:
    """The site of a folder written by :func:`write_site` (a ``lupex mission`` folder or a campaign's site).

    Parameters
    ----------
    folder : path-like
        The folder.
    ice : IceParams
        The water model the prior is rebuilt with from ``ice_depth_m.tif``.

    Raises
    ------
    LupexError
        When a file of :data:`SITE_FILES` is missing.
    """
    folder = Path(folder)
    missing = [name for name in SITE_FILES if not (folder / name).is_file()]
    if missing:
        raise LupexError(f"{folder} is not the folder of a finished site: {', '.join(missing)} missing")
    dem = read_dem(folder / "dem.tif")
    rocks = read_dem(folder / "rocks.tif") if (folder / "rocks.tif").is_file() else None
    prior = water_prior(xr.Dataset({"ice_depth_m": read_dem(folder / "ice_depth_m.tif")}), ice)
    layers = xr.Dataset({name: read_dem(folder / f"{name}.tif") for name in _SITE_LAYERS})
    maps = xr.Dataset({name: read_dem(folder / f"{name}.tif") for name in _SITE_MAPS})
    return Site(dem, rocks, layers, open_horizon(folder / "horizon.nc", dem), maps, prior)


def choose_site_landing(config: MissionConfig, site: Site) -> tuple[float, float]:
    """The landing [m] on ``site`` for the configuration's rover and ``landing_radius_m``
    (:func:`lupex.sim.precompute.choose_landing` over the rover's costmap)."""
    rover = config.rover
    cost = costmap(site.layers, rover, config.hazards, site.maps["psr"], pixel_m=abs(site.dem.rio.transform().a))
    return choose_landing(site.dem, np.isfinite(cost.values), site.maps["sun_fraction_mean"],
                          site.maps["earth_visible_fraction"], site.maps["max_darkness_h"],
                          rover.thermal.max_shadow_h, config.landing_radius_m)


def site_world(config: MissionConfig, site: Site, landing: tuple[float, float],
               step: Callable[[str], Any] | None = None) -> World:
    """The simulation's world on ``site`` for the configuration's rover, planner and period, landing at
    ``landing`` [m] (:func:`lupex.sim.world.build_world`)."""
    return build_world(site.dem, site.horizon, site.rocks, site.prior, config.ice, config.rover, config.sim,
                       config.landing_utc, config.days, landing, site.maps["sun_fraction_mean"], site.maps["psr"],
                       step=step, hazards=config.hazards)


def load_world(folder: str | Path, config: MissionConfig, step: Callable[[str], Any] | None = None) -> World:
    """The simulation's world from the folder of an earlier ``lupex mission`` run, without redoing its
    terrain, sky and thermal stages (for benchmarks; the folder's landing and period are used, and
    ``config`` must describe the same site).

    Raises
    ------
    LupexError
        When the folder lacks a file of a finished run (``summary.json`` or one of :data:`SITE_FILES`).
    """
    folder = Path(folder)
    if not (folder / "summary.json").is_file():
        raise LupexError(f"{folder} is not the folder of a finished 'lupex mission' run: summary.json missing")
    summary = json.loads((folder / "summary.json").read_text())
    if "landing_xy" not in summary:
        raise LupexError(f"{folder} holds a 'lupex mission' run that did not reach its landing (no landing_xy in "
                         "summary.json)")
    site = read_site(folder, config.ice)
    return site_world(config.model_copy(update={"landing_utc": summary["landing_utc"]}), site,
                      tuple(summary["landing_xy"]), step)


def run_mission(config: MissionConfig, out_dir: Path, overwrite: bool = False,
                step: Callable[[str], Any] | None = None,
                horizon_progress: Callable[[int, int], None] | None = None,
                sim_progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Run every stage and write the products into ``out_dir``.

    Parameters
    ----------
    config : MissionConfig
        The run's configuration.
    out_dir : Path
        Output folder; replaced when the run ends (completed, or interrupted with what is done).
    overwrite : bool
        Whether an existing folder with files may be replaced.
    step : callable, optional
        Called with a short description as each stage starts (progress display).
    horizon_progress : callable, optional
        ``horizon_progress(azimuths_done, azimuths_total)`` while horizons are computed.
    sim_progress : callable, optional
        ``sim_progress(ticks_done, ticks_total)`` during the simulation.

    Returns
    -------
    dict
        The content of ``summary.json``.

    Raises
    ------
    MissionInterrupted
        After Ctrl-C or SIGTERM, once the finished stages are written (``summary.json`` says what ran).
    """
    step = step or (lambda message: None)
    _refuse_interrupted(out_dir, overwrite)
    given_dem = check_site(config)  # bad terrain fails before any long work
    step(config.cost(*site_grid(config, given_dem)).describe())
    summary: dict[str, Any] = {
        "lupex_version": __version__, "status": "running", "reason": "", "stages_completed": [],
        "seed": config.seed, "landing_utc": config.landing_utc, "days": config.days,
        "strategy": config.sim.strategy,
    }
    outputs: list[str] = ["summary.json"]
    done = summary["stages_completed"]
    with atomic_folder(out_dir, overwrite) as work:
        try:
            site = write_site(config, given_dem, work, summary, outputs, step, horizon_progress)
            step("site: landing place")
            landing = choose_site_landing(config, site)
            summary["landing_xy"] = list(landing)
            world = site_world(config, site, landing, step)
            lat, lon = xy_to_latlon(*world.landing_xy)
            summary["landing"] = {"x_m": world.landing_xy[0], "y_m": world.landing_xy[1], "lat": float(lat),
                                  "lon": float(lon)}
            done += ["site", "plan"]

            step(f"simulate: {config.days:g} days, {config.sim.strategy} strategy")
            simulation = Simulation(world, config.rover, config.sim, config.seed)
            result = simulation.run(sim_progress, should_stop=lambda: requested() is not None)
            summary.update(sim_summary(result, config.seed, config.sim.threshold_wt_pct))
            if result.interrupted:
                summary["reason"] = "interrupted (Ctrl-C or SIGTERM) during the simulation; telemetry up to then"
            done.append("simulation")
            _write_sim(result, summary, site.dem, site.maps["psr"], work, outputs)
            done.append("report")
        except KeyboardInterrupt:
            summary["status"] = "interrupted"
            summary["reason"] = "interrupted (Ctrl-C or SIGTERM) " + (
                "while writing the simulation's files" if "simulation" in done else "before the simulation ended"
            ) + ": " + (f"stages done: {', '.join(done)}" if done else "no stage finished")
            _drop_unfinished(work, outputs)  # what the folder holds is what summary.json lists, all whole
            interrupted = summary
        else:
            interrupted = summary if result.interrupted else None
        summary["outputs"] = sorted(outputs)
        (work / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    if interrupted is not None:
        raise MissionInterrupted(interrupted)
    return summary
