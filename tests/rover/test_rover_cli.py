"""``lupex rover show`` and ``lupex rover init``: JSON that round-trips, merging, templates, bad files."""

import json

import pytest

from lupex.rover.model import RoverConfig, load_rover
from tests.conftest import assert_one_line_error


def test_show_json_prints_the_defaults_in_sections(cli):
    result = cli("rover", "show", "--json")
    assert result.code == 0, result.err
    shown = json.loads(result.out)
    assert shown == RoverConfig().model_dump(mode="json")
    assert shown["mass_kg"] == 350.0
    assert shown["battery"]["min_soc"] == 0.25


def test_show_json_round_trips_through_json_and_toml(cli, tmp_path):
    rover = tmp_path / "rover.toml"
    rover.write_text('mass_kg = 250.0\n[solar]\norientation = "tracking"\n[battery]\ncapacity_wh = 4500.0\n')
    first = cli("rover", "show", "--rover", rover, "--json")
    assert first.code == 0, first.err
    as_json = tmp_path / "shown.json"
    as_json.write_text(first.out)
    assert cli("rover", "show", "--rover", as_json, "--json").out == first.out
    as_toml = tmp_path / "shown.toml"
    assert cli("rover", "init", as_toml, "--rover", as_json).code == 0
    assert cli("rover", "show", "--rover", as_toml, "--json").out == first.out
    assert load_rover(as_toml) == load_rover(rover)


def test_a_rover_file_is_merged_over_the_defaults(cli, tmp_path):
    rover = tmp_path / "rover.toml"
    rover.write_text("[battery]\ncapacity_wh = 5000.0\n")
    shown = json.loads(cli("rover", "show", "--rover", rover, "--json").out)
    assert shown["battery"]["capacity_wh"] == 5000.0
    assert shown["battery"]["min_soc"] == 0.25
    assert shown["mass_kg"] == 350.0


def test_show_prints_a_table_with_derived_figures(cli):
    result = cli("rover", "show")
    assert result.code == 0, result.err
    assert "mobility.max_slope_deg" in result.out
    assert "derived" in result.out
    # 3000 Wh * 0.75 * 0.95 = 2137.5 Wh, shown rounded; 35.6 h at 60 W
    assert "2138" in result.out and "35.6" in result.out


def test_init_writes_the_commented_defaults_and_refuses_to_clobber(cli, tmp_path):
    out = tmp_path / "rover.toml"
    assert cli("rover", "init", out).code == 0
    text = out.read_text()
    assert "# Mass with instruments [kg]" in text and "[battery]" in text
    assert load_rover(out) == RoverConfig()
    assert_one_line_error(cli("rover", "init", out), "already exists", "--overwrite")
    assert cli("rover", "init", out, "--overwrite").code == 0
    assert [p.name for p in tmp_path.iterdir()] == ["rover.toml"]


@pytest.mark.parametrize("name,text,fragments", [
    ("syntax.toml", "mass_kg = = 3\n", ["syntax.toml", "not valid TOML"]),
    ("unknown.toml", "[mobility]\nwheels = 6\n", ["mobility.wheels", "Extra inputs"]),
    ("negative.toml", "mass_kg = -1.0\n", ["mass_kg", "greater than 0"]),
    ("reserve.toml", "[battery]\nmin_soc = 1.5\n", ["battery.min_soc"]),
    ("bad.json", "{not json", ["bad.json", "not valid JSON"]),
    ("list.json", "[1, 2]", ["JSON object"]),
])
def test_bad_rover_files_give_one_line(cli, tmp_path, name, text, fragments):
    path = tmp_path / name
    path.write_text(text)
    assert_one_line_error(cli("rover", "show", "--rover", path, "--json"), *fragments)


@pytest.mark.parametrize("name", ["missing.toml", "missing.json"])
def test_missing_rover_file(cli, tmp_path, name):
    assert_one_line_error(cli("rover", "show", "--rover", tmp_path / name), name, "does not exist")
