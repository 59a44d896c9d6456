"""``lupex plan``: the earliest safe multi-day traverse through waypoints."""

from __future__ import annotations

from pathlib import Path

import click

from lupex.cli.options import overwrite_option, progress, progress_bar
from lupex.cli.sky_folder import read_sky_folder
from lupex.config import build, load_toml
from lupex.errors import LupexError
from lupex.files import atomic_folder
from lupex.geo import latlon_to_xy, validate_latlon
from lupex.mission import MissionConfig
from lupex.planning.plan_files import write_plan
from lupex.planning.timed import PlanConfig
from lupex.planning.traverse import plan_traverse
from lupex.rover.model import RoverConfig, load_rover
from lupex.sky.ephemeris import parse_utc
from lupex.sky.horizon_map import check_request, compute_horizon_file
from lupex.sky.horizon_store import open_horizon
from lupex.terrain.outputs import rocks_path_for
from lupex.terrain.readers import read_dem


def _latlon(text: str, what: str) -> tuple[float, float]:
    """Map coordinates [m] of a ``LAT,LON`` text."""
    try:
        lat, lon = (float(p) for p in str(text).split(","))
    except ValueError:
        raise LupexError(f"the {what} {text!r} is not LAT,LON in degrees (e.g. '-89.45,222.7')") from None
    validate_latlon(lat, lon)
    x, y = latlon_to_xy(lat, lon)
    return float(x), float(y)


@click.command()
@click.argument("dem_path", metavar="DEM", type=click.Path())
@click.option("--start", "start_text", required=True, help="Start LAT,LON [deg].")
@click.option("--waypoints", "waypoints_text", required=True,
              help="Places to reach in order: 'LAT,LON;LAT,LON;...' [deg]; the last is the goal.")
@click.option("--start-time", default=MissionConfig.model_fields["landing_utc"].default, show_default=True,
              help="Time of the start, ISO 8601 UTC.")
@click.option("--days", type=float, default=14.0, show_default=True, help="Planning period [days].")
@click.option("--rover", "rover_file", type=click.Path(dir_okay=False), help="Rover TOML (default: lupex rover show).")
@click.option("--sky", "sky_dir", type=click.Path(file_okay=False),
              help="Folder with horizon.nc for this DEM ('lupex illuminate' or 'lupex mission' output); its "
                   "sun_fraction_mean.tif and psr.tif are used when present. Horizons are computed when absent.")
@click.option("--rocks", "rocks_file", type=click.Path(dir_okay=False),
              help="Rock-area map (default: DEM_rocks.tif when it exists).")
@click.option("--spacing", type=float, help="Planning lattice spacing [m] (default 180).")
@click.option("--tick", type=float, help="Plan time step [min] (default 15).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="TOML of PlanConfig fields.")
@click.option("--azimuths", type=int, default=360, show_default=True, help="Azimuths when computing horizons.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Output folder.")
@overwrite_option
def plan(dem_path, start_text, waypoints_text, start_time, days, rover_file, sky_dir, rocks_file, spacing, tick,
         config_file, azimuths, out_dir, overwrite) -> None:
    """Plan the earliest safe traverse from START through WAYPOINTS over DEM.

    The rover drives only with the Earth in view, never lets its battery fall below the
    reserve nor stays in darkness beyond its limit, and ends at a safe haven. Writes
    OUT/plan.geojson, timeline.csv, plan.png and summary.json.
    """
    values = load_toml(config_file) if config_file else {}
    values.update({k: v for k, v in {"node_spacing_m": spacing, "tick_min": tick}.items() if v is not None})
    config = build(PlanConfig, values, config_file or "")
    rover = load_rover(rover_file) if rover_file else RoverConfig()
    if not days > 0:
        raise LupexError(f"--days must be positive, got {days:g}")
    parse_utc(start_time)
    start = _latlon(start_text, "start")
    waypoints = [_latlon(part, f"waypoint {i + 1}") for i, part in enumerate(waypoints_text.split(";")) if part.strip()]
    dem = read_dem(dem_path)
    sidecar = rocks_path_for(Path(dem_path))
    rocks_source = rocks_file or (sidecar if sidecar.exists() else None)
    rocks = read_dem(rocks_source) if rocks_source else None
    sky = read_sky_folder(sky_dir, dem) if sky_dir else None
    sun_mean, psr = (sky.sun_mean, sky.psr) if sky else (None, None)
    if sky is None:
        check_request(dem, azimuths, 0.0)
    with atomic_folder(out_dir, overwrite) as work:
        if sky:
            horizon = open_horizon(sky.horizon_path, dem)
        else:
            with progress_bar("horizons (azimuths)") as update:
                compute_horizon_file(dem, work / "horizon.nc", azimuths, progress=update)
            horizon = open_horizon(work / "horizon.nc", dem)
        with progress_bar("plan (ticks)") as update:
            traverse = plan_traverse(dem, horizon, rover, start, waypoints, start_time, days, config, rocks,
                                     sun_mean, psr, step=progress, progress=update)
        summary = write_plan(traverse, rover, dem, waypoints, work, sun_mean)
    click.echo(f"reached the last of {len(waypoints)} waypoint(s) after {summary['duration_h']:.1f} h "
               f"({summary['arrival_utc']}): {summary['distance_m'] / 1000:.2f} km driven in "
               f"{summary['drive_h']:.1f} h, "
               f"lowest charge {100 * summary['min_soc']:.0f} %, longest darkness {summary['shadow_max_h']:.1f} h")
    click.echo(f"outputs in {out_dir}/ (plan.geojson, timeline.csv, plan.png, summary.json)")
