"""``lupex route``: the cheapest route between two points over a costmap."""

from __future__ import annotations

import click
import numpy as np
import xarray as xr
from pyproj import CRS

from lupex.cli.options import echo_json, json_option
from lupex.errors import LupexError
from lupex.planning.grid_search import least_cost_path
from lupex.raster import ground_pixel_m, is_south_polar, pixel_of, pixel_size
from lupex.terrain.readers import open_dem


class MapPoint(click.ParamType):
    """A point ``X,Y`` in map coordinates [m]."""

    name = "X,Y"

    def convert(self, value, param, ctx) -> tuple[float, float]:
        if isinstance(value, tuple):
            return value
        parts = str(value).split(",")
        try:
            x, y = (float(p) for p in parts)
        except ValueError:
            self.fail(f"{value!r} is not a point 'X,Y' in metres of the costmap's CRS (e.g. '1200,-350')", param, ctx)
        if not (np.isfinite(x) and np.isfinite(y)):
            self.fail(f"{value!r} is not a point with finite coordinates", param, ctx)
        return x, y


def _cell(costmap: xr.DataArray, point: tuple[float, float], what: str) -> tuple[int, int]:
    """Row and column of the cell holding ``point`` [m], checked to be inside and allowed."""
    x, y = point
    row, col = pixel_of(costmap, x, y, what)
    if not np.isfinite(costmap.values[row, col]):
        raise LupexError(f"the {what} {x:g},{y:g} is on a forbidden cell (cost inf or nodata); "
                         "choose a point the rover may drive on")
    return row, col


@click.command()
@click.argument("costmap_path", metavar="COSTMAP", type=click.Path())
@click.option("--start", type=MapPoint(), required=True, help="Start point X,Y in the costmap's CRS [m].")
@click.option("--goal", type=MapPoint(), required=True, help="Goal point X,Y in the costmap's CRS [m].")
@json_option
def route(costmap_path, start, goal, as_json) -> None:
    """Cheapest route from START to GOAL over COSTMAP, a GeoTIFF of cost per metre.

    Cells with inf or nodata are forbidden. The route joins cell centres by moves to the 8
    neighbours and the 8 knight moves; a move costs its length times the mean of the costs of
    its two end cells, and may not touch a forbidden cell, not even at a corner. The path is
    printed as the map coordinates of the cell centres, start to goal. On the south polar
    stereographic map, lengths are on the ground: the map pixel divided by the map's scale
    factor at the costmap's centre.
    """
    costmap = open_dem(costmap_path).read()
    if costmap.rio.crs.is_geographic:
        raise LupexError(f"{costmap_path} is on a latitude/longitude grid; a costmap needs a projected grid in "
                         "metres (reproject it with 'lupex terrain crop')")
    polar = is_south_polar(CRS.from_user_input(costmap.rio.crs))
    pixel_m = ground_pixel_m(costmap) if polar else pixel_size(costmap)
    found = least_cost_path(costmap.values, pixel_m, _cell(costmap, start, "start"), _cell(costmap, goal, "goal"))
    xs = costmap.x.values[found.cells[:, 1]]
    ys = costmap.y.values[found.cells[:, 0]]
    if as_json:
        echo_json({
            "cost": found.cost,
            "length_m": found.length_m,
            "path": [[float(x), float(y)] for x, y in zip(xs, ys, strict=True)],
        })
        return
    click.echo(f"route of {found.length_m:.1f} m through {len(found.cells)} cells, cost {found.cost:.6g}, "
               f"from {xs[0]:g},{ys[0]:g} to {xs[-1]:g},{ys[-1]:g}")
