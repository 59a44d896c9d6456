"""``lupex geo``: convert between latitude/longitude and polar stereographic map coordinates."""

from __future__ import annotations

import click

from lupex.cli.options import echo_json, json_option
from lupex.geo import latlon_to_xy, scale_factor, xy_to_latlon


@click.group()
def geo() -> None:
    """Coordinates on the lunar south polar stereographic map (1737.4 km sphere)."""


@geo.command("to-xy")
@click.option("--lat", type=float, required=True, help="Planetocentric latitude [deg].")
@click.option("--lon", type=float, required=True, help="East longitude [deg].")
@json_option
def to_xy(lat: float, lon: float, as_json: bool) -> None:
    """Latitude/longitude to map x, y [m]."""
    x, y = latlon_to_xy(lat, lon)
    payload = {"x_m": float(x), "y_m": float(y), "scale_factor": float(scale_factor(lat))}
    if as_json:
        echo_json(payload)
    else:
        click.echo(f"x = {payload['x_m']:.3f} m, y = {payload['y_m']:.3f} m")


@geo.command("to-latlon")
@click.option("--x", "x", type=float, required=True, help="Map x [m].")
@click.option("--y", "y", type=float, required=True, help="Map y [m].")
@json_option
def to_latlon(x: float, y: float, as_json: bool) -> None:
    """Map x, y [m] to latitude and east longitude [deg]."""
    lat, lon = xy_to_latlon(x, y)
    payload = {"lat": float(lat), "lon": float(lon)}
    if as_json:
        echo_json(payload)
    else:
        click.echo(f"lat = {payload['lat']:.8f} deg, lon = {payload['lon']:.8f} deg E")
