"""``lupex sites``: the files and columns, the ranking order, reuse of sky and thermal folders,
and the one-line errors on bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lupex.cli.main import run
from lupex.geo import latlon_to_xy, xy_to_latlon
from lupex.planning.sites import SITE_COLUMNS
from lupex.raster import like, write_geotiff
from lupex.sky.maps import MAP_STYLES
from lupex.terrain.readers import read_dem
from lupex.thermal.products import THERMAL_STYLES, write_manifest
from tests.conftest import assert_one_line_error

PERIOD = ["--start", "2028-03-01T00:00:00Z", "--days", "10", "--step", "12h", "--azimuths", "16"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A 1.6 km synthetic tile at 40 m, its 'lupex illuminate' folder, and a region on it."""
    folder = tmp_path_factory.mktemp("sites")
    dem_path = folder / "s.tif"
    assert run(["-q", "terrain", "synth", "--size", "40", "--resolution", "40", "--center-lat", "-89.5",
                "--seed", "2", "--out", str(dem_path), "--no-quicklook"]) == 0
    assert run(["-q", "illuminate", str(dem_path), "--start", "2028-03-01T00:00:00Z", "--end", "2028-03-11T00:00:00Z",
                "--step", "12h", "--azimuths", "16", "--out", str(folder / "sky")]) == 0
    dem = read_dem(dem_path)
    lat, lon = xy_to_latlon(float(dem.x.mean()), float(dem.y.mean()))
    return {"dem": dem_path, "sky": folder / "sky", "lat": float(lat), "lon": float(lon),
            "region": f"{float(lat)},{float(lon)},0.6"}


def sites(cli, site, out, *args):
    return cli("-q", "sites", site["dem"], "--region", site["region"], "--spacing", 100, "--out", out, *args)


def test_writes_the_ranked_table_and_the_map(cli, site, tmp_path):
    out = tmp_path / "out"
    result = sites(cli, site, out, "--illumination", site["sky"])
    assert result.code == 0, result.err
    assert f"{out / 'sites.csv'}" in result.out and "candidates feasible" in result.out
    assert (out / "sites.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = pd.read_csv(out / "sites.csv", keep_default_na=False, na_values={"rank": [""], "score": [""]})
    assert tuple(table.columns) == SITE_COLUMNS
    feasible = table[table["feasible"]]
    assert 0 < len(feasible) < len(table)
    assert table["feasible"].tolist() == sorted(table["feasible"], reverse=True)  # feasible ones first
    assert feasible["rank"].tolist() == list(range(1, len(feasible) + 1))
    assert (np.diff(feasible["score"].to_numpy()) <= 0).all()
    assert feasible["score"].between(0, 1).all() and feasible["score"].iloc[0] > feasible["score"].iloc[-1]
    assert (feasible["reason"] == "").all() and (table.loc[~table["feasible"], "reason"] != "").all()
    assert table.loc[~table["feasible"], ["rank", "score"]].isna().all().all()
    assert table["ice_source"].eq("psr_proxy").all()
    assert (feasible["lander_slope_deg"] <= 12).all() and (feasible["ice_reachable_m2"] > 0).all()
    # Candidates are pixel centres inside the region, with their own latitude and longitude.
    xc, yc = latlon_to_xy(site["lat"], site["lon"])
    assert (np.hypot(table["x_m"] - xc, table["y_m"] - yc) <= 600.0 + 20.0 * np.sqrt(2.0) + 1e-6).all()
    back_lat, back_lon = xy_to_latlon(table["x_m"], table["y_m"])
    np.testing.assert_allclose(table["lat"], back_lat, atol=1e-6)
    np.testing.assert_allclose(table["lon"], back_lon, atol=1e-5)
    # The region of 0.6 km at 100 m holds 113 grid points, all on this 1.6 km tile.
    assert len(table) == 113


def test_weights_from_a_config_file_change_the_order(cli, site, tmp_path):
    config = tmp_path / "sites.toml"
    config.write_text("weight_sun = 1.0\nweight_darkness = 0.0\nweight_earth = 0.0\nweight_slope = 0.0\n"
                      "weight_hazard = 0.0\nweight_ice = 0.0\n")
    out = tmp_path / "sun"
    assert sites(cli, site, out, "--illumination", site["sky"], "--config", config).code == 0
    table = pd.read_csv(out / "sites.csv")
    feasible = table[table["feasible"]]
    assert (np.diff(feasible["sun_fraction_mean"].to_numpy()) <= 1e-7).all()
    assert feasible["score"].iloc[0] == pytest.approx(1.0) and feasible["score"].iloc[-1] == pytest.approx(0.0)


def test_computes_its_own_sky_resumably_and_the_folder_can_be_reused(cli, site, tmp_path):
    out = tmp_path / "own"
    result = sites(cli, site, out, *PERIOD)
    assert result.code == 0, result.err
    assert (out / "horizon.nc").is_file()
    for name in MAP_STYLES:
        assert (out / f"{name}.tif").is_file()
    # The same period as the 'lupex illuminate' folder: the same ranking, to the digit.
    same = tmp_path / "same"
    assert sites(cli, site, same, "--illumination", site["sky"]).code == 0
    assert (out / "sites.csv").read_text() == (same / "sites.csv").read_text()
    # The output folder itself serves as an illumination folder for a rerun with other settings.
    again = tmp_path / "again"
    assert sites(cli, site, again, "--illumination", out, "--landing-radius", 60).code == 0
    assert len(pd.read_csv(again / "sites.csv")) == 113
    # Rerunning into a finished folder needs --overwrite, and then reuses its horizons.
    assert_one_line_error(sites(cli, site, out, *PERIOD), "--overwrite")
    assert sites(cli, site, out, *PERIOD, "--overwrite").code == 0
    assert (out / "sites.csv").read_text() == (same / "sites.csv").read_text()


def thermal_folder(path, dem_path, ice_rows: slice) -> None:
    """A thermal folder for the DEM with ice stable (at 0.3 m) only in the given rows."""
    dem = read_dem(dem_path)
    path.mkdir()
    depth = np.full(dem.shape, np.nan, np.float32)
    depth[ice_rows] = 0.3
    values = {"tmax": 150.0, "tmean": 90.0, "cold_trap": 0, "ice_depth_m": depth}
    for name in THERMAL_STYLES:
        data = np.broadcast_to(values[name], dem.shape).astype(np.uint8 if name == "cold_trap" else np.float32)
        write_geotiff(like(dem, data, name, "1"), path / f"{name}.tif")
    write_manifest(path, dem, {})


def test_a_thermal_folder_supplies_the_ice_targets(cli, site, tmp_path):
    thermal = tmp_path / "thermal"
    thermal_folder(thermal, site["dem"], slice(0, 3))
    out = tmp_path / "out"
    result = sites(cli, site, out, "--illumination", site["sky"], "--thermal", thermal, "--reach", 800)
    assert result.code == 0, result.err
    table = pd.read_csv(out / "sites.csv", keep_default_na=False)
    assert table["ice_source"].eq("thermal").all()
    # Ice lies only in the top three rows (y > top - 120 m). The budget is the energy of 800 m
    # of level driving; gentle slopes cost up to 0.1 % less than level ground (the mean of up
    # and down), so with a wide margin: candidates farther than 900 m from the ice reach none.
    ice_edge = float(read_dem(site["dem"]).y.max()) + 20.0 - 120.0
    far = table[table["y_m"] < ice_edge - 900.0]
    assert len(far) > 0 and far["ice_reachable_m2"].eq(0).all()
    assert far["reason"].str.contains("no ice-stable ground within reach").all()
    near = table[table["ice_reachable_m2"] > 0]
    assert len(near) > 0 and (near["y_m"] > ice_edge - 900.0).all()


def test_no_feasible_site_still_writes_the_table(cli, site, tmp_path, caplog):
    thermal = tmp_path / "thermal"
    thermal_folder(thermal, site["dem"], slice(0, 0))  # no ice anywhere
    out = tmp_path / "out"
    result = cli("sites", site["dem"], "--region", site["region"], "--spacing", 200, "--illumination", site["sky"],
                 "--thermal", thermal, "--out", out)
    assert result.code == 0, result.err
    assert "none of the 29 candidates is feasible" in caplog.text
    table = pd.read_csv(out / "sites.csv")
    assert not table["feasible"].any() and table["rank"].isna().all()


@pytest.mark.parametrize("region,args,fragments", [
    ("{lat},{lon}", [], ["LAT,LON,RADIUS_KM"]),
    ("south,pole,1", [], ["LAT,LON,RADIUS_KM"]),
    ("{lat},{lon},0", [], ["positive"]),
    ("{lat},{lon},-1", [], ["positive"]),
    ("-95,{lon},1", [], ["latitude"]),
    ("-88.0,0,2", [], ["does not overlap the DEM"]),
    ("{lat},{lon},0.6", ["--spacing", "10"], ["finer than the DEM's pixels"]),
    ("{lat},{lon},0.6", ["--days", "-3"], ["days"]),
    ("{lat},{lon},0.6", ["--illumination", "nowhere"], ["does not exist"]),
    ("{lat},{lon},0.6", ["--illumination", "SKY", "--start", "2028-01-01"], ["--illumination"]),
    ("{lat},{lon},0.6", ["--start", "2070-01-01"], ["outside the ephemeris"]),
    ("{lat},{lon},0.6", ["--thermal", "SKY"], ["not a thermal folder"]),
])
def test_bad_input(cli, site, tmp_path, region, args, fragments):
    region = region.format(lat=site["lat"], lon=site["lon"])
    args = [str(site["sky"]) if a == "SKY" else a for a in args]
    out = tmp_path / "out"
    assert_one_line_error(cli("-q", "sites", site["dem"], "--region", region, "--out", out, *args), *fragments)
    assert not out.exists()


def test_no_candidate_on_the_dem(cli, site, tmp_path):
    dem = read_dem(site["dem"])
    _, bottom, right, top = dem.rio.bounds()
    lat, lon = xy_to_latlon(right + 100.0, (bottom + top) / 2)  # circle overlaps; its only grid point does not
    out = tmp_path / "out"
    result = cli("-q", "sites", site["dem"], "--region", f"{float(lat)},{float(lon)},0.3", "--spacing", 1000,
                 "--out", out)
    assert_one_line_error(result, "no candidate site")
    assert not out.exists()


def test_invalid_rover_file(cli, site, tmp_path):
    rover = tmp_path / "rover.toml"
    rover.write_text("[mobility]\nwheels = 6\n")
    out = tmp_path / "out"
    assert_one_line_error(sites(cli, site, out, "--rover", rover), "rover.toml", "wheels")
    rover.write_text("mass_kg = -1\n")
    assert_one_line_error(sites(cli, site, out, "--rover", rover), "mass_kg")
    assert not out.exists()


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_an_output_folder_with_files_lupex_did_not_write_is_refused(cli, site, tmp_path, overwrite):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert_one_line_error(sites(cli, site, out, "--illumination", site["sky"], *overwrite),
                          "notes.txt", "lupex did not write", "new or empty folder")
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "mine"
