"""The mission engine: a rover that plans, drives, prospects, drills and survives, tick by tick.

Time advances in the planner's ticks (15 min by default). Each tick the rover's true position
gets its own Sun and Earth (:class:`lupex.sim.site_sky.SiteSky`), the array's power for the
rover's heading (:func:`lupex.rover.power.solar_power_w`), the load of what it is doing, and
the battery integrates both (:func:`lupex.rover.power.battery_step`). Its thermal state is the
temperature of its warm box (:class:`lupex.sim.thermal_box.ThermalBox`), whose thermostat sets
the survival heaters' load, and the time since it last saw the Sun; it is lost when the battery
runs out. Data wait in a buffer and go down only while the Earth is in view.

The mission loop:

1. **Decide** the next drill site (:mod:`lupex.sim.strategy`), after a command latency that
   counts only while the Earth is in view.
2. **Plan** the way to the lattice node of the site's block with the time-dependent planner
   over a look-ahead window from now (battery reserve, darkness limit, Earth-only driving, a
   safe haven at the end).
3. **Drive** the plan edge by edge through the truth terrain with onboard hazard avoidance
   (:func:`lupex.sim.local_planner.drive_leg`), slipping on slopes, with the neutron
   spectrometer counting all the way; an edge blocked by hazards the map did not show is
   removed and the way replanned. Planned waits are kept while the rover is on time, and a
   drive waits for the Earth and for enough charge.
4. **Excursion** from the node: the adaptive rover surveys the site with the neutron
   spectrometer and drills where its water map is most promising; the baseline drills the
   planned spot. Each hole is drilled, analysed and fed to the water map; the rover returns
   to the node, its haven.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from lupex.planning.timed import Model, plan_route
from lupex.raster import clamped_pixels
from lupex.rover.model import RoverConfig
from lupex.rover.power import battery_step, drive_power_w, panel_facing, solar_power_w
from lupex.sim.config import SimConfig
from lupex.sim.instruments import DrillResult, drill_hole, gpr_interface_depth, neutron_counts, neutron_estimate
from lupex.sim.local_planner import drive_leg
from lupex.sim.mobility import Localizer, slip_fraction
from lupex.sim.strategy import Strategy, make_strategy
from lupex.sim.telemetry import DataBuffer, Telemetry
from lupex.sim.thermal_box import ThermalBox
from lupex.sim.water_map import WaterBelief
from lupex.sim.world import World

__all__ = ["SimResult", "Simulation"]

MEASUREMENT_STREAM, RADAR_STREAM, ODOMETRY_STREAM = 0x5EED, 0x6B7, 0x0D0
"""Stream numbers of the run's generators, ``default_rng([seed, stream])``: drilling and the neutron
counts, the radar's soundings, the odometry's errors. Never renumber them, or seeds give other runs."""


@dataclass
class Hole:
    """One drilled hole: where, and what the analysis found."""

    x: float
    y: float
    tick: int
    result: DrillResult

    @property
    def max_wt_pct(self) -> float:
        """Highest measured WEH of the core [wt%]."""
        return float(np.max(self.result.measured_weh_wt_pct, initial=0.0))

    @property
    def mean_wt_pct(self) -> float:
        """Thickness-weighted mean measured WEH of the core [wt%]."""
        r = self.result
        thickness = r.bin_bottom_m - r.bin_top_m
        return float(np.sum(r.measured_weh_wt_pct * thickness) / max(np.sum(thickness), 1e-9))


@dataclass
class SimResult:
    """A finished (or stopped) run: status, records and figures."""

    status: str
    reason: str
    telemetry: Telemetry
    holes: list[Hole]
    belief: WaterBelief
    days_simulated: float
    distance_m: float
    energy_in_wh: float
    energy_out_wh: float
    min_soc: float
    downlinked_mb: float
    hazards_avoided: int
    replans: int
    neutron_measurements: int
    interrupted: bool = False


class Simulation:
    """One run of a mission over a :class:`World` for a seed and strategy.

    Parameters
    ----------
    world : World
        The site and its precomputed sky.
    rover : RoverConfig
        The rover.
    config : SimConfig
        Strategy and operations.
    seed : int
        Seed of the truth (water, metre-scale terrain) and of every measurement.
    """

    def __init__(self, world: World, rover: RoverConfig, config: SimConfig, seed: int):
        self.world, self.rover, self.config, self.seed = world, rover, config, int(seed)
        self.water, self.terrain = world.truth(self.seed, config.terrain, rover.mobility.max_slope_deg)
        self.rng = np.random.default_rng([self.seed, MEASUREMENT_STREAM])
        self.radar_rng = np.random.default_rng([self.seed, RADAR_STREAM])
        offsets = np.arange(0.0, 360.0, 1.0)  # a parked rover turns its best side to the Sun
        self.parked_offset_deg = float(offsets[np.argmax(panel_facing(rover, offsets))])
        self.autonomy = config.autonomy
        self.dem_transform = world.dem.rio.transform()
        lattice = world.search.lattice
        self.lattice = lattice
        base = world.search.model
        self.model = Model(base.params, base.ticks, base.drive_wh, base.source.copy(), base.sun_fraction,
                           base.solar_w, base.facing_moves, base.earth_visible)
        self.tick_h = config.plan.tick_min / 60.0
        self.hour_ticks = max(1, round(1.0 / self.tick_h))  # the hourly checks and waits, whatever the tick
        self.last_tick = world.sky.ticks
        self.belief = WaterBelief(world.prior["weh_top1m_mean"], world.prior["weh_top1m_std"], config.water_map)
        self.strategy: Strategy = make_strategy(config, world, rover)
        self.telemetry = Telemetry()
        self.buffer = DataBuffer()
        # the rover's state
        self.tick = 0
        self.x, self.y = world.landing_xy
        self.node = world.search.nodes[0]
        self.soc_wh = rover.battery.initial_soc * rover.battery.capacity_wh
        self.dark_ticks = 0
        self.box = ThermalBox(rover)
        self.distance_m = 0.0
        self.localizer = Localizer(config.odometry, np.random.default_rng([self.seed, ODOMETRY_STREAM]))
        self._trail: tuple[NDArray, NDArray] | None = None  # the last path driven, to back out along
        self.energy_in_wh = self.energy_out_wh = 0.0
        self.min_soc = rover.battery.initial_soc
        self.hazards_avoided = self.replans = self.neutron_measurements = 0
        self.holes: list[Hole] = []
        self.lost: str | None = None

    # --- time ---------------------------------------------------------------------------

    def _time(self, tick: int) -> np.datetime64:
        return self.world.sky.times[min(tick, self.last_tick)]

    def _advance(self, activity: str, xs: NDArray, ys: NDArray, load_w: NDArray, heading_deg: NDArray | None,
                 distance_m: NDArray | None = None) -> None:
        """Live ``len(xs)`` ticks at the given positions and loads, recording each; stops at a loss or the end."""
        rover = self.rover
        for k in range(len(xs)):
            if self.tick >= self.last_tick or self.lost:
                return
            x, y = float(xs[k]), float(ys[k])
            sky = self.world.sky.at(x, y, self.tick)
            lit = sky.sun_fraction[0] > 0.0
            if heading_deg is None:  # parked: turned to face the Sun with the best side of the array
                heading = sky.sun_azimuth_deg[0] - self.parked_offset_deg
            else:
                heading = float(heading_deg[k])
            solar = float(solar_power_w(rover, sky.sun_fraction, sky.sun_elevation_deg, sky.sun_azimuth_deg,
                                        heading, sky.sun_distance_km)[0])
            load = float(load_w[k])
            powered = solar >= rover.loads.idle_w  # enough light to stay awake on the array alone
            if activity in ("wait", "hibernate"):
                activity_now = "wait" if powered else "hibernate"
                load = rover.loads.idle_w if powered else rover.loads.hibernation_w
            else:
                activity_now = activity
            # the motors of the wheels and the drill, and the sample ovens, shed their heat outside the warm box
            electronics = rover.loads.idle_w if activity_now in ("drive", "drill", "analyse") else load
            seconds = self.tick_h * 3600.0
            self.buffer.add(self.config.housekeeping_kbit_s * seconds / 8000.0)
            earth = bool(sky.earth_visible[0])
            if earth and self.buffer.waiting_mb > 0 and powered:  # the transmitter waits for the Sun
                self.buffer.downlink(rover.comms.data_rate_kbit_s, seconds)
                load += rover.comms.transmit_w
                electronics += rover.comms.transmit_w
            heater = self.box.step(electronics, float(sky.sun_fraction[0]), float(sky.sun_distance_km[0]), seconds)
            load += heater
            self.soc_wh = float(battery_step(self.soc_wh, solar, load, seconds, rover))
            self.energy_in_wh += solar * seconds / 3600.0
            self.energy_out_wh += load * seconds / 3600.0
            self.dark_ticks = 0 if lit else self.dark_ticks + 1
            soc = self.soc_wh / rover.battery.capacity_wh
            self.min_soc = min(self.min_soc, soc)
            if distance_m is not None:
                self.distance_m = float(distance_m[k])
            self.x, self.y = x, y
            self.telemetry.record(
                time=self._time(self.tick), x_m=x, y_m=y, activity=activity_now, soc=soc, solar_w=solar, load_w=load,
                sun_fraction=float(sky.sun_fraction[0]), earth_visible=earth, dark_h=self.dark_ticks * self.tick_h,
                buffer_mb=self.buffer.waiting_mb, downlinked_mb=self.buffer.sent_mb,
                odometry_error_m=float(np.hypot(*self.localizer.error)), distance_m=self.distance_m,
                box_temp_c=self.box.temp_c, heater_w=heater)
            self.tick += 1
            if self.soc_wh <= 0.0:
                self.lost = "battery depleted in shadow" if not lit else "battery depleted"
                self.telemetry.event(self._time(self.tick), "lost", x, y, self.lost)

    def _stay(self, ticks: int, activity: str = "wait", extra_w: float = 0.0) -> None:
        """Stay where the rover is for ``ticks`` ticks (waiting, hibernating in shadow, or working)."""
        ticks = max(0, min(ticks, self.last_tick - self.tick))
        if ticks:
            base = self.rover.loads.idle_w + extra_w
            self._advance(activity, np.full(ticks, self.x), np.full(ticks, self.y), np.full(ticks, base), None)

    # --- driving ------------------------------------------------------------------------

    def _drive_to(self, goal_xy: tuple[float, float], neutron: bool = True) -> bool:
        """Drive from the true position to ``goal_xy`` through the truth terrain; False when hazards block it.

        A rover that cannot leave where it stands (a pocket between inflated obstacles) backs out along the
        way it came, which it knows it can drive, and tries again once."""
        reached = self._drive_leg(goal_xy, neutron)
        if not reached and self._trail is not None and not self.lost:
            xs, ys = self._trail
            self._trail = None
            self.telemetry.event(self._time(self.tick), "backtrack", self.x, self.y, "backing out the way it came")
            self._follow(xs[::-1], ys[::-1], neutron=False)
            reached = self._drive_leg(goal_xy, neutron)
        return reached

    def _drive_leg(self, goal_xy: tuple[float, float], neutron: bool) -> bool:
        leg = drive_leg((self.x, self.y), goal_xy, self.terrain, self.autonomy)
        self.hazards_avoided += leg.hazards_avoided
        if leg.replans:
            self.telemetry.event(self._time(self.tick), "hazard", self.x, self.y,
                                 f"{leg.hazards_avoided} hazards avoided, {leg.replans} local replans")
        xs, ys = np.asarray(leg.x, dtype=float), np.asarray(leg.y, dtype=float)
        if xs.size < 2:
            return leg.reached
        self._follow(xs, ys, neutron)
        self._trail = (xs, ys)
        if not leg.reached:
            self.telemetry.event(self._time(self.tick), "blocked", self.x, self.y, leg.reason)
        return leg.reached

    def _follow(self, xs: NDArray, ys: NDArray, neutron: bool, survey: bool = False) -> None:
        """Drive along a path of points [m], with slip on slopes, over as many ticks as it takes.

        The neutron spectrometer counts on every drive with ``neutron``; on a ``survey`` the radar
        sounds and the near-infrared spectrometer scans the ground too, and their power is drawn."""
        rover, dem = self.rover, self.world.dem
        step = np.hypot(np.diff(xs), np.diff(ys))
        rows, cols = self._pixels(xs, ys)
        heights = np.asarray(dem.values, dtype=float)[rows, cols]
        with np.errstate(invalid="ignore", divide="ignore"):
            grade = np.degrees(np.arctan(np.where(step > 0, np.diff(heights) / step, 0.0)))
        climb = np.nan_to_num(grade)  # slip grows with the climb along the way; none downhill
        speed = rover.mobility.nominal_speed_m_s * (1.0 - slip_fraction(climb, self.autonomy.mobility,
                                                                          rover.mobility.rolling_resistance))
        seconds = np.cumsum(step / np.maximum(speed, 1e-3))
        instruments = rover.instruments
        instrument_w = (instruments.neutron_spectrometer_w if neutron else 0.0) + (
            instruments.gpr_w + instruments.nir_spectrometer_w if survey else 0.0)
        power = drive_power_w(rover, climb) + instrument_w
        tick_s = self.tick_h * 3600.0
        n_ticks = max(1, math.ceil(seconds[-1] / tick_s - 1e-9))
        ends = np.minimum(np.arange(1, n_ticks + 1) * tick_s, seconds[-1])
        along = np.concatenate([[0.0], np.cumsum(step)])
        where = np.interp(ends, np.concatenate([[0.0], seconds]), along)
        tx, ty = np.interp(where, along, xs), np.interp(where, along, ys)
        piece = np.minimum(np.searchsorted(seconds, ends - 1e-9), step.size - 1)
        heading = np.degrees(np.arctan2(np.diff(xs), np.diff(ys)))[piece]
        driving_share = np.diff(np.concatenate([[0.0], ends])) / tick_s
        load = power[piece] * driving_share + rover.loads.idle_w * (1.0 - driving_share)
        self.buffer.add(self.config.drive_data_mb_per_m * along[-1])
        self.localizer.drive(float(along[-1]))
        if neutron:
            self._neutron_along(xs, ys, along)
        self._advance("drive", tx, ty, load, heading, self.distance_m + where)

    def _pixels(self, xs: NDArray, ys: NDArray) -> tuple[NDArray, NDArray]:
        return clamped_pixels(self.dem_transform, self.world.dem.shape, xs, ys)

    def _neutron_along(self, xs: NDArray, ys: NDArray, along: NDArray) -> None:
        """Neutron measurements every ``v t`` metres along a path, each at the middle of its stretch."""
        integration = self.config.neutron_integration_s
        spacing = self.rover.mobility.nominal_speed_m_s * integration
        count = int(along[-1] // spacing)
        if count == 0:
            return
        middle = (np.arange(count) + 0.5) * spacing
        mx, my = np.interp(middle, along, xs), np.interp(middle, along, ys)
        counts = neutron_counts(self.water, mx, my, integration, self.config.models.neutron, self.rng)
        weh, sigma = neutron_estimate(counts, integration, self.config.models.neutron)
        ex, ey = self.localizer.error  # mapped where the rover believes it was
        bx, by = mx + ex, my + ey
        left, bottom, right, top = self.world.dem.rio.bounds()
        inside = (bx > left) & (bx < right) & (by > bottom) & (by < top)
        self.belief.add_neutron(bx[inside], by[inside], weh[inside], sigma[inside])
        self.neutron_measurements += count

    # --- strategic plans ------------------------------------------------------------------

    def _nodes_at(self, xs: NDArray, ys: NDArray) -> NDArray:
        """The lattice node of the block holding each place, -1 where the block has none (the partial
        blocks along the edge hold none)."""
        return self.lattice.block_nodes(*self._pixels(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)))

    def _goal_node(self, x: float, y: float) -> int | None:
        node = int(self._nodes_at(np.array([x]), np.array([y]))[0])
        return node if node >= 0 else None

    def _node_xy(self, node: int) -> tuple[float, float]:
        r, c = self.lattice.pixel[node]
        return float(self.world.dem["x"].values[c]), float(self.world.dem["y"].values[r])

    def _go_to_node(self, goal: int, needs_earth: bool = True) -> bool:
        """Plan and drive to lattice node ``goal``; False when no safe way exists in the window.

        ``needs_earth=False`` lets the rover drive on its own with the Earth out of view (to a haven)."""
        for _ in range(self.config.max_replans):  # a new plan after each blocked edge
            if self.node == goal:
                return True
            step_h = self.config.plan.sky_step_h
            first_step = math.ceil(self.tick * self.tick_h / step_h - 1e-9)
            self._stay(int(round(first_step * step_h / self.tick_h)) - self.tick)
            model = self.model.from_step(first_step)
            if model is None or self.lost:
                return False
            if not needs_earth:
                model = model.without_earth_rule()
            window = int(self.config.planning_window_h / self.tick_h)
            soc = min(1.0, self.soc_wh / self.rover.battery.capacity_wh)
            if model.charge_q(soc) < model.reserve_q:
                return False  # too little charge for any plan: the caller waits and recharges
            plan = plan_route(self.lattice, model.until(window), self.node, [goal], soc, diagnose=False,
                              k_max=self.config.plan.labels_per_node)
            if not plan.reached:
                return False
            start_tick = self.tick
            for s in plan.steps:
                if self.lost or self.tick >= self.last_tick:
                    return False
                if s.action != "drive":
                    self._stay(start_tick + s.end_tick - self.tick)
                    continue
                if needs_earth:  # an ordinary trip stops at a node when the charge runs low: survival first
                    if self.soc_wh < self.config.work_min_soc * self.rover.battery.capacity_wh:
                        return False
                    self._wait_for_earth()
                if not self._drive_to(self._node_xy(s.node_to)):
                    self._block(s.node_from, s.move)
                    self._drive_to(self._node_xy(s.node_from), neutron=False)  # back to the haven
                    self.replans += 1
                    self.telemetry.event(self._time(self.tick), "replan", self.x, self.y,
                                         f"edge {s.node_from}->{s.node_to} blocked by hazards")
                    break
                self.node = s.node_to
                self.localizer.fix()  # a fix at every node
            else:
                return self.node == goal
        return False

    def _haven_forecast(self, nodes: NDArray, soc_wh: NDArray) -> tuple[NDArray, NDArray]:
        """Parked at each node from now over the planning window, starting with ``soc_wh`` [Wh]: the lowest
        charge [Wh] (0 when the battery would run out), and whether the reserve and the darkness limit hold.
        From the node sky, hourly."""
        rover, model, config = self.rover, self.model, self.config
        step_h = config.plan.sky_step_h
        first = int(self.tick * self.tick_h // step_h)
        last = min(model.sun_fraction.shape[0], first + int(config.planning_window_h / step_h))
        facing = self.world.search.sky.facing_parked
        soc = np.asarray(soc_wh, dtype=float).copy()
        lowest = soc.copy()
        dark = np.zeros(nodes.size)
        ok = np.ones(nodes.size, dtype=bool)
        reserve = rover.battery.min_soc * rover.battery.capacity_wh
        for step in range(first, last):
            lit = model.sun_fraction[step, nodes] > 0
            load = np.where(lit, rover.loads.idle_w, rover.shadow_load_w)
            soc = battery_step(soc, model.solar_w[step, nodes] * facing, load, step_h * 3600.0, rover)
            lowest = np.minimum(lowest, soc)
            dark = np.where(lit, 0.0, dark + step_h)
            ok &= (soc >= reserve) & (dark <= rover.thermal.max_shadow_h)
        return lowest, ok

    def _usable_sites(self) -> Callable[[NDArray, NDArray], NDArray]:
        """Which places the rover may pick as drill sites now: those whose lattice node would be a safe haven
        on arrival, with the drive and the excursion paid (as in :meth:`_ensure_haven`). The rover works
        only where it can also wait out what comes."""
        near, way_wh = self._ways_from_here(self.config.search_radius_m
                                            + self.lattice.spacing_px * self.lattice.pixel_m)
        arrival = self.soc_wh - way_wh - self._excursion_wh()
        safe = self._haven_forecast(near, np.maximum(arrival, 0.0))[1] & (arrival > 0)
        usable_node = np.zeros(self.lattice.size, dtype=bool)
        usable_node[near[safe]] = True

        def usable(xs: NDArray, ys: NDArray) -> NDArray:
            node = self._nodes_at(xs, ys)
            return (node >= 0) & usable_node[np.maximum(node, 0)]

        return usable

    def _excursion_wh(self) -> float:
        """Energy an excursion is expected to draw: the survey and the way out and back at the typical
        driving energy times ``way_energy_margin``, and the hole with the idle load [Wh]."""
        rover, config = self.rover, self.config
        survey_m = (config.survey_size_m ** 2 / max(config.survey_line_spacing_m, 1e-9)
                    if config.strategy == "adaptive" else 0.0)
        drilling_h = rover.drill.time_per_m_h * rover.drill.max_depth_m
        out_and_back_m = 2 * self.lattice.spacing_px * self.lattice.pixel_m
        return (config.way_energy_margin * self._drive_wh_per_m() * (survey_m + out_and_back_m)
                + (rover.drill.power_w + rover.loads.idle_w) * drilling_h)

    def _ways_from_here(self, radius_m: float) -> tuple[NDArray, NDArray]:
        """The lattice nodes within ``radius_m`` [m] of the rover's node that a way over the lattice
        reaches, and the energy of the cheapest such way to each [Wh], with a margin of
        ``way_energy_margin`` for the detours and slip of the true terrain. Blocked edges are left out."""
        lattice = self.lattice
        distance = np.hypot(*(lattice.pixel - lattice.pixel[self.node]).T) * lattice.pixel_m
        inside = np.flatnonzero(distance <= radius_m)
        local = np.full(lattice.size, -1, dtype=np.int64)
        local[inside] = np.arange(inside.size)
        target = lattice.target[inside]
        moves = np.broadcast_to(np.arange(target.shape[1]), target.shape)
        open_edge = (target >= 0) & (local[np.maximum(target, 0)] >= 0)
        open_edge &= self.model.source[np.maximum(target, 0), moves] >= 0
        rows = np.broadcast_to(np.arange(inside.size)[:, None], target.shape)[open_edge]
        graph = csr_matrix((lattice.drive_wh[inside][open_edge] + 1e-9, (rows, local[target[open_edge]])),
                           shape=(inside.size, inside.size))
        way_wh = dijkstra(graph, indices=int(local[self.node]))
        reached = np.isfinite(way_wh)
        return inside[reached], self.config.way_energy_margin * way_wh[reached]

    def _drive_wh_per_m(self) -> float:
        """Typical driving energy per metre over the site, the costmap's median [Wh/m]."""
        cost = self.world.search.cost
        return float(np.median(cost[np.isfinite(cost)])) / 3600.0

    def _ensure_haven(self) -> None:
        """Stay when the rover's node is a safe haven for the window ahead; otherwise drive to the node
        within reach with the best forecast once the way there is paid (:meth:`_ways_from_here`), on its
        own if the Earth is out of view. It moves only when that node is safe, or clearly better than
        staying."""
        here = np.array([self.node])
        lowest_here, safe_here = self._haven_forecast(here, np.array([self.soc_wh]))
        if safe_here[0]:
            return
        near, way_wh = self._ways_from_here(self.config.search_radius_m)
        elsewhere = near != self.node
        near, arrival = near[elsewhere], self.soc_wh - way_wh[elsewhere]
        lowest, safe = self._haven_forecast(near, np.maximum(arrival, 0.0))
        lowest = np.where(arrival > 0, lowest, 0.0)
        margin = self.config.haven_gain_soc * self.rover.battery.capacity_wh
        better = np.flatnonzero(safe | (lowest > lowest_here[0] + margin))
        ranked = better[np.argsort(-np.where(safe[better], 1e9, 0.0) - lowest[better], kind="stable")]
        for k in ranked[:self.config.haven_tries]:
            goal = int(near[k])
            start = self._node_xy(self.node)
            if self._go_to_node(goal, needs_earth=False):
                self.telemetry.event(self._time(self.tick), "haven", *self._node_xy(goal),
                                     f"darkness or a low battery ahead: moved from {start[0]:.0f}, {start[1]:.0f}")
                return

    def _wait_for_earth(self) -> None:
        """Wait (at most a day) for the Earth before a drive: the rover is commanded from the ground."""
        if not self.config.plan.drive_needs_earth:
            return
        horizon = min(self.last_tick, self.tick + int(24 / self.tick_h))
        sky = self.world.sky.at(self.x, self.y, self.tick, horizon)
        visible = np.flatnonzero(sky.earth_visible)
        self._stay(int(visible[0]) if visible.size else horizon - self.tick)

    def _block(self, node: int, move: int) -> None:
        target = int(self.lattice.target[node, move])
        if target >= 0:
            self.model.source[target, move] = -1

    def _command_latency(self) -> None:
        """Wait until the ground has seen the rover for ``command_latency_h`` (Earth in view)."""
        need = int(round(self.config.command_latency_h / self.tick_h))
        if need <= 0:
            return
        horizon = min(self.last_tick, self.tick + int(72 / self.tick_h))
        visible = np.cumsum(self.world.sky.at(self.x, self.y, self.tick, horizon).earth_visible)
        ready = np.flatnonzero(visible >= need)
        self._stay(int(ready[0]) + 1 if ready.size else horizon - self.tick)

    # --- science --------------------------------------------------------------------------

    def _analyse(self, ticks: int, power_w: float) -> None:
        """Analyse the core at the haven, a tick at a time while the Sun is up and the battery has margin;
        otherwise wait (hibernating in shadow) until they are. Every hour the rover checks that its node
        is still a safe haven for the window ahead and moves to another if not."""
        battery = self.rover.battery
        while ticks > 0 and self.tick < self.last_tick and not self.lost:
            if self.tick % self.hour_ticks == 0:  # hourly: survival first, the core waits on board
                self._ensure_haven()
            lit = self.world.sky.at(self.x, self.y, self.tick).sun_fraction[0] > 0
            if lit and self.soc_wh > (battery.min_soc + self.config.analysis_soc_margin) * battery.capacity_wh:
                self._stay(1, "analyse", extra_w=power_w)
                ticks -= 1
            else:
                self._stay(1)

    def _excursion_fits(self, x: float, y: float) -> bool:
        """Whether survey, drive and drilling at (x, y) fit in the light and the charge there.

        The rover forecasts, from its own sky at the spot, the darkness and the charge over the
        excursion's expected length at the drilling load, and goes only when the darkness stays
        within half the limit and the charge above the reserve.
        """
        rover, config = self.rover, self.config
        half = config.survey_size_m / 2.0
        survey_m = (4.0 * half + config.survey_size_m ** 2 / max(config.survey_line_spacing_m, 1e-9)
                    if config.strategy == "adaptive" else 0.0)
        distance = 2.0 * math.hypot(x - self.x, y - self.y) + survey_m
        drilling_h = rover.drill.time_per_m_h * rover.drill.max_depth_m
        hours = distance / rover.mobility.nominal_speed_m_s / 3600.0 + drilling_h
        ticks = max(1, math.ceil(hours / self.tick_h))
        sky = self.world.sky.at(x, y, self.tick, self.tick + ticks)
        lit = sky.sun_fraction > 0
        dark_run = 0
        longest = 0
        for flag in lit:
            dark_run = 0 if flag else dark_run + 1
            longest = max(longest, dark_run)
        if longest * self.tick_h > rover.thermal.max_shadow_h / 2.0:
            return False
        solar = solar_power_w(rover, sky.sun_fraction, sky.sun_elevation_deg, sky.sun_azimuth_deg,
                              sky.sun_azimuth_deg - self.parked_offset_deg, sky.sun_distance_km)
        load = rover.loads.idle_w + rover.drill.power_w + np.where(lit, 0.0, rover.thermal.survival_heater_w)
        soc = self.soc_wh
        for k in range(solar.size):  # the sky ends with the mission
            soc = float(battery_step(soc, solar[k], load[k], self.tick_h * 3600.0, rover))
        return soc >= rover.battery.min_soc * rover.battery.capacity_wh

    def _excursion(self, x: float, y: float) -> None:
        """From the node: survey (adaptive), drill the chosen spot, return to the node, analyse the core there."""
        home = self._node_xy(self.node)
        if not self._excursion_fits(x, y):
            self.telemetry.event(self._time(self.tick), "skip", x, y, "too little light or charge to drill there now")
            return
        if self.config.strategy == "adaptive" and self.config.survey_size_m > 0:
            if self._drive_to(self._survey_start(x, y)):
                path = self._survey_path(x, y)
                self._follow(*path, neutron=True, survey=True)
                self.telemetry.event(self._time(self.tick), "survey", x, y, self._radar_along(*path))
            x, y = self.strategy.drill_spot(self.belief, x, y)
        if not self._drive_to((x, y)) or self.lost:
            self._drive_to(home, neutron=False)
            return
        # the rover stops where it believes the spot is: truly off it by its position error
        self.localizer.fix()
        ex, ey = self.localizer.error
        hx, hy = x - ex, y - ey
        row, col = self._pixels(np.array([hx]), np.array([hy]))
        result = drill_hole(self.water, hx, hy, float(min(self.world.rocks[row[0], col[0]], 0.6)), self.rover,
                            self.config.models, self.rng)
        self._stay(math.ceil(result.time_h / self.tick_h), "drill",
                   extra_w=result.energy_wh / max(result.time_h, 1e-9))
        self._drive_to(home, neutron=False)
        self._analyse(math.ceil(result.analysis_time_h / self.tick_h),
                      result.analysis_energy_wh / max(result.analysis_time_h, 1e-9))
        hole = Hole(hx, hy, self.tick, result)
        self.holes.append(hole)
        self.buffer.add(self.config.drill_data_mb)
        top = result.bin_bottom_m <= 1.0 + 1e-9
        column = float(np.mean(result.measured_weh_wt_pct[top])) if top.any() else hole.mean_wt_pct
        self.belief.add_drill(x, y, column, float(self.belief.drill_sigma(column)))  # where it believes it drilled
        self.telemetry.event(self._time(self.tick), "drill", hx, hy,
                             f"depth {result.depth_reached_m:.2f} m{' (rock)' if result.stopped_on_rock else ''}, "
                             f"max {hole.max_wt_pct:.2f} wt%, mean {hole.mean_wt_pct:.2f} wt%")

    def _radar_along(self, xs: NDArray, ys: NDArray) -> str:
        """Sound the ground-penetrating radar every metre along a survey path; what it saw, in words.

        The soundings are logged with the survey (and their data queued for the Earth); the water map
        takes the neutron counts only."""
        along = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(xs), np.diff(ys)))])
        where = np.arange(0.0, along[-1], 1.0)
        depth = gpr_interface_depth(self.water, np.interp(where, along, xs), np.interp(where, along, ys),
                                    self.config.models.gpr, self.radar_rng)
        found = np.isfinite(depth)
        self.buffer.add(self.config.radar_data_mb_per_m * along[-1])
        median = f", median depth {np.median(depth[found]):.2f} m" if found.any() else ""
        return (f"{self.config.survey_size_m:g} m square: radar layer under {found.sum()} of {where.size} "
                f"soundings{median}")

    def _survey_start(self, x: float, y: float) -> tuple[float, float]:
        half = self.config.survey_size_m / 2.0
        return x - half, y - half

    def _survey_path(self, x: float, y: float) -> tuple[NDArray, NDArray]:
        """A lawnmower over the survey square, lines ``survey_line_spacing_m`` apart, along grid y."""
        half = self.config.survey_size_m / 2.0
        lines = np.arange(-half, half + 1e-9, self.config.survey_line_spacing_m)
        px, py = [], []
        for k, offset in enumerate(lines):
            ends = (-half, half) if k % 2 == 0 else (half, -half)
            px += [x + offset, x + offset]
            py += [y + ends[0], y + ends[1]]
        return np.asarray(px), np.asarray(py)

    # --- the mission ----------------------------------------------------------------------

    def run(self, progress: Callable[[int, int], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> SimResult:
        """Run the mission to its end, a loss, or a stop request (then ``interrupted`` is True)."""
        progress = progress or (lambda done, total: None)
        should_stop = should_stop or (lambda: False)
        self.telemetry.event(self._time(0), "landing", self.x, self.y, f"seed {self.seed}, {self.config.strategy}")
        interrupted = False
        tried: set[tuple[float, float]] = set()
        while self.tick < self.last_tick and not self.lost:
            if should_stop():
                interrupted = True
                break
            progress(self.tick, self.last_tick)
            self._ensure_haven()
            if self.lost or self.tick >= self.last_tick:
                break
            if self.soc_wh < self.config.work_min_soc * self.rover.battery.capacity_wh:  # recharge before new work
                self._stay(self.hour_ticks)
                continue
            site = None
            if len(self.holes) < self.config.max_drills:
                site = self.strategy.next_site(self.belief, (self.x, self.y), self.holes, tried, self._usable_sites())
            if site is None:
                self._stay(int(6 / self.tick_h))  # nothing worth a drive: wait at the haven
                continue
            tried.add(site)
            goal = self._goal_node(*site)
            self._command_latency()
            if self._go_to_node(goal) and not self.lost:
                self._excursion(*site)
            elif not self.lost:
                self.telemetry.event(self._time(self.tick), "skip", site[0], site[1], "no safe way in the window")
                self._stay(self.hour_ticks)
        progress(self.tick, self.last_tick)
        status = "lost" if self.lost else "completed"
        self.telemetry.event(self._time(self.tick), "end", self.x, self.y,
                             "interrupted" if interrupted else (self.lost or "mission completed"))
        return SimResult(
            status=status, reason=self.lost or "", telemetry=self.telemetry, holes=self.holes, belief=self.belief,
            days_simulated=self.tick * self.tick_h / 24.0, distance_m=self.distance_m,
            energy_in_wh=self.energy_in_wh, energy_out_wh=self.energy_out_wh, min_soc=self.min_soc,
            downlinked_mb=self.buffer.sent_mb, hazards_avoided=self.hazards_avoided, replans=self.replans,
            neutron_measurements=self.neutron_measurements, interrupted=interrupted)

