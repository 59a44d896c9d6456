"""Configuration files that are not text: every TOML and JSON loader refuses them in one line (issue 21).

A file that is not UTF-8 (a 0xFF byte, a binary file given by mistake) once gave a
``UnicodeDecodeError`` traceback from ``tomllib``.
"""

from __future__ import annotations

import pytest

from lupex.campaign.spec import load_campaign
from lupex.config import load_toml
from lupex.errors import LupexError
from lupex.rover.model import load_rover
from tests.conftest import assert_one_line_error

NOT_UTF8 = b"days = 3\nseed = \xff\n"


@pytest.fixture
def not_utf8(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_bytes(NOT_UTF8)
    return path


def test_load_toml_refuses_a_file_that_is_not_utf8(not_utf8):
    with pytest.raises(LupexError, match=r"bad.toml is not UTF-8 text \(byte 0xff at offset 16\)"):
        load_toml(not_utf8)


@pytest.mark.parametrize("name", ["rover.toml", "rover.json"])
def test_load_rover_refuses_a_file_that_is_not_utf8(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b'{"mass_kg": 3\xff}' if name.endswith(".json") else b"mass_kg = \xff\n")
    with pytest.raises(LupexError, match="UTF-8"):
        load_rover(path)


def test_load_campaign_refuses_a_campaign_or_base_file_that_is_not_utf8(tmp_path, not_utf8):
    with pytest.raises(LupexError, match="not UTF-8"):
        load_campaign(not_utf8)
    campaign = tmp_path / "campaign.toml"
    campaign.write_text('[campaign]\nname = "c"\nbase = "bad.toml"\n')
    with pytest.raises(LupexError, match=r"bad\.toml is not UTF-8"):
        load_campaign(campaign)


@pytest.mark.parametrize("command", [
    ("mission", "--config", "{bad}", "--out", "{out}"),
    ("rover", "show", "--rover", "{bad}", "--json"),
    ("campaign", "run", "{bad}", "--out", "{out}"),
    ("terrain", "synth", "--size", "64", "--resolution", "20", "--center-lat", "-89.5", "--seed", "1",
     "--config", "{bad}", "--out", "{out}.tif"),
], ids=["mission", "rover", "campaign", "synth"])
def test_commands_refuse_a_config_that_is_not_utf8(cli, tmp_path, not_utf8, command):
    out = tmp_path / "out"
    result = cli(*(part.format(bad=not_utf8, out=out) for part in command))
    assert_one_line_error(result, "is not UTF-8 text", "save it as UTF-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


@pytest.mark.parametrize("text,fragment", [
    ("[site]\nroughness_rms_m = inf\n", "invalid site.roughness_rms_m: inf is not a finite number"),
    ("landing_radius_m = nan\n", "invalid landing_radius_m: nan is not a finite number"),
    ("[rover.battery]\ncapacity_wh = -inf\n", "invalid rover.battery.capacity_wh: -inf is not a finite number"),
])
def test_build_refuses_nan_and_inf_in_any_field(tmp_path, text, fragment):
    """TOML allows nan and inf; fields with only a lower bound (or none) once took them (found by tests/fuzz)."""
    from lupex.config import build
    from lupex.mission import MissionConfig

    path = tmp_path / "m.toml"
    path.write_text(text)
    with pytest.raises(LupexError, match=fragment.replace(".", r"\.")):
        build(MissionConfig, load_toml(path), str(path))


def test_a_file_name_with_a_nul_character_is_refused(tmp_path):
    """TOML strings may hold NUL (a campaign's base, a mission's dem): open() raised ValueError (found by
    tests/fuzz)."""
    from lupex.terrain.readers import open_dem

    with pytest.raises(LupexError, match="not a valid file name"):
        load_toml(tmp_path / "a\0b.toml")
    with pytest.raises(LupexError, match="not a valid file name"):
        open_dem(tmp_path / "a\0b.tif")
    campaign = tmp_path / "campaign.toml"
    campaign.write_text('[campaign]\nname = "c"\nbase = "a\\u0000b.toml"\n')
    with pytest.raises(LupexError, match="not a valid file name"):
        load_campaign(campaign)
