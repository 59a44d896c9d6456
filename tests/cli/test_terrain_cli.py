"""The terrain, geo and mission command-line contracts, and their bad-input behaviour."""

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio

from lupex.terrain.readers import read_dem
from tests.conftest import assert_one_line_error


def _no_leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def small_site(cli, tmp_path) -> Path:
    out = tmp_path / "site.tif"
    result = cli("terrain", "synth", "--size", 96, "--resolution", 20, "--center-lat", -89.2,
                 "--center-lon", 45, "--seed", 5, "--out", out)
    assert result.code == 0, result.err
    return out


def test_synth_writes_dem_rocks_and_quicklook(small_site):
    assert small_site.exists() and small_site.with_name("site_rocks.tif").exists()
    assert small_site.with_suffix(".png").stat().st_size > 1000
    with rasterio.open(small_site) as ds:
        assert (ds.width, ds.height, ds.res) == (96, 96, (20.0, 20.0))
        assert "Polar" in ds.crs.to_wkt() or "stere" in ds.crs.to_proj4()


def test_synth_is_byte_identical_per_seed(cli, tmp_path, small_site):
    again = tmp_path / "again.tif"
    cli("terrain", "synth", "--size", 96, "--resolution", 20, "--center-lat", -89.2, "--center-lon", 45,
        "--seed", 5, "--out", again, "--no-quicklook")
    assert again.read_bytes() == small_site.read_bytes()


def test_info_json_contract(cli, small_site):
    result = cli("terrain", "info", small_site, "--json")
    assert result.code == 0, result.err
    info = json.loads(result.out)
    for key in ("width", "height", "resolution_m", "crs", "bounds_m", "center_lat", "center_lon",
                "height_min_m", "height_max_m", "slope_median_deg", "slope_p95_deg"):
        assert key in info
    assert info["width"] == info["height"] == 96
    assert info["resolution_m"] == 20.0
    assert info["center_lat"] == pytest.approx(-89.2, abs=0.01)
    xmin, ymin, xmax, ymax = info["bounds_m"]
    assert xmax - xmin == ymax - ymin == 96 * 20


def test_derive_writes_every_layer(cli, small_site, tmp_path):
    out = tmp_path / "layers"
    result = cli("terrain", "derive", small_site, "--out", out, "--max-slope", 20)
    assert result.code == 0, result.err
    for name in ("slope", "roughness", "hazard", "traversable"):
        assert (out / f"{name}.tif").exists() and (out / f"{name}.png").exists()
    slope = read_dem(out / "slope.tif").values
    traversable = rasterio.open(out / "traversable.tif").read(1)
    assert not traversable[slope > 20].any()
    # The synthetic rock sidecar was picked up: hazard varies across the tile.
    assert np.nanstd(read_dem(out / "hazard.tif").values) > 0


def test_derive_refuses_to_overwrite(cli, small_site, tmp_path):
    out = tmp_path / "layers"
    assert cli("terrain", "derive", small_site, "--out", out).code == 0
    before = (out / "slope.tif").read_bytes()
    assert_one_line_error(cli("terrain", "derive", small_site, "--out", out), "--overwrite")
    assert (out / "slope.tif").read_bytes() == before
    assert cli("terrain", "derive", small_site, "--out", out, "--overwrite").code == 0


def test_geo_round_trip_through_the_cli(cli):
    result = cli("geo", "to-xy", "--lat", -87.18, "--lon", 62.84, "--json")
    xy = json.loads(result.out)
    assert set(xy) >= {"x_m", "y_m"}
    back = json.loads(cli("geo", "to-latlon", "--x", xy["x_m"], "--y", xy["y_m"], "--json").out)
    assert back["lat"] == pytest.approx(-87.18, abs=1e-9)
    assert back["lon"] == pytest.approx(62.84, abs=1e-9)


@pytest.mark.parametrize("args,fragment", [
    (["--size", 4], "size"),
    (["--size", 64, "--resolution", -5], "resolution"),
    (["--size", 64, "--center-lat", 95], "center_lat"),
    (["--size", 64, "--seed", -3], "seed"),
])
def test_synth_nonsense_parameters(cli, tmp_path, args, fragment):
    defaults = {"--size": 64, "--resolution": 20, "--center-lat": -89, "--seed": 1}
    merged = dict(defaults)
    merged.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [str(v) for pair in merged.items() for v in pair]
    result = cli("terrain", "synth", *flat, "--out", tmp_path / "x.tif")
    assert_one_line_error(result, fragment)
    assert _no_leftovers(tmp_path) == []


def test_synth_refuses_existing_output(cli, tmp_path):
    out = tmp_path / "x.tif"
    out.write_text("precious")
    result = cli("terrain", "synth", "--size", 32, "--resolution", 20, "--center-lat", -89, "--seed", 1, "--out", out)
    assert_one_line_error(result, "--overwrite")
    assert out.read_text() == "precious"
    assert _no_leftovers(tmp_path) == ["x.tif"]


def test_geo_bad_latitude(cli):
    assert_one_line_error(cli("geo", "to-xy", "--lat", 120, "--lon", 0), "latitude")


def test_unknown_option_is_a_one_line_error(cli):
    assert_one_line_error(cli("terrain", "synth", "--sise", 3), "--sise")


def test_mission_rejects_a_landing_outside_the_ephemeris(cli, tmp_path):
    config = _toml(tmp_path, 'landing_utc = "2070-01-01"')
    result = cli("mission", "--days", 5, "--out", tmp_path / "o", "--config", config)
    assert_one_line_error(result, "outside the ephemeris")
    assert not (tmp_path / "o").exists()


def _toml(folder, text):
    path = folder / "m.toml"
    path.write_text(text + "\n")
    return path


def test_mission_rejects_a_bad_config(cli, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("seed = 1\n[site]\nsize = -4\n")
    assert_one_line_error(cli("mission", "--config", config, "--out", tmp_path / "o"), "site.size")
    config.write_text("this is = = not toml")
    assert_one_line_error(cli("mission", "--config", config, "--out", tmp_path / "o"), "TOML")
    assert not (tmp_path / "o").exists()
