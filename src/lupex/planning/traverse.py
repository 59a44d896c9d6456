"""A traverse plan from a DEM and its horizons: costmap, lattice, sky, search, timeline.

The orchestrator of :mod:`lupex.planning` for ``lupex plan``: it checks the places, builds the
costmap (:mod:`lupex.planning.costmap`), the lattice (:mod:`lupex.planning.lattice`) and the
Sun and Earth at its nodes (:mod:`lupex.planning.node_sky`), runs the time-dependent search
(:mod:`lupex.planning.timed`) and turns the result into a timeline, one row per tick.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from lupex.errors import LupexError
from lupex.planning.costmap import costmap, forbidden_reason
from lupex.planning.lattice import Lattice, build_lattice
from lupex.planning.node_sky import NodeSky, node_sky
from lupex.planning.timed import Model, PlanConfig, TimedPlan, model_for, plan_route
from lupex.raster import ground_pixel_m, pixel_of
from lupex.rover.model import RoverConfig
from lupex.sky.ephemeris import parse_utc
from lupex.sky.tracks import epochs
from lupex.terrain.derive import HazardConfig, derive_layers

__all__ = ["Search", "Traverse", "plan_traverse", "prepare_search"]

_BLOCKING_HINTS = {
    "slope": "no chain of lattice edges over allowed ground joins the places (slopes above the rover's "
             "planning limit, rocks or deep permanent shadow); move the waypoints or plan with a finer "
             "--spacing",
    "battery": "every way there drains the battery below its reserve; start later, pick sunnier waypoints "
               "or give the rover more battery",
    "shadow": "every way there keeps the rover in darkness longer than thermal.max_shadow_h; pick sunnier "
              "waypoints or plan another period",
    "battery and shadow": "every way there breaks both the battery reserve and the darkness limit; pick "
                          "sunnier waypoints or plan another period",
    "time": "no way there fits in the period, even with an endless battery and no darkness limit (the rover "
            "drives only with the Earth in view); plan more --days",
}


@dataclass(frozen=True)
class Traverse:
    """A traverse plan and what it was made from.

    Attributes
    ----------
    plan : TimedPlan
        The search result (always reached: an unreachable goal raises).
    lattice : Lattice
        The planning lattice.
    sky : NodeSky
        Sun and Earth at the nodes.
    model : Model
        The search model.
    config : PlanConfig
        The discretisation.
    start_utc : numpy.datetime64
        Time of tick 0.
    timeline : pandas.DataFrame
        One row per tick from the start to the arrival: ``time``, ``x``, ``y`` [m],
        ``activity`` (drive, wait, hibernate: waiting in darkness), ``soc`` [-],
        ``sun_fraction`` [-], ``earth_visible`` (bool), ``waypoint`` (waypoints passed).
    """

    plan: TimedPlan
    lattice: Lattice
    sky: NodeSky
    model: Model
    config: PlanConfig
    start_utc: np.datetime64
    timeline: pd.DataFrame

    def summary(self, rover: RoverConfig) -> dict[str, Any]:
        """The figures of ``summary.json``: ``reached``, ``distance_m``, ``duration_h``,
        ``min_soc``, ``shadow_max_h`` and more."""
        tick_h = self.config.tick_min / 60.0
        drives = [s for s in self.plan.steps if s.action == "drive"]
        capacity_q = self.model.capacity_q
        socs = [self.timeline["soc"].iloc[0]] + [s.soc_q / capacity_q for s in self.plan.steps]
        return {
            "reached": self.plan.reached,
            "distance_m": float(sum(self.lattice.length_m[s.node_from, s.move] for s in drives)),
            "duration_h": self.plan.arrival_tick * tick_h,
            "min_soc": float(min(socs)),
            "shadow_max_h": float(max((s.dark_ticks for s in self.plan.steps), default=0) * tick_h),
            "drive_h": float(sum(s.end_tick - s.start_tick for s in drives) * tick_h),
            "wait_h": float(sum(s.end_tick - s.start_tick for s in self.plan.steps if s.action == "wait") * tick_h),
            "start_utc": _iso(self.start_utc),
            "arrival_utc": _iso(self.start_utc + _ticks(self.plan.arrival_tick, tick_h)),
            "waypoint_arrivals_utc": [_iso(self.start_utc + _ticks(t, tick_h)) for t in self.plan.waypoint_ticks],
            "final_soc": float(socs[-1]),
            "lattice_nodes": self.lattice.size,
            "node_spacing_m": self.lattice.spacing_px * self.lattice.pixel_m,
            "tick_min": self.config.tick_min,
            "dropped_labels": self.plan.dropped_labels,
            "rover": rover.name,
        }


def _ticks(count: int, tick_h: float) -> np.timedelta64:
    return np.timedelta64(int(round(count * tick_h * 3600.0)), "s")


def _iso(t: np.datetime64) -> str:
    return np.datetime_as_string(t, unit="s") + "Z"


@dataclass(frozen=True)
class Search:
    """What the time-dependent search runs on: the lattice over a costmap and the sky at its nodes.

    Attributes
    ----------
    lattice : Lattice
        The planning lattice; every place is a node.
    sky : NodeSky
        Sun and Earth at the nodes.
    model : Model
        The search model over the period.
    nodes : list of int
        The lattice node of each place, in the order given.
    start_utc : numpy.datetime64
        Time of tick 0.
    cost : ndarray
        The costmap the lattice was laid on [J/m], inf where forbidden.
    """

    lattice: Lattice
    sky: NodeSky
    model: Model
    nodes: list[int]
    start_utc: np.datetime64
    cost: NDArray


def prepare_search(dem: xr.DataArray, horizon, rover: RoverConfig, places_xy: list[tuple[float, float]],
                   names: list[str], start_utc: str, days: float, config: PlanConfig,
                   rocks: xr.DataArray | None = None, sun_mean: xr.DataArray | None = None,
                   psr: xr.DataArray | None = None, hazards: HazardConfig | None = None,
                   step: Callable[[str], Any] | None = None) -> Search:
    """Costmap, lattice with the places as nodes, and the Sun and Earth at the nodes over the period.

    Parameters
    ----------
    places_xy : list of tuple of float
        Places that must be lattice nodes [m] (start, waypoints or stops), at most one per block.
    names : list of str
        What each place is, for error messages ("start", "waypoint 1", ...).
    Other parameters as for :func:`plan_traverse`.

    Raises
    ------
    LupexError
        For places off the DEM or on forbidden ground (naming the rule), and a period outside the
        ephemeris.
    """
    hazards = hazards or HazardConfig()
    step = step or (lambda message: None)
    t0 = parse_utc(start_utc)
    end = t0 + np.timedelta64(int(round((days * 24.0 + config.sky_step_h) * 3600.0)), "s")
    times = epochs(t0, end, config.sky_step_h)
    places = [pixel_of(dem, *xy, name) for xy, name in zip(places_xy, names, strict=True)]
    step("costmap: slope, roughness, rocks")
    layers = derive_layers(dem, rocks, hazards)
    pixel_m = ground_pixel_m(dem)
    cost = costmap(layers, rover, hazards, psr, pixel_m=pixel_m).values
    for rc, name in zip(places, names, strict=True):
        if not np.isfinite(cost[rc]):
            reason = forbidden_reason(layers, rc, rover, hazards, psr, pixel_m=pixel_m)
            raise LupexError(f"the {name} is on a forbidden cell: {reason}")
    spacing_px = config.node_spacing_px(pixel_m)
    step(f"lattice: {spacing_px * pixel_m:.0f} m blocks")
    lattice = build_lattice(cost, dem.values, pixel_m, spacing_px, rover, places,
                            None if sun_mean is None else np.asarray(sun_mean.values, dtype=float))
    step(f"sky: Sun and Earth at {lattice.size} nodes, {times.size} steps")
    sky = node_sky(horizon, dem, lattice, times, config.sky_step_h, rover)
    model = model_for(lattice, sky, rover, config, days)
    return Search(lattice, sky, model, [lattice.node_of(rc) for rc in places], t0, cost)


def plan_traverse(dem: xr.DataArray, horizon, rover: RoverConfig, start_xy: tuple[float, float],
                  waypoints_xy: list[tuple[float, float]], start_utc: str, days: float,
                  config: PlanConfig | None = None, rocks: xr.DataArray | None = None,
                  sun_mean: xr.DataArray | None = None, psr: xr.DataArray | None = None,
                  hazards: HazardConfig | None = None, step: Callable[[str], Any] | None = None,
                  progress: Callable[[int, int], None] | None = None) -> Traverse:
    """Plan the earliest safe traverse from a start through waypoints.

    Parameters
    ----------
    dem : xarray.DataArray
        Heights [m] on the south polar stereographic map.
    horizon : array-like, shape (A, ny, nx)
        Horizon angles of the DEM [deg].
    rover : RoverConfig
        The rover.
    start_xy : tuple of float
        Start [m] on the DEM's map.
    waypoints_xy : list of tuple of float
        Places to reach in order [m].
    start_utc : str
        Time of the start, ISO 8601 UTC.
    days : float
        Planning period [days].
    config : PlanConfig, optional
        Discretisation and rules; defaults when absent.
    rocks : xarray.DataArray, optional
        Fractional rock area [-] on the DEM's grid (for the rock hazard).
    sun_mean : xarray.DataArray, optional
        Mean visible fraction of the Sun [-] on the DEM's grid: nodes go to the sunniest pixels.
    psr : xarray.DataArray, optional
        Permanent shadow (1) on the DEM's grid, for the costmap's PSR rule.
    hazards : HazardConfig, optional
        Rock-hazard limits.
    step : callable, optional
        Called with a short description as each stage starts.
    progress : callable, optional
        ``progress(ticks_done, ticks_total)`` during the search.

    Returns
    -------
    Traverse

    Raises
    ------
    LupexError
        For places off the DEM or on forbidden ground, a period outside the ephemeris, and a
        last waypoint that cannot be reached (naming the blocking constraint).
    """
    config = config or PlanConfig()
    step = step or (lambda message: None)
    if not waypoints_xy:
        raise LupexError("a plan needs at least one waypoint")
    names = ["start"] + [f"waypoint {i + 1}" for i in range(len(waypoints_xy))]
    search = prepare_search(dem, horizon, rover, [start_xy, *waypoints_xy], names, start_utc, days, config,
                            rocks, sun_mean, psr, hazards, step)
    step("search: earliest safe arrival")
    plan = plan_route(search.lattice, search.model, search.nodes[0], search.nodes[1:], rover.battery.initial_soc,
                      progress, k_max=config.labels_per_node)
    if not plan.reached:
        raise LupexError(f"the last waypoint cannot be reached within {days:g} days: blocked by {plan.blocking}; "
                         f"{_BLOCKING_HINTS[plan.blocking]}")
    timeline = _timeline(plan, search.lattice, search.sky, search.model, dem, config, search.start_utc, rover)
    return Traverse(plan, search.lattice, search.sky, search.model, config, search.start_utc, timeline)


def _timeline(plan: TimedPlan, lattice: Lattice, sky: NodeSky, model: Model, dem: xr.DataArray, config: PlanConfig,
              t0: np.datetime64, rover: RoverConfig) -> pd.DataFrame:
    """One row per tick: position (linear along drives), activity, charge (linear within an action)."""
    n_ticks = plan.arrival_tick + 1
    rows = np.empty(n_ticks)
    cols = np.empty(n_ticks)
    soc = np.empty(n_ticks)
    node = np.empty(n_ticks, dtype=np.int64)
    activity = np.empty(n_ticks, dtype=object)
    passed = np.zeros(n_ticks, dtype=np.int64)
    capacity_q = model.capacity_q
    first = plan.steps[0]
    rows[0], cols[0] = lattice.pixel[first.node_from]
    soc[0] = model.charge_q(rover.battery.initial_soc) / capacity_q
    node[0] = first.node_from
    activity[0] = "start"
    for s in plan.steps:
        span = np.arange(s.start_tick + 1, s.end_tick + 1)
        f = (span - s.start_tick) / (s.end_tick - s.start_tick)
        a, b = lattice.pixel[s.node_from], lattice.pixel[s.node_to]
        rows[span] = a[0] + f * (b[0] - a[0])
        cols[span] = a[1] + f * (b[1] - a[1])
        soc[span] = soc[s.start_tick] + f * (s.soc_q / capacity_q - soc[s.start_tick])
        node[span] = s.node_from
        if s.action == "drive":
            activity[span] = "drive"
        else:
            lit = sky.sun_fraction[s.start_tick // config.ticks_per_step, s.node_from] > 0
            activity[span] = "wait" if lit else "hibernate"
    for t in plan.waypoint_ticks:
        passed[t:] += 1
    ticks = np.arange(n_ticks)
    sky_step = np.minimum(ticks // config.ticks_per_step, sky.sun_fraction.shape[0] - 1)
    x0, dx = float(dem["x"].values[0]), float(dem["x"].values[1] - dem["x"].values[0])
    y0, dy = float(dem["y"].values[0]), float(dem["y"].values[1] - dem["y"].values[0])
    return pd.DataFrame({
        "time": t0 + (ticks * config.tick_min * 60).astype("timedelta64[s]"),
        "x": x0 + cols * dx,
        "y": y0 + rows * dy,
        "activity": activity,
        "soc": soc,
        "sun_fraction": sky.sun_fraction[sky_step, node].astype(float),
        "earth_visible": sky.earth_visible[sky_step, node],
        "waypoint": passed,
    })

