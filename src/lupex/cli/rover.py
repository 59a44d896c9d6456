"""``lupex rover``: show the rover configuration, or write a commented template to edit."""

from __future__ import annotations

import re

import click
import numpy as np
from pydantic import BaseModel

from lupex.cli.options import echo_json, json_option, overwrite_option
from lupex.files import atomic_output
from lupex.rover.model import RoverConfig, load_rover, rover_toml
from lupex.rover.power import drill_energy_wh, drill_time_h, drive_power_w, shadow_endurance_h, solar_power_w

rover_option = click.option("--rover", "rover_file", type=click.Path(dir_okay=False),
                            help="Rover file (TOML, or JSON from 'rover show --json') over the defaults.")


@click.group()
def rover() -> None:
    """The rover model: mass, mobility, power, battery, link, drill, instruments."""


def _unit(description: str | None) -> str:
    found = re.search(r"\[([^\]]+)\]", description or "")
    return found.group(1) if found else ""


def _text(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(_text(item) for item in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _rows(model: BaseModel, prefix: str = "") -> list[tuple[str, str, str]]:
    rows = []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            rows += _rows(value, f"{name}.")
        else:
            rows.append((prefix + name, _text(value), _unit(field.description)))
    return rows


def _derived(config: RoverConfig) -> list[tuple[str, str, str]]:
    mobility = config.mobility
    plan = mobility.planning_slope_deg
    headings = np.arange(0.0, 360.0, 1.0)
    solar = solar_power_w(config, 1.0, 0.0, 0.0, headings)
    depth = config.drill.max_depth_m
    return [
        ("planning slope limit", f"{plan:g}", "deg"),
        ("drive power at nominal speed, flat", f"{drive_power_w(config, 0.0):.1f}", "W"),
        (f"drive power at nominal speed, {plan:g} deg uphill", f"{drive_power_w(config, plan):.1f}", "W"),
        (f"drive power at peak speed, {mobility.max_slope_deg:g} deg uphill",
         f"{drive_power_w(config, mobility.max_slope_deg, mobility.peak_speed_m_s):.1f}", "W"),
        ("solar power, full Sun on the horizon at 1 au", f"{solar.min():.0f} to {solar.max():.0f}",
         "W (by heading)"),
        ("battery energy from full to the reserve", f"{config.battery.usable_energy_wh:.0f}", "Wh"),
        (f"endurance in shadow at {config.shadow_load_w:g} W",
         f"{shadow_endurance_h(config, config.shadow_load_w):.1f}", "h"),
        (f"drill energy to {depth:g} m", f"{drill_energy_wh(config, depth):.0f}", "Wh"),
        (f"drill time to {depth:g} m", f"{drill_time_h(config, depth):.1f}", "h"),
        ("downlink per hour of Earth in view", f"{config.comms.data_rate_kbit_s * 3600 / 8e3:.0f}", "MB"),
    ]


def _table(title: str, rows: list[tuple[str, str, str]]) -> None:
    click.echo(title)
    width_key = max(len(key) for key, _, _ in rows)
    width_value = max(len(value) for _, value, _ in rows)
    for key, value, unit in rows:
        click.echo(f"  {key:<{width_key}}  {value:<{width_value}}  {unit}".rstrip())


@rover.command()
@rover_option
@json_option
def show(rover_file, as_json) -> None:
    """Print the rover settings: the defaults, or a rover file over them."""
    config = load_rover(rover_file) if rover_file else RoverConfig()
    if as_json:
        echo_json(config.model_dump(mode="json"))
        return
    _table(f"{config.name} ({rover_file or 'defaults'})", _rows(config))
    click.echo()
    _table("derived", _derived(config))


@rover.command()
@click.argument("out", type=click.Path(dir_okay=False))
@rover_option
@overwrite_option
def init(out, rover_file, overwrite) -> None:
    """Write OUT: a commented TOML rover file to edit (every key, with units and sources)."""
    config = load_rover(rover_file) if rover_file else RoverConfig()
    with atomic_output(out, overwrite) as tmp:
        tmp.write_text(rover_toml(config), encoding="utf-8")
    click.echo(out)
