"""``lupex targets``: choose and order drill stops from the water prior within a time and energy budget."""

from __future__ import annotations

from pathlib import Path

import click

from lupex.cli.options import overwrite_option, status
from lupex.cli.sky_folder import read_sky_folder
from lupex.config import build, load_toml
from lupex.errors import LupexError
from lupex.files import check_folder
from lupex.geo import latlon_to_xy
from lupex.ice.prior_folder import read_prior
from lupex.mission import MissionConfig
from lupex.planning.costmap import costmap
from lupex.planning.targets import (
    OUTPUT_FILES,
    TargetConfig,
    TargetSky,
    drill_information_bits,
    plan_targets,
    write_targets,
)
from lupex.raster import ground_pixel_m, same_grid
from lupex.rover.model import RoverConfig, load_rover
from lupex.sky.ephemeris import parse_utc
from lupex.sky.horizon_store import open_horizon
from lupex.terrain.derive import derive_layers
from lupex.terrain.outputs import rocks_path_for
from lupex.terrain.readers import open_dem, read_dem


class LatLon(click.ParamType):
    """A place ``LAT,LON`` [deg]."""

    name = "LAT,LON"

    def convert(self, value, param, ctx) -> tuple[float, float]:
        if isinstance(value, tuple):
            return value
        try:
            lat, lon = (float(part) for part in str(value).split(","))
        except ValueError:
            self.fail(f"{value!r} is not a place 'LAT,LON' in degrees (e.g. '-89.5,222.7')", param, ctx)
        return lat, lon


@click.command()
@click.argument("dem_path", metavar="DEM", type=click.Path())
@click.option("--prior", "prior_dir", type=click.Path(file_okay=False), required=True,
              help="Prior folder of this DEM, from 'lupex ice prior'.")
@click.option("--start", type=LatLon(), required=True, help="Where the rover starts, LAT,LON [deg].")
@click.option("--hours", type=float, required=True, help="Time budget: start to the end of the last stop [h].")
@click.option("--energy-wh", type=float, help="Energy budget of the legs and stops [Wh] (default: no limit).")
@click.option("--count", type=int, help="Drill candidates taken from the prior (default 12).")
@click.option("--rover", "rover_file", type=click.Path(dir_okay=False), help="Rover file (TOML, or JSON).")
@click.option("--illumination", type=click.Path(file_okay=False),
              help="Folder of 'lupex illuminate' whose psr.tif keeps routes out of deep permanent shadow.")
@click.option("--sky", "sky_dir", type=click.Path(file_okay=False),
              help="Sky folder of this DEM with horizon.nc ('lupex illuminate' or 'lupex mission' output): legs "
                   "then come from the time-dependent planner (waiting for Sun and Earth, battery with solar "
                   "charging, darkness limit) from --start-time on.")
@click.option("--start-time", default=MissionConfig.model_fields["landing_utc"].default, show_default=True,
              help="Time of the start, ISO 8601 UTC (with --sky).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="TOML file of planner settings (spacing, drill depth, noise, search); options win.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Output folder.")
@overwrite_option
def targets(dem_path, prior_dir, start, hours, energy_wh, count, rover_file, illumination, sky_dir, start_time,
            config_file, out_dir, overwrite) -> None:
    """Choose and order drill stops that learn the most about the water, within a time and energy budget.

    Candidates are the cells of highest expected information of a hole (the prior's WEH spread
    per 10 cm bin against the sample-analysis noise), spaced apart, on ground the rover can reach;
    legs follow least-cost routes over the costmap (slope, roughness, rocks, PSR reach), or, with
    --sky, plans of the time-dependent planner. Writes OUT/targets.csv, OUT/targets.geojson and
    OUT/targets.png.
    """
    values = load_toml(config_file) if config_file else {}
    values.update({"time_budget_h": hours, "energy_budget_wh": energy_wh, "count": count})
    config = build(TargetConfig, values, config_file or "")
    rover = load_rover(rover_file) if rover_file else RoverConfig()
    dem = read_dem(dem_path)
    pixel_m = ground_pixel_m(dem)  # refuses DEMs off the south polar map
    prior, _, _ = read_prior(prior_dir, dem)  # refuses priors of another DEM
    x, y = (float(v) for v in latlon_to_xy(*start))
    psr = None
    if illumination:
        psr_path = Path(illumination) / "psr.tif"
        if not psr_path.is_file():
            raise LupexError(f"{illumination} holds no psr.tif; make the folder with 'lupex illuminate'")
        psr = open_dem(psr_path).read()
        if not same_grid(psr, dem):
            raise LupexError(f"{psr_path} is not on the grid of {dem_path}; rerun 'lupex illuminate' on this DEM")
    parse_utc(start_time)
    sky = read_sky_folder(sky_dir, dem) if sky_dir else None
    if psr is None and sky is not None:
        psr = sky.psr
    out = check_folder(out_dir, OUTPUT_FILES, overwrite)

    sidecar = rocks_path_for(Path(dem_path))
    rocks = read_dem(sidecar) if sidecar.exists() else None
    with status("planning the drill stops"):
        cost = costmap(derive_layers(dem, rocks), rover, psr=psr, pixel_m=pixel_m)
        value = drill_information_bits(prior, config.drill_depth_m, config.noise_wt_pct)
        timed = None if sky is None else TargetSky(dem, open_horizon(sky.horizon_path, dem), start_time,
                                                   rocks=rocks, sun_mean=sky.sun_mean, psr=psr)
        site = plan_targets(value, cost, (x, y), rover, config, pixel_m, timed)
    plan = site.plan
    click.echo(f"{len(plan.stops)} of {len(site.candidates.x)} candidates: {plan.value_bits:.1f} bit in "
               f"{plan.duration_h:.1f} h of {config.time_budget_h:g} h, {plan.energy_wh:.0f} Wh")
    for path in write_targets(site, prior, dem, out, overwrite):
        click.echo(str(path))
