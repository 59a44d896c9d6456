"""``lupex thermal point`` and ``lupex thermal map``: the contracts, published values, bad input."""

import json

import pytest

from lupex.cli.main import run
from lupex.terrain.readers import read_dem
from lupex.thermal.products import read_thermal
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


@pytest.fixture(scope="module")
def small_dem(tmp_path_factory):
    folder = tmp_path_factory.mktemp("thermal_map")
    dem = folder / "dem.tif"
    assert run(["-q", "terrain", "synth", "--size", 20, "--resolution", 60, "--center-lat", -89.6,
                "--seed", 4, "--out", str(dem), "--no-quicklook"]) == 0
    return dem


@pytest.fixture(scope="module")
def thermal_folder(small_dem):
    out = small_dem.parent / "thermal"
    code = run(["-q", "thermal", "map", str(small_dem), "--step", "12h", "--terrain-cells", "5", "--azimuths", "72",
                "--out", str(out)])
    assert code == 0
    return out


def test_thermal_map_writes_the_contracted_layers(small_dem, thermal_folder):
    for name in ("tmax", "tmean", "ice_depth_m", "cold_trap"):
        assert (thermal_folder / f"{name}.tif").is_file()
        assert (thermal_folder / f"{name}.png").is_file()
    assert (thermal_folder / "subsurface.nc").is_file()
    assert (thermal_folder / "horizon.nc").is_file()  # computed, since no illumination was given
    layers = read_thermal(thermal_folder, read_dem(small_dem))
    assert 20 < float(layers["tmax"].min()) and float(layers["tmax"].max()) < 400
    assert json.loads((thermal_folder / "thermal.json").read_text())["step_h"] == 12.0


def test_the_ice_prior_reads_a_thermal_folder(cli, small_dem, thermal_folder, tmp_path):
    result = cli("-q", "ice", "prior", small_dem, "--thermal", thermal_folder, "--out", tmp_path / "prior")
    assert result.code == 0, result.err


def test_an_illumination_folder_supplies_the_horizons(cli, small_dem, thermal_folder, tmp_path):
    result = cli("-q", "thermal", "map", small_dem, "--illumination", thermal_folder, "--step", "12h",
                 "--terrain-cells", 0, "--out", tmp_path / "again")
    assert result.code == 0, result.err
    assert not (tmp_path / "again" / "horizon.nc").exists()


@pytest.mark.parametrize("args,toml,fragment", [
    (["--illumination", "{tmp}"], None, "horizon.nc"),
    (["--illumination", "{tmp}", "--horizon", "{tmp}/h.nc"], None, "not both"),
    (["--step", "0h"], None, "step"),
    ([], "[regolith]\nalbedo = -0.1\n", "albedo"),
    ([], "[regolith]\nh_parameter_m = 0\n", "h_parameter_m"),
    ([], "[regolith]\nemissivity = 1.2\n", "emissivity"),
    ([], "tolerance_k = 1e-9\nmax_cycles = 2\nterrain_cells = 0\n", "did not converge"),
])
def test_bad_thermal_map_input(cli, small_dem, thermal_folder, tmp_path, args, toml, fragment):
    args = [a.format(tmp=tmp_path) for a in args]
    if toml is not None:
        (tmp_path / "config.toml").write_text(toml)
        args += ["--config", tmp_path / "config.toml", "--illumination", thermal_folder, "--step", "12h"]
    out = tmp_path / "out"
    assert_one_line_error(cli("-q", "thermal", "map", small_dem, *args, "--out", out), fragment)
    assert not list(out.glob("*.tif")) if out.exists() else True


def test_the_ice_prior_refuses_thermal_maps_of_another_dem(cli, thermal_folder, tmp_path):
    other = tmp_path / "other.tif"
    assert run(["-q", "terrain", "synth", "--size", 20, "--resolution", 60, "--center-lat", -89.6, "--seed", 5,
                "--out", str(other), "--no-quicklook"]) == 0
    result = cli("ice", "prior", other, "--thermal", thermal_folder, "--out", tmp_path / "prior")
    assert_one_line_error(result, "another DEM")
