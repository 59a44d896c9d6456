"""``lupex timeseries``: Sun and Earth visibility over time at chosen places of a DEM."""

from __future__ import annotations

import click

from lupex.cli.options import overwrite_option
from lupex.errors import LupexError
from lupex.files import atomic_output, check_writable
from lupex.geo import latlon_to_xy
from lupex.sky.horizon_store import open_horizon
from lupex.sky.series import point_series
from lupex.sky.tracks import epochs, parse_step_hours
from lupex.terrain.readers import read_dem


def _parse_place(text: str) -> tuple[float, float]:
    try:
        lat, lon = (float(part) for part in text.split(","))
    except ValueError:
        raise LupexError(f"cannot read the place {text!r}; write it as LAT,LON in degrees") from None
    return lat, lon


@click.command()
@click.argument("dem_path", metavar="DEM", type=click.Path())
@click.option("--horizon", "horizon_file", type=click.Path(dir_okay=False), required=True,
              help="Horizon cube of the DEM from 'lupex horizon'.")
@click.option("--at", "places", multiple=True, required=True, help="A place as LAT,LON [deg]; repeat for more.")
@click.option("--start", required=True, help="First epoch, ISO 8601 UTC.")
@click.option("--end", required=True, help="Last epoch, ISO 8601 UTC.")
@click.option("--step", default="1h", show_default=True, help="Time step: 30min, 1h, 6h, 1d ...")
@click.option("--observer-height", type=float, default=0.0, show_default=True, help="Eye height above ground [m].")
@click.option("--earth-mask", type=float, default=0.0, show_default=True,
              help="Clearance the Earth needs above the terrain for a link [deg].")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Output CSV file.")
@overwrite_option
def timeseries(dem_path, horizon_file, places, start, end, step, observer_height, earth_mask, out, overwrite) -> None:
    """Sun fraction and Earth visibility at each place and epoch, as CSV."""
    check_writable(out, overwrite)
    if observer_height < 0:
        raise LupexError("the observer height must not be negative")
    times = epochs(start, end, parse_step_hours(step))
    coordinates = [_parse_place(place) for place in places]
    xy = [latlon_to_xy(lat, lon) for lat, lon in coordinates]
    dem = read_dem(dem_path)
    horizon = open_horizon(horizon_file, dem, observer_height)
    table = point_series(horizon, dem, [float(x) for x, _ in xy], [float(y) for _, y in xy], times,
                         observer_height, earth_mask)
    with atomic_output(out, overwrite) as tmp:
        table.to_csv(tmp, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    click.echo(str(out))
