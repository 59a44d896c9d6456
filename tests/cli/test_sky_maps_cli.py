"""``lupex horizon`` and ``lupex illuminate``: outputs, resume, and one-line errors."""

import json

import numpy as np
import pytest
import rasterio
from affine import Affine

from lupex.raster import grid_array, write_geotiff
from lupex.sky.horizon_store import open_horizon
from lupex.terrain.readers import read_dem
from tests.conftest import assert_one_line_error

MAPS = ("sun_fraction_mean", "psr", "max_darkness_h", "earth_visible_fraction", "max_earth_blackout_h")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    from lupex.cli.main import run

    assert run(["-q", "terrain", "synth", "--size", "48", "--resolution", "40", "--center-lat", "-89.5",
                "--seed", "2", "--out", str(folder / "s.tif"), "--no-quicklook"]) == 0
    return folder / "s.tif"


def test_horizon_writes_the_netcdf_contract(cli, site, tmp_path):
    out = tmp_path / "h.nc"
    result = cli("-q", "horizon", site, "--azimuths", 16, "--observer-height", 2, "--out", out)
    assert result.code == 0, result.err
    horizon = open_horizon(out, read_dem(site))
    assert horizon.dims == ("azimuth", "y", "x")
    np.testing.assert_allclose(horizon["azimuth"].values, np.arange(16) * 22.5)
    assert np.isfinite(horizon.values).all()


def test_illuminate_writes_every_map(cli, site, tmp_path):
    out = tmp_path / "maps"
    result = cli("-q", "illuminate", site, "--start", "2030-01-01", "--end", "2030-02-01", "--step", "6h",
                 "--azimuths", 16, "--out", out)
    assert result.code == 0, result.err
    for name in MAPS:
        assert (out / f"{name}.tif").exists() and (out / f"{name}.png").exists()
    with rasterio.open(out / "psr.tif") as ds:
        assert ds.dtypes[0] == "uint8"
    fraction = read_dem(out / "sun_fraction_mean.tif").values
    assert ((fraction >= 0) & (fraction <= 1)).all()
    # Reusing the stored horizons gives identical files.
    again = tmp_path / "again"
    assert cli("-q", "illuminate", site, "--start", "2030-01-01", "--end", "2030-02-01", "--step", "6h",
               "--horizon", out / "horizon.nc", "--out", again).code == 0
    for name in MAPS:
        assert read_dem(again / f"{name}.tif").values.tobytes() == read_dem(out / f"{name}.tif").values.tobytes()


@pytest.mark.parametrize("args,fragment", [
    (["--start", "2060-01-01", "--end", "2060-02-01"], "outside the ephemeris"),
    (["--start", "2030-02-01", "--end", "2030-01-01"], "must come after"),
    (["--start", "2030-01-01", "--end", "2030-01-02", "--step", "soon"], "time step"),
    (["--start", "2030-01-01", "--end", "2030-01-02", "--azimuths", "4"], "at least 8 azimuths"),
    (["--start", "yesterday", "--end", "2030-01-02"], "yesterday"),
])
def test_illuminate_bad_input(cli, site, tmp_path, args, fragment):
    out = tmp_path / "maps"
    assert_one_line_error(cli("illuminate", site, *args, "--out", out), fragment)
    assert not out.exists() or not [p for p in out.iterdir() if p.suffix in (".tif", ".png")]


def test_horizon_file_of_another_dem_is_refused(cli, site, tmp_path):
    cube = tmp_path / "h.nc"
    assert cli("-q", "horizon", site, "--azimuths", 8, "--out", cube).code == 0
    other = tmp_path / "other.tif"
    dem = read_dem(site)
    write_geotiff(dem + 1.0, other)
    result = cli("illuminate", other, "--start", "2030-01-01", "--end", "2030-01-02", "--horizon", cube,
                 "--out", tmp_path / "m")
    assert_one_line_error(result, "other heights")


def test_geographic_dem_is_refused(cli, tmp_path):
    geographic = grid_array(np.zeros((10, 10), np.float32), Affine(0.01, 0, 10, 0, -0.01, -85),
                            "IAU_2015:30100", "height", "m")
    path = tmp_path / "geo.tif"
    write_geotiff(geographic, path)
    assert_one_line_error(cli("horizon", path, "--out", tmp_path / "h.nc"), "geographic")
    assert not (tmp_path / "h.nc").exists()


def test_sky_json_is_still_reachable(cli):
    payload = json.loads(cli("sky", "--lat", -89.5, "--lon", 0, "--time", "2030-01-01T00:00Z", "--json").out)
    assert set(payload) == {"sun", "earth"}


def test_timeseries_csv(cli, site, tmp_path):
    cube = tmp_path / "h.nc"
    assert cli("-q", "horizon", site, "--azimuths", 36, "--out", cube).code == 0
    dem = read_dem(site)
    from lupex.geo import xy_to_latlon

    lat, lon = xy_to_latlon(float(dem.x[10]), float(dem.y[20]))
    out = tmp_path / "series.csv"
    result = cli("timeseries", site, "--horizon", cube, "--at", f"{float(lat)},{float(lon)}", "--at",
                 f"{float(lat)},{float(lon)}", "--start", "2030-01-01", "--end", "2030-01-03", "--step", "6h",
                 "--out", out)
    assert result.code == 0, result.err
    import pandas as pd

    table = pd.read_csv(out)
    assert len(table) == 2 * 9
    assert {"time", "sun_fraction", "earth_visible", "sun_elevation_deg"} <= set(table.columns)
    assert table["sun_fraction"].between(0, 1).all()
    assert_one_line_error(cli("timeseries", site, "--horizon", cube, "--at", "-89.5", "--start", "2030-01-01",
                              "--end", "2030-01-02", "--out", tmp_path / "x.csv"), "LAT,LON")
    assert not (tmp_path / "x.csv").exists()


def test_horizon_with_a_far_field(cli, site, tmp_path):
    far = tmp_path / "far.tif"
    assert cli("-q", "terrain", "synth", "--size", 64, "--resolution", 400, "--center-lat", -89.5,
               "--seed", 9, "--out", far, "--no-quicklook").code == 0
    near_only, merged = tmp_path / "a.nc", tmp_path / "b.nc"
    assert cli("-q", "horizon", site, "--azimuths", 16, "--out", near_only).code == 0
    assert cli("-q", "horizon", site, "--azimuths", 16, "--far-field", far, "--out", merged).code == 0
    dem = read_dem(site)
    alone, with_far = open_horizon(near_only, dem).values, open_horizon(merged, dem).values
    # The far field only adds terrain: horizons never drop, and the tile's edges see it
    # (all but the four corner pixels, whose exactly diagonal rays the sweep still misses).
    assert (with_far >= alone - 0.003).all()
    assert (alone <= -89).any()
    corners = np.zeros(dem.shape, bool)
    corners[[0, 0, -1, -1], [0, -1, 0, -1]] = True
    assert (with_far[:, ~corners] > -89).all()


def test_a_cube_for_another_eye_height_or_azimuths_is_not_used(cli, site, tmp_path):
    cube = tmp_path / "h.nc"
    assert cli("-q", "horizon", site, "--azimuths", 16, "--out", cube).code == 0
    result = cli("illuminate", site, "--start", "2030-01-01", "--end", "2030-01-02", "--horizon", cube,
                 "--observer-height", 500, "--out", tmp_path / "m")
    assert_one_line_error(result, "observer 0 m")
    out = tmp_path / "maps"
    args = ["-q", "illuminate", site, "--start", "2030-01-01", "--end", "2030-01-02", "--out", out]
    assert cli(*args, "--azimuths", 16).code == 0
    assert cli(*args, "--azimuths", 24, "--overwrite").code == 0
    assert open_horizon(out / "horizon.nc").sizes["azimuth"] == 24


def test_mission_refuses_a_dem_with_holes_before_work(cli, site, tmp_path):
    holed = read_dem(site).copy()
    holed.values[3, 4] = np.nan
    path = tmp_path / "holed.tif"
    write_geotiff(holed, path)
    assert_one_line_error(cli("mission", "--dem", path, "--days", 2, "--out", tmp_path / "run"), "NaN")
    assert not (tmp_path / "run").exists()
