"""Limits on sizes and counts: refused with the figure and the fix before anything is allocated.

Every test that depends on memory sets ``LUPEX_MEMORY_LIMIT`` itself (or asks for terabytes), so
it gives the same answer on any machine; none of them allocates what it asks for.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import CRS

from lupex.constants import SOUTH_POLAR_STEREOGRAPHIC_CRS
from lupex.errors import LupexError
from lupex.limits import (
    MAX_CAMPAIGN_RUNS,
    MAX_EPOCHS,
    MAX_HORIZON_AZIMUTHS,
    MEMORY_FRACTION,
    MEMORY_LIMIT_ENV,
    available_memory,
    check_count,
    check_memory,
    format_bytes,
    memory_budget,
)
from lupex.raster import grid_array, write_geotiff
from tests.conftest import assert_one_line_error

HUGE_PX = 65536
"""Side of the DEM the small file declares: 2^32 pixels, 16 GiB as float32."""


@pytest.fixture
def small_memory(monkeypatch):
    """An 8 GiB budget, whatever the machine has."""
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "8GiB")


@pytest.fixture(scope="module")
def huge_tif(tmp_path_factory) -> Path:
    """A 40 kB GeoTIFF that declares 65536 x 65536 float32 pixels (sparse: one block written)."""
    path = tmp_path_factory.mktemp("huge") / "huge.tif"
    profile = dict(
        driver="GTiff", width=HUGE_PX, height=HUGE_PX, count=1, dtype="float32", nodata=-9999.0,
        crs=rasterio.crs.CRS.from_wkt(CRS.from_user_input(SOUTH_POLAR_STEREOGRAPHIC_CRS).to_wkt()),
        transform=Affine(20.0, 0.0, -10.0 * HUGE_PX, 0.0, -20.0, 10.0 * HUGE_PX),
        tiled=True, blockxsize=1024, blockysize=1024, compress="deflate", sparse_ok=True,
    )
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(np.full((1, 1), 1000.0, np.float32), 1, window=((0, 1), (0, 1)))
    assert path.stat().st_size < 1 << 20
    return path


@pytest.fixture(scope="module")
def tiny_dem(tmp_path_factory) -> Path:
    """A 16 x 16 DEM of a gentle slope near the pole."""
    path = tmp_path_factory.mktemp("tiny") / "tiny.tif"
    heights = np.add.outer(np.arange(16.0), np.arange(16.0)).astype(np.float32)
    write_geotiff(grid_array(heights, Affine(20.0, 0.0, 30_000.0, 0.0, -20.0, 30_000.0),
                             SOUTH_POLAR_STEREOGRAPHIC_CRS, "height", "m"), path)
    return path


# --- the module itself ------------------------------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    ("123", 123), ("8GiB", 8 << 30), ("8G", 8 << 30), ("8 gb", 8 << 30), ("512MiB", 512 << 20),
    ("1.5TiB", int(1.5 * (1 << 40))), ("64k", 64 << 10), ("10b", 10),
])
def test_the_override_reads_sizes(monkeypatch, text, expected):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, text)
    assert memory_budget() == (expected, f"{MEMORY_LIMIT_ENV} allows")


def test_an_unreadable_override_is_refused(monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(LupexError, match="LUPEX_MEMORY_LIMIT='lots' cannot be read; set it to"):
        memory_budget()


def test_without_override_the_budget_is_a_share_of_the_available_memory(monkeypatch):
    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    available = available_memory()
    assert available > 0
    budget, source = memory_budget()
    assert 0 < budget <= MEMORY_FRACTION * available * 1.1  # MemAvailable moves a little between calls
    assert "this machine can give" in source


def test_check_memory_names_the_figure_the_budget_and_the_fix(small_memory):
    check_memory(7 << 30, "a small job", "never shown")
    with pytest.raises(LupexError) as error:
        check_memory(16 << 30, "the horizons of a big DEM", "crop it")
    assert str(error.value) == ("the horizons of a big DEM needs 16.0 GiB of memory, more than the 8.0 GiB "
                                "LUPEX_MEMORY_LIMIT allows; crop it")


def test_terabytes_are_refused_on_any_machine(monkeypatch):
    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    with pytest.raises(LupexError, match=r"needs 1024\.0 TiB of memory"):
        check_memory(float(1 << 50), "a petabyte", "ask for less")


def test_check_count_and_format_bytes():
    check_count(MAX_EPOCHS, MAX_EPOCHS, "epochs", "never shown")
    with pytest.raises(LupexError, match=r"^the epochs number 10,000,001, more than the limit of 10,000,000; fewer"):
        check_count(MAX_EPOCHS + 1, MAX_EPOCHS, "the epochs", "fewer")
    assert [format_bytes(n) for n in (5, 2048, 3 << 20, 16 << 30, 5 << 40)] == [
        "5 B", "2.0 KiB", "3.0 MiB", "16.0 GiB", "5.0 TiB"]


# --- a file that declares 65536 x 65536 pixels --------------------------------------------------


def test_reading_a_declared_huge_dem_whole_is_refused_but_a_window_reads(huge_tif, small_memory):
    from lupex.terrain.readers import open_dem, read_dem

    with pytest.raises(LupexError, match=r"reading 65536 x 65536 pixels of huge\.tif needs 128\.0 GiB"):
        read_dem(huge_tif)
    window = open_dem(huge_tif).read((slice(0, 2), slice(0, 2))).values
    assert window[0, 0] == 1000.0 and np.isnan(window[1, 1])


def test_horizon_of_a_declared_huge_dem_is_refused_before_reading(cli, huge_tif, small_memory, tmp_path):
    out = tmp_path / "h.nc"
    result = cli("horizon", huge_tif, "--out", out)
    assert_one_line_error(result, "computing the horizons of a 65536 x 65536 pixel DEM needs", "GiB of memory",
                          "8.0 GiB LUPEX_MEMORY_LIMIT allows", "lupex terrain crop", "--tile-px")
    assert list(tmp_path.iterdir()) == []


def test_derive_of_a_declared_huge_dem_is_refused_before_reading(cli, huge_tif, small_memory, tmp_path):
    out = tmp_path / "layers"
    result = cli("terrain", "derive", huge_tif, "--out", out)
    assert_one_line_error(result, "deriving the hazard layers of a 65536 x 65536 pixel DEM needs", "lupex terrain crop")
    assert not out.exists()


def test_illuminate_of_a_declared_huge_dem_is_refused_before_reading(cli, huge_tif, small_memory, tmp_path):
    out = tmp_path / "maps"
    result = cli("illuminate", huge_tif, "--start", "2030-01-01", "--end", "2030-01-02", "--out", out)
    assert_one_line_error(result, "making the illumination maps of a 65536 x 65536 pixel DEM needs", "--tile-px")
    assert not out.exists()


# --- counts -------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [
    ["horizon", "{dem}", "--out", "{out}/h.nc"],
    ["illuminate", "{dem}", "--start", "2030-01-01", "--end", "2030-01-02", "--out", "{out}/maps"],
    ["thermal", "map", "{dem}", "--out", "{out}/thermal"],
])
def test_too_many_azimuths_are_refused(cli, tiny_dem, tmp_path, command):
    out = tmp_path / "out"
    out.mkdir()
    args = [part.format(dem=tiny_dem, out=out) for part in command]
    result = cli(*args, "--azimuths", 100_000)
    assert_one_line_error(result, f"at most {MAX_HORIZON_AZIMUTHS} azimuths", "got 100000", "fewer azimuths")
    assert list(out.iterdir()) == []


def test_the_library_refuses_too_many_azimuths_too(tiny_dem):
    from lupex.sky.horizon import default_azimuths
    from lupex.sky.horizon_map import check_request
    from lupex.terrain.readers import read_dem

    with pytest.raises(LupexError, match="at most 3600 azimuths"):
        check_request(read_dem(tiny_dem), 100_000, 0.0)
    with pytest.raises(LupexError, match="at most 3600 azimuths"):
        default_azimuths(10**12)
    assert default_azimuths(MAX_HORIZON_AZIMUTHS)[1] == pytest.approx(0.1)


def test_a_whole_cube_in_memory_is_checked(monkeypatch):
    from lupex.sky.horizon import horizon_angles

    monkeypatch.setenv(MEMORY_LIMIT_ENV, "1MiB")
    with pytest.raises(LupexError, match=r"the horizons of a 64 x 64 pixel DEM at 100 azimuths at once needs 1\.6 MiB"):
        horizon_angles(np.zeros((64, 64)), 20.0, np.arange(100) * 3.6)


def test_timeseries_at_one_second_over_decades_is_refused(cli, tiny_dem, tmp_path):
    out = tmp_path / "series.csv"
    result = cli("timeseries", tiny_dem, "--horizon", tmp_path / "h.nc", "--at", "-89,0", "--start", "2030-01-01",
                 "--end", "2050-01-01", "--step", "1s", "--out", out)
    assert_one_line_error(result, "the epochs from 2030-01-01T00:00:00 to 2050-01-01T00:00:00 every 1 s",
                          "number 631,152,001, more than the limit of 10,000,000", "coarser time step")
    assert not out.exists()


def test_a_time_series_too_large_for_memory_is_refused(monkeypatch):
    from lupex.sky.series import point_series

    monkeypatch.setenv(MEMORY_LIMIT_ENV, "1MiB")
    times = np.datetime64("2030-01-01") + np.arange(10_000) * np.timedelta64(1, "h")
    with pytest.raises(LupexError, match="a time series of 3 places at 10,000 epochs needs"):
        point_series(np.zeros((8, 4, 4)), None, [0.0, 1.0, 2.0], [0.0, 1.0, 2.0], times)


def test_a_mission_sky_step_of_a_microhour_is_refused(cli, tmp_path):
    config = tmp_path / "m.toml"
    config.write_text("sky_step_h = 1e-6\n")
    out = tmp_path / "out"
    result = cli("mission", "--config", config, "--out", out)
    assert_one_line_error(result, "100 days make 2,400,000,001 sky epochs", "limit of 10,000,000", "sky_step_h")
    assert not out.exists()


def test_a_mission_tick_of_a_microminute_is_refused(tmp_path):
    from lupex.config import build
    from lupex.mission import MissionConfig

    with pytest.raises(LupexError, match="simulation ticks"):
        build(MissionConfig, {"days": 10.0, "sim": {"plan": {"tick_min": 1e-6, "sky_step_h": 1e-6 / 60 * 2}}})


def test_a_mission_site_too_large_for_memory_is_refused(small_memory):
    from lupex.mission import MissionConfig

    config = MissionConfig()
    config.check_size((1024, 1024), 20.0)
    with pytest.raises(LupexError, match="a mission on a 16384 x 16384 pixel site needs"):
        config.check_size((16384, 16384), 20.0)


def test_a_campaign_grid_of_ten_billion_runs_is_refused(cli, tmp_path):
    values = ", ".join(str(v) for v in range(1, 101))
    grid = "\n".join(f'"{name}" = [{values}]' for name in ("seed", "site_seed", "days", "sky_step_h",
                                                             "landing_radius_m"))
    spec = tmp_path / "huge.toml"
    spec.write_text(f'[campaign]\nname = "huge"\nruns = 2\n\n[grid]\n{grid}\n')
    out = tmp_path / "out"
    result = cli("campaign", "run", spec, "--workers", 0, "--out", out)
    assert_one_line_error(result, "the runs of huge.toml (10,000,000,000 grid points x 2 replicates) number "
                          f"20,000,000,000, more than the limit of {MAX_CAMPAIGN_RUNS:,}", "[grid]")
    assert not out.exists()


def test_tiles_of_the_polar_cap_fit_a_large_budget_but_not_a_small_one(monkeypatch):
    from lupex.sky.tiled import check_tile_memory, plan_tiles

    tiles = plan_tiles(30400, 30400, 1024, 2000)  # the 20 m 80-90 S cap, 40 km margins
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "64GiB")
    check_tile_memory(tiles, 360)
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "1GiB")
    with pytest.raises(LupexError, match=r"one tile .* needs .* smaller --tile-px or --margin-km"):
        check_tile_memory(tiles, 360)


def test_a_synthetic_tile_too_large_for_memory_is_refused(cli, small_memory, tmp_path):
    out = tmp_path / "big.tif"
    result = cli("terrain", "synth", "--size", 16384, "--resolution", 5, "--center-lat", -89.5, "--seed", 1,
                 "--out", out)
    assert_one_line_error(result, "a synthetic 16384 x 16384 tile needs 28.0 GiB", "smaller size")
    assert list(tmp_path.iterdir()) == []
