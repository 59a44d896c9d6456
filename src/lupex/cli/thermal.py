"""``lupex thermal``: regolith temperatures (Hayne et al. 2017 model)."""

from __future__ import annotations

import click

from lupex.cli.options import echo_json, json_option
from lupex.config import build
from lupex.thermal.point import FacetConfig, facet_temperatures
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
