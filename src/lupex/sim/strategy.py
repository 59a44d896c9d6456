"""Where to drill next: the adaptive strategy (water map, value against cost) and the baseline.

**Adaptive.** At each decision the candidates are the pixels of the prior grid within
``search_radius_m`` of the rover, on ground the planner allows, at least
``min_drill_spacing_m`` from every hole and not tried before. Each is scored by what the
rover's water map (:class:`lupex.sim.water_map.WaterBelief`) expects of a hole there,

    score = (P(W >= threshold) + information_weight x I) / (1 + d / (v T_service)),

``P`` the posterior probability of at least the threshold, ``I`` the information gain of a core
[bit], ``d`` the straight distance [m], ``v`` the nominal speed and ``T_service`` the time of a
hole (drill plus analysis): value per unit of time spent, in the spirit of the
value-per-cost heuristics of orienteering (Vansteenwegen et al. 2011). The best is taken.
At the site the rover surveys a square with its neutron spectrometer and drills the spot of
highest posterior probability of the threshold within it (:meth:`Adaptive.drill_spot`).

**Baseline.** Drill sites fixed before landing: the cells of highest prior probability of
the threshold (the prior alone), spaced as the adaptive ones, among those whose parking node
(the lattice node of their block) sees the Sun at least ``baseline_min_sun`` of the mission
(the sky is known before landing), visited nearest first, and drilled at the planned spot with
no survey.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm

from lupex.rover.model import RoverConfig
from lupex.rover.power import drill_time_h
from lupex.sim.config import SimConfig
from lupex.sim.water_map import WaterBelief

__all__ = ["Adaptive", "Baseline", "Strategy", "make_strategy"]


class Strategy(Protocol):
    """Chooses drill sites."""

    def next_site(self, belief: WaterBelief, rover_xy: tuple[float, float], holes: list,
                  tried: set[tuple[float, float]], usable: Callable[[NDArray, NDArray], NDArray]
                  ) -> tuple[float, float] | None:
        """The next site to drive to [m] among the ``usable(x, y)`` places, or None when none is worth it."""

    def drill_spot(self, belief: WaterBelief, x: float, y: float) -> tuple[float, float]:
        """Where exactly to drill at a site reached [m]."""


class _Sites:
    """Candidate cells of a site: allowed pixel centres and their prior."""

    def __init__(self, world, rover: RoverConfig, config: SimConfig):
        dem = world.dem
        allowed = np.isfinite(world.search.cost)
        edge = int(np.ceil((config.survey_size_m + config.edge_margin_m) / abs(dem.rio.transform().a)))
        allowed[:edge] = allowed[-edge:] = False  # room for the survey and the local planner's corridor
        allowed[:, :edge] = allowed[:, -edge:] = False
        rows, cols = np.nonzero(allowed & (world.prior["ice_probability"].values > 0))
        self.rows, self.cols = rows, cols
        self.x = dem["x"].values[cols].astype(float)
        self.y = dem["y"].values[rows].astype(float)
        self.config = config
        hole_h = float(drill_time_h(rover, rover.drill.max_depth_m)) + rover.instruments.sample_analysis_h
        self.service_m = rover.mobility.nominal_speed_m_s * hole_h * 3600.0

    def open(self, holes: list, tried: set[tuple[float, float]]) -> NDArray:
        """Which candidates are far enough from every hole and not tried yet."""
        keep = np.ones(self.x.size, dtype=bool)
        spacing = self.config.min_drill_spacing_m
        for hole in holes:
            keep &= np.hypot(self.x - hole.x, self.y - hole.y) >= spacing
        for x, y in tried:
            keep &= (self.x != x) | (self.y != y)
        return keep


class Adaptive:
    """The adaptive strategy (see the module notes)."""

    def __init__(self, world, rover: RoverConfig, config: SimConfig):
        self.sites = _Sites(world, rover, config)
        self.config = config

    def next_site(self, belief: WaterBelief, rover_xy: tuple[float, float], holes: list,
                  tried: set[tuple[float, float]], usable: Callable[[NDArray, NDArray], NDArray]
                  ) -> tuple[float, float] | None:
        s, c = self.sites, self.config
        distance = np.hypot(s.x - rover_xy[0], s.y - rover_xy[1])
        pick = np.flatnonzero(s.open(holes, tried) & (distance <= c.search_radius_m))
        pick = pick[usable(s.x[pick], s.y[pick])]
        if pick.size == 0:
            return None
        score = belief.drill_score(s.x[pick], s.y[pick], c.threshold_wt_pct)
        value = (score.probability_above + c.information_weight * score.information_gain_bits)
        value = value / (1.0 + distance[pick] / s.service_m)
        best = pick[int(np.argmax(value))]
        return float(s.x[best]), float(s.y[best])

    def drill_spot(self, belief: WaterBelief, x: float, y: float) -> tuple[float, float]:
        half = self.config.survey_size_m / 2.0
        offsets = np.arange(-half, half + 1e-9, 1.0)
        gx, gy = np.meshgrid(x + offsets, y + offsets)
        mean, sd = belief.posterior(gx.ravel(), gy.ravel())
        chance = norm.sf(self.config.threshold_wt_pct, loc=mean, scale=np.maximum(sd, 1e-9))
        k = int(np.argmax(chance + 1e-6 * mean))  # ties (all certain) go to the wetter spot
        return float(gx.ravel()[k]), float(gy.ravel()[k])


class Baseline:
    """The baseline strategy: sites fixed before landing from the prior (see the module notes)."""

    def __init__(self, world, rover: RoverConfig, config: SimConfig):
        self.sites = s = _Sites(world, rover, config)
        self.config = config
        rows, cols = s.rows, s.cols
        chance = norm.sf(config.threshold_wt_pct, loc=world.prior["weh_top1m_mean"].values[rows, cols],
                         scale=np.maximum(world.prior["weh_top1m_std"].values[rows, cols], 1e-9))
        reach = np.hypot(s.x - world.landing_xy[0], s.y - world.landing_xy[1]) <= config.search_radius_m
        # the Sun is known before landing: plan only sites whose parking node sees it half the mission
        node = world.search.lattice.block_nodes(rows, cols)
        sunny = world.search.model.sun_fraction.mean(axis=0) >= config.baseline_min_sun
        reach &= (node >= 0) & sunny[np.maximum(node, 0)]
        planned: list[int] = []
        for k in np.argsort(-chance, kind="stable"):  # greedy, spaced, before landing
            if len(planned) >= config.max_drills:
                break
            if reach[k] and all(np.hypot(s.x[k] - s.x[j], s.y[k] - s.y[j]) >= config.min_drill_spacing_m
                                for j in planned):
                planned.append(int(k))
        self.planned = np.asarray(planned, dtype=np.int64)

    def next_site(self, belief: WaterBelief, rover_xy: tuple[float, float], holes: list,
                  tried: set[tuple[float, float]], usable: Callable[[NDArray, NDArray], NDArray]
                  ) -> tuple[float, float] | None:
        s = self.sites
        left = [k for k in self.planned if (float(s.x[k]), float(s.y[k])) not in tried]
        left = [k for k, ok in zip(left, usable(s.x[left], s.y[left]), strict=True) if ok]
        if not left:
            return None
        nearest = min(left, key=lambda k: (np.hypot(s.x[k] - rover_xy[0], s.y[k] - rover_xy[1]), k))
        return float(s.x[nearest]), float(s.y[nearest])

    def drill_spot(self, belief: WaterBelief, x: float, y: float) -> tuple[float, float]:
        return x, y


def make_strategy(config: SimConfig, world, rover: RoverConfig) -> Strategy:
    """The strategy named by ``config.strategy``."""
    return (Adaptive if config.strategy == "adaptive" else Baseline)(world, rover, config)
