"""Time-dependent leg costs between stops, from the time-dependent planner.

The science-stop selection (:mod:`lupex.planning.targets`) asks for the time and energy of a
leg from stop ``i`` to stop ``j`` when leaving ``depart_h`` hours after the start. Here each
answer is a plan of :func:`lupex.planning.timed.plan_route` over the sky from the departure on:
the departure is rounded up to the next sky step (the sky is sampled per step), the rover
leaves with ``initial_soc`` of its capacity, and the leg needs no safe haven at its end (the
rover stays to drill). Answers are cached per (i, j, departure step).
"""

from __future__ import annotations

import math

import numpy as np

from lupex.errors import LupexError
from lupex.planning.lattice import Lattice
from lupex.planning.timed import Model, plan_route

__all__ = ["TimedLegs"]


class TimedLegs:
    """``leg(i, j, depart_h) -> (duration [h], driving energy [Wh]) or None`` over a lattice.

    Parameters
    ----------
    lattice : Lattice
        The planning lattice.
    model : Model
        Its search model over the whole period (made with ``end_at_haven=False``).
    nodes : list of int
        The lattice node of each stop; index 0 is the start.
    initial_soc : float
        State of charge the rover leaves each stop with [-].
    """

    def __init__(self, lattice: Lattice, model: Model, nodes: list[int], initial_soc: float) -> None:
        self.lattice = lattice
        self.model = model
        self.nodes = list(nodes)
        self.initial_soc = initial_soc
        self._cache: dict[tuple[int, int, int], tuple[float, float] | None] = {}
        self._nodes_driven: dict[tuple[int, int, int], list[int]] = {}

    @property
    def step_h(self) -> float:
        """Length of a sky step [h]."""
        return self.model.ticks_per_step * self.model.tick_h

    def _key(self, i: int, j: int, depart_h: float) -> tuple[int, int, int]:
        return i, j, max(0, math.ceil(depart_h / self.step_h - 1e-9))

    def __call__(self, i: int, j: int, depart_h: float) -> tuple[float, float] | None:
        """The leg from stop ``i`` to stop ``j`` leaving ``depart_h`` hours after the start."""
        key = self._key(i, j, depart_h)
        if key not in self._cache:
            self._cache[key] = self._leg(key, depart_h)
        return self._cache[key]

    def route(self, i: int, j: int, depart_h: float) -> np.ndarray:
        """Rows and columns of the lattice nodes the leg passes, ``i``'s first, shape (k, 2).

        Raises
        ------
        LupexError
            When ``j`` cannot be reached from ``i`` leaving then.
        """
        if self(i, j, depart_h) is None:
            raise LupexError(f"stop {j} cannot be reached from stop {i} leaving {depart_h:.1f} h after the start")
        return self.lattice.pixel[self._nodes_driven[self._key(i, j, depart_h)]]

    def _leg(self, key: tuple[int, int, int], depart_h: float) -> tuple[float, float] | None:
        i, j, first_step = key
        if self.nodes[i] == self.nodes[j]:
            self._nodes_driven[key] = [self.nodes[i]]
            return (first_step * self.step_h - depart_h, 0.0)
        later = self.model.from_step(first_step)
        if later is None:
            return None
        plan = plan_route(self.lattice, later, self.nodes[i], [self.nodes[j]], self.initial_soc, diagnose=False)
        if not plan.reached:
            return None
        drives = [s for s in plan.steps if s.action == "drive"]
        self._nodes_driven[key] = [self.nodes[i], *(s.node_to for s in drives)]
        energy_wh = float(np.sum([self.lattice.drive_wh[s.node_from, s.move] for s in drives]))
        return (first_step * self.step_h - depart_h + plan.arrival_tick * self.model.tick_h, energy_wh)
