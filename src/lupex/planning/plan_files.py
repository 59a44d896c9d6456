"""The files of ``lupex plan``: the route as GeoJSON, the timeline as CSV, a picture, a summary.

They are written into a folder the caller makes atomic (:func:`lupex.files.atomic_folder`), so
a run that fails leaves none of them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from lupex.geo import xy_to_latlon
from lupex.planning.traverse import Traverse
from lupex.report.quicklook import extent_km, hillshade
from lupex.rover.model import RoverConfig

__all__ = ["PLAN_FILES", "route_geojson", "write_plan"]

PLAN_FILES = ("plan.geojson", "timeline.csv", "plan.png", "summary.json")
"""What ``lupex plan`` writes into its output folder."""


def _vertex_rows(traverse: Traverse) -> np.ndarray:
    """Timeline rows where the rover stands on a node: the start and each drive's end."""
    ends = [s.end_tick for s in traverse.plan.steps if s.action == "drive"]
    return np.array([0, *ends])


def route_geojson(traverse: Traverse, waypoints_xy: list[tuple[float, float]]) -> dict[str, Any]:
    """The route as a GeoJSON FeatureCollection in lon/lat [deg].

    The first feature is a LineString through the start and the end of every drive, whose
    properties hold one value per vertex: ``times`` (ISO 8601 UTC), ``soc`` [-],
    ``sun_fraction`` [-] and ``earth_visible``. Point features follow for the waypoints
    (``role``, ``arrival``) and the safe havens, the places the plan waits at for an hour or
    more (``role: "haven"``, ``from``, ``until``).
    """
    table = traverse.timeline
    rows = _vertex_rows(traverse)
    lat, lon = xy_to_latlon(table["x"].values[rows], table["y"].values[rows])
    times = [np.datetime_as_string(t, unit="s") + "Z" for t in table["time"].values[rows]]
    features = [{
        "type": "Feature",
        "geometry": {"type": "LineString",
                     "coordinates": [[float(a), float(b)] for a, b in zip(lon, lat, strict=True)]},
        "properties": {
            "name": "route",
            "times": times,
            "soc": [round(float(v), 4) for v in table["soc"].values[rows]],
            "sun_fraction": [round(float(v), 4) for v in table["sun_fraction"].values[rows]],
            "earth_visible": [bool(v) for v in table["earth_visible"].values[rows]],
        },
    }]
    tick_h = traverse.config.tick_min / 60.0
    for i, (x, y) in enumerate(waypoints_xy):
        wlat, wlon = xy_to_latlon(x, y)
        t = traverse.plan.waypoint_ticks[i]
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(wlon), float(wlat)]},
                         "properties": {"role": "waypoint", "index": i + 1,
                                        "arrival": np.datetime_as_string(table["time"].values[t], unit="s") + "Z"}})
    for node, first, last in _merged_waits(traverse):
        if (last - first) * tick_h < 1.0:
            continue
        hlat, hlon = xy_to_latlon(float(table["x"].values[first]), float(table["y"].values[first]))
        r, c = traverse.lattice.pixel[node]
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(hlon), float(hlat)]},
                         "properties": {"role": "haven", "pixel": [int(r), int(c)],
                                        "from": np.datetime_as_string(table["time"].values[first], unit="s") + "Z",
                                        "until": np.datetime_as_string(table["time"].values[last], unit="s") + "Z"}})
    return {"type": "FeatureCollection", "features": features}


def _merged_waits(traverse: Traverse):
    """Consecutive one-tick waits at one node merged: [(node, first tick, last tick)]."""
    spans: list[list[int]] = []
    for s in traverse.plan.steps:
        if s.action != "wait":
            continue
        if spans and spans[-1][0] == s.node_from and spans[-1][2] == s.start_tick:
            spans[-1][2] = s.end_tick
        else:
            spans.append([s.node_from, s.start_tick, s.end_tick])
    return spans


def _figure(traverse: Traverse, dem: xr.DataArray, sun_mean: xr.DataArray | None, waypoints_xy, path: Path) -> None:
    table = traverse.timeline
    fig = Figure(figsize=(13.0, 5.6), dpi=110, layout="constrained")
    ax_map, ax_time = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.0, 1.3]})
    extent = extent_km(dem)
    x_km, y_km = dem["x"].values / 1000.0, dem["y"].values / 1000.0
    ax_map.imshow(hillshade(dem), cmap="gray", extent=extent, vmin=0, vmax=1, interpolation="nearest")
    if sun_mean is not None:
        shown = ax_map.imshow(np.asarray(sun_mean.values, dtype=float), cmap="inferno", alpha=0.45, extent=extent,
                              vmin=0, vmax=1, interpolation="nearest")
        fig.colorbar(shown, ax=ax_map, shrink=0.8, label="mean visible fraction of the Sun")
    route = ax_map.scatter(table["x"] / 1000.0, table["y"] / 1000.0, c=table["soc"], cmap="RdYlGn", vmin=0, vmax=1,
                           s=4, zorder=3)
    fig.colorbar(route, ax=ax_map, shrink=0.8, label="state of charge")
    for node, first, last in _merged_waits(traverse):
        if last - first < 2:
            continue
        r, c = traverse.lattice.pixel[node]
        ax_map.plot(x_km[c], y_km[r], "s", mfc="none", mec="cyan", ms=7, zorder=4)
    ax_map.plot(table["x"].iloc[0] / 1000.0, table["y"].iloc[0] / 1000.0, "w^", ms=9, mec="k", zorder=5)
    for i, (x, y) in enumerate(waypoints_xy):
        ax_map.plot(x / 1000.0, y / 1000.0, "o", color="deepskyblue", ms=9, mec="k", zorder=5)
        ax_map.annotate(str(i + 1), (x / 1000.0, y / 1000.0), xytext=(5, 5), textcoords="offset points", color="w")
    ax_map.set_xlabel("x, polar stereographic [km]")
    ax_map.set_ylabel("y, polar stereographic [km]")
    ax_map.set_title("route (start ^, waypoints o, waits []), coloured by charge")
    hours = (table["time"] - table["time"].iloc[0]).dt.total_seconds() / 3600.0
    ax_time.plot(hours, table["soc"], color="tab:green", label="state of charge")
    ax_time.plot(hours, table["sun_fraction"], color="tab:orange", lw=0.8, label="Sun visible fraction")
    ax_time.fill_between(hours, 0, 0.08 * table["earth_visible"], step="post", color="tab:blue", alpha=0.5,
                         label="Earth in view")
    driving = (table["activity"] == "drive").to_numpy()
    ax_time.fill_between(hours, 0.1, 0.1 + 0.08 * driving, step="post", color="k", alpha=0.6, label="driving")
    ax_time.axhline(traverse.model.reserve_q / traverse.model.capacity_q, color="tab:red", ls="--", lw=0.8,
                    label="reserve")
    ax_time.set_ylim(0, 1.05)
    ax_time.set_xlabel(f"hours after {np.datetime_as_string(traverse.start_utc, unit='m')} UTC")
    ax_time.set_title("charge, Sun, Earth and driving over the plan")
    ax_time.legend(loc="center left", fontsize=8)
    fig.savefig(path, format="png")


def write_plan(traverse: Traverse, rover: RoverConfig, dem: xr.DataArray, waypoints_xy: list[tuple[float, float]],
               folder: Path, sun_mean: xr.DataArray | None = None) -> dict[str, Any]:
    """Write :data:`PLAN_FILES` into ``folder`` and return the summary."""
    summary = traverse.summary(rover)
    (folder / "plan.geojson").write_text(json.dumps(route_geojson(traverse, waypoints_xy), indent=1) + "\n")
    table = traverse.timeline.copy()
    table["time"] = [np.datetime_as_string(t, unit="s") + "Z" for t in table["time"].values]
    table.to_csv(folder / "timeline.csv", index=False, float_format="%.6g")
    _figure(traverse, dem, sun_mean, waypoints_xy, folder / "plan.png")
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
