"""How long a mission run will take, estimated before any work from the sizes that drive each stage.

Each stage's time is its size (pixels x azimuths for the horizons, pixels x epochs for the sky
maps, lattice nodes x steps for the planner's sky, ticks for the simulation) times a rate
measured on the reference machine: ``lupex mission`` on the default site (1024 x 1024 pixels at
20 m, 360 azimuths, 100 days, 2,401 hourly sky epochs, 12,335 lattice nodes, 9,600 ticks of
15 min) on 2 cores, timed stage by stage in one run at commit 9b63f97 (254 s in all; the
simulation from docs/benchmarks.md). Another machine, or a site whose terrain makes the planner
work harder, runs faster or slower; the estimate is meant to tell minutes from hours before a
run starts, not to time it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LONG_RUN_S", "MissionCost", "mission_cost"]

_DEFAULT_PX = 1024 * 1024

SITE_S_PER_PX = 4.0 / _DEFAULT_PX
"""Site synthesis and hazard layers [s per pixel] (4 s on the default site)."""

HORIZON_S_PER_PX_AZIMUTH = 36.0 / (_DEFAULT_PX * 360)
"""Horizon cube [s per pixel and azimuth] (36 s for 1024^2 x 360)."""

MAPS_S_PER_PX_EPOCH = (56.0 + 74.0) / (_DEFAULT_PX * 2401)
"""Mean Sun and Earth maps, longest darkness and Earth blackout [s per pixel and epoch]
(56 s + 74 s for 1024^2 pixels x 2,401 epochs). Assumption: linear in the epochs, as the
darkness and blackout scans are; the mean maps' tables grow more slowly, so long missions are
overestimated rather than under."""

PSR_S_PER_PX = 29.0 / _DEFAULT_PX
"""Permanent shadow over an 18.61-year cycle, a fixed span [s per pixel] (29 s on the default site)."""

THERMAL_S_PER_PX = 19.0 / 128**2
"""Coarse thermal model [s per coarse pixel] (19 s for 128^2)."""

NODE_SKY_S_PER_NODE_STEP = 15.0 / (12335 * 2402)
"""Sun and Earth at the planner's lattice nodes [s per node and sky step] (15 s for 12,335 x 2,402)."""

SIM_S_PER_TICK = 22.7 / 9600
"""The simulation [s per tick] (22.7 s for the 100-day adaptive mission, docs/benchmarks.md)."""

LONG_RUN_S = 600.0
"""A run estimated to take longer than this is announced as long before it starts [s].

Assumption: ten minutes is past the point where a user would rather know up front (and choose a
smaller site, fewer days or a longer sky step) than find out from the progress bar."""


@dataclass(frozen=True)
class MissionCost:
    """The estimated seconds of each stage of a mission run [s]."""

    stages: dict[str, float]

    @property
    def seconds(self) -> float:
        """The whole run [s]."""
        return sum(self.stages.values())

    @property
    def long(self) -> bool:
        """Whether the run is estimated to take longer than :data:`LONG_RUN_S`."""
        return self.seconds > LONG_RUN_S

    def describe(self) -> str:
        """One line for a person: the total and the two longest stages."""
        top = sorted(self.stages.items(), key=lambda item: -item[1])[:2]
        parts = ", ".join(f"{name} {_duration(seconds)}" for name, seconds in top)
        head = "a long run: " if self.long else ""
        return f"{head}estimated {_duration(self.seconds)} on a 2-core machine ({parts})"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def mission_cost(shape: tuple[int, int], azimuths: int, map_epochs: int, thermal_px: int, nodes: int,
                 sky_steps: int, ticks: int) -> MissionCost:
    """Estimate each stage of a mission run from the sizes that drive it.

    Parameters
    ----------
    shape : tuple of int
        Site rows and columns [pixels].
    azimuths : int
        Azimuths of the horizon cube.
    map_epochs : int
        Epochs of the Sun and Earth maps over the mission.
    thermal_px : int
        Pixels of the coarse thermal grid.
    nodes : int
        Nodes of the planner's lattice.
    sky_steps : int
        Steps of the planner's node sky.
    ticks : int
        Simulation ticks.

    Returns
    -------
    MissionCost
        Seconds per stage [s].
    """
    px = float(shape[0]) * shape[1]
    return MissionCost({
        "site": px * SITE_S_PER_PX,
        "horizons": px * azimuths * HORIZON_S_PER_PX_AZIMUTH,
        "sky maps": px * map_epochs * MAPS_S_PER_PX_EPOCH,
        "permanent shadow": px * PSR_S_PER_PX,
        "thermal": thermal_px * THERMAL_S_PER_PX,
        "planner sky": float(nodes) * sky_steps * NODE_SKY_S_PER_NODE_STEP,
        "simulation": ticks * SIM_S_PER_TICK,
    })
