"""``lupex thermal point``: the JSON contract, published equatorial values, slopes, bad input."""

import json

import pytest

from tests.conftest import assert_one_line_error


def test_equator_under_the_real_sun(cli):
    result = cli("thermal", "point", "--lat", 0, "--json")
    assert result.code == 0, result.err
    temps = json.loads(result.out)
    assert {"t_max_k", "t_min_k", "t_mean_k"} <= set(temps)
    # Hayne et al. 2017 Table A2: noon 385 K, pre-dawn 95 K (+-5 K); the real Sun's distance
    # varies by +-1.7 %, which moves noon by about +-1.6 K.
    assert temps["t_max_k"] == pytest.approx(385.0, abs=5.0)
    assert temps["t_min_k"] == pytest.approx(95.0, abs=5.0)


def test_slopes_facing_the_equator_are_warmer_near_the_pole(cli):
    def t_max(aspect):
        result = cli("thermal", "point", "--lat", -85, "--slope", 20, "--aspect", aspect, "--json")
        return json.loads(result.out)["t_max_k"]

    flat = json.loads(cli("thermal", "point", "--lat", -85, "--json").out)["t_max_k"]
    # Local north points to the equator: an aspect of 0 deg faces the Sun, 180 deg turns away.
    assert t_max(0) > flat + 50 > t_max(180) + 50


@pytest.mark.parametrize("args,fragment", [
    (["--lat", 0, "--albedo", -0.1], "albedo"),
    (["--lat", 95], "lat"),
    (["--lat", 0, "--slope", 120], "slope"),
])
def test_unphysical_input(cli, args, fragment):
    assert_one_line_error(cli("thermal", "point", *args, "--json"), fragment)
