"""``lupex horizon``: the terrain horizon of every DEM pixel at many azimuths, to NetCDF."""

from __future__ import annotations

import click

from lupex.cli.options import overwrite_option, progress_bar
from lupex.files import check_writable
from lupex.sky.horizon_map import check_request, compute_horizon_file
from lupex.terrain.readers import read_dem


@click.command()
@click.argument("dem_path", metavar="DEM", type=click.Path())
@click.option("--azimuths", type=int, default=360, show_default=True,
              help="Equally spaced grid azimuths from 0 deg (at least 8).")
@click.option("--observer-height", type=float, default=0.0, show_default=True, help="Eye height above ground [m].")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Output NetCDF file.")
@overwrite_option
def horizon(dem_path, azimuths, observer_height, out, overwrite) -> None:
    """Compute horizon_deg(azimuth, y, x) [deg] for DEM; resumes an interrupted run."""
    check_writable(out, overwrite)
    dem = read_dem(dem_path)
    check_request(dem, azimuths, observer_height)
    with progress_bar("horizons (azimuths)") as update:
        path = compute_horizon_file(dem, out, azimuths, observer_height, overwrite, progress=update)
    click.echo(str(path))
