"""The ``lupex route`` contract and its bad-input behaviour."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from affine import Affine

from lupex.constants import MOON_RADIUS_M
from lupex.planning.grid_search import least_cost_path
from lupex.raster import grid_array, polar_crs, write_geotiff
from tests.conftest import assert_one_line_error

LEFT, TOP, PIXEL = -12_000.0, -30_000.0, 10.0
"""Upper-left corner [m] and pixel size [m] of the test costmap (40 rows x 50 columns)."""

GROUND_PIXEL = PIXEL / (1.0 + ((LEFT + 250.0) ** 2 + (TOP - 200.0) ** 2) / (4.0 * MOON_RADIUS_M**2))
"""Pixel size on the ground [m]: the map pixel over the polar stereographic scale factor
``1 + rho^2 / (4 R^2)`` at the costmap's centre (Snyder 1987, eq. 21-4)."""


def centre(row: int, col: int) -> tuple[float, float]:
    """Map coordinates of a cell centre of the test costmap [m]."""
    return LEFT + (col + 0.5) * PIXEL, TOP - (row + 0.5) * PIXEL


def point(row: int, col: int, dx: float = 0.0, dy: float = 0.0) -> str:
    x, y = centre(row, col)
    return f"{x + dx:g},{y + dy:g}"


@pytest.fixture
def costs() -> np.ndarray:
    """Random costs per metre with a wall of inf across column 25 (a gap at rows 30-33) and
    a nodata patch."""
    rng = np.random.default_rng(11)
    values = rng.uniform(1.0, 4.0, (40, 50)).astype(np.float32)
    values[:30, 25] = np.inf
    values[34:, 25] = np.inf
    values[5:8, 5:8] = np.nan
    return values


@pytest.fixture
def costmap(tmp_path, costs) -> Path:
    path = tmp_path / "cost.tif"
    transform = Affine(PIXEL, 0.0, LEFT, 0.0, -PIXEL, TOP)
    write_geotiff(grid_array(costs, transform, polar_crs(), "cost", "1"), path)
    return path


def test_json_contract(cli, costmap, costs):
    result = cli("route", costmap, "--start", point(2, 3, 4.0, -3.0), "--goal", point(20, 45), "--json")
    assert result.code == 0, result.err
    payload = json.loads(result.out)
    assert list(payload) == ["cost", "length_m", "path"]
    expected = least_cost_path(costs, GROUND_PIXEL, (2, 3), (20, 45))
    assert payload["cost"] == pytest.approx(expected.cost, rel=1e-12)
    assert payload["length_m"] == pytest.approx(expected.length_m, rel=1e-12)
    assert payload["path"] == [list(centre(r, c)) for r, c in expected.cells]
    assert payload["path"][0] == list(centre(2, 3)) and payload["path"][-1] == list(centre(20, 45))
    # Through the gap in the wall at column 25.
    assert any(x == centre(0, 25)[0] and centre(34, 0)[1] < y < centre(29, 0)[1] for x, y in payload["path"])


def test_human_summary_is_one_line(cli, costmap):
    result = cli("route", costmap, "--start", point(2, 3), "--goal", point(20, 45))
    assert result.code == 0, result.err
    lines = result.out.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("route of ") and "cost" in lines[0]
    assert point(2, 3) in lines[0] and point(20, 45) in lines[0]


def test_points_may_start_with_a_minus_sign(cli, costmap, costs):
    start = point(39, 0)
    assert start.startswith("-")
    result = cli("route", costmap, "--start", start, "--goal", point(39, 2), "--json")
    assert result.code == 0, result.err
    expected = least_cost_path(costs, GROUND_PIXEL, (39, 0), (39, 2)).cost
    assert json.loads(result.out)["cost"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("start", "goal", "fragments"), [
    ("-12000", point(1, 1), ("--start", "not a point 'X,Y'")),
    (point(1, 1), "1,2,3", ("--goal", "not a point 'X,Y'")),
    (point(1, 1), "nan,3", ("--goal", "finite")),
    ("0,0", point(1, 1), ("the start at x = 0 m, y = 0 m lies outside the grid", "x -12000 to -11500 m")),
    (point(1, 1), point(40, 1), ("the goal", "lies outside the grid")),
    (point(6, 6), point(1, 1), ("the start", "is on a forbidden cell")),
    (point(1, 1), point(10, 25), ("the goal", "is on a forbidden cell")),
])
def test_bad_points(cli, costmap, start, goal, fragments):
    assert_one_line_error(cli("route", costmap, "--start", start, "--goal", goal), *fragments)


def test_unreachable_goal(cli, tmp_path, costs):
    costs[:, 25] = np.inf
    path = tmp_path / "walled.tif"
    write_geotiff(grid_array(costs, Affine(PIXEL, 0.0, LEFT, 0.0, -PIXEL, TOP), polar_crs(), "cost", "1"), path)
    result = cli("route", path, "--start", point(2, 3), "--goal", point(20, 45))
    assert_one_line_error(result, "no route", "the goal is cut off by forbidden cells")


def test_unreadable_and_missing_files(cli, tmp_path):
    garbage = tmp_path / "garbage.tif"
    garbage.write_bytes(b"not a tiff at all" * 10)
    assert_one_line_error(cli("route", garbage, "--start", "1,1", "--goal", "2,2"), "garbage.tif")
    assert_one_line_error(cli("route", tmp_path / "none.tif", "--start", "1,1", "--goal", "2,2"), "does not exist")


def test_a_latitude_longitude_costmap_is_refused(cli, tmp_path, costs):
    path = tmp_path / "lonlat.tif"
    write_geotiff(grid_array(costs, Affine(0.01, 0.0, 10.0, 0.0, -0.01, -85.0), "IAU_2015:30100", "cost", "1"), path)
    assert_one_line_error(cli("route", path, "--start", "10.05,-85.05", "--goal", "10.3,-85.2"),
                          "latitude/longitude grid", "lupex terrain crop")
