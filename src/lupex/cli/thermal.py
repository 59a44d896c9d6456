"""``lupex thermal``: regolith temperatures (Hayne et al. 2017 model)."""

from __future__ import annotations

from pathlib import Path

import click

from lupex.cli.options import azimuths_option, echo_json, json_option, overwrite_option, progress, progress_bar
from lupex.config import build, load_toml
from lupex.errors import LupexError
from lupex.files import output_lock
from lupex.sky.ephemeris import parse_utc
from lupex.sky.horizon_map import check_request, compute_horizon_file
from lupex.sky.horizon_store import open_horizon
from lupex.sky.tracks import parse_step_hours
from lupex.terrain.readers import read_dem
from lupex.thermal.maps import ThermalMapConfig, thermal_maps
from lupex.thermal.point import FacetConfig, facet_temperatures
from lupex.thermal.products import prepare_thermal_folder, write_thermal
from lupex.thermal.regolith import RegolithParams


@click.group()
def thermal() -> None:
    """Regolith temperature under the real Sun."""


@thermal.command()
@click.option("--lat", type=float, required=True, help="Latitude [deg].")
@click.option("--lon", type=float, default=0.0, show_default=True, help="East longitude [deg].")
@click.option("--albedo", type=float, help="Normal bond albedo A0 [-] (default 0.12, Hayne et al. 2017).")
@click.option("--slope", type=float, default=0.0, show_default=True, help="Facet slope [deg].")
@click.option("--aspect", type=float, default=0.0, show_default=True,
              help="Downslope direction, clockwise from local north [deg].")
@click.option("--years", type=int, default=1, show_default=True,
              help="Length of the repeated forcing, in lunar seasons of 346.62 days.")
@json_option
def point(lat, lon, albedo, slope, aspect, years, as_json) -> None:
    """Maximum, minimum and mean surface temperature of a facet with an open horizon."""
    regolith = build(RegolithParams, {"albedo": albedo})
    config = build(FacetConfig, {"lat": lat, "lon": lon, "slope_deg": slope, "aspect_deg": aspect,
                                 "seasons": years, "regolith": regolith})
    result = facet_temperatures(config)
    if as_json:
        echo_json(result)
        return
    click.echo(f"T max {result['t_max_k']:.1f} K, T min {result['t_min_k']:.1f} K, T mean {result['t_mean_k']:.1f} K "
               f"(at {result['bottom_depth_m']:.2f} m: {result['t_bottom_mean_k']:.1f} K)")


def _horizon_source(illumination: str | None, horizon_file: str | None) -> Path | None:
    """The horizon cube to use: given directly, or the one 'lupex illuminate' left in its folder."""
    if illumination and horizon_file:
        raise LupexError("give --illumination or --horizon, not both")
    if horizon_file:
        return Path(horizon_file)
    if illumination:
        cube = Path(illumination) / "horizon.nc"
        if not cube.is_file():
            raise LupexError(f"{illumination} holds no horizon.nc; pass the cube with --horizon FILE")
        return cube
    return None


@thermal.command(name="map")
@click.argument("dem_path", metavar="DEM", type=click.Path())
@click.option("--illumination", type=click.Path(file_okay=False),
              help="Folder of 'lupex illuminate' on this DEM (its horizon.nc is used).")
@click.option("--horizon", "horizon_file", type=click.Path(dir_okay=False),
              help="Horizon cube of this DEM from 'lupex horizon'.")
@click.option("--start", help="Start of the forcing season (346.62 days), ISO 8601 UTC [default: 2028-01-01].")
@click.option("--step", help="Time step of the forcing: 1h, 2h, 4h ... [default: 4h]")
@click.option("--terrain-cells", type=int,
              help="Coarse cells along the longer side for terrain radiation, 0 for none [default: 64].")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="TOML with any ThermalMapConfig field ([regolith], [barrier] tables included).")
@azimuths_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Output folder.")
@overwrite_option
def thermal_map(dem_path, illumination, horizon_file, start, step, terrain_cells, config_file, azimuths, out_dir,
                overwrite) -> None:
    """Maximum, mean and minimum surface temperature, ice-stability depth and cold traps of DEM.

    Every pixel is a regolith column under the sunlight its horizons let through and the
    terrain it sees, spun up over a lunar season. Writes tmax, tmean, tmin, ice_depth_m and
    cold_trap (GeoTIFF + PNG), subsurface.nc and thermal.json into OUT; computes the horizons
    into OUT/horizon.nc when neither --illumination nor --horizon is given.
    """
    values = load_toml(config_file) if config_file else {}
    values.update({"start": start, "step_h": parse_step_hours(step) if step else None,
                   "terrain_cells": terrain_cells})
    config = build(ThermalMapConfig, values, config_file or "")
    parse_utc(config.start)
    cube = _horizon_source(illumination, horizon_file)
    dem = read_dem(dem_path)
    if cube is None:
        check_request(dem, azimuths, 0.0)
    out = Path(out_dir)
    with output_lock(out):  # a second run writing OUT is refused at once
        prepare_thermal_folder(out, overwrite)
        if cube is None:
            cube = out / "horizon.nc"
            with progress_bar("horizons (azimuths)") as update:
                compute_horizon_file(dem, cube, azimuths, 0.0, overwrite=overwrite, progress=update, reuse=True)
        horizon = open_horizon(cube, dem, 0.0)
        with progress_bar("regolith columns (rows)") as update:
            maps, subsurface = thermal_maps(dem, horizon, config, step=progress, progress=update)
        for path in write_thermal(out, dem, maps, subsurface, config.model_dump(mode="json"), overwrite):
            click.echo(str(path))
