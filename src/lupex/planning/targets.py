"""Science targets: choose and order drill sites to learn the most about the water in the ground.

The value of drilling at a point is the **expected information** its cores give about the WEH
of each 10 cm depth bin of the water prior (:func:`lupex.ice.prior.water_prior`). A bin's WEH
has the prior spread ``sigma_b``; the sample analysis measures it with an error ``sigma_n``.
For a Gaussian quantity seen through Gaussian noise the information gained is

    I_b = 1/2 log2(1 + sigma_b^2 / sigma_n^2)    [bit]

(the mutual information of the Gaussian channel, Cover & Thomas 2006, *Elements of
Information Theory*, 2nd ed., section 9.1), and a hole drilled to depth ``z`` is worth the sum over the bins above
``z``. The bins of one core share the patch indicator and the patch's concentration, so they
are correlated; for jointly Gaussian bins the sum is an upper bound on the information of
the whole core (Hadamard's inequality, Cover & Thomas 2006, section 17.9), and it ranks
places by their uncertainty, which is what a prospecting rover should reduce. Dry ground and
ground the prior knows exactly (``sigma_b = 0``) are worth nothing; the WEH is not treated as
Gaussian anywhere else.

Choosing the stops is an **orienteering problem** (Golden, Levy & Vohra 1987, "The
orienteering problem", Naval Research Logistics 34, 307-318; survey: Vansteenwegen, Souffriau
& Van Oudheusden 2011, European Journal of Operational Research 209, 1-10): from a start,
visit a subset of the candidates in some order, each visit earning its value and costing its
service time (drill and analysis), within a time budget and an energy budget, maximising the
value collected. The rover does not return, so the route is an open path. Here the legs may
depend on the departure time (Sun, Earth and battery change with time): a *time-dependent
orienteering problem* (Verbeeck, Sörensen, Aghezzaf & Vansteenwegen 2014, "A fast solution
method for the time-dependent orienteering problem", European Journal of Operational Research
236, 419-432). Following the usual scheme for time-dependent routing with a static solver,
:func:`solve_orienteering`

1. evaluates every leg once at an estimated departure time (legs from the start at 0, legs
   from candidate ``i`` at the arrival time straight from the start plus ``i``'s service);
2. solves the static problem with OR-Tools' routing solver;
3. re-evaluates the chosen order with the true leg function in sequence (departure = arrival
   plus service), writes those legs back into the matrix at their true departure times, and
   solves again, until the order repeats or ``iterations`` solves have been made;
4. repairs every order it saw until it is feasible under the true sequential evaluation, by
   dropping the stop whose removal loses the least value per hour (or Wh) saved, then inserts
   skipped candidates wherever one still fits under the true evaluation (cheapest insertion),
   and returns the best.

After the first matrix only the legs along the chosen orders and the insertion trials are
evaluated, and every evaluation is cached, since a time-dependent leg is a search of its own.
The scheme is a heuristic: with static legs it matched a brute-force enumeration on every one
of 1,400 random instances of up to 7 candidates but one; with legs that change with the hour it
misses the sequential optimum more often (see docs/targets.md for the measured gaps).

Integer scaling for OR-Tools (its dimensions and costs are integers): time in milliseconds and
energy in mWh, each transit rounded *up* and each budget rounded *down*, so a
route the solver accepts also keeps the budgets in floating point; value in units of
0.001 bit. The objective is lexicographic: the penalty of skipping a candidate is its value
in millibits times one more than the time budget in milliseconds, so no saving in time
outweighs one millibit; among routes of equal value the shortest wins. The search is tabu
search (Glover 1989, "Tabu search - Part I", ORSA Journal on Computing 1, 190-206) over
OR-Tools' moves plus the extended swap of a visited for a skipped stop, started twice (from the
cheapest-arc path and from cheapest insertion) and the better kept. It is deterministic: each
search stops after ``solution_limit`` solutions; the wall-clock limit is only a guard for very
large instances.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numba
import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util import optional_boolean_pb2
from pydantic import BaseModel, ConfigDict, Field

from lupex.errors import LupexError
from lupex.files import atomic_output, claim_folder
from lupex.geo import xy_to_latlon
from lupex.ice.prior import DRILL_DEPTH_M
from lupex.planning.grid_search import CROSSED, MOVES, cost_to_go
from lupex.planning.legs import TimedLegs
from lupex.planning.timed import PlanConfig
from lupex.planning.traverse import prepare_search
from lupex.raster import pixel_of
from lupex.report.quicklook import extent_km, hillshade
from lupex.rover.model import RoverConfig
from lupex.rover.power import drill_energy_wh, drill_time_h

__all__ = [
    "OUTPUT_FILES",
    "Candidates",
    "LegFunction",
    "SiteTargets",
    "StaticLegs",
    "Stop",
    "TargetConfig",
    "TargetPlan",
    "TargetSky",
    "drill_information_bits",
    "information_bits",
    "plan_targets",
    "select_candidates",
    "service_cost",
    "solve_orienteering",
    "write_targets",
]

LegFunction = Callable[[int, int, float], "tuple[float, float] | None"]
"""``leg(i, j, depart_h)``: duration [h] and battery energy drawn [Wh] of the leg from stop ``i``
to stop ``j`` when leaving ``depart_h`` hours after the start, or None when ``j`` cannot be
reached from ``i`` then. Stop 0 is the start, stops 1..N the candidates. A leg function that
waits (for the Sun, for the Earth) includes the wait in the duration."""

TIME_UNIT_S = 0.001
"""Time unit of the OR-Tools model [s]."""

ENERGY_UNIT_WH = 0.001
"""Energy unit of the OR-Tools model [Wh]."""

VALUE_UNIT_BITS = 1e-3
"""Value unit of the OR-Tools model [bit]."""

OUTPUT_FILES = ("targets.csv", "targets.geojson", "targets.png")
"""The files :func:`write_targets` writes."""

_MOVE_LENGTH_PX = np.hypot(MOVES[:, 0], MOVES[:, 1])


class TargetConfig(BaseModel):
    """Settings of the science-stop planner (validated, immutable)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    time_budget_h: float = Field(
        gt=0.0, description="Time from the start to the end of the last stop's analysis [h]; no default: "
        "it is the mission planner's choice.",
    )
    energy_budget_wh: float | None = Field(
        None, gt=0.0,
        description="Battery energy the legs and stops may draw in all [Wh]; None: no limit. The static "
        "default legs know no sunlight, so a limit here is a bound on gross consumption, not on the charge.",
    )
    count: int = Field(
        12, ge=1, le=200,
        description="Drill candidates taken from the prior [-]. Assumption: 12, more than a few days of "
        "stops (each takes 3.5 h with the default rover) while keeping the leg matrix small.",
    )
    min_spacing_m: float = Field(
        100.0, ge=0.0,
        description="Least distance between two candidates [m]. Assumption: 100 m, a few DEM pixels; the "
        "ground truth's ice patches are correlated only up to 10 m (twice patch_radius_m), so cores that far "
        "apart are independent.",
    )
    drill_depth_m: float = Field(
        DRILL_DEPTH_M, gt=0.0,
        description="Depth of each hole [m]: 1.5 m, the drill's reach (JAXA); must be a bin edge of the prior.",
    )
    noise_wt_pct: float = Field(
        0.1, gt=0.0,
        description="Standard error of the WEH the sample analysis measures in a 10 cm bin [wt%]. Assumption: "
        "0.1 wt% (the error of REIWA's water analysis is not published); 50 times below the background-to-"
        "patch contrast.",
    )
    samples_per_stop: int = Field(
        1, ge=0,
        description="Samples analysed per hole, each taking instruments.sample_analysis_h [-]. Assumption: one "
        "composite analysis per hole; the bins are read as the drill brings them up.",
    )
    iterations: int = Field(
        4, ge=1, le=50,
        description="Most static solves when the legs depend on the departure time [-]. Assumption: the order "
        "usually repeats after two or three.",
    )
    solution_limit: int = Field(
        100, ge=1,
        description="Solutions of tabu search per start of a solve [-]: what ends the search, deterministically. "
        "Assumption: 100; 400 found nothing better on the tested instances of up to 7 candidates.",
    )
    search_guard_s: float = Field(
        60.0, gt=0.0,
        description="Wall-clock guard per solve [s]; reached only on very large instances, where the answer "
        "then depends on the machine's speed. Assumption.",
    )


# --- the value of a hole -----------------------------------------------------------------


def information_bits(std_wt_pct: ArrayLike, noise_wt_pct: float, axis: int = 0) -> NDArray:
    """Information a measurement of each bin gives about its WEH, summed over bins [bit].

    ``sum_b 1/2 log2(1 + sigma_b^2 / sigma_n^2)``: the Gaussian channel (Cover & Thomas 2006,
    section 9.1), bins counted as independent (an upper bound for correlated Gaussian bins).

    Parameters
    ----------
    std_wt_pct : array_like
        Prior standard deviation of the WEH of each bin [wt%], bins along ``axis``.
    noise_wt_pct : float
        Standard error of the measurement [wt%], > 0.
    axis : int
        Axis of the bins.

    Returns
    -------
    numpy.ndarray
        Information [bit], ``std_wt_pct``'s shape without ``axis``.
    """
    ratio = (np.asarray(std_wt_pct, dtype=float) / noise_wt_pct) ** 2
    return 0.5 * np.log1p(ratio).sum(axis=axis) / np.log(2.0)


def drill_information_bits(prior: xr.Dataset, depth_m: float, noise_wt_pct: float) -> xr.DataArray:
    """Expected information of a hole drilled to ``depth_m`` at each pixel of the prior [bit].

    Parameters
    ----------
    prior : xarray.Dataset
        The water prior (:func:`lupex.ice.prior.water_prior`): ``weh_std_wt_pct`` (depth, y, x)
        [wt%] with the bin edges ``depth_top``, ``depth_bottom`` [m].
    depth_m : float
        Depth of the hole [m]; a bin edge of the prior.
    noise_wt_pct : float
        Standard error of the measured WEH of a bin [wt%].

    Returns
    -------
    xarray.DataArray
        ``value_bits`` (y, x) [bit] on the prior's grid.

    Raises
    ------
    LupexError
        When ``depth_m`` is not a bin edge of the prior.
    """
    bottoms = np.asarray(prior["depth_bottom"].values, dtype=float)
    edges = np.concatenate([[0.0], bottoms])
    if not np.isclose(edges, depth_m, rtol=0.0, atol=1e-9).any():
        raise LupexError(f"the drill depth {depth_m:g} m is not a bin edge of the prior (edges "
                         f"{edges[0]:g}, {edges[1]:g}, ... {edges[-1]:g} m); choose one of them")
    inside = bottoms <= depth_m + 1e-9
    std = prior["weh_std_wt_pct"].values[inside]
    out = xr.DataArray(information_bits(std, noise_wt_pct), dims=("y", "x"),
                       coords={"y": prior["y"], "x": prior["x"]}, name="value_bits")
    out.attrs.update(units="bit", long_name=f"expected information of a {depth_m:g} m hole")
    return out


def service_cost(rover: RoverConfig, config: TargetConfig) -> tuple[float, float]:
    """Time and battery energy of one stop: drilling plus sample analysis, awake throughout.

    ``t = drill_time_h(z) + n t_analysis`` and
    ``E = drill_energy_wh(z) + n P_analysis t_analysis + P_idle t``: the drill and the ovens draw on
    top of the idle load (:mod:`lupex.rover.power`).

    Returns
    -------
    tuple of float
        Service time [h] and energy [Wh].
    """
    instruments = rover.instruments
    analysis_h = config.samples_per_stop * instruments.sample_analysis_h
    hours = float(drill_time_h(rover, config.drill_depth_m)) + analysis_h
    energy = (float(drill_energy_wh(rover, config.drill_depth_m)) + instruments.sample_analysis_w * analysis_h
              + rover.loads.idle_w * hours)
    return hours, energy


# --- candidates --------------------------------------------------------------------------


def select_candidates(value: ArrayLike, allowed: ArrayLike, pixel_m: float, count: int,
                      min_spacing_m: float, tiebreak: ArrayLike | None = None,
                      block_px: int | None = None) -> tuple[NDArray, NDArray]:
    """The best cells by value, at least ``min_spacing_m`` apart (greedy non-maximum suppression).

    Repeatedly takes the allowed cell of highest value and removes every cell closer than
    ``min_spacing_m`` to it; among cells of equal value it takes the one of lowest ``tiebreak``,
    then the first in row-major order, so the choice is reproducible. Cells of value 0 or less,
    or not finite, are never taken.

    Parameters
    ----------
    value : array_like
        Value of each cell, 2-D [any unit].
    allowed : array_like
        True where a stop may be placed, same shape.
    pixel_m : float
        Side of a cell on the ground [m].
    count : int
        Most candidates to return.
    min_spacing_m : float
        Least distance between the centres of two candidates [m].
    tiebreak : array_like, optional
        Same shape; lower wins among equal values (e.g. the driving energy from the start [J]).
    block_px : int, optional
        Also remove the rest of each chosen cell's block of a lattice of this size [pixels], so
        every candidate can be a node of :func:`lupex.planning.lattice.build_lattice`.

    Returns
    -------
    rows, cols : numpy.ndarray
        Rows and columns of the candidates (int64), best first.
    """
    score = np.where(np.asarray(allowed, dtype=bool), np.asarray(value, dtype=float), -np.inf)
    score[~(score > 0.0)] = -np.inf
    n_rows, n_cols = score.shape
    order = np.zeros(score.shape) if tiebreak is None else np.asarray(tiebreak, dtype=float)
    reach = int(np.ceil(min_spacing_m / pixel_m))
    dr, dc = np.mgrid[-reach:reach + 1, -reach:reach + 1]
    near = (dr**2 + dc**2) * pixel_m**2 < min_spacing_m**2
    rows, cols = [], []
    for _ in range(count):
        top = score.max()
        if top == -np.inf:
            break
        equal = np.flatnonzero(score == top)
        r, c = divmod(int(equal[np.argmin(order.ravel()[equal])]), n_cols)
        rows.append(r)
        cols.append(c)
        r0, r1 = max(r - reach, 0), min(r + reach + 1, n_rows)
        c0, c1 = max(c - reach, 0), min(c + reach + 1, n_cols)
        window = near[r0 - r + reach:r1 - r + reach, c0 - c + reach:c1 - c + reach]
        score[r0:r1, c0:c1][window] = -np.inf
        score[r, c] = -np.inf
        if block_px:
            score[r - r % block_px:r - r % block_px + block_px, c - c % block_px:c - c % block_px + block_px] = -np.inf
    return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)


# --- static legs over a costmap ----------------------------------------------------------


@numba.njit(cache=True)
def _next_move(cost, field, u, cols, half_length, moves, crossed):
    """The allowed move out of flat cell ``u`` that minimises its cost plus the field at its end, or -1."""
    rows = cost.shape[0]
    r = u // cols
    c = u - r * cols
    cu = cost[r, c]
    best = np.inf
    chosen = -1
    for k in range(16):
        rr = r + moves[k, 0]
        cc = c + moves[k, 1]
        if rr < 0 or rr >= rows or cc < 0 or cc >= cols:
            continue
        cv = cost[rr, cc]
        if cv == np.inf or field[rr, cc] == np.inf:
            continue
        if (cost[r + crossed[k, 0, 0], c + crossed[k, 0, 1]] == np.inf
                or cost[r + crossed[k, 1, 0], c + crossed[k, 1, 1]] == np.inf):
            continue
        total = half_length[k] * (cu + cv) + field[rr, cc]
        if total < best:
            best = total
            chosen = k
    return chosen


@numba.njit(cache=True)
def _descend(cost, field, start, source, half_length, moves, crossed):
    """Moves that lead from flat cell ``start`` down the cost-to-go ``field`` to ``source``, in order.

    Returns an empty array when ``start`` is ``source``, and -1 alone when the descent fails
    (no allowed move, or more steps than cells: a field with zero-cost cells can hold loops).
    """
    cols = cost.shape[1]
    limit = cost.size
    count = 0
    u = start
    while u != source:
        k = _next_move(cost, field, u, cols, half_length, moves, crossed)
        if k < 0 or count >= limit:
            return np.full(1, -1, dtype=np.int64)
        u += moves[k, 0] * cols + moves[k, 1]
        count += 1
    out = np.empty(count, dtype=np.int64)
    u = start
    for i in range(count):
        k = _next_move(cost, field, u, cols, half_length, moves, crossed)
        out[i] = k
        u += moves[k, 0] * cols + moves[k, 1]
    return out


class StaticLegs:
    """Legs between fixed cells of a costmap, independent of the departure time: a :data:`LegFunction`.

    The leg between stops ``i`` and ``j`` follows the least-cost route of
    :func:`lupex.planning.grid_search.cost_to_go` (16 moves, corner rule); its energy is the
    route's cost [J] / 3600 and its duration the route's length over the nominal speed. One
    Dijkstra search from the lower-numbered stop gives all its legs at once (moves cost the same
    both ways); the route is retraced from the other stop down the cost-to-go field, taking at
    each cell the allowed move that minimises the move's cost plus the field at its end.

    Parameters
    ----------
    cost_per_m : array_like
        Driving energy per metre of each cell, 2-D, > 0; ``inf`` or NaN where forbidden [J/m]
        (:func:`lupex.planning.costmap.costmap`).
    pixel_m : float
        Side of a cell on the ground [m].
    cells : array_like
        Row and column of each stop, shape ``(N + 1, 2)``; row 0 is the start.
    speed_m_s : float
        Driving speed [m/s] (``rover.mobility.nominal_speed_m_s``).
    """

    def __init__(self, cost_per_m: ArrayLike, pixel_m: float, cells: ArrayLike, speed_m_s: float) -> None:
        cost = np.array(cost_per_m, dtype=np.float64, order="C")
        cost[np.isnan(cost)] = np.inf
        self._cost = cost
        self._pixel_m = float(pixel_m)
        self._cells = np.asarray(cells, dtype=np.int64).reshape(-1, 2)
        self._speed = float(speed_m_s)
        self._half_length = 0.5 * self._pixel_m * _MOVE_LENGTH_PX
        self._legs: dict[int, tuple[NDArray, NDArray]] = {}
        self.searches = 0
        """Dijkstra searches made so far [-]."""

    def _field(self, source: int) -> NDArray:
        self.searches += 1
        return cost_to_go(self._cost, self._pixel_m, self._cells[source])

    def _moves(self, field: NDArray, source: int, other: int) -> NDArray:
        cols = self._cost.shape[1]
        start = int(self._cells[other, 0]) * cols + int(self._cells[other, 1])
        goal = int(self._cells[source, 0]) * cols + int(self._cells[source, 1])
        moves = _descend(self._cost, field, start, goal, self._half_length, MOVES, CROSSED)
        if moves.size and moves[0] < 0:
            raise LupexError("the costmap holds cells of zero cost, where least-cost routes can loop; "
                             "give every allowed cell a positive cost per metre")
        return moves

    def _from(self, source: int) -> tuple[NDArray, NDArray]:
        """Energy [Wh] and duration [h] of the legs from ``source`` to the stops numbered above it (NaN:
        unreachable, and for the stops below, whose legs come from their own search)."""
        if source not in self._legs:
            field = self._field(source)
            energy = np.full(len(self._cells), np.nan)
            hours = np.full(len(self._cells), np.nan)
            for other in range(source + 1, len(self._cells)):
                r, c = self._cells[other]
                if np.isfinite(field[r, c]):
                    moves = self._moves(field, source, other)
                    energy[other] = field[r, c] / 3600.0
                    hours[other] = self._pixel_m * _MOVE_LENGTH_PX[moves].sum() / self._speed / 3600.0
            self._legs[source] = energy, hours
        return self._legs[source]

    def __call__(self, i: int, j: int, depart_h: float) -> tuple[float, float] | None:
        """Duration [h] and energy [Wh] of the leg from stop ``i`` to stop ``j``; ``depart_h`` is unused."""
        energy, hours = self._from(min(i, j))
        other = max(i, j)
        if not np.isfinite(energy[other]):
            return None
        return float(hours[other]), float(energy[other])

    def route(self, i: int, j: int, depart_h: float = 0.0) -> NDArray:
        """Rows and columns of the cells of the leg from stop ``i`` to stop ``j``, ``i`` first, shape (k, 2).

        The same route whose length and energy the leg carries (one more Dijkstra search);
        ``depart_h`` is unused.

        Raises
        ------
        LupexError
            When ``j`` cannot be reached from ``i``.
        """
        source, other = min(i, j), max(i, j)
        field = self._field(source)
        r, c = self._cells[other]
        if not np.isfinite(field[r, c]):
            raise LupexError(f"stop {j} cannot be reached from stop {i}")
        moves = self._moves(field, source, other)
        cells = np.vstack([self._cells[other], self._cells[other] + np.cumsum(MOVES[moves], axis=0)])
        return cells[::-1] if source == i else cells


# --- the orienteering solver --------------------------------------------------------------


@dataclass(frozen=True)
class Stop:
    """One drill stop of a plan.

    Attributes
    ----------
    index : int
        Stop number in the leg function (1..N, the candidate's position + 1).
    x, y : float
        Map coordinates [m].
    value_bits : float
        Value earned [bit].
    arrival_h, departure_h : float
        Arrival and departure (after drilling and analysis) since the start [h].
    """

    index: int
    x: float
    y: float
    value_bits: float
    arrival_h: float
    departure_h: float


@dataclass(frozen=True)
class TargetPlan:
    """An ordered choice of drill stops, feasible under the true sequential evaluation of its legs.

    Attributes
    ----------
    stops : tuple of Stop
        The stops in the order driven.
    value_bits : float
        Value of all stops [bit].
    duration_h : float
        From the start to the departure from the last stop [h]; 0 without stops.
    energy_wh : float
        Battery energy the legs and the stops draw [Wh].
    skipped : tuple of int
        Stop numbers of the candidates not visited, ascending.
    leg_evaluations : int
        Distinct calls made to the leg function [-].
    solves : int
        Static OR-Tools solves made [-].
    """

    stops: tuple[Stop, ...]
    value_bits: float
    duration_h: float
    energy_wh: float
    skipped: tuple[int, ...]
    leg_evaluations: int
    solves: int


@dataclass(frozen=True)
class _Timeline:
    """A sequence of stops evaluated leg after leg with the true leg function."""

    order: tuple[int, ...]
    arrivals: tuple[float, ...]
    departures: tuple[float, ...]
    duration_h: float
    energy_wh: float
    blocked_at: int | None  # position of the first stop that cannot be reached, None if all can
    legs: tuple[tuple[int, int, float, tuple[float, float] | None], ...]  # (i, j, depart, result)


class _CachedLegs:
    """Calls the leg function at most once per (from, to, departure)."""

    def __init__(self, leg: LegFunction) -> None:
        self._leg = leg
        self._seen: dict[tuple[int, int, float], tuple[float, float] | None] = {}

    def __call__(self, i: int, j: int, depart_h: float) -> tuple[float, float] | None:
        key = (i, j, float(depart_h))
        if key not in self._seen:
            found = self._leg(i, j, float(depart_h))
            if found is not None:
                hours, energy = (float(v) for v in found)
                if not (np.isfinite(hours) and np.isfinite(energy) and hours >= 0.0 and energy >= 0.0):
                    raise ValueError(f"the leg from stop {i} to stop {j} at {depart_h:g} h returned {found}; "
                                     "a leg takes a finite time and energy >= 0, or is None")
                found = (hours, energy)
            self._seen[key] = found
        return self._seen[key]

    @property
    def evaluations(self) -> int:
        return len(self._seen)


def _timeline(order: tuple[int, ...], legs: _CachedLegs, service_h: NDArray, service_wh: NDArray,
              stop_over: TargetConfig | None = None) -> _Timeline:
    """Evaluate ``order`` leg after leg; with ``stop_over``, stop as soon as a budget is exceeded (legs
    and services take time and energy >= 0, so the sequence cannot become feasible again)."""
    t, energy, here = 0.0, 0.0, 0
    arrivals, departures, evaluated = [], [], []
    for position, stop in enumerate(order):
        found = legs(here, stop, t)
        evaluated.append((here, stop, t, found))
        if found is None:
            return _Timeline(order, tuple(arrivals), tuple(departures), t, energy, position, tuple(evaluated))
        t += found[0]
        energy += found[1]
        arrivals.append(t)
        t += service_h[stop]
        energy += service_wh[stop]
        departures.append(t)
        here = stop
        if stop_over is not None and not _within(t, energy, stop_over):
            break
    return _Timeline(order, tuple(arrivals), tuple(departures), t, energy, None, tuple(evaluated))


def _within(hours: float, energy_wh: float, config: TargetConfig) -> bool:
    return hours <= config.time_budget_h and (config.energy_budget_wh is None or energy_wh <= config.energy_budget_wh)


def _feasible(line: _Timeline, config: TargetConfig) -> bool:
    return line.blocked_at is None and _within(line.duration_h, line.energy_wh, config)


def _repair(line: _Timeline, legs: _CachedLegs, values: NDArray, service_h: NDArray, service_wh: NDArray,
            config: TargetConfig) -> _Timeline:
    """Drop stops until the sequence is feasible: first any stop that cannot be reached, then the stop
    whose removal loses the least value per unit of the violated budgets saved."""
    while not _feasible(line, config):
        order = line.order
        if line.blocked_at is not None:
            order = order[:line.blocked_at] + order[line.blocked_at + 1:]
            line = _timeline(order, legs, service_h, service_wh)
            continue
        over_time = line.duration_h > config.time_budget_h
        over_energy = config.energy_budget_wh is not None and line.energy_wh > config.energy_budget_wh
        best, best_ratio = None, np.inf
        for position in range(len(order)):
            shorter = _timeline(order[:position] + order[position + 1:], legs, service_h, service_wh)
            if shorter.blocked_at is not None:
                continue
            saved = 0.0
            if over_time:
                saved += (line.duration_h - shorter.duration_h) / config.time_budget_h
            if over_energy:
                saved += (line.energy_wh - shorter.energy_wh) / config.energy_budget_wh
            if saved > 0.0 and values[order[position]] / saved < best_ratio:
                best, best_ratio = shorter, values[order[position]] / saved
        # Dropping the last stop always saves its service, so some removal saves something.
        line = best if best is not None else _timeline(order[:-1], legs, service_h, service_wh)
    return line


def _insert(line: _Timeline, legs: _CachedLegs, values: NDArray, service_h: NDArray, service_wh: NDArray,
            config: TargetConfig) -> _Timeline:
    """Insert skipped candidates while one fits: each round tries every skipped candidate at every
    position under the true sequential evaluation and keeps the feasible insertion of most value,
    then least added time (cheapest insertion, as in the orienteering heuristics of Vansteenwegen
    et al. 2011). Costs up to (skipped x positions x later legs) leg evaluations per round, fewer as
    each trial stops at the first leg that breaks a budget."""
    while True:
        best, best_key = None, None
        for j in range(1, len(values)):
            if j in line.order:
                continue
            for position in range(len(line.order) + 1):
                trial = _timeline((*line.order[:position], j, *line.order[position:]), legs, service_h, service_wh,
                                  config)
                key = (values[j], line.duration_h - trial.duration_h)
                if _feasible(trial, config) and (best_key is None or key > best_key):
                    best, best_key = trial, key
        if best is None:
            return line
        line = best


_FIRST_SOLUTIONS = (
    routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC,
    routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION,
)
"""The two starts of the local search; the better result is kept. Each alone misses the brute-force
optimum on about 0.5 % of random instances of up to 7 candidates, rarely the same ones."""


def _solve_static(hours: NDArray, energy: NDArray, values: NDArray, service_h: NDArray, service_wh: NDArray,
                  config: TargetConfig) -> tuple[int, ...]:
    """Best order under fixed leg costs (NaN: no leg), by OR-Tools' routing solver."""
    n = len(values)
    end = n  # a dummy end node: the path ends wherever the rover is

    def units(leg: NDArray, service: NDArray, unit: float) -> list[list[int]]:
        table = np.zeros((n + 1, n + 1), dtype=np.int64)
        finite = np.isfinite(leg)
        table[:n, :n] = np.where(finite, np.ceil((leg + service[:, None]) / unit), 0)
        table[:n, end] = np.ceil(service / unit)
        return table.tolist()

    time_table = units(hours * 3600.0, service_h * 3600.0, TIME_UNIT_S)
    time_cap = math.floor(config.time_budget_h * 3600.0 / TIME_UNIT_S)
    energy_table = None if config.energy_budget_wh is None else units(energy, service_wh, ENERGY_UNIT_WH)
    weight = time_cap + 1
    penalties = [int(round(v / VALUE_UNIT_BITS)) * weight for v in values]
    if sum(penalties) + weight > 2**62:
        raise LupexError(f"{values.sum():.4g} bit over {config.time_budget_h:g} h overflow the solver's integer "
                         "scaling; shorten the time budget or take fewer candidates")

    def solve(first: int) -> tuple[int, tuple[int, ...]]:
        manager = pywrapcp.RoutingIndexManager(n + 1, 1, [0], [end])
        routing = pywrapcp.RoutingModel(manager)
        time_cb = routing.RegisterTransitCallback(
            lambda a, b: time_table[manager.IndexToNode(a)][manager.IndexToNode(b)])
        routing.AddDimension(time_cb, 0, time_cap, True, "time")
        routing.SetArcCostEvaluatorOfAllVehicles(time_cb)
        if energy_table is not None:
            energy_cb = routing.RegisterTransitCallback(
                lambda a, b: energy_table[manager.IndexToNode(a)][manager.IndexToNode(b)])
            routing.AddDimension(energy_cb, 0, math.floor(config.energy_budget_wh / ENERGY_UNIT_WH), True,
                                 "energy")
        for node in range(1, n):
            routing.AddDisjunction([manager.NodeToIndex(node)], penalties[node])
        for i in range(n):
            for j in range(1, n):
                if i != j and not np.isfinite(hours[i, j]):
                    routing.NextVar(manager.NodeToIndex(i)).RemoveValue(manager.NodeToIndex(j))
        params = pywrapcp.DefaultRoutingSearchParameters()
        params.first_solution_strategy = first
        params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.TABU_SEARCH
        params.local_search_operators.use_extended_swap_active = optional_boolean_pb2.BOOL_TRUE
        params.solution_limit = config.solution_limit
        params.time_limit.FromMilliseconds(int(config.search_guard_s * 1000))
        solution = routing.SolveWithParameters(params)
        if solution is None:  # the empty path is always feasible: only a broken model gets here
            raise RuntimeError(f"OR-Tools found no route (status {routing.status()})")
        order = []
        index = solution.Value(routing.NextVar(routing.Start(0)))
        while not routing.IsEnd(index):
            order.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        return solution.ObjectiveValue(), tuple(order)

    return min((solve(first) for first in _FIRST_SOLUTIONS), key=lambda found: found[0])[1]


def solve_orienteering(xy: ArrayLike, value_bits: ArrayLike, leg: LegFunction, service_h: float,
                       service_wh: float, config: TargetConfig) -> TargetPlan:
    """Choose and order stops to collect the most value within the time and energy budgets.

    See the module's notes for the method (time-dependent orienteering by repeated static
    solves, then repair under the true sequential evaluation).

    Parameters
    ----------
    xy : array_like
        Map coordinates of the start (row 0) and of the N candidates, shape ``(N + 1, 2)`` [m].
    value_bits : array_like
        Value of visiting each candidate, shape ``(N,)``, >= 0 [bit].
    leg : LegFunction
        ``leg(i, j, depart_h) -> (hours, wh) | None`` between stops (0 the start, 1..N the candidates).
    service_h, service_wh : float
        Time [h] and energy [Wh] of a stop (:func:`service_cost`).
    config : TargetConfig
        Budgets and search settings.

    Returns
    -------
    TargetPlan
        The stops with their true arrival and departure times.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    values = np.concatenate([[0.0], np.asarray(value_bits, dtype=float)])
    if len(values) != len(xy):
        raise ValueError(f"{len(xy) - 1} candidate positions but {len(values) - 1} values")
    n = len(values)
    service_time = np.full(n, float(service_h))
    service_energy = np.full(n, float(service_wh))
    service_time[0] = service_energy[0] = 0.0
    legs = _CachedLegs(leg)

    hours = np.full((n, n), np.nan)
    energy = np.full((n, n), np.nan)
    depart = service_time.copy()  # estimated departure from each stop: straight from the start
    for j in range(1, n):
        found = legs(0, j, 0.0)
        if found is not None:
            hours[0, j], energy[0, j] = found
            depart[j] += found[0]
    for i in range(1, n):
        for j in range(1, n):
            found = legs(i, j, depart[i]) if i != j else None
            if found is not None:
                hours[i, j], energy[i, j] = found

    seen: list[_Timeline] = []
    solves = 0
    for _ in range(config.iterations):
        order = _solve_static(hours, energy, values, service_time, service_energy, config)
        solves += 1
        line = _timeline(order, legs, service_time, service_energy)
        if any(old.order == order for old in seen):
            break
        seen.append(line)
        changed = False
        for i, j, _t, found in line.legs:
            new = (np.nan, np.nan) if found is None else found
            if not np.array_equal((hours[i, j], energy[i, j]), new, equal_nan=True):
                hours[i, j], energy[i, j] = new
                changed = True
        if not changed:
            break

    repaired = [_insert(_repair(line, legs, values, service_time, service_energy, config), legs, values,
                        service_time, service_energy, config) for line in seen]
    best = max(repaired, key=lambda line: (round(values[list(line.order)].sum() / VALUE_UNIT_BITS),
                                           -line.duration_h))
    stops = tuple(Stop(int(k), float(xy[k, 0]), float(xy[k, 1]), float(values[k]), float(a), float(d))
                  for k, a, d in zip(best.order, best.arrivals, best.departures, strict=True))
    return TargetPlan(
        stops=stops,
        value_bits=float(values[list(best.order)].sum()),
        duration_h=float(best.duration_h),
        energy_wh=float(best.energy_wh),
        skipped=tuple(k for k in range(1, n) if k not in best.order),
        leg_evaluations=legs.evaluations,
        solves=solves,
    )


# --- a whole site ------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidates:
    """Drill candidates on a grid.

    Attributes
    ----------
    rows, cols : numpy.ndarray
        Grid row and column of each candidate (int64), best first.
    x, y : numpy.ndarray
        Map coordinates of the cell centres [m].
    value_bits : numpy.ndarray
        Expected information of a hole there [bit].
    """

    rows: NDArray
    cols: NDArray
    x: NDArray
    y: NDArray
    value_bits: NDArray


@dataclass(frozen=True)
class SiteTargets:
    """Drill stops planned over a site.

    Attributes
    ----------
    start_rc : tuple of int
        Row and column of the start cell.
    start_xy : tuple of float
        Map coordinates of the start cell's centre [m].
    candidates : Candidates
        The candidates, stop ``k`` being candidate ``k - 1``.
    plan : TargetPlan
        The chosen stops.
    route : numpy.ndarray
        Rows and columns of the cells driven, start to the last stop, shape (k, 2).
    """

    start_rc: tuple[int, int]
    start_xy: tuple[float, float]
    candidates: Candidates
    plan: TargetPlan
    route: NDArray


@dataclass(frozen=True)
class TargetSky:
    """The sky that makes the legs time-dependent (:class:`lupex.planning.legs.TimedLegs`).

    Each leg is then a plan of the time-dependent planner over the lattice of
    :func:`lupex.planning.traverse.prepare_search`: it waits for the Sun and the Earth, keeps the
    battery above its reserve with solar charging, and respects the darkness limit; the rover
    leaves every stop with ``rover.battery.initial_soc``. Candidates then lie in distinct lattice
    blocks, none in the start's.

    Attributes
    ----------
    dem : xarray.DataArray
        Heights [m] on the value map's grid.
    horizon : array-like, shape (A, ny, nx)
        Its horizons [deg].
    start_utc : str
        Time of the start, ISO 8601 UTC.
    plan : PlanConfig
        Lattice and time steps (its ``end_at_haven`` is ignored: a leg ends where the rover drills).
    rocks, sun_mean, psr : xarray.DataArray, optional
        Rock area [-], mean Sun [-] and permanent shadow (1) on the same grid.
    """

    dem: xr.DataArray
    horizon: Any
    start_utc: str
    plan: PlanConfig = field(default_factory=PlanConfig)
    rocks: xr.DataArray | None = None
    sun_mean: xr.DataArray | None = None
    psr: xr.DataArray | None = None

    def legs(self, xy: NDArray, rover: RoverConfig, hours: float) -> TimedLegs:
        """Time-dependent legs between the places ``xy`` [m] (row 0 the start) over ``hours`` [h]."""
        names = ["start"] + [f"candidate {k}" for k in range(1, len(xy))]
        search = prepare_search(self.dem, self.horizon, rover, [tuple(v) for v in xy], names, self.start_utc,
                                hours / 24.0, self.plan.model_copy(update={"end_at_haven": False}), self.rocks,
                                self.sun_mean, self.psr)
        return TimedLegs(search.lattice, search.model, search.nodes, rover.battery.initial_soc)


def _start_cell(cost: xr.DataArray, x: float, y: float) -> tuple[int, int]:
    row, col = pixel_of(cost, x, y, "start")
    if not np.isfinite(cost.values[row, col]):
        raise LupexError(f"the start at x = {x:.0f} m, y = {y:.0f} m is on ground the rover may not drive on "
                         "(too steep, too rocky or too deep in shadow); choose another start")
    return row, col


def plan_targets(value_bits: xr.DataArray, cost_per_m: xr.DataArray, start_xy: tuple[float, float],
                 rover: RoverConfig, config: TargetConfig, pixel_m: float, sky: TargetSky | None = None) -> SiteTargets:
    """Candidates from a value map, and the best order to drill them over static or time-dependent legs.

    Parameters
    ----------
    value_bits : xarray.DataArray
        Value of a hole at each cell (:func:`drill_information_bits`) [bit].
    cost_per_m : xarray.DataArray
        Driving energy per metre on the same grid, ``inf`` where forbidden [J/m]
        (:func:`lupex.planning.costmap.costmap`).
    start_xy : tuple of float
        Where the rover starts, map coordinates [m].
    rover : RoverConfig
        The rover (speed, drill, instruments, loads).
    config : TargetConfig
        Budgets, candidate count and spacing, search settings.
    pixel_m : float
        Side of a cell on the ground [m].
    sky : TargetSky, optional
        Plan with time-dependent legs under this sky; static legs over the costmap when absent.

    Returns
    -------
    SiteTargets
        The candidates, the plan and the route driven (cells of the static routes, or the
        lattice nodes passed with time-dependent legs).

    Raises
    ------
    LupexError
        When the value map and the costmap are not on one grid, or the start lies outside the
        map or on forbidden ground.
    """
    if value_bits.shape != cost_per_m.shape or not np.allclose(value_bits["x"], cost_per_m["x"]) or not np.allclose(
            value_bits["y"], cost_per_m["y"]):
        raise LupexError(f"the prior ({value_bits.shape[1]} x {value_bits.shape[0]} pixels) is not on the "
                         f"costmap's grid ({cost_per_m.shape[1]} x {cost_per_m.shape[0]}); make both from one DEM")
    start = _start_cell(cost_per_m, *start_xy)
    cost = np.asarray(cost_per_m.values, dtype=float)
    from_start = cost_to_go(cost, pixel_m, start)
    allowed = np.isfinite(from_start)
    block_px = None
    if sky is not None:
        block_px = sky.plan.node_spacing_px(pixel_m)
        r0, c0 = start[0] - start[0] % block_px, start[1] - start[1] % block_px
        allowed[r0:r0 + block_px, c0:c0 + block_px] = False
    rows, cols = select_candidates(value_bits.values, allowed, pixel_m, config.count, config.min_spacing_m,
                                   tiebreak=from_start, block_px=block_px)
    xs, ys = cost_per_m["x"].values, cost_per_m["y"].values
    candidates = Candidates(rows, cols, xs[cols], ys[rows], np.asarray(value_bits.values, dtype=float)[rows, cols])
    cells = np.vstack([[start], np.column_stack([rows, cols])])
    xy = np.column_stack([xs[cells[:, 1]], ys[cells[:, 0]]])
    legs = (StaticLegs(cost, pixel_m, cells, rover.mobility.nominal_speed_m_s) if sky is None
            else sky.legs(xy, rover, config.time_budget_h))
    service_h, service_wh = service_cost(rover, config)
    plan = solve_orienteering(xy, candidates.value_bits, legs, service_h, service_wh, config)
    path = [0, *(stop.index for stop in plan.stops)]
    departures = [0.0, *(stop.departure_h for stop in plan.stops)]
    pieces = [legs.route(i, j, t)[1:] for (i, j), t in zip(itertools.pairwise(path), departures, strict=False)]
    route = np.vstack([np.asarray([start], dtype=np.int64), *pieces])
    return SiteTargets(start, (float(xy[0, 0]), float(xy[0, 1])), candidates, plan, route)


# --- output files --------------------------------------------------------------------------


def _lonlat(x: ArrayLike, y: ArrayLike) -> tuple[NDArray, NDArray]:
    """Longitude in [-180, 180) and latitude [deg] of map points [m]."""
    lat, lon = xy_to_latlon(x, y)
    return np.mod(lon + 180.0, 360.0) - 180.0, lat


def write_targets(site: SiteTargets, prior: xr.Dataset, dem: xr.DataArray, out_dir: str | Path,
                  overwrite: bool = False) -> list[Path]:
    """Write ``targets.csv``, ``targets.geojson`` and ``targets.png``, each atomically.

    - ``targets.csv``: one row per stop, the start first (order 0): order, stop, lat, lon [deg],
      x_m, y_m [m], value_bits [bit], arrival_h, departure_h [h], and the prior's
      weh_top1m_mean_wt_pct, weh_top1m_std_wt_pct [wt%] and ice_probability [-] there.
    - ``targets.geojson``: the start, every candidate (``order`` null when skipped) and the route
      as a LineString, in planetocentric longitude [-180, 180) and latitude [deg] of the Moon.
    - ``targets.png``: hillshade, prior ice probability, candidates, numbered stops, route.

    Parameters
    ----------
    site : SiteTargets
        The plan (:func:`plan_targets`).
    prior : xarray.Dataset
        The water prior on the same grid.
    dem : xarray.DataArray
        Heights [m] on the same grid, for the hillshade.
    out_dir : path-like
        Output folder (:func:`lupex.files.claim_folder`: created, or one lupex made).
    overwrite : bool
        Whether existing files may be replaced.

    Returns
    -------
    list of Path
        The files written.
    """
    out = claim_folder(out_dir, OUTPUT_FILES, overwrite)
    paths = [out / name for name in OUTPUT_FILES]
    cand = site.candidates
    plan = site.plan
    rows = np.concatenate([[site.start_rc[0]], cand.rows])
    cols = np.concatenate([[site.start_rc[1]], cand.cols])
    xs = np.concatenate([[site.start_xy[0]], cand.x])
    ys = np.concatenate([[site.start_xy[1]], cand.y])
    lon, lat = _lonlat(xs, ys)
    layers = {name: np.asarray(prior[name].values, dtype=float)[rows, cols]
              for name in ("weh_top1m_mean", "weh_top1m_std", "ice_probability")}
    order_of = {stop.index: k for k, stop in enumerate(plan.stops, start=1)}
    timing = {0: (0.0, 0.0), **{stop.index: (stop.arrival_h, stop.departure_h) for stop in plan.stops}}
    values = np.concatenate([[0.0], cand.value_bits])

    with atomic_output(paths[0], overwrite) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["order", "stop", "lat", "lon", "x_m", "y_m", "value_bits", "arrival_h", "departure_h",
                         "weh_top1m_mean_wt_pct", "weh_top1m_std_wt_pct", "ice_probability"])
        for k in [0, *(stop.index for stop in plan.stops)]:
            writer.writerow([order_of.get(k, 0), k, f"{lat[k]:.6f}", f"{lon[k]:.6f}", f"{xs[k]:.2f}", f"{ys[k]:.2f}",
                             f"{values[k]:.4f}", f"{timing[k][0]:.4f}", f"{timing[k][1]:.4f}",
                             f"{layers['weh_top1m_mean'][k]:.4f}", f"{layers['weh_top1m_std'][k]:.4f}",
                             f"{layers['ice_probability'][k]:.4f}"])

    features = []
    for k in range(len(xs)):
        properties = {"role": "start" if k == 0 else ("stop" if k in order_of else "skipped"), "stop": k,
                      "order": 0 if k == 0 else order_of.get(k), "value_bits": round(float(values[k]), 4),
                      "arrival_h": round(timing[k][0], 4) if k in timing else None,
                      "departure_h": round(timing[k][1], 4) if k in timing else None,
                      "weh_top1m_mean_wt_pct": round(float(layers["weh_top1m_mean"][k]), 4),
                      "ice_probability": round(float(layers["ice_probability"][k]), 4)}
        features.append({"type": "Feature", "properties": properties,
                         "geometry": {"type": "Point", "coordinates": [round(float(lon[k]), 7),
                                                                       round(float(lat[k]), 7)]}})
    route_lon, route_lat = _lonlat(dem["x"].values[site.route[:, 1]], dem["y"].values[site.route[:, 0]])
    features.append({"type": "Feature",
                     "properties": {"role": "route", "duration_h": round(plan.duration_h, 4),
                                    "energy_wh": round(plan.energy_wh, 2), "value_bits": round(plan.value_bits, 4)},
                     "geometry": {"type": "LineString",
                                  "coordinates": [[round(float(a), 7), round(float(b), 7)]
                                                  for a, b in zip(route_lon, route_lat, strict=True)]}})
    with atomic_output(paths[1], overwrite) as tmp:
        tmp.write_text(json.dumps({"type": "FeatureCollection", "features": features}, indent=1) + "\n")

    _figure(site, prior, dem, paths[2], overwrite)
    return paths


def _figure(site: SiteTargets, prior: xr.Dataset, dem: xr.DataArray, path: Path, overwrite: bool) -> None:
    extent = extent_km(dem)
    fig = Figure(figsize=(7.5, 6.5), dpi=110, layout="constrained")
    ax = fig.subplots()
    ax.imshow(hillshade(dem), cmap="gray", extent=extent, vmin=0, vmax=1, interpolation="nearest")
    probability = np.asarray(prior["ice_probability"].values, dtype=float)
    top = float(np.nanmax(probability)) if np.isfinite(probability).any() else 0.0
    image = ax.imshow(probability, cmap="Blues", extent=extent, vmin=0.0, vmax=top if top > 0.0 else 1.0, alpha=0.55,
                      interpolation="nearest")
    fig.colorbar(image, ax=ax, shrink=0.8, label="prior probability of ice within 1.5 m")
    route = site.route
    ax.plot(dem["x"].values[route[:, 1]] / 1000.0, dem["y"].values[route[:, 0]] / 1000.0, color="darkorange",
            lw=1.6, label="route")
    cand = site.candidates
    ax.scatter(cand.x / 1000.0, cand.y / 1000.0, s=40, facecolors="none", edgecolors="crimson", lw=1.2,
               label="candidates")
    for order, stop in enumerate(site.plan.stops, start=1):
        ax.scatter(stop.x / 1000.0, stop.y / 1000.0, s=70, color="crimson", edgecolors="white", zorder=3)
        ax.annotate(str(order), (stop.x / 1000.0, stop.y / 1000.0), xytext=(5, 5), textcoords="offset points",
                    color="black", fontsize=9, weight="bold")
    ax.scatter([site.start_xy[0] / 1000.0], [site.start_xy[1] / 1000.0], marker="*", s=180, color="gold",
               edgecolors="black", zorder=4, label="start")
    plan = site.plan
    ax.set_title(f"{len(plan.stops)} of {len(cand.x)} candidates: {plan.value_bits:.1f} bit in "
                 f"{plan.duration_h:.1f} h, {plan.energy_wh:.0f} Wh")
    ax.set_xlabel("x, polar stereographic [km]")
    ax.set_ylabel("y, polar stereographic [km]")
    ax.legend(loc="lower right", fontsize=8)
    with atomic_output(path, overwrite) as tmp:
        fig.savefig(tmp, format="png")
