"""``lupex ice``: the water prior from thermal maps, and seeded ground truths drawn from it."""

from __future__ import annotations

from pathlib import Path

import click

from lupex.cli.options import overwrite_option, progress_bar, status
from lupex.config import build, load_toml
from lupex.ice.params import IceParams
from lupex.ice.prior import water_prior
from lupex.ice.prior_folder import check_prior_folder, read_prior, write_prior
from lupex.ice.streams import MAX_SEED
from lupex.ice.truth import WaterTruth
from lupex.ice.truth_folder import check_truth_folder, plan_truth_grid, write_truth
from lupex.terrain.readers import read_dem
from lupex.thermal.products import read_thermal


def _region(ctx, param, value: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    try:
        corners = tuple(float(part) for part in value.split(","))
    except ValueError:
        corners = ()
    if len(corners) != 4:
        raise click.BadParameter(f"{value!r} is not X0,Y0,X1,Y1 (four numbers in metres, comma-separated)")
    return corners


@click.group()
def ice() -> None:
    """Water ice: the prior expected from the thermal maps, and simulated ground truths."""


@ice.command()
@click.argument("dem_path", metavar="DEM", type=click.Path())
@click.option("--thermal", "thermal_dir", type=click.Path(file_okay=False), required=True,
              help="Thermal folder of this DEM, from 'lupex thermal map'.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="TOML file of water-model settings.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Output folder.")
@overwrite_option
def prior(dem_path, thermal_dir, config_file, out_dir, overwrite) -> None:
    """Expected WEH and its spread per pixel and 10 cm depth bin, and the chance of ice within 1.5 m.

    Writes OUT/prior.nc, OUT/prior.json and a GeoTIFF + PNG of each map.
    """
    params = build(IceParams, load_toml(config_file) if config_file else {}, config_file or "")
    dem = read_dem(dem_path)
    thermal = read_thermal(thermal_dir, dem)
    out = Path(out_dir)
    check_prior_folder(out, overwrite)
    with status("computing the water prior"):
        result = water_prior(thermal, params)
    for path in write_prior(result, params, dem, out, str(Path(thermal_dir).resolve()), overwrite):
        click.echo(str(path))


@ice.command()
@click.argument("dem_path", metavar="DEM", type=click.Path())
@click.option("--prior", "prior_dir", type=click.Path(file_okay=False), required=True,
              help="Prior folder of this DEM, from 'lupex ice prior'.")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), required=True,
              help="Seed; the same prior and seed give the same truth.")
@click.option("--resolution", type=float, required=True,
              help="Cell size of truth.nc [m], at most the DEM's pixel (1 m or less for the simulator).")
@click.option("--region", callback=_region, metavar="X0,Y0,X1,Y1",
              help="Part of the DEM to grid, map metres (default: the whole DEM).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Output folder.")
@overwrite_option
def truth(dem_path, prior_dir, seed, resolution, region, out_dir, overwrite) -> None:
    """Draw a ground truth from the prior and grid it: truth.nc, truth.json, generator.nc, truth.png.

    The generator is procedural: 'lupex.ice.open_truth(OUT)' evaluates the same truth anywhere on
    the DEM at any resolution; truth.nc is its picture on the requested cells.
    """
    dem = read_dem(dem_path)
    prior_data, params, manifest = read_prior(prior_dir, dem)
    generator = WaterTruth.from_prior(prior_data, params, seed)
    grid = plan_truth_grid(generator, resolution, region)
    out = Path(out_dir)
    check_truth_folder(out, overwrite)
    with progress_bar("ground truth (rows)") as update:
        written = write_truth(generator, grid, out, manifest, overwrite, update)
    for path in written:
        click.echo(str(path))
