"""The mission orchestrator: runs every stage lupex has, in order, into one output folder.

Stages available today: the site (a synthetic south-pole tile, or a DEM given by the user),
its hazard layers, and its sky (horizons, Sun and Earth visibility over the surface mission,
permanent shadow). Later stages (thermal and ice, planning, simulation) join here as they are
built; ``summary.json`` lists which stages ran.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field

from lupex import __version__
from lupex.files import atomic_folder
from lupex.raster import write_geotiff
from lupex.report.layers import write_layer_files
from lupex.report.quicklook import save_quicklook
from lupex.sky.ephemeris import parse_utc
from lupex.sky.horizon_map import check_request, compute_horizon_file
from lupex.sky.horizon_store import open_horizon
from lupex.sky.maps import MAP_STYLES, IlluminationConfig, illumination_maps
from lupex.sky.tracks import epochs
from lupex.terrain.derive import HazardConfig
from lupex.terrain.info import summarize
from lupex.terrain.outputs import write_layers
from lupex.terrain.readers import open_dem, read_dem
from lupex.terrain.synth import SynthConfig, synthesize

__all__ = ["MissionConfig", "run_mission"]

PENDING_STAGES = ("thermal", "ice", "planning", "simulation")


class MissionConfig(BaseModel):
    """Everything a mission run needs (validated, immutable; loaded from TOML)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = Field(2028, ge=0, description="Seed of every random draw in the run.")
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
    horizon_azimuths: int = Field(360, ge=8, le=3600, description="Azimuths of the horizon cube.")

    def mission_end_utc(self) -> str:
        """The end of the surface mission, ISO 8601 UTC."""
        end = parse_utc(self.landing_utc) + np.timedelta64(int(round(self.days * 86400)), "s")
        return np.datetime_as_string(end, unit="s") + "Z"

    def check_period(self) -> None:
        """Refuse a mission period outside the ephemeris before any work starts."""
        epochs(self.landing_utc, self.mission_end_utc(), self.sky_step_h)


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


def run_mission(config: MissionConfig, out_dir: Path, overwrite: bool = False,
                step: Callable[[str], Any] | None = None,
                horizon_progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Run the available stages and write their products into ``out_dir``.

    Parameters
    ----------
    config : MissionConfig
        The run's configuration.
    out_dir : Path
        Output folder; replaced only when the whole run succeeds.
    overwrite : bool
        Whether an existing folder with files may be replaced.
    step : callable, optional
        Called with a short description as each stage starts (progress display).
    horizon_progress : callable, optional
        ``horizon_progress(azimuths_done, azimuths_total)`` while horizons are computed.

    Returns
    -------
    dict
        The content of ``summary.json``.
    """
    step = step or (lambda message: None)
    config.check_period()
    given_dem = read_dem(config.dem) if config.dem is not None else None
    if given_dem is not None:  # bad terrain fails before any long work
        check_request(given_dem, config.horizon_azimuths, 0.0)
    sky_config = IlluminationConfig(start=config.landing_utc, end=config.mission_end_utc(), step_h=config.sky_step_h)
    with atomic_folder(out_dir, overwrite) as work:
        step("terrain: building the site")
        if given_dem is not None:
            dem, rocks, craters = given_dem, None, None
            site = {"source": str(config.dem)}
        else:
            synthetic = synthesize(config.site.model_copy(update={"seed": config.seed}))
            dem, rocks, craters = synthetic.dem, synthetic.rocks, len(synthetic.craters)
            site = {"source": "synthetic", **synthetic.config.model_dump()}
            write_geotiff(rocks, work / "rocks.tif")
        write_geotiff(dem, work / "dem.tif")
        save_quicklook(dem, work / "site.png", "mission site: heights over hillshade", "gist_earth",
                       "height above 1737.4 km sphere [m]", relief=dem)
        step("terrain: slope, roughness, rock hazard, traversability")
        layers, written = write_layers(dem, rocks, config.hazards, work)
        step(f"sky: horizons at {config.horizon_azimuths} azimuths")
        compute_horizon_file(dem, work / "horizon.nc", config.horizon_azimuths, progress=horizon_progress)
        maps = illumination_maps(dem, open_horizon(work / "horizon.nc", dem), sky_config, step=step)
        for name, style in MAP_STYLES.items():
            written += write_layer_files(maps[name], style, work, dem)
        summary = {
            "lupex_version": __version__,
            "status": "terrain-and-sky",
            "stages_completed": ["terrain", "hazards", "sky"],
            "stages_pending": list(PENDING_STAGES),
            "seed": config.seed,
            "landing_utc": config.landing_utc,
            "days": config.days,
            "site": site,
            "terrain": summarize(open_dem(work / "dem.tif")) | {"path": "dem.tif"},
            "craters": craters,
            "traversable_fraction": float(np.mean(layers["traversable"].values)),
            "hazard_median_per_100m2": float(np.nanmedian(layers["hazard"].values)),
            "sky": _sky_summary(maps),
            "outputs": sorted(["dem.tif", "site.png", "summary.json", "horizon.nc"] + [p.name for p in written]
                              + (["rocks.tif"] if rocks is not None else [])),
        }
        (work / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary
