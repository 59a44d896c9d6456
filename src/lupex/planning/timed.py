"""Time-dependent route planning with the battery, the Sun, the Earth and safe havens.

The planner finds the earliest arrival through an ordered list of waypoints on the planning
lattice (:mod:`lupex.planning.lattice`), with the Sun and the Earth at every node and sky step
(:mod:`lupex.planning.node_sky`), under hard constraints.

The discretisation (both this planner and the exhaustive reference in the tests use exactly
this one):

* Time advances in *ticks* of ``tick_min``; the sky is constant over each sky step (a whole
  number of ticks, at most 1 h).
* The state is (node, tick, state of charge, time in darkness, waypoints passed). The charge
  is counted in whole quanta of ``soc_quantum_wh``: after each step it is rounded *down*
  (never optimistic), and clipped at the capacity.
* Actions: *wait* one tick (parked, turned to the Sun: the idle load in sunlight, hibernation
  plus survival heaters in darkness), or *drive* one edge, taking ``ceil(length / v / tick)``
  ticks at the edge's mean driving power, with the array facing along the move. A drive may
  start only where and when the rover can be commanded: the Earth in view at the node
  (``drive_needs_earth``), and optionally the Sun (``drive_needs_sun``).
* Energy: a surplus of the array over the load charges the battery at the charge efficiency,
  a deficit drains it at the discharge efficiency (:func:`lupex.rover.power.battery_step`).
  A node's sunlight is that of its own horizon; a drive sees its departure node's sky.
* Hard constraints, checked after every wait and at each sky-step boundary within a drive:
  charge never below the reserve (``battery.min_soc``), never longer in darkness than
  ``thermal.max_shadow_h``. The rover cannot drive without the Earth, so wherever it stands
  when the link drops it must survive until the link returns: every parking place the plan
  uses through a blackout is a safe haven by construction. With ``end_at_haven`` the final
  waypoint must be one too: waiting there from the arrival to the end of the period keeps
  every constraint.
* Objective: the earliest arrival at the last waypoint; among equally early ones the most
  charge, then the least time in darkness.

The search is a dynamic programme over ticks (the time-expanded graph of Tompkins et al.
2004, swept forward in time): for every node and tick it keeps the Pareto set of (charge,
darkness) over all ways to be there, built from the previous tick (waiting) and from the
ticks each incoming edge takes (driving). A label whose tick plus the fewest driving ticks
still needed exceeds the search horizon is dropped (an admissible bound, so the first arrival
found is optimal); the horizon starts near twice the driving time and doubles up to the
period's end. Nodes are swept in parallel (numba).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

from lupex.errors import LupexError
from lupex.planning.lattice import Lattice
from lupex.planning.node_sky import NodeSky
from lupex.rover.model import RoverConfig

__all__ = [
    "Model",
    "PlanConfig",
    "Step",
    "TimedPlan",
    "charge_after",
    "drive_edge",
    "may_depart",
    "model_for",
    "plan_route",
    "safe_until_end",
    "wait_tick",
]


class PlanConfig(BaseModel):
    """Discretisation and operating rules of the time-dependent planner (validated, immutable)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    node_spacing_m: float = Field(
        180.0, gt=0.0,
        description="Spacing of the planning lattice [m]. Assumption: 180 m, an hour of driving at 0.05 m/s; "
        "with 15 min ticks axial, diagonal and knight moves take 4, 6 and 9 ticks, within 6 % of their "
        "true times, and a 14-day plan over a 20 km tile takes seconds. Each node is the sunniest allowed "
        "pixel of its block when a mean-Sun map is given.",
    )
    tick_min: float = Field(15.0, gt=0.0, le=60.0, description="Time step of the plan [min].")
    sky_step_h: float = Field(1.0, gt=0.0, le=1.0, description="Time step of the Sun and Earth samples [h].")
    soc_quantum_wh: float = Field(1.0, gt=0.0, description="Resolution of the state of charge [Wh].")
    labels_per_node: int = Field(
        4, ge=1, le=4,
        description="Most (charge, darkness) trade-offs kept per node and tick; the count of any dropped "
        "is reported (none means the result is exact for the discretisation).",
    )
    drive_needs_earth: bool = Field(
        True, description="Drive only with the Earth in view (commanded from the ground), as NASA's VIPER.",
    )
    drive_needs_sun: bool = Field(False, description="Drive only with some of the Sun in view.")
    end_at_haven: bool = Field(
        True, description="The last waypoint must be a safe haven until the end of the planning period.",
    )

    def node_spacing_px(self, pixel_m: float) -> int:
        """Block size of the lattice on a grid of ``pixel_m`` [m] pixels [pixels], at least 1."""
        return max(1, int(round(self.node_spacing_m / pixel_m)))

    @property
    def ticks_per_step(self) -> int:
        """Ticks per sky step [-]."""
        return int(round(self.sky_step_h * 60.0 / self.tick_min))

    @model_validator(mode="after")
    def _whole_ticks(self) -> PlanConfig:
        if abs(self.ticks_per_step * self.tick_min - self.sky_step_h * 60.0) > 1e-6 or self.ticks_per_step < 1:
            raise ValueError(f"the sky step ({self.sky_step_h:g} h) must be a whole number of ticks "
                             f"({self.tick_min:g} min)")
        return self


# Indices into the model's parameter vector (numba kernels take one float64 array).
_CAPACITY, _RESERVE, _QUANTUM, _CHARGE, _DISCHARGE, _TICK_H, _IDLE_W, _DARK_W, _MAX_DARK, _TPS, \
    _FACING_PARKED, _NEEDS_EARTH, _NEEDS_SUN, _LAST_TICK, _END_AT_HAVEN = range(15)


@dataclass(frozen=True)
class Model:
    """Everything the search kernels need, as arrays.

    Attributes
    ----------
    params : ndarray
        The float64 parameter vector (capacity and reserve in quanta, efficiencies, loads [W],
        tick [h], darkness limit [ticks], ticks per sky step, facing factor, rules, last tick).
    ticks : ndarray of int64, shape (N, 16)
        Ticks each edge takes (0 where no edge).
    drive_wh : ndarray, shape (N, 16)
        Energy each edge's drive draws before sunlight [Wh].
    source : ndarray of int64, shape (N, 16)
        Node each move arrives from (:meth:`Lattice.source`).
    sun_fraction, solar_w, facing_moves, earth_visible : ndarray
        The :class:`NodeSky` arrays.
    """

    params: NDArray
    ticks: NDArray
    drive_wh: NDArray
    source: NDArray
    sun_fraction: NDArray
    solar_w: NDArray
    facing_moves: NDArray
    earth_visible: NDArray

    @property
    def quantum_wh(self) -> float:
        """Energy of one charge quantum [Wh]."""
        return float(self.params[_QUANTUM])

    @property
    def capacity_q(self) -> float:
        """Battery capacity [quanta]."""
        return float(self.params[_CAPACITY])

    @property
    def reserve_q(self) -> float:
        """Lowest charge allowed [quanta]."""
        return float(self.params[_RESERVE])

    def charge_q(self, soc: float) -> float:
        """A state of charge [-] in whole quanta, rounded down."""
        return float(np.floor(soc * self.params[_CAPACITY] + 1e-9))

    @property
    def last_tick(self) -> int:
        """End of the planning period [ticks]."""
        return int(self.params[_LAST_TICK])

    @property
    def tick_h(self) -> float:
        """Length of a tick [h]."""
        return float(self.params[_TICK_H])

    @property
    def ticks_per_step(self) -> int:
        """Ticks per sky step [-]."""
        return int(self.params[_TPS])

    def from_step(self, step: int) -> Model | None:
        """The same model with its period starting ``step`` sky steps later (None when none is left)."""
        last = self.last_tick - step * self.ticks_per_step
        if last <= 0:
            return None
        params = self.params.copy()
        params[_LAST_TICK] = last
        return Model(params, self.ticks, self.drive_wh, self.source, self.sun_fraction[step:], self.solar_w[step:],
                     self.facing_moves[step:], self.earth_visible[step:])

    def until(self, last_tick: int) -> Model:
        """The same model with its period ending at tick ``last_tick`` at the latest (a planning window)."""
        params = self.params.copy()
        params[_LAST_TICK] = min(self.last_tick, max(int(last_tick), 1))
        return Model(params, self.ticks, self.drive_wh, self.source, self.sun_fraction, self.solar_w,
                     self.facing_moves, self.earth_visible)

    def without_earth_rule(self) -> Model:
        """The same model letting drives start with the Earth out of view (an onboard decision, such as
        driving to a safe haven during a blackout)."""
        params = self.params.copy()
        params[_NEEDS_EARTH] = 0.0
        return Model(params, self.ticks, self.drive_wh, self.source, self.sun_fraction, self.solar_w,
                     self.facing_moves, self.earth_visible)

    def relaxed(self, battery: bool = False, darkness: bool = False) -> Model:
        """The same model without the battery limits or without the darkness limit (to find
        which constraint blocks a goal)."""
        params = self.params.copy()
        if battery:
            params[_CAPACITY] = 1e12
            params[_RESERVE] = -1e12
        if darkness:
            params[_MAX_DARK] = 1e12
        return Model(params, self.ticks, self.drive_wh, self.source, self.sun_fraction, self.solar_w,
                     self.facing_moves, self.earth_visible)


def model_for(lattice: Lattice, sky: NodeSky, rover: RoverConfig, config: PlanConfig, days: float) -> Model:
    """Assemble the search model of a lattice, its sky and a rover over ``days`` [d]."""
    tick_h = config.tick_min / 60.0
    last_tick = int(np.floor(days * 24.0 / tick_h + 1e-9))
    steps_needed = -(-last_tick // config.ticks_per_step)
    if sky.sun_fraction.shape[0] < steps_needed:
        raise LupexError(f"the sky samples cover {sky.sun_fraction.shape[0] * sky.step_h:g} h, less than the "
                         f"{days:g} days planned")
    speed = rover.mobility.nominal_speed_m_s
    with np.errstate(invalid="ignore"):
        ticks = np.where(lattice.target >= 0,
                         np.maximum(np.ceil(lattice.length_m / speed / (tick_h * 3600.0) - 1e-9), 1), 0)
    battery = rover.battery
    q = config.soc_quantum_wh
    params = np.zeros(15)
    params[_CAPACITY] = np.floor(battery.capacity_wh / q + 1e-9)
    params[_RESERVE] = np.ceil(battery.min_soc * battery.capacity_wh / q - 1e-9)
    params[_QUANTUM] = q
    params[_CHARGE] = battery.charge_efficiency
    params[_DISCHARGE] = battery.discharge_efficiency
    params[_TICK_H] = tick_h
    params[_IDLE_W] = rover.loads.idle_w
    params[_DARK_W] = rover.shadow_load_w
    params[_MAX_DARK] = np.floor(rover.thermal.max_shadow_h / tick_h + 1e-9)
    params[_TPS] = config.ticks_per_step
    params[_FACING_PARKED] = sky.facing_parked
    params[_NEEDS_EARTH] = float(config.drive_needs_earth)
    params[_NEEDS_SUN] = float(config.drive_needs_sun)
    params[_LAST_TICK] = last_tick
    params[_END_AT_HAVEN] = float(config.end_at_haven)
    return Model(params, ticks.astype(np.int64), lattice.drive_wh, lattice.source(),
                 np.ascontiguousarray(sky.sun_fraction, dtype=np.float64), np.ascontiguousarray(sky.solar_w),
                 np.ascontiguousarray(sky.facing_moves), np.ascontiguousarray(sky.earth_visible))


# --- the rules of the discretisation, shared by the planner and its reference ---------------


@numba.njit(cache=True)
def charge_after(soc, net_wh, params):
    """Charge [quanta] after a net energy ``net_wh`` on the bus [Wh]: stored at the charge
    efficiency, drawn at the discharge efficiency, rounded down, clipped at the capacity."""
    stored = net_wh * params[_CHARGE] if net_wh > 0.0 else net_wh / params[_DISCHARGE]
    new = np.floor((soc * params[_QUANTUM] + stored) / params[_QUANTUM] + 1e-9)
    return min(new, params[_CAPACITY])


@numba.njit(cache=True)
def wait_tick(soc, dark, node, t, sun_fraction, solar_w, params):
    """Wait parked at ``node`` from tick ``t`` to ``t + 1``: (charge, darkness [ticks], allowed)."""
    step = int(t // params[_TPS])
    lit = sun_fraction[step, node] > 0.0
    load = params[_IDLE_W] if lit else params[_DARK_W]
    soc = charge_after(soc, (solar_w[step, node] * params[_FACING_PARKED] - load) * params[_TICK_H], params)
    dark = 0 if lit else dark + 1
    return soc, dark, soc >= params[_RESERVE] and dark <= params[_MAX_DARK]


@numba.njit(cache=True)
def may_depart(node, t, sun_fraction, earth_visible, params):
    """Whether a drive may start at ``node`` at tick ``t`` (the Earth, and the Sun if required)."""
    step = int(t // params[_TPS])
    if params[_NEEDS_EARTH] > 0.0 and not earth_visible[step, node]:
        return False
    return not (params[_NEEDS_SUN] > 0.0 and not sun_fraction[step, node] > 0.0)


@numba.njit(cache=True)
def drive_edge(soc, dark, node, move, t, ticks, drive_wh, sun_fraction, solar_w, facing_moves, params):
    """Drive edge ``move`` from ``node`` leaving at tick ``t`` over ``ticks`` ticks:
    (charge, darkness [ticks], allowed), checked at each sky-step boundary it crosses."""
    tps = int(params[_TPS])
    load_w = drive_wh / (ticks * params[_TICK_H])
    left = ticks
    while left > 0:
        step = t // tps
        piece = min(left, (step + 1) * tps - t)
        lit = sun_fraction[step, node] > 0.0
        soc = charge_after(soc, (solar_w[step, node] * facing_moves[step, move] - load_w) * piece * params[_TICK_H],
                           params)
        dark = 0 if lit else dark + piece
        if soc < params[_RESERVE] or dark > params[_MAX_DARK]:
            return soc, dark, False
        t += piece
        left -= piece
    return soc, dark, True


@numba.njit(cache=True)
def safe_until_end(soc, dark, node, t, sun_fraction, solar_w, params):
    """Whether waiting at ``node`` from tick ``t`` to the end of the period keeps every limit."""
    if params[_END_AT_HAVEN] == 0.0:
        return True
    for u in range(t, int(params[_LAST_TICK])):
        soc, dark, ok = wait_tick(soc, dark, node, u, sun_fraction, solar_w, params)
        if not ok:
            return False
    return True


def decode(code: int) -> tuple[int, int, int]:
    """A label's parent code, ``(action * 2 + transfer) * 4 + label``, as (action, transfer, label):
    ``action`` 0 = wait, ``k + 1`` = move k; ``transfer`` 1 when the move reached the waypoint
    ending the previous leg; ``label`` the parent's slot in its Pareto set."""
    return code // 8, (code // 4) % 2, code % 4


# --- the sweep -----------------------------------------------------------------------------


@numba.njit(cache=True, inline="always")
def _insert(socs, darks, codes, count, soc, dark, code):
    """Add (soc, dark) to a Pareto set of at most len(socs) labels; returns (count, overflowed)."""
    for i in range(count):
        if socs[i] >= soc and darks[i] <= dark:
            return count, False
    kept = 0
    for i in range(count):
        if not (soc >= socs[i] and dark <= darks[i]):
            socs[kept] = socs[i]
            darks[kept] = darks[i]
            codes[kept] = codes[i]
            kept += 1
    if kept < socs.shape[0]:
        socs[kept] = soc
        darks[kept] = dark
        codes[kept] = code
        return kept + 1, False
    worst = 0
    for i in range(1, kept):
        if socs[i] < socs[worst]:
            worst = i
    if soc > socs[worst]:
        socs[worst] = soc
        darks[worst] = dark
        codes[worst] = code
    return kept, True


@numba.njit(parallel=True, cache=True)
def _sweep(t0, t1, ring_soc, ring_dark, ring_count, parents, goal_soc, goal_dark, goal_code, goal_count,
           waypoints, bound, horizon, ticks, drive_wh, source, sun_fraction, solar_w, facing_moves, earth_visible,
           params, overflow):
    """Advance the labels over ticks [t0, t1); return the first tick with a goal label that is a
    safe haven (its slot marked by ``goal_count`` and ``goal_soc`` kept), or -1."""
    width, legs, n_nodes, _ = ring_soc.shape
    goal = waypoints[legs - 1]
    for t in range(t0, t1):
        now = t % width
        before = (t - 1) % width
        for n in numba.prange(n_nodes):
            for layer in range(legs + 1):
                if layer == legs and n != goal:
                    continue
                if layer < legs:
                    if n == waypoints[layer] or t + bound[layer, n] > horizon:
                        ring_count[now, layer, n] = 0
                        continue
                    socs = ring_soc[now, layer, n]
                    darks = ring_dark[now, layer, n]
                    codes = parents[t - t0, layer, n]
                else:
                    socs = goal_soc[t - t0]
                    darks = goal_dark[t - t0]
                    codes = goal_code[t - t0]
                count = 0
                spilled = False
                if layer < legs:
                    for q in range(ring_count[before, layer, n]):
                        soc, dark, ok = wait_tick(ring_soc[before, layer, n, q], ring_dark[before, layer, n, q],
                                                  n, t - 1, sun_fraction, solar_w, params)
                        if ok:
                            count, lost = _insert(socs, darks, codes, count, soc, dark, q)
                            spilled |= lost
                for k in range(16):
                    m = source[n, k]
                    if m < 0:
                        continue
                    d = ticks[m, k]
                    departure = t - d
                    if departure < 0:
                        continue
                    slot = departure % width
                    waiting = ring_count[slot, layer, m] if layer < legs else 0
                    if layer > 0 and n == waypoints[layer - 1]:
                        waiting += ring_count[slot, layer - 1, m]
                    if waiting == 0 or not may_depart(m, departure, sun_fraction, earth_visible, params):
                        continue
                    for transfer in range(2):
                        from_layer = layer - transfer
                        if from_layer < 0 or (transfer == 1 and n != waypoints[from_layer]):
                            continue
                        if transfer == 0 and layer == legs:
                            continue
                        for q in range(ring_count[slot, from_layer, m]):
                            soc, dark, ok = drive_edge(ring_soc[slot, from_layer, m, q],
                                                       ring_dark[slot, from_layer, m, q], m, k, departure, d,
                                                       drive_wh[m, k], sun_fraction, solar_w, facing_moves, params)
                            if ok:
                                code = ((k + 1) * 2 + transfer) * 4 + q
                                count, lost = _insert(socs, darks, codes, count, soc, dark, code)
                                spilled |= lost
                if spilled:
                    overflow[n] += 1
                if layer < legs:
                    ring_count[now, layer, n] = count
                else:
                    goal_count[t - t0] = count
        found = 0
        for q in range(goal_count[t - t0]):
            if safe_until_end(goal_soc[t - t0, q], goal_dark[t - t0, q], goal, t, sun_fraction, solar_w, params):
                goal_soc[t - t0, found] = goal_soc[t - t0, q]
                goal_dark[t - t0, found] = goal_dark[t - t0, q]
                goal_code[t - t0, found] = goal_code[t - t0, q]
                found += 1
        goal_count[t - t0] = found
        if found > 0:
            return t
    return -1


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One action of a plan.

    Attributes
    ----------
    action : str
        ``"drive"`` or ``"wait"``.
    start_tick, end_tick : int
        When it starts and ends [ticks from the plan's start].
    node_from, node_to : int
        Lattice nodes (equal for a wait).
    move : int
        Move index (-1 for a wait).
    soc_q, dark_ticks : int
        Charge [quanta] and time in darkness [ticks] at its end.
    """

    action: str
    start_tick: int
    end_tick: int
    node_from: int
    node_to: int
    move: int
    soc_q: int
    dark_ticks: int


@dataclass(frozen=True)
class TimedPlan:
    """The earliest plan through the waypoints, or why there is none.

    Attributes
    ----------
    reached : bool
        Whether the last waypoint is reached within the period under every constraint.
    blocking : str
        Empty when reached; otherwise the constraint that blocks the goal: ``"slope"`` (no
        route over allowed ground), ``"battery"``, ``"shadow"``, ``"battery and shadow"`` or
        ``"time"`` (not within the period, e.g. for want of the Earth to drive by).
    steps : tuple of Step
        Actions in order, ticks consecutive (empty when not reached).
    arrival_tick : int
        Tick of the arrival at the last waypoint (-1 when not reached).
    dropped_labels : int
        Node-ticks where a Pareto set overflowed (0: the result is exact for the discretisation).
    waypoint_ticks : tuple of int
        Tick at which each waypoint was reached.
    """

    reached: bool
    blocking: str
    steps: tuple[Step, ...]
    arrival_tick: int
    dropped_labels: int
    waypoint_ticks: tuple[int, ...]


def _lower_bounds(lattice: Lattice, ticks: NDArray, waypoints: NDArray) -> NDArray:
    """Fewest driving ticks from each node to the end, per leg, shape (legs, N) (inf: never)."""
    legs = len(waypoints)
    bound = np.empty((legs, lattice.size))
    rest = 0.0
    for leg in range(legs - 1, -1, -1):
        to_waypoint = lattice.ticks_to(ticks, int(waypoints[leg]))
        bound[leg] = to_waypoint + rest
        if leg > 0:
            rest = bound[leg, waypoints[leg - 1]]
    return bound


def _search(model: Model, start: int, waypoints: NDArray, bound: NDArray, initial_soc_q: float, horizon: int,
            k_max: int, progress: Callable[[int, int], None] | None):
    """One sweep up to ``horizon``; returns (arrival tick or -1, parents by chunk, goal arrays, overflow)."""
    legs = len(waypoints)
    n_nodes = model.source.shape[0]
    width = int(model.ticks.max(initial=1)) + 1
    ring_soc = np.zeros((width, legs, n_nodes, k_max))
    ring_dark = np.zeros((width, legs, n_nodes, k_max), dtype=np.int64)
    ring_count = np.zeros((width, legs, n_nodes), dtype=np.int64)
    ring_soc[0, 0, start, 0] = initial_soc_q
    ring_count[0, 0, start] = 1
    overflow = np.zeros(n_nodes, dtype=np.int64)
    chunk = max(1, int(round(24.0 / model.params[_TICK_H])))
    chunks = []
    t0 = 1
    while t0 <= horizon:
        t1 = min(t0 + chunk, horizon + 1)
        parents = np.zeros((t1 - t0, legs, n_nodes, k_max), dtype=np.uint8)
        goal = (np.zeros((t1 - t0, k_max)), np.zeros((t1 - t0, k_max), dtype=np.int64),
                np.zeros((t1 - t0, k_max), dtype=np.uint8), np.zeros(t1 - t0, dtype=np.int64))
        arrival = _sweep(t0, t1, ring_soc, ring_dark, ring_count, parents, *goal, waypoints, bound, horizon,
                         model.ticks, model.drive_wh, model.source, model.sun_fraction, model.solar_w,
                         model.facing_moves, model.earth_visible, model.params, overflow)
        chunks.append((t0, parents, goal))
        if progress is not None:
            progress(min(t1 - 1, horizon), horizon)
        if arrival >= 0:
            return arrival, chunks, int(overflow.sum())
        t0 = t1
    return -1, chunks, int(overflow.sum())


def _trace(model: Model, arrival: int, chunks, waypoints: NDArray, start: int) -> list[tuple[int, int, int, int]]:
    """Walk the parent codes back from the best goal label: [(tick, layer, node, action)] from the start."""
    legs = len(waypoints)
    t0, parents, goal = next(c for c in chunks if c[0] <= arrival < c[0] + c[1].shape[0])
    socs, darks, codes, count = goal
    row = arrival - t0
    best = max(range(count[row]), key=lambda q: (socs[row, q], -darks[row, q], -q))
    code = int(codes[row, best])
    t, layer, node = arrival, legs, int(waypoints[-1])
    path = [(t, layer, node, -2)]
    starts = [c[0] for c in chunks]
    while t > 0:
        action, transfer, label = decode(code)
        if action == 0:
            t -= 1
        else:
            k = action - 1
            previous = int(model.source[node, k])
            t -= int(model.ticks[previous, k])
            node = previous
            layer -= transfer
        path.append((t, layer, node, action))
        if t == 0:
            break
        index = int(np.searchsorted(starts, t, side="right")) - 1
        c0, parents, _ = chunks[index]
        code = int(parents[t - c0, layer, node, label])
    if (t, layer, node) != (0, 0, start):
        raise AssertionError("the plan's trace does not lead back to the start")
    return path[::-1]


def _replay(model: Model, trace, initial_soc_q: float) -> tuple[list[Step], list[int]]:
    """Apply the traced actions forward with the discretisation's rules (the plan's states)."""
    soc, dark = initial_soc_q, 0
    steps: list[Step] = []
    waypoint_ticks: list[int] = []
    for (t, layer, node, action), (t_next, layer_next, node_next, _) in itertools.pairwise(trace):
        if action == 0:
            soc, dark, ok = wait_tick(soc, dark, node, t, model.sun_fraction, model.solar_w, model.params)
            kind, move = "wait", -1
        else:
            move = action - 1
            soc, dark, ok = drive_edge(soc, dark, node, move, t, int(model.ticks[node, move]),
                                       float(model.drive_wh[node, move]), model.sun_fraction, model.solar_w,
                                       model.facing_moves, model.params)
            kind = "drive"
        if not ok:
            raise AssertionError("the traced plan breaks a constraint on replay")
        if layer_next > layer:
            waypoint_ticks.append(t_next)
        steps.append(Step(kind, t, t_next, node, node_next, move, int(soc), int(dark)))
    return steps, waypoint_ticks


def plan_route(lattice: Lattice, model: Model, start: int, waypoints: list[int], initial_soc: float,
               progress: Callable[[int, int], None] | None = None, k_max: int = 4,
               diagnose: bool = True) -> TimedPlan:
    """The earliest plan from ``start`` through ``waypoints`` (lattice nodes) in order.

    Parameters
    ----------
    lattice : Lattice
        The planning lattice.
    model : Model
        Its search model (:func:`model_for`).
    start : int
        Start node.
    waypoints : list of int
        Nodes to reach in order; consecutive repeats and the start itself are refused.
    initial_soc : float
        State of charge at the start [-] of the capacity.
    progress : callable, optional
        ``progress(ticks_done, ticks_total)`` as the sweep advances.
    k_max : int
        Labels kept per node, tick and leg (1-4).
    diagnose : bool
        When the goal is not reached, search again without each constraint to name the one
        that blocks it.

    Returns
    -------
    TimedPlan
    """
    points = np.asarray(waypoints, dtype=np.int64)
    if points.size == 0:
        raise LupexError("a plan needs at least one waypoint")
    if np.any(np.diff(np.concatenate([[start], points])) == 0):
        raise LupexError("consecutive waypoints (or the start and the first waypoint) fall on the same lattice node")
    soc0 = model.charge_q(initial_soc)
    if soc0 < model.reserve_q:
        raise LupexError(f"the starting charge ({initial_soc:.0%}) is below the reserve")
    bound = _lower_bounds(lattice, model.ticks, points)
    if not np.isfinite(bound[0, start]):
        return TimedPlan(False, "slope", (), -1, 0, ())
    last = model.last_tick
    horizon = min(last, max(int(2 * bound[0, start]) + int(round(24.0 / model.params[_TICK_H])), 1))
    while True:
        arrival, chunks, dropped = _search(model, start, points, bound, soc0, horizon, k_max, progress)
        if arrival >= 0 or horizon >= last:
            break
        horizon = min(last, 2 * horizon)
    if arrival < 0:
        return TimedPlan(False, _blocking(lattice, model, start, list(points), initial_soc, k_max) if diagnose
                         else "unknown", (), -1, dropped, ())
    steps, waypoint_ticks = _replay(model, _trace(model, arrival, chunks, points, start), soc0)
    return TimedPlan(True, "", tuple(steps), arrival, dropped, tuple(waypoint_ticks))


def _blocking(lattice: Lattice, model: Model, start: int, waypoints: list[int], initial_soc: float,
              k_max: int) -> str:
    """Name the constraint whose removal lets the goal be reached."""
    for name, relaxed in (("battery", model.relaxed(battery=True)), ("shadow", model.relaxed(darkness=True)),
                          ("battery and shadow", model.relaxed(battery=True, darkness=True))):
        soc = initial_soc if name == "shadow" else 1.0
        if plan_route(lattice, relaxed, start, waypoints, soc, k_max=k_max, diagnose=False).reached:
            return name
    return "time"
