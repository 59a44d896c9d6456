"""Cropping onto the polar stereographic map, checked against the source pixels and by hand."""

from __future__ import annotations

import numpy as np
import pytest

from lupex.errors import LupexError
from lupex.geo import xy_to_latlon
from lupex.terrain.readers import open_dem
from lupex.terrain.reproject import crop_to_polar

SHOEMAKER_LEFT, SHOEMAKER_TOP = 75_360.0, 39_640.0


@pytest.fixture(scope="module")
def shoemaker(shoemaker_tif):
    return open_dem(shoemaker_tif)


@pytest.fixture(scope="module")
def ldem_4(lola_dir):
    return open_dem(lola_dir / "LDEM_4.IMG")


@pytest.fixture(scope="module")
def ldem_4_heights(lola_dir) -> np.ndarray:
    """LDEM_4 heights straight from the file: DN x 0.5 m."""
    return np.fromfile(lola_dir / "LDEM_4.IMG", dtype="<i2").reshape(720, 1440) * 0.5


def shoemaker_centre() -> tuple[float, float]:
    lat, lon = xy_to_latlon(76_000.0, 39_000.0)
    return float(lat), float(lon)


def source_offset(tile) -> tuple[int, int]:
    """Row and column of the Shoemaker pixel under the tile's top-left corner (5 m pixels)."""
    t = tile.rio.transform()
    rows, cols = (SHOEMAKER_TOP - t.f) / 5.0, (t.c - SHOEMAKER_LEFT) / 5.0
    assert rows == int(rows) and cols == int(cols)
    return int(rows), int(cols)


@pytest.mark.parametrize("resampling", ["bilinear", "nearest"])
def test_identity_crop_reproduces_the_source_pixels(shoemaker, resampling):
    tile = crop_to_polar(shoemaker, *shoemaker_centre(), 1.0, 5.0, resampling)
    assert tile.shape == (200, 200)
    assert tile.rio.transform().a == 5.0
    r0, c0 = source_offset(tile)
    assert (r0, c0) == (28, 28)  # corners snapped to the 5 m lattice: x 75,500..76,500 m
    source = shoemaker.read().values
    np.testing.assert_array_equal(tile.values, source[r0: r0 + 200, c0: c0 + 200])


@pytest.mark.parametrize(("resolution", "size_km"), [(10.0, 1.0), (15.0, 1.2), (20.0, 1.2), (20.0, 1.28)])
def test_downsampling_averages_aligned_blocks(shoemaker, resolution, size_km):
    factor = int(resolution / 5.0)
    tile = crop_to_polar(shoemaker, *shoemaker_centre(), size_km, resolution)
    n = tile.shape[0]
    r0, c0 = source_offset(tile)
    source = shoemaker.read().values.astype(np.float64)
    blocks = source[r0: r0 + factor * n, c0: c0 + factor * n].reshape(n, factor, n, factor).mean(axis=(1, 3))
    np.testing.assert_allclose(tile.values, blocks, rtol=0, atol=1e-4)


def bilinear_ldem_4(heights: np.ndarray, lat: float, lon: float) -> float:
    """Bilinear interpolation in LDEM_4 by hand: 4 px/deg, pixel centres at 0.125 deg, map centred on 180 E."""
    col = (np.mod(lon - 180.0 + 180.0, 360.0) - 180.0) * 4 + 719.5
    row = 359.5 - lat * 4
    r, c = int(np.floor(row)), int(np.floor(col))
    fr, fc = row - r, col - c
    z = [[heights[rr, cc % 1440] for cc in (c, c + 1)] for rr in (r, r + 1)]
    return (1 - fr) * ((1 - fc) * z[0][0] + fc * z[0][1]) + fr * ((1 - fc) * z[1][0] + fc * z[1][1])


def assert_matches_bilinear(tile, heights, pixels) -> None:
    t = tile.rio.transform()
    for i, j in pixels:
        lat, lon = xy_to_latlon(t.c + (j + 0.5) * t.a, t.f + (i + 0.5) * t.e)
        expected = bilinear_ldem_4(heights, float(lat), float(lon))
        assert tile.values[i, j] == pytest.approx(expected, abs=2e-3), (i, j, float(lat), float(lon))


def test_south_pole_crop_of_ldem_4_is_bilinear(ldem_4, ldem_4_heights):
    tile = crop_to_polar(ldem_4, -90.0, 0.0, 600.0, 2000.0)
    assert tile.shape == (300, 300)
    assert not np.isnan(tile.values).any()
    # pixels away from the innermost ring (89.875 S), where the product has no row further south
    pixels = [(0, 0), (0, 299), (299, 0), (299, 299), (150, 20), (20, 150), (100, 200), (250, 140), (147, 147)]
    t = tile.rio.transform()
    for i, j in pixels:
        lat, _ = xy_to_latlon(t.c + (j + 0.5) * t.a, t.f + (i + 0.5) * t.e)
        assert lat > -89.8
    assert_matches_bilinear(tile, ldem_4_heights, pixels)
    assert float(tile.min()) >= -8878.5 and float(tile.max()) <= 10504.0


def test_crop_across_the_zero_meridian_seam(ldem_4, ldem_4_heights):
    tile = crop_to_polar(ldem_4, -60.0, 0.0, 300.0, 7500.0)
    assert tile.shape == (40, 40)
    assert not np.isnan(tile.values).any()
    # columns 19 and 20 straddle x = 0, the 0/360 E meridian (the first and last LDEM_4 columns)
    assert tile.rio.transform().c + 20 * 7500.0 == 0.0
    assert_matches_bilinear(tile, ldem_4_heights, [(i, j) for i in (0, 13, 27, 39) for j in (18, 19, 20, 21)])
    steps = np.abs(np.diff(tile.values.astype(np.float64), axis=1))
    across_seam = steps[:, 19]
    elsewhere = np.delete(steps, 19, axis=1)
    assert across_seam.max() <= elsewhere.max()
    assert np.median(across_seam) <= 2.0 * np.median(elsewhere)


def test_tile_outside_the_source(shoemaker):
    with pytest.raises(LupexError, match="does not overlap Shoemaker"):
        crop_to_polar(shoemaker, -80.0, 0.0, 1.0, 5.0)


@pytest.mark.parametrize(
    ("size_km", "resolution_m", "fragment"),
    [
        (-1.0, 5.0, "must be positive"),
        (0.0, 5.0, "must be positive"),
        (1.0, 0.0, "must be positive"),
        (1.0, -5.0, "must be positive"),
        (float("nan"), 5.0, "must be positive"),
        (0.005, 5.0, "less than 2 pixels"),
        (100.0, 1.0, "is 100000 pixels wide; the limit is 16384"),
        # issue 21: an OverflowError traceback once
        (float("inf"), 5.0, "must be finite numbers"),
        (1.0, float("inf"), "must be finite numbers"),
        (1e308, 1e-300, "is inf pixels wide; the limit is 16384"),
    ],
)
def test_nonsense_tile_sizes(shoemaker, size_km, resolution_m, fragment):
    with pytest.raises(LupexError, match=fragment):
        crop_to_polar(shoemaker, *shoemaker_centre(), size_km, resolution_m)


def test_unknown_resampling(shoemaker):
    with pytest.raises(LupexError, match="resampling must be one of"):
        crop_to_polar(shoemaker, *shoemaker_centre(), 1.0, 5.0, "cubic")


def test_a_tile_beyond_the_memory_budget_is_refused_before_any_work(shoemaker, monkeypatch):
    """A 16384-pixel tile needs about 34 GB; it was accepted and allocated (found by tests/fuzz)."""
    monkeypatch.setenv("LUPEX_MEMORY_LIMIT", "64MiB")
    with pytest.raises(LupexError, match=r"resampling onto a 1000 x 1000 pixel tile needs 122\.1 MiB of memory"):
        crop_to_polar(shoemaker, *shoemaker_centre(), 5.0, 5.0)
