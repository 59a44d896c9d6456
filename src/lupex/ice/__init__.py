"""Water: the prior from the thermal maps, and seeded ground truths drawn from it (see docs/ice.md)."""

from lupex.ice.params import IceParams
from lupex.ice.prior import PRIOR_STYLES, water_prior
from lupex.ice.prior_folder import read_prior, write_prior
from lupex.ice.truth import PatchSample, WaterTruth
from lupex.ice.truth_folder import open_truth, plan_truth_grid, write_truth

__all__ = ["PRIOR_STYLES", "IceParams", "PatchSample", "WaterTruth", "open_truth", "plan_truth_grid", "read_prior",
           "water_prior", "write_prior", "write_truth"]
