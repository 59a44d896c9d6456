"""``lupex sky``: where the Sun and the Earth stand in the sky of a place on the Moon."""

from __future__ import annotations

import click

from lupex.cli.options import echo_json, json_option
from lupex.sky.ephemeris import Topocentric, sun_earth_topocentric

_FIELDS = ("azimuth_deg", "elevation_deg", "distance_km", "angular_radius_deg")


def _as_dict(body: Topocentric) -> dict[str, float]:
    return {field: float(getattr(body, field)) for field in _FIELDS}


@click.command()
@click.option("--lat", type=float, required=True, help="Planetocentric latitude [deg], in [-90, 90].")
@click.option("--lon", type=float, required=True, help="East longitude [deg].")
@click.option("--time", "time", required=True, help="UTC time, ISO 8601 (e.g. 2030-01-01T12:00:00Z).")
@click.option("--height", type=float, default=0.0, show_default=True, help="Height above the 1737.4 km sphere [m].")
@json_option
def sky(lat: float, lon: float, time: str, height: float, as_json: bool) -> None:
    """Azimuth, elevation, distance and apparent radius of the Sun and the Earth.

    DE421 with the Moon's MOON_ME frame, light time and stellar aberration applied, seen
    from the place itself. Azimuth is clockwise from local north (toward increasing
    latitude); elevation is above the plane normal to the sphere's radius.
    """
    result = sun_earth_topocentric(lat, lon, time, height_m=height)
    payload = {"sun": _as_dict(result.sun), "earth": _as_dict(result.earth)}
    if as_json:
        echo_json(payload)
        return
    when = f"{result.times.astype('datetime64[s]')}Z"
    click.echo(f"{when} at lat {lat:.4f} deg, lon {lon:.4f} deg E, height {height:g} m")
    click.echo(f"{'body':<6}{'azimuth [deg]':>15}{'elevation [deg]':>17}{'distance [km]':>16}{'ang. radius [deg]':>19}")
    for name, values in payload.items():
        click.echo(
            f"{name.capitalize():<6}{values['azimuth_deg']:>15.4f}{values['elevation_deg']:>17.4f}"
            f"{values['distance_km']:>16.1f}{values['angular_radius_deg']:>19.4f}"
        )
    click.echo("azimuth clockwise from local north; elevation above the local horizontal plane")
