"""Traverse planning: costmaps, the static least-cost planner, the time-dependent planner on a
lattice with the battery, the Sun and the Earth, landing-site ranking and science stops."""
