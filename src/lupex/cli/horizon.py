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
@click.option("--far-field", "far_field", type=click.Path(dir_okay=False),
              help="Coarser DEM on the polar map around DEM (e.g. LDEM_4 cropped to 600 km at 2.5 km).")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Output NetCDF file.")
@overwrite_option
def horizon(dem_path, azimuths, observer_height, far_field, out, overwrite) -> None:
    """Compute horizon_deg(azimuth, y, x) [deg] for DEM; resumes an interrupted run."""
    check_writable(out, overwrite)
    dem = read_dem(dem_path)
    far_dem = read_dem(far_field) if far_field else None
    check_request(dem, azimuths, observer_height, far_dem)
    with progress_bar("horizons (azimuths)") as update:
        path = compute_horizon_file(dem, out, azimuths, observer_height, overwrite, progress=update,
                                    far_dem=far_dem, far_label=str(far_field or ""))
    click.echo(str(path))
