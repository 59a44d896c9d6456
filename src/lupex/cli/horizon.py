"""``lupex horizon``: the terrain horizon of every DEM pixel at many azimuths, to NetCDF."""

from __future__ import annotations

import click

from lupex.cli.options import overwrite_option, progress_bar
from lupex.files import check_writable, output_lock
from lupex.limits import MAX_HORIZON_AZIMUTHS
from lupex.sky.horizon import MIN_AZIMUTHS, check_azimuth_count
from lupex.sky.horizon_map import check_horizon_size, check_request, compute_horizon_file
from lupex.terrain.readers import open_dem, read_dem


@click.command()
@click.argument("dem_path", metavar="DEM", type=click.Path())
@click.option("--azimuths", type=int, default=360, show_default=True,
              help=f"Equally spaced grid azimuths from 0 deg ({MIN_AZIMUTHS} to {MAX_HORIZON_AZIMUTHS}).")
@click.option("--observer-height", type=float, default=0.0, show_default=True, help="Eye height above ground [m].")
@click.option("--far-field", "far_field", type=click.Path(dir_okay=False),
              help="Coarser DEM on the polar map around DEM (e.g. LDEM_4 cropped to 600 km at 2.5 km).")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Output NetCDF file.")
@overwrite_option
def horizon(dem_path, azimuths, observer_height, far_field, out, overwrite) -> None:
    """Compute horizon_deg(azimuth, y, x) [deg] for DEM; resumes an interrupted run."""
    check_writable(out, overwrite)
    check_azimuth_count(azimuths)
    dem_file = open_dem(dem_path)  # the declared sizes are checked before any pixel is read
    far_file = open_dem(far_field) if far_field else None
    check_horizon_size((dem_file.height, dem_file.width), far_file and (far_file.height, far_file.width))
    dem = read_dem(dem_path)
    far_dem = read_dem(far_field) if far_field else None
    check_request(dem, azimuths, observer_height, far_dem)
    with output_lock(out), progress_bar("horizons (azimuths)") as update:  # one run writes OUT at a time
        path = compute_horizon_file(dem, out, azimuths, observer_height, overwrite, progress=update,
                                    far_dem=far_dem, far_label=str(far_field or ""))
    click.echo(str(path))
