"""RoverConfig: published defaults, documented fields, refusal of unphysical values, TOML round trip."""

import re
import tomllib
from importlib import resources

import pytest
from pydantic import BaseModel, ValidationError

from lupex.config import build
from lupex.errors import LupexError
from lupex.rover.model import RoverConfig, load_rover, rover_toml


def _leaf_fields(model: type[BaseModel], prefix: str = ""):
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _leaf_fields(annotation, f"{name}.")
        else:
            yield prefix + name, field


def test_published_figures_are_the_defaults():
    rover = RoverConfig()
    # JAXA: ~350 kg with instruments, four tracked crawler legs, ~25 deg, 1.5 m drill.
    assert rover.mass_kg == 350.0
    assert rover.mobility.crawler_legs == 4
    assert rover.mobility.max_slope_deg == 25.0
    assert rover.mobility.planning_slope_deg == 20.0
    assert rover.drill.max_depth_m == 1.5
    # VIPER, the analog: 0.2 m/s peak.
    assert rover.mobility.peak_speed_m_s == 0.2


@pytest.mark.parametrize("key,field", list(_leaf_fields(RoverConfig)), ids=lambda v: v if isinstance(v, str) else "")
def test_every_setting_has_units_and_a_source_or_assumption(key, field):
    description = field.description or ""
    if key == "name":
        return
    if key != "solar.orientation":
        assert re.search(r"\[[^\]]+\]", description), f"{key}: no unit in brackets"
    assert "Assumption" in description or "JAXA" in description, f"{key}: no source and not marked an assumption"


def test_frozen():
    with pytest.raises(ValidationError):
        RoverConfig().mass_kg = 1.0


def test_a_section_given_in_part_keeps_the_other_defaults():
    rover = build(RoverConfig, {"battery": {"capacity_wh": 5000.0}})
    assert rover.battery.capacity_wh == 5000.0
    assert rover.battery.min_soc == RoverConfig().battery.min_soc
    assert rover.mobility == RoverConfig().mobility


@pytest.mark.parametrize("values,fragment", [
    ({"mass_kg": -350.0}, "mass_kg"),
    ({"mass_kg": float("inf")}, "mass_kg"),
    ({"battery": {"min_soc": 1.0}}, "battery.min_soc"),
    ({"battery": {"min_soc": -0.1}}, "battery.min_soc"),
    ({"battery": {"min_soc": 0.5, "initial_soc": 0.4}}, "initial_soc"),
    ({"solar": {"efficiency": 1.2}}, "solar.efficiency"),
    ({"solar": {"orientation": "gimballed"}}, "solar.orientation"),
    ({"solar": {"panel_azimuths_deg": []}}, "panel_azimuths_deg"),
    ({"mobility": {"drive_efficiency": 0.0}}, "mobility.drive_efficiency"),
    ({"mobility": {"max_slope_deg": 90.0}}, "mobility.max_slope_deg"),
    ({"mobility": {"slope_margin_deg": 30.0}}, "slope_margin_deg"),
    ({"mobility": {"nominal_speed_m_s": 0.5}}, "peak_speed_m_s"),
    ({"loads": {"hibernation_w": 80.0}}, "idle_w"),
    ({"drill": {"max_depth_m": 0.0}}, "drill.max_depth_m"),
    ({"comms": {"earth_mask_deg": 95.0}}, "comms.earth_mask_deg"),
    ({"thermal": {"max_shadow_h": 100.0}}, "battery.capacity_wh"),
    ({"mobility": {"wheels": 6}}, "mobility.wheels"),
    ({"colour": "gold"}, "colour"),
])
def test_unphysical_values_are_refused_in_one_line(values, fragment):
    with pytest.raises(LupexError) as info:
        build(RoverConfig, values, "rover.toml")
    message = str(info.value)
    assert message.startswith("rover.toml: invalid ")
    assert fragment in message
    assert "\n" not in message


def test_toml_round_trip_of_a_changed_rover(tmp_path):
    rover = build(RoverConfig, {
        "name": 'Rover "B" – 250 kg',
        "mass_kg": 250.0,
        "solar": {"orientation": "tracking", "panel_area_m2": 1.5e-1},
        "battery": {"capacity_wh": 4500.0, "min_soc": 0.3},
        "mobility": {"rolling_resistance": 0.1, "crawler_legs": 4},
    })
    path = tmp_path / "rover.toml"
    path.write_text(rover_toml(rover), encoding="utf-8")
    assert load_rover(path) == rover


def test_the_shipped_template_is_the_defaults():
    shipped = resources.files("lupex").joinpath("data/rover_default.toml").read_text(encoding="utf-8")
    assert shipped == rover_toml(RoverConfig())
    assert build(RoverConfig, tomllib.loads(shipped)) == RoverConfig()
