"""Grids stored in any order read north-up: flipped and quarter-turned copies of a real LOLA tile.

Every copy holds the same georeferenced pixels as the original (each value stays at its place on
the map); only the storage order and the affine transform differ. Whatever lupex reads from a
copy (heights, windows, ``terrain info``, horizons) must equal what it reads from the original.
A copy on a rotated grid would need resampling, and is refused.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr
from affine import Affine

from lupex.errors import LupexError
from lupex.geo import xy_to_latlon
from lupex.raster import north_up, pixel_size, read_grid
from lupex.sky.horizon_map import compute_horizon_file
from lupex.terrain.readers import open_dem, read_dem
from tests.conftest import assert_one_line_error

CROP = (slice(100, 164), slice(90, 154))
"""A 64 x 64 pixel crop of the Shoemaker tile (rows, columns) for the horizon check."""


def _stored(values: np.ndarray, transform: Affine, order: str) -> tuple[np.ndarray, Affine]:
    """The same map pixels as the north-up ``values``, stored in another ``order``.

    ``P`` maps a stored pixel (column, row) to the north-up one; the stored transform is the
    north-up transform after ``P``, so every stored pixel keeps its map position.
    """
    ny, nx = values.shape
    if order == "south-up":
        stored, p = values[::-1, :], Affine(1, 0, 0, 0, -1, ny)
    elif order == "east-to-west":
        stored, p = values[:, ::-1], Affine(-1, 0, nx, 0, 1, 0)
    elif order == "south-up, east-to-west":
        stored, p = values[::-1, ::-1], Affine(-1, 0, nx, 0, -1, ny)
    elif order == "turned 90 deg":  # the picture turned clockwise: a stored row runs south (-y)
        stored, p = np.rot90(values, -1), Affine(0, 1, 0, -1, 0, ny)
    elif order == "turned 270 deg":
        stored, p = np.rot90(values, 1), Affine(0, -1, nx, 1, 0, 0)
    elif order == "transposed":
        stored, p = values.T, Affine(0, 1, 0, 1, 0, 0)
    else:
        raise ValueError(order)
    return np.ascontiguousarray(stored), transform @ p


ORDERS = ["south-up", "east-to-west", "south-up, east-to-west", "turned 90 deg", "turned 270 deg", "transposed"]


def _write(path: Path, values: np.ndarray, transform: Affine, profile: dict) -> Path:
    ny, nx = values.shape
    options = {k: v for k, v in profile.items() if k not in ("blockxsize", "blockysize", "tiled")}
    with rasterio.open(path, "w", **{**options, "width": nx, "height": ny, "transform": transform}) as ds:
        ds.write(values, 1)
    return path


def _copy(source: Path, dest: Path, order: str, window: tuple[slice, slice] | None = None) -> Path:
    """``source`` (optionally cropped to ``window``) stored in ``order`` as a GeoTIFF."""
    with rasterio.open(source) as ds:
        profile, values, transform = ds.profile, ds.read(1), ds.transform
    if window is not None:
        rows, cols = window
        values, transform = values[rows, cols], transform @ Affine.translation(cols.start, rows.start)
    if order != "north-up":
        values, transform = _stored(values, transform, order)
    return _write(dest, values, transform, profile)


@pytest.fixture(scope="module")
def copies(shoemaker_tif, tmp_path_factory) -> dict[str, Path]:
    """The Shoemaker tile as stored (north-up) and in every other order."""
    folder = tmp_path_factory.mktemp("orientation")
    return {"north-up": shoemaker_tif} | {order: _copy(shoemaker_tif, folder / f"{i}.tif", order)
                                          for i, order in enumerate(ORDERS)}


def test_copies_store_other_orders(copies):
    """The copies really are stored differently (else the tests below would prove nothing)."""
    with rasterio.open(copies["north-up"]) as ds:
        original = ds.read(1)
    for order in ORDERS:
        with rasterio.open(copies[order]) as ds:
            t = ds.transform
            assert (t.a < 0 or t.e > 0) if order in ORDERS[:3] else (t.a == 0 and t.e == 0), order
            assert not np.array_equal(ds.read(1), original, equal_nan=True), order


@pytest.mark.parametrize("order", ORDERS)
def test_read_dem_of_a_reordered_copy_equals_the_original(copies, order):
    original, copy = read_dem(copies["north-up"]), read_dem(copies[order])
    assert copy.rio.transform() == original.rio.transform()
    np.testing.assert_array_equal(copy.values, original.values)
    np.testing.assert_array_equal(copy["x"].values, original["x"].values)
    np.testing.assert_array_equal(copy["y"].values, original["y"].values)
    assert copy.values.flags.c_contiguous
    assert pixel_size(copy) == 5.0


@pytest.mark.parametrize("order", ORDERS)
def test_windowed_read_of_a_reordered_copy_equals_the_original_window(copies, order):
    """A window is in the north-up grid's pixels, whatever order the file stores them in."""
    original, copy = open_dem(copies["north-up"]), open_dem(copies[order])
    assert (copy.width, copy.height, copy.transform) == (original.width, original.height, original.transform)
    for window in [(slice(10, 50), slice(200, 256)), (slice(0, 1), slice(0, 256)), (slice(255, 256), slice(3, 4))]:
        expected, got = original.read(window), copy.read(window)
        assert got.rio.transform() == expected.rio.transform(), window
        np.testing.assert_array_equal(got.values, expected.values)


@pytest.mark.parametrize("order", ORDERS)
def test_terrain_info_of_a_reordered_copy_equals_the_original(cli, copies, order):
    def info(path: Path) -> dict:
        result = cli("terrain", "info", path, "--json")
        assert result.code == 0, result.err
        return {k: v for k, v in json.loads(result.out).items() if k != "path"}

    assert info(copies[order]) == info(copies["north-up"])


@pytest.mark.parametrize("order", ["south-up", "south-up, east-to-west", "turned 90 deg", "turned 270 deg"])
def test_horizons_of_a_reordered_copy_equal_the_original(shoemaker_tif, tmp_path, order):
    """The horizons of a 64 x 64 crop, through the function ``lupex horizon`` runs."""
    cubes = {}
    for name in ("north-up", order):
        dem = read_dem(_copy(shoemaker_tif, tmp_path / f"{name}.tif", name, CROP))
        path = compute_horizon_file(dem, tmp_path / f"{name}.nc", n_azimuths=8)
        with xr.open_dataset(path, engine="netcdf4") as ds:
            cubes[name] = ds.load()
    original, copy = cubes["north-up"], cubes[order]
    assert list(original.data_vars) == list(copy.data_vars)
    for name in original.data_vars:
        np.testing.assert_array_equal(copy[name].values, original[name].values)
    for name in ("x", "y", "azimuth"):
        np.testing.assert_array_equal(copy[name].values, original[name].values)
    # north-south asymmetry makes a mirrored grid visible: the cube is not symmetric under a flip
    horizon = original["horizon_deg"].values
    assert not np.array_equal(horizon, horizon[:, ::-1, :])


@pytest.mark.parametrize("order", ["south-up", "turned 270 deg"])
def test_read_grid_of_a_reordered_layer_equals_the_original(copies, order):
    """Layer GeoTIFFs of sky and thermal folders are read north-up too."""
    original, copy = read_grid(copies["north-up"], "layer"), read_grid(copies[order], "layer")
    assert copy.rio.transform() == original.rio.transform() and copy.dtype == original.dtype
    np.testing.assert_array_equal(copy.values, original.values)


def test_crop_of_a_south_up_copy_equals_the_crop_of_the_original(cli, copies, tmp_path):
    """``lupex terrain crop`` reads the file north-up too, so a crop is the same tile."""
    tiles = {}
    for name in ("north-up", "south-up", "turned 90 deg"):
        out = tmp_path / f"{name.replace(' ', '_')}.tif"
        result = cli("-q", "terrain", "crop", copies[name], "--center-lat", "-87.18", "--center-lon", "62.84",
                     "--size-km", "0.6", "--resolution", "10", "--out", out)
        assert result.code == 0, result.err
        with rasterio.open(out) as ds:
            tiles[name] = (ds.transform, ds.read(1))
    for name in ("south-up", "turned 90 deg"):
        assert tiles[name][0] == tiles["north-up"][0]
        np.testing.assert_array_equal(tiles[name][1], tiles["north-up"][1])


# --- rotated grids ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rotated(shoemaker_tif, tmp_path_factory) -> Path:
    """The tile's pixels on a grid turned 30 deg about its top-left corner (a true rotation)."""
    with rasterio.open(shoemaker_tif) as ds:
        profile, values, transform = ds.profile, ds.read(1), ds.transform
    return _write(tmp_path_factory.mktemp("rotated") / "rotated_30.tif", values,
                  transform @ Affine.rotation(30.0), profile)


@pytest.mark.parametrize("command", [["terrain", "info", "DEM", "--json"], ["horizon", "DEM", "--out", "OUT/h.nc"],
                                     ["terrain", "derive", "DEM", "--out", "OUT/layers"]])
def test_a_rotated_grid_is_refused_through_the_cli(cli, rotated, tmp_path, command):
    args = [str(rotated) if arg == "DEM" else arg.replace("OUT", str(tmp_path)) for arg in command]
    result = cli(*args)
    assert_one_line_error(result, "rotated_30.tif", "rotated", "lupex terrain crop")
    assert result.out == ""
    assert list(tmp_path.iterdir()) == []


def test_a_rotated_grid_is_refused_by_read_dem_and_read_grid(rotated):
    with pytest.raises(LupexError, match=r"rotated or skewed.*'lupex terrain crop'"):
        read_dem(rotated)
    with pytest.raises(LupexError, match="rotated or skewed"):
        open_dem(rotated).read((slice(0, 2), slice(0, 2)))
    with pytest.raises(LupexError, match="rotated or skewed"):
        read_grid(rotated, "height")


def test_crop_warps_a_rotated_grid_onto_the_polar_map(cli, rotated, tmp_path):
    """The fix the refusal names works: every tile pixel's centre maps back to the rotated file's
    pixel it falls in, and with nearest-neighbour sampling takes that pixel's height."""
    with rasterio.open(rotated) as ds:
        stored, inverse = ds.read(1), ~ds.transform
        lat, lon = xy_to_latlon(*(ds.transform @ (ds.width / 2, ds.height / 2)))
    out = tmp_path / "tile.tif"
    result = cli("-q", "terrain", "crop", rotated, "--center-lat", repr(float(lat)), "--center-lon",
                 repr(float(lon)), "--size-km", "0.8", "--resolution", "5", "--resampling", "nearest", "--out", out)
    assert result.code == 0, result.err
    tile = read_dem(out)
    xs, ys = np.meshgrid(tile["x"].values, tile["y"].values)
    exact_cols, exact_rows = inverse @ (xs, ys)
    cols, rows = np.floor(exact_cols).astype(int), np.floor(exact_rows).astype(int)
    inside = (rows >= 1) & (rows < stored.shape[0] - 1) & (cols >= 1) & (cols < stored.shape[1] - 1)
    assert inside.mean() > 0.9
    # a tile pixel centre on a source pixel's edge may go either way: compare away from edges
    clear = inside & (np.abs(exact_cols % 1 - 0.5) < 0.45) & (np.abs(exact_rows % 1 - 0.5) < 0.45)
    assert clear.sum() > 1000
    np.testing.assert_array_equal(tile.values[clear], stored[rows[clear], cols[clear]])


# --- the function itself --------------------------------------------------------------------------


@pytest.mark.parametrize("order", ORDERS)
def test_north_up_undoes_every_axis_aligned_order(order):
    values = np.arange(12.0).reshape(3, 4)
    transform = Affine(2.0, 0.0, 100.0, 0.0, -2.0, 50.0)
    stored, stored_transform = _stored(values, transform, order)
    got, got_transform = north_up(stored, stored_transform, "grid.tif")
    assert got_transform == transform
    np.testing.assert_array_equal(got, values)


def test_north_up_keeps_a_north_up_grid_as_it_is():
    values, transform = np.zeros((2, 3)), Affine(1.0, 0.0, 0.0, 0.0, -1.0, 2.0)
    got, got_transform = north_up(values, transform)
    assert got is values and got_transform == transform


def test_north_up_ignores_rounding_noise_but_refuses_a_rotation():
    values = np.arange(6.0).reshape(2, 3)
    noisy = Affine(5.0, 1e-13, 0.0, -1e-13, 5.0, 0.0)  # south-up, with noise from a reprojection
    got, transform = north_up(values, noisy)
    assert transform == Affine(5.0, 0.0, 0.0, 0.0, -5.0, 10.0)
    np.testing.assert_array_equal(got, values[::-1])
    for angle in (0.001, 30.0, 89.999):
        with pytest.raises(LupexError, match=r"grid.tif lies on a rotated or skewed pixel grid"):
            north_up(values, Affine(5.0, 0, 0, 0, -5.0, 0) @ Affine.rotation(angle), "grid.tif")
    with pytest.raises(LupexError, match="rotated or skewed"):
        north_up(values, Affine(5.0, 0.0, 0.0, 0.0, 0.0, 0.0), "grid.tif")  # degenerate


def test_pixel_size_refuses_a_grid_that_is_not_north_up():
    """Internal grids are north-up; one that is not was built wrong and is not guessed at."""
    from lupex.raster import grid_array, polar_crs

    values = np.zeros((4, 4), dtype=np.float32)
    assert pixel_size(grid_array(values, Affine(5.0, 0, 0, 0, -5.0, 20.0), polar_crs(), "h", "m")) == 5.0
    for transform in (Affine(5.0, 0, 0, 0, 5.0, 0.0), Affine(-5.0, 0, 20.0, 0, -5.0, 20.0)):
        with pytest.raises(LupexError, match="not north-up"):
            pixel_size(grid_array(values, transform, polar_crs(), "h", "m"))
    assert math.isclose(pixel_size(grid_array(values, Affine(0.5, 0, 0, 0, -0.5, 2.0), polar_crs(), "h", "m")),
                        0.5)
