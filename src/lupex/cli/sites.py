"""``lupex sites``: rank candidate landing sites in a region (CSV table and PNG map)."""

from __future__ import annotations

import logging
from pathlib import Path

import click
import numpy as np

from lupex.cli.options import overwrite_option, progress, progress_bar
from lupex.config import build, load_toml
from lupex.mission import MissionConfig
from lupex.planning.sites import (
    CSV_NAME,
    ICE_SOURCES,
    PNG_NAME,
    SiteConfig,
    candidate_sites,
    ice_targets,
    parse_region,
    prepare_sites_folder,
    rank_sites,
    read_illumination,
    save_sites_png,
    write_sites_csv,
)
from lupex.raster import write_geotiff
from lupex.rover.model import RoverConfig, load_rover
from lupex.sky.ephemeris import parse_utc
from lupex.sky.horizon_map import check_request, compute_horizon_file
from lupex.sky.horizon_store import open_horizon
from lupex.sky.maps import MAP_STYLES, IlluminationConfig, illumination_maps
from lupex.sky.tracks import epochs, parse_step_hours
from lupex.terrain.derive import HazardConfig
from lupex.terrain.outputs import rocks_path_for
from lupex.terrain.readers import read_dem
from lupex.thermal.products import read_thermal

log = logging.getLogger(__name__)

_LANDING = MissionConfig.model_fields["landing_utc"].default
_DAYS = MissionConfig.model_fields["days"].default


def _mission_end(start: str, days: float) -> str:
    """ISO 8601 UTC ``days`` after ``start``."""
    end = parse_utc(start) + np.timedelta64(int(round(days * 86400)), "s")
    return np.datetime_as_string(end, unit="s") + "Z"


@click.command()
@click.argument("dem_path", metavar="DEM", type=click.Path())
@click.option("--region", required=True, metavar="LAT,LON,RADIUS_KM",
              help="Circle to search: centre latitude and east longitude [deg], radius on the ground [km].")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Output folder.")
@click.option("--illumination", type=click.Path(file_okay=False),
              help="Folder of 'lupex illuminate' on this DEM over the mission (its sun_fraction_mean, psr, "
                   "max_darkness_h and earth_visible_fraction). Computed into OUT when absent.")
@click.option("--thermal", "thermal_dir", type=click.Path(file_okay=False),
              help="Folder of 'lupex thermal map' on this DEM: ice-stable targets where ice_depth_m is finite. "
                   "Without it, permanently shadowed cells stand in for cold traps.")
@click.option("--start", help=f"Start of the surface mission, ISO 8601 UTC [default: {_LANDING}].")
@click.option("--days", type=click.FloatRange(min=0.0, min_open=True, max=3650.0),
              help=f"Length of the surface mission [days] [default: {_DAYS:g}].")
@click.option("--step", help="Time step of the Sun and Earth maps: 30min, 1h ... [default: 1h]")
@click.option("--azimuths", type=int, default=360, show_default=True, help="Azimuths when computing horizons.")
@click.option("--rover", "rover_file", type=click.Path(dir_okay=False),
              help="Rover file (TOML or JSON) for the costmap and the drive budget (default rover when absent).")
@click.option("--rocks", "rocks_file", type=click.Path(dir_okay=False),
              help="Rock-area map (default: DEM_rocks.tif when it exists, else a uniform background).")
@click.option("--spacing", type=float, help="Distance between candidates [m] [default: 250].")
@click.option("--landing-radius", type=float, help="Radius of the landing disc [m] [default: 100].")
@click.option("--max-slope", type=float, help="Lander slope limit [deg] [default: 12].")
@click.option("--reach", type=float, help="Drive budget to ice, as metres of level ground [m] [default: 2000].")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="TOML with any SiteConfig field (limits, weight_sun, weight_ice ...).")
@overwrite_option
def sites(dem_path, region, out_dir, illumination, thermal_dir, start, days, step, azimuths, rover_file, rocks_file,
          spacing, landing_radius, max_slope, reach, config_file, overwrite) -> None:
    """Rank candidate landing sites in a region of DEM; writes OUT/sites.csv and OUT/sites.png.

    Candidates lie on a grid inside the region. Each is judged over its landing disc: mean
    Sun, longest darkness and Earth visibility over the mission, the slope and rock density
    most of the disc stays within, and the ice-stable area the rover can drive to within its
    budget. Candidates failing a hard limit are kept with feasible=false and the reason; the
    others are ranked by a weighted score (docs/sites.md). Without --illumination the
    horizons (OUT/horizon.nc, resumable) and the Sun and Earth maps (OUT/NAME.tif) are
    computed, so OUT can serve as --illumination for a rerun.
    """
    values = load_toml(config_file) if config_file else {}
    values.update({"spacing_m": spacing, "landing_radius_m": landing_radius, "max_lander_slope_deg": max_slope,
                   "reach_m": reach})
    config = build(SiteConfig, values, config_file or "")
    place = parse_region(region)
    rover = load_rover(rover_file) if rover_file else RoverConfig()
    if illumination and (start or days or step):
        raise click.UsageError("--start, --days and --step set the period of maps to compute; "
                               "they cannot change an --illumination folder")
    dem = read_dem(dem_path)
    sidecar = rocks_path_for(Path(dem_path))
    rocks_source = rocks_file or (sidecar if sidecar.exists() else None)
    rocks = read_dem(rocks_source) if rocks_source else None
    candidate_sites(dem, place, config.spacing_m)  # a region off the DEM fails before any work
    if illumination:
        sky = read_illumination(illumination, dem)
        sky_config = None
    else:
        sky_config = build(IlluminationConfig, {"start": start or _LANDING,
                                                "end": _mission_end(start or _LANDING, days or _DAYS),
                                                "step_h": parse_step_hours(step or "1h")})
        epochs(sky_config.start, sky_config.end, sky_config.step_h)
        check_request(dem, azimuths, 0.0)
    thermal = read_thermal(thermal_dir, dem) if thermal_dir else None
    out = prepare_sites_folder(out_dir, overwrite)
    if sky_config is not None:
        cube = out / "horizon.nc"
        with progress_bar("horizons (azimuths)") as update:
            compute_horizon_file(dem, cube, azimuths, 0.0, overwrite=overwrite, progress=update, reuse=True)
        sky = illumination_maps(dem, open_horizon(cube, dem, 0.0), sky_config, step=progress)
    ice, source = ice_targets(sky, thermal)
    progress(f"ranking candidates; ice-stable targets: {ICE_SOURCES[source]}, {int(ice.sum())} cells")
    with progress_bar("reachable ice (candidates)") as update:
        table = rank_sites(dem, place, sky, rover, config, thermal, rocks, HazardConfig(), update)
    written = []
    if sky_config is not None:
        for name in MAP_STYLES:
            write_geotiff(sky[name], out / f"{name}.tif", overwrite)
            written.append(out / f"{name}.tif")
    written.append(write_sites_csv(table, out / CSV_NAME, overwrite))
    written.append(save_sites_png(out / PNG_NAME, dem, place, table, ice, config, overwrite))
    for path in written:
        click.echo(str(path))
    feasible = table[table["feasible"]]
    if feasible.empty:
        log.warning("none of the %d candidates is feasible; see the reason column of %s", len(table), CSV_NAME)
        return
    best = feasible.iloc[0]
    click.echo(f"{len(feasible)} of {len(table)} candidates feasible; best at lat {best['lat']:.4f}, "
               f"lon {best['lon']:.4f} (score {best['score']:.3f}, ice-stable targets: {ICE_SOURCES[source]})")
