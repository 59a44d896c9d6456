"""``lupex sky`` through ``lupex.cli.main.run``: the JSON contract, the table, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lupex.sky.ephemeris import sun_earth_topocentric
from tests.conftest import assert_one_line_error

FIELDS = ["azimuth_deg", "elevation_deg", "distance_km", "angular_radius_deg"]


def test_json_contract(cli):
    result = cli(
        "sky", "--lat", "-89.45", "--lon", "222.7", "--time", "2030-01-01T12:00:00Z", "--height", "150", "--json"
    )
    assert result.code == 0, result.err
    payload = json.loads(result.out)
    assert list(payload) == ["sun", "earth"]
    expected = sun_earth_topocentric(-89.45, 222.7, "2030-01-01T12:00:00Z", height_m=150.0)
    for body in ("sun", "earth"):
        assert list(payload[body]) == FIELDS
        for field in FIELDS:
            assert payload[body][field] == pytest.approx(float(getattr(getattr(expected, body), field)), rel=1e-12)


def test_table(cli):
    result = cli("sky", "--lat", "-89.9", "--lon", "0", "--time", "2031-06-01T00:00")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("2031-06-01T00:00:00Z at lat -89.9000 deg")
    assert lines[2].startswith("Sun") and lines[3].startswith("Earth")
    sun_elevation = float(lines[2].split()[2])
    assert np.abs(sun_elevation) < 1.6


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--lat", "-89", "--lon", "0", "--time", "2060-01-01"], ("outside the ephemeris", "2050-12-31T23:00Z")),
        (["--lat", "-89", "--lon", "0", "--time", "soon"], ("cannot read 'soon'", "ISO 8601")),
        (["--lat", "-95", "--lon", "0", "--time", "2030-01-01"], ("latitude must lie in [-90, 90] deg",)),
        (["--lat", "-89", "--lon", "0"], ("--time",)),
        # issue 21 (found by tests/fuzz): an EphemerisRangeError traceback once
        (["--lat", "-89", "--lon", "0", "--time", "2030-01-01", "--height", "1e308"],
         ("height must be at most 6e+07 m",)),
    ],
)
def test_bad_input_is_one_line(cli, args, fragments):
    assert_one_line_error(cli("sky", *args), *fragments)
