"""Reading DEMs: the real LOLA products, round trips of random grids, and bad input."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pyproj import CRS, Transformer

from lupex.errors import LupexError
from lupex.raster import polar_crs
from lupex.terrain.readers import open_dem, read_dem
from tests.terrain.test_pds3 import gdal_reading, same_crs, write_pds3

MOON_R = 1_737_400.0
LDEM_4_BYTES = 720 * 1440 * 2
GEOGRAPHIC = CRS("IAU_2015:30100")

# --- the real LOLA products -------------------------------------------------------------------


def test_shoemaker_tile_extent_and_heights(shoemaker_tif):
    dem = open_dem(shoemaker_tif)
    assert (dem.width, dem.height, dem.format) == (256, 256, "GTiff")
    assert dem.transform == Affine(5.0, 0.0, 75_360.0, 0.0, -5.0, 39_640.0)
    assert same_crs(dem.crs, polar_crs())
    heights = read_dem(shoemaker_tif)
    assert heights.dtype == np.float32 and heights.shape == (256, 256)
    assert heights.rio.bounds() == (75_360.0, 38_360.0, 76_640.0, 39_640.0)
    assert float(heights.min()) == pytest.approx(467.7, abs=0.05)
    assert float(heights.max()) == pytest.approx(593.4, abs=0.05)
    with rasterio.open(shoemaker_tif) as ds:  # no scaling: heights are the stored values
        np.testing.assert_array_equal(heights.values, ds.read(1))
    lon, lat = Transformer.from_crs(dem.crs, GEOGRAPHIC, always_xy=True).transform(76_000.0, 39_000.0)
    assert (lat, lon) == (pytest.approx(-87.18, abs=0.005), pytest.approx(62.84, abs=0.005))


@pytest.mark.parametrize("name", ["LDEM_4.LBL", "LDEM_4.IMG"])
def test_ldem_4_heights_are_dn_times_half(lola_dir, name):
    dem = open_dem(lola_dir / name)
    assert (dem.width, dem.height, dem.format) == (1440, 720, "PDS3")
    heights = dem.read().values
    assert heights.dtype == np.float32
    assert float(heights.min()) == -8878.5
    assert float(heights.max()) == 10504.0
    dn = np.fromfile(lola_dir / "LDEM_4.IMG", dtype="<i2").reshape(720, 1440)
    for row, col in [(0, 0), (359, 720), (719, 1439), (100, 1000), (600, 37)]:
        assert heights[row, col] == dn[row, col] * 0.5
    np.testing.assert_array_equal(heights, dn * 0.5)
    window = dem.read((slice(700, 720), slice(1430, 1440)))
    np.testing.assert_array_equal(window.values, dn[700:, 1430:] * 0.5)
    assert window.rio.transform() == dem.transform @ Affine.translation(1430, 700)


def test_ldem_4_geometry_matches_gdal(lola_dir):
    dem = open_dem(lola_dir / "LDEM_4.LBL")
    gdal_transform, gdal_crs, raw, _ = gdal_reading(lola_dir / "LDEM_4.LBL")
    # lupex uses the exact 4 px/deg pixel, GDAL the rounded MAP_SCALE of 7580.84 m
    assert dem.transform.a == pytest.approx(2 * np.pi * MOON_R / (360 * 4), rel=1e-12)
    np.testing.assert_allclose(dem.transform, gdal_transform, rtol=1e-3)
    assert same_crs(dem.crs, gdal_crs)
    np.testing.assert_array_equal(dem.read().values, raw * 0.5)  # GDAL's offset is the radius
    # pixel registration: the first pixel is centred at 89.875 N, 0.125 E; the last at 89.875 S, 359.875 E
    t = dem.transform
    to_lonlat = Transformer.from_crs(dem.crs, GEOGRAPHIC, always_xy=True)
    lon, lat = to_lonlat.transform(t.c + 0.5 * t.a, t.f + 0.5 * t.e)
    assert (lat, lon) == (pytest.approx(89.875, abs=1e-9), pytest.approx(0.125, abs=1e-9))
    lon, lat = to_lonlat.transform(t.c + 1439.5 * t.a, t.f + 719.5 * t.e)
    assert (lat, np.mod(lon, 360)) == (pytest.approx(-89.875, abs=1e-9), pytest.approx(359.875, abs=1e-9))


POLAR_PRODUCTS = {
    # name: (pixels a side, MAP_SCALE [m], SAMPLE/LINE_PROJECTION_OFFSET [px])
    "LDEM_80S_20M": (30_400, 20.0, 15_199.5),
    "LDEM_875S_5M": (30_336, 5.0, 15_167.5),
}


@pytest.fixture(scope="module")
def polar_placeholders(lola_dir, tmp_path_factory) -> Path:
    """The real polar labels beside sparse all-zero images of the right size (int16: 2 bytes/px)."""
    folder = tmp_path_factory.mktemp("polar")
    for name, (size, _, _) in POLAR_PRODUCTS.items():
        (folder / f"{name}.LBL").write_bytes((lola_dir / f"{name}.LBL").read_bytes())
        with open(folder / f"{name}.IMG", "wb") as fh:
            fh.truncate(size * size * 2)
    return folder


@pytest.mark.parametrize("suffix", [".LBL", ".IMG"])
@pytest.mark.parametrize("name", sorted(POLAR_PRODUCTS))
def test_polar_label_geometry(polar_placeholders, name, suffix):
    size, scale, offset = POLAR_PRODUCTS[name]
    dem = open_dem(polar_placeholders / f"{name}{suffix}")
    assert (dem.width, dem.height) == (size, size)
    corner = -(offset + 0.5) * scale
    assert dem.transform == Affine(scale, 0.0, corner, 0.0, -scale, -corner)
    assert same_crs(dem.crs, polar_crs())
    assert (dem.scale, dem.offset, dem.nodata) == (0.5, 0.0, None)
    # the pole lies where the four central pixels meet
    centre = dem.read((slice(size // 2 - 1, size // 2 + 1), slice(size // 2 - 1, size // 2 + 1)))
    np.testing.assert_array_equal(centre["x"].values, [-scale / 2, scale / 2])
    np.testing.assert_array_equal(centre["y"].values, [scale / 2, -scale / 2])
    for rows, cols in [(slice(0, 3), slice(0, 4)), (slice(size - 2, size), slice(size - 5, size)), (
            slice(12_000, 12_010), slice(20_000, 20_007))]:
        assert not dem.read((rows, cols)).values.any()


def test_20m_label_origin_is_documented(polar_placeholders):
    dem = open_dem(polar_placeholders / "LDEM_80S_20M.LBL")
    assert (dem.transform.c, dem.transform.f) == (-304_000.0, 304_000.0)


@pytest.mark.parametrize("name", sorted(POLAR_PRODUCTS))
def test_polar_label_geometry_matches_gdal(polar_placeholders, name):
    label = polar_placeholders / f"{name}.LBL"
    dem = open_dem(label)
    with rasterio.open(label) as ds:
        assert (ds.width, ds.height) == (dem.width, dem.height)
        assert ds.transform.almost_equals(dem.transform, precision=1e-6)
        assert same_crs(dem.crs, CRS.from_wkt(ds.crs.to_wkt()))


# --- random grids read back exactly -----------------------------------------------------------


float_grids = arrays(
    np.float32,
    st.tuples(st.integers(1, 12), st.integers(1, 12)),
    elements=st.floats(-20_000, 20_000, width=32) | st.just(np.nan),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=float_grids,
    pixel=st.sampled_from([0.5, 1.0, 5.0, 20.0, 240.0]),
    origin=st.tuples(st.integers(-30_000, 30_000), st.integers(-30_000, 30_000)),
)
def test_geotiff_round_trip(tmp_path_factory, values, pixel, origin):
    path = tmp_path_factory.mktemp("gtiff") / "dem.tif"
    transform = Affine(pixel, 0.0, origin[0] * pixel, 0.0, -pixel, origin[1] * pixel)
    with rasterio.open(path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0], count=1,
                       dtype="float32", crs=polar_crs().to_wkt(), transform=transform, nodata=np.nan) as ds:
        ds.write(values, 1)
    dem = open_dem(path)
    heights = dem.read()
    assert dem.transform == transform and heights.rio.transform() == transform
    np.testing.assert_array_equal(heights.values, values)


_counter = itertools.count()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dn=arrays(np.int16, st.tuples(st.integers(1, 10), st.integers(1, 10))),
    order=st.sampled_from([("LSB_INTEGER", "<i2"), ("MSB_INTEGER", ">i2")]),
    scaling=st.sampled_from([0.5, 1.0, 0.25, 2.0, 0.1]),
    offset=st.sampled_from([("1737400.", 0.0), ("0", 0.0), ("100", 100.0), ("-3.5", -3.5)]),
    scale_m=st.sampled_from(["5 <m/pix>", "20 <m/pix>", "240 <m/pix>", "0.1 <KM/PIXEL>"]),
    offsets=st.tuples(st.integers(-20_000, 20_000), st.integers(-20_000, 20_000)),
    missing=st.booleans(),
)
def test_pds3_round_trip(tmp_path_factory, dn, order, scaling, offset, scale_m, offsets, missing):
    folder = tmp_path_factory.mktemp("pds3")
    name = f"R{next(_counter)}"
    keys = f"  SCALING_FACTOR = {scaling}\n  OFFSET = {offset[0]}\n"
    if missing:
        keys += f"  MISSING_CONSTANT = {int(dn.flat[0])}\n"
    label = write_pds3(folder, name, dn, order[1], sample_type=order[0], image_keys=keys,
                       line_offset=offsets[0] + 0.5, sample_offset=offsets[1] - 0.5, map_scale=scale_m)
    expected = (dn.astype(np.float64) * scaling + offset[1]).astype(np.float32)
    if missing:
        expected[dn == dn.flat[0]] = np.nan
    dem = open_dem(label)
    np.testing.assert_array_equal(dem.read().values, expected)
    assert open_dem(label.with_suffix(".IMG")).pds3_image == dem.pds3_image
    with rasterio.open(label) as ds:  # GDAL's PDS driver on the same label
        np.testing.assert_allclose(dem.transform, ds.transform, rtol=1e-12, atol=1e-6)
        assert np.array_equal(ds.read(1), dn)


# --- bad input ------------------------------------------------------------------------------


SQUARE_5M = Affine(5.0, 0, 1000.0, 0, -5.0, 2000.0)


def _geotiff(path: Path, values: np.ndarray, crs, transform: Affine = SQUARE_5M, nodata=None) -> Path:
    with rasterio.open(path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0], count=1,
                       dtype=values.dtype, crs=crs, transform=transform, nodata=nodata) as ds:
        ds.write(values, 1)
    return path


def _ldem_4_with_image_bytes(folder: Path, lola_dir: Path, size: int) -> Path:
    """The real LDEM_4 label beside a placeholder image of ``size`` bytes."""
    label = folder / "LDEM_4.LBL"
    label.write_bytes((lola_dir / "LDEM_4.LBL").read_bytes())
    with open(folder / "LDEM_4.IMG", "wb") as fh:
        fh.truncate(size)
    return label


def _written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _label_variant(folder: Path, **keys) -> Path:
    return write_pds3(folder, "BAD", np.zeros((3, 4)), "<i2", **keys)


def _label_without(folder: Path, keyword: str) -> Path:
    label = _label_variant(folder)
    text = label.read_text().splitlines()
    label.write_text("\n".join(line for line in text if line.split("=")[0].strip() != keyword) + "\n")
    return label


def _label_edited(folder: Path, old: str, new: str) -> Path:
    label = _label_variant(folder)
    text = label.read_text()
    assert old in text, old
    label.write_text(text.replace(old, new))
    return label


GRID = np.arange(64, dtype=np.float32).reshape(8, 8)

BAD_INPUTS: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    # kind: (make the file in a folder, a fragment the one-line error must contain)
    "missing file": (lambda d, lola: d / "nothing_here.tif", "does not exist"),
    "empty file": (lambda d, lola: _written(d / "empty.tif", b""), "is empty"),
    "empty label": (lambda d, lola: _written(d / "empty.LBL", b""), "is empty"),
    "folder": (lambda d, lola: d, "is a folder"),
    "truncated image": (lambda d, lola: _ldem_4_with_image_bytes(d, lola, LDEM_4_BYTES - 2880),
                        "truncated download or wrong label"),
    "truncated image by its IMG": (
        lambda d, lola: _ldem_4_with_image_bytes(d, lola, 1000).with_suffix(".IMG"), "holds 1000 bytes"),
    "image larger than its label": (lambda d, lola: _ldem_4_with_image_bytes(d, lola, LDEM_4_BYTES + 2880),
                                    "the label does not belong to this image"),
    "garbage named .tif": (lambda d, lola: _written(d / "garbage.tif", np.random.default_rng(7).bytes(4096)),
                           "is not a readable raster"),
    "GeoTIFF without CRS": (lambda d, lola: _geotiff(d / "nocrs.tif", GRID, None),
                            "has no coordinate reference system"),
    "GeoTIFF in EPSG:4326": (lambda d, lola: _geotiff(d / "wgs84.tif", GRID, "EPSG:4326",
                                                      Affine(0.01, 0, 10, 0, -0.01, 50)), "is not in a lunar CRS"),
    "GeoTIFF in EPSG:32633": (lambda d, lola: _geotiff(d / "utm.tif", GRID, "EPSG:32633"), "radius of 6378137 m"),
    "unsupported projection": (lambda d, lola: _label_variant(d, projection="TRANSVERSE MERCATOR"),
                               "map projection 'TRANSVERSE MERCATOR' is not supported"),
    "label missing LINES": (lambda d, lola: _label_without(d, "LINES"), "lacks the keyword LINES"),
    # issue 21: a label keyword that is not a usable number, once a traceback from the parser or PROJ
    "label with LINES not a number": (lambda d, lola: _label_edited(d, "LINES = 3", "LINES = abc"),
                                      "LINES = 'abc'"),
    "label with a zero radius": (lambda d, lola: _label_edited(d, "_AXIS_RADIUS = 1737.4 <km>", "_AXIS_RADIUS = 0"),
                                 "A_AXIS_RADIUS = 0"),
    "label with a zero map scale": (lambda d, lola: _label_edited(d, "MAP_SCALE = 20 <m/pix>", "MAP_SCALE = 0"),
                                    "MAP_SCALE"),
    "label with an infinite offset": (lambda d, lola: _label_edited(d, "OFFSET = 1737400.", "OFFSET = inf"),
                                      "OFFSET"),
}

READ_DEM_ONLY: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "all nodata (NaN)": (lambda d, lola: _geotiff(d / "nan.tif", np.full((8, 8), np.nan, np.float32),
                                                  polar_crs().to_wkt(), nodata=np.nan), "holds no valid height"),
    "all nodata (-9999)": (lambda d, lola: _geotiff(d / "nodata.tif", np.full((8, 8), -9999, np.float32),
                                                    polar_crs().to_wkt(), nodata=-9999), "holds no valid height"),
    "non-square pixels": (lambda d, lola: _geotiff(d / "rect.tif", GRID, polar_crs().to_wkt(),
                                                   Affine(5.0, 0, 1000.0, 0, -10.0, 2000.0)), "pixels are not square"),
}


def make_bad_input(kind: str, folder: Path, lola_dir: Path | None) -> tuple[Path, str]:
    """Build the bad input ``kind`` in ``folder``; returns its path and the error fragment."""
    maker, fragment = {**BAD_INPUTS, **READ_DEM_ONLY}[kind]
    return maker(folder, lola_dir), fragment


def needs_lola(kind: str) -> bool:
    """Whether the bad input ``kind`` is built from the real LDEM_4 label."""
    return "image" in kind


@pytest.fixture
def maybe_lola(request) -> Path | None:
    """The real LOLA folder when the test's bad input needs it (skips when absent), else None."""
    return request.getfixturevalue("lola_dir") if needs_lola(request.node.callspec.params["kind"]) else None


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_input_is_refused_by_open_and_read(tmp_path, maybe_lola, kind):
    path, fragment = make_bad_input(kind, tmp_path, maybe_lola)
    with pytest.raises(LupexError) as first:
        open_dem(path)
    assert fragment in str(first.value)
    assert "\n" not in str(first.value)
    with pytest.raises(LupexError) as second:
        read_dem(path)
    assert fragment in str(second.value)


@pytest.mark.parametrize("kind", sorted(READ_DEM_ONLY))
def test_unusable_grid_is_refused_by_read_dem(tmp_path, maybe_lola, kind):
    path, fragment = make_bad_input(kind, tmp_path, maybe_lola)
    open_dem(path).read()  # the file itself is readable
    with pytest.raises(LupexError) as error:
        read_dem(path)
    assert fragment in str(error.value)


def test_label_and_image_of_matching_size_is_accepted(tmp_path, lola_dir):
    """The size checks are exact: the label's 2,073,600 bytes open; one record more or less does not."""
    label = _ldem_4_with_image_bytes(tmp_path, lola_dir, LDEM_4_BYTES)
    assert not open_dem(label).read((slice(0, 2), slice(0, 2))).values.any()
    assert os.path.getsize(label.with_suffix(".IMG")) == LDEM_4_BYTES


def test_window_outside_the_grid_is_a_programming_error(shoemaker_tif):
    with pytest.raises(ValueError, match="outside"):
        open_dem(shoemaker_tif).read((slice(250, 260), slice(0, 10)))
