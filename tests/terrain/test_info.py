"""DEM summaries: grid, place, height range and slope statistics read in strips."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import CRS, Transformer

import lupex.terrain.info as info
from lupex.errors import LupexError
from lupex.raster import polar_crs
from lupex.terrain.readers import open_dem
from lupex.terrain.surface import slope

MOON_R = 1_737_400.0
KEYS = {
    "width", "height", "resolution_m", "crs", "bounds_m", "center_lat", "center_lon",
    "height_min_m", "height_max_m", "slope_median_deg", "slope_p95_deg",
}


def assert_slopes_match_numpy(summary: dict, dem) -> None:
    """Median and 95th percentile agree with numpy on the whole grid, to the 0.01 deg histogram bin.

    The histogram reports the centre of the bin holding the smallest slope with at least q % of
    the slopes at or below it: numpy's ``inverted_cdf`` percentile, within half a bin.
    """
    slopes = slope(dem.read())
    slopes = slopes[np.isfinite(slopes)].astype(np.float64)
    for key, q in (("slope_median_deg", 50), ("slope_p95_deg", 95)):
        expected = float(np.percentile(slopes, q, method="inverted_cdf"))
        assert summary[key] == pytest.approx(expected, abs=0.005 + 1e-6), key


def test_shoemaker_summary(shoemaker_tif):
    dem = open_dem(shoemaker_tif)
    summary = info.summarize(dem)
    assert KEYS <= set(summary)
    assert (summary["width"], summary["height"], summary["resolution_m"]) == (256, 256, 5.0)
    assert summary["bounds_m"] == [75_360.0, 38_360.0, 76_640.0, 39_640.0]
    assert summary["center_lat"] == pytest.approx(-87.18, abs=0.005)
    assert summary["center_lon"] == pytest.approx(62.84, abs=0.005)
    # the centre by hand: x = rho sin(lon), y = rho cos(lon), rho = 2 R tan((90 + lat) / 2)
    rho = np.hypot(76_000.0, 39_000.0)
    assert summary["center_lat"] == pytest.approx(np.degrees(2 * np.arctan(rho / (2 * MOON_R))) - 90, abs=1e-9)
    assert summary["center_lon"] == pytest.approx(np.degrees(np.arctan2(76_000.0, 39_000.0)), abs=1e-9)
    heights = dem.read().values
    assert (summary["height_min_m"], summary["height_max_m"]) == (float(heights.min()), float(heights.max()))
    assert summary["height_min_m"] == pytest.approx(467.7, abs=0.05)
    assert summary["height_max_m"] == pytest.approx(593.4, abs=0.05)
    assert summary["nodata_fraction"] == 0.0
    assert_slopes_match_numpy(summary, dem)
    assert 0 < summary["slope_median_deg"] < summary["slope_p95_deg"] < 90
    # the CRS label names the polar stereographic map
    lonlat = Transformer.from_crs(CRS(summary["crs"]), CRS("IAU_2015:30100"), always_xy=True)
    lon, lat = lonlat.transform(76_000.0, 39_000.0)
    assert (lat, lon) == (pytest.approx(summary["center_lat"]), pytest.approx(summary["center_lon"]))


def test_ldem_4_summary(lola_dir):
    dem = open_dem(lola_dir / "LDEM_4.LBL")
    summary = info.summarize(dem)
    assert (summary["width"], summary["height"], summary["format"]) == (1440, 720, "PDS3")
    assert summary["resolution_m"] == pytest.approx(2 * np.pi * MOON_R / 1440, rel=1e-12)
    half_x, half_y = np.pi * MOON_R, np.pi * MOON_R / 2
    np.testing.assert_allclose(summary["bounds_m"], [-half_x, -half_y, half_x, half_y], rtol=1e-12)
    assert (summary["center_lat"], summary["center_lon"]) == (pytest.approx(0.0, abs=1e-9), pytest.approx(180.0))
    assert (summary["height_min_m"], summary["height_max_m"]) == (-8878.5, 10504.0)
    assert_slopes_match_numpy(summary, dem)


def test_without_slopes(shoemaker_tif):
    summary = info.summarize(open_dem(shoemaker_tif), with_slopes=False)
    assert summary["slope_median_deg"] is None and summary["slope_p95_deg"] is None
    assert summary["height_max_m"] == pytest.approx(593.4, abs=0.05)


@pytest.mark.parametrize("strip_rows", [7, 100, 255, 256])
def test_strips_give_the_one_strip_result(shoemaker_tif, monkeypatch, strip_rows):
    dem = open_dem(shoemaker_tif)
    whole = info.summarize(dem)
    monkeypatch.setattr(info, "_STRIP_ROWS", strip_rows)
    stripped = info.summarize(dem)
    assert stripped == whole


def test_strips_of_a_cylindrical_map_give_the_one_strip_result(lola_dir, monkeypatch):
    dem = open_dem(lola_dir / "LDEM_4.LBL")
    whole = info.summarize(dem)
    monkeypatch.setattr(info, "_STRIP_ROWS", 30)
    stripped = info.summarize(dem)
    assert (stripped["height_min_m"], stripped["height_max_m"]) == (whole["height_min_m"], whole["height_max_m"])
    assert (stripped["slope_median_deg"], stripped["slope_p95_deg"]) == (
        whole["slope_median_deg"], whole["slope_p95_deg"])


def test_strips_keep_nodata_out_of_the_statistics(tmp_path, monkeypatch):
    """A NaN band across a strip boundary: heights and slopes ignore it the same way in any strip size."""
    rng = np.random.default_rng(3)
    values = np.cumsum(rng.normal(0, 1.0, (60, 40)), axis=1).astype(np.float32)
    values[20:23, 5:30] = np.nan
    path = tmp_path / "holes.tif"
    with rasterio.open(path, "w", driver="GTiff", width=40, height=60, count=1, dtype="float32",
                       crs=polar_crs().to_wkt(), transform=Affine(10, 0, 5000, 0, -10, -3000), nodata=np.nan) as ds:
        ds.write(values, 1)
    dem = open_dem(path)
    whole = info.summarize(dem)
    assert whole["nodata_fraction"] == pytest.approx(75 / 2400)
    assert (whole["height_min_m"], whole["height_max_m"]) == (float(np.nanmin(values)), float(np.nanmax(values)))
    assert_slopes_match_numpy(whole, dem)
    monkeypatch.setattr(info, "_STRIP_ROWS", 21)
    assert info.summarize(dem) == whole


def test_all_nodata_is_refused(tmp_path):
    path = tmp_path / "empty.tif"
    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32",
                       crs=polar_crs().to_wkt(), transform=Affine(5, 0, 0, 0, -5, 0), nodata=np.nan) as ds:
        ds.write(np.full((4, 4), np.nan, np.float32), 1)
    with pytest.raises(LupexError, match="holds no valid height"):
        info.summarize(open_dem(path))
