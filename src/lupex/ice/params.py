"""Settings of the water model: background, patchy ice deposit, dry lag layer and depth bins.

Every default comes from the observations summarised in REFERENCES.md section 5 or is marked
as an assumption. WEH is water-equivalent hydrogen in percent by weight [wt%]
(WEH = 9e-4 x H [ppm]).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["IceParams"]

LCROSS_MEAN_WT_PCT = 5.6
"""Water in the Cabeus ejecta plume [wt%] (Colaprete et al. 2010, Science 330, 463)."""

LCROSS_STD_WT_PCT = 2.9
"""Its one-sigma uncertainty [wt%] (Colaprete et al. 2010)."""


def _lcross_sigma() -> float:
    """Log-space spread of a lognormal whose coefficient of variation is LCROSS's 2.9 / 5.6."""
    return math.sqrt(math.log1p((LCROSS_STD_WT_PCT / LCROSS_MEAN_WT_PCT) ** 2))


class IceParams(BaseModel):
    """The water prior and ground-truth model (validated, immutable; loadable from TOML)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    background_wt_pct: float = Field(
        0.05, ge=0.0, le=1.0,
        description="WEH of dry regolith: outside ice-stable ground, between ice patches and in the dry "
        "lag above them [wt%]. 0.05 wt% ~ 55 ppm H, inside the 0.01-0.1 wt% of dry regolith seen by "
        "Lunar Prospector (Feldman et al. 2001, JGR 106, 23231).")
    patch_fraction: float = Field(
        0.2, ge=0.0, lt=1.0,
        description="Fraction of ice-stable ground covered by ice patches [-]. Middle of the 0.1-0.3 that, "
        "with the LCROSS concentrations, reproduces the Lunar Prospector PSR average of 1.5 +- 0.8 wt% "
        "(Feldman et al. 2001; Colaprete et al. 2010).")
    concentration_median_wt_pct: float = Field(
        5.0, gt=0.0, le=100.0,
        description="Median WEH inside an ice patch [wt%]; lognormal. 5.0 wt% with the default spread "
        "gives the LCROSS mean 5.6 wt% (Colaprete et al. 2010).")
    concentration_sigma: float = Field(
        round(_lcross_sigma(), 3), ge=0.0, le=3.0,
        description="Standard deviation of ln(WEH) inside an ice patch [-]. sqrt(ln(1 + (2.9/5.6)^2)) = 0.487 "
        "gives the LCROSS coefficient of variation, 5.6 +- 2.9 wt% (Colaprete et al. 2010).")
    patch_radius_m: float = Field(
        5.0, ge=0.5, le=500.0,
        description="Radius of one ice patch [m]; values are correlated over up to two radii. Assumption: "
        "no orbital instrument resolves ice below ~10 km (LEND, Lunar Prospector), so the scale is chosen at "
        "a few rover footprints, where a rover's neutron survey (1-2 m footprint) can find and map it.")
    dry_layer_min_m: float = Field(
        0.1, ge=0.0, le=1.5,
        description="Thinnest dry lag over an ice patch [m] (uniform between min and max). Lunar Prospector: "
        "ice under <= 40 cm of dry regolith (Feldman et al. 2001); REFERENCES.md section 5: 10-50 cm.")
    dry_layer_max_m: float = Field(
        0.5, ge=0.0, le=1.5,
        description="Thickest dry lag over an ice patch [m] (Feldman et al. 2001; Mini-RF: Cabeus ice below "
        "~0.5 m).")
    exposed_frost_probability: float = Field(
        0.175, ge=0.0, le=1.0,
        description="Probability that a patch on ground where ice is stable at the surface has no dry lag [-]. "
        "0.175 x patch fraction 0.2 = 3.5 % of that ground exposed, the M3 exposed-ice fraction of PSR area "
        "(Li et al. 2018, PNAS 115, 8907); ShadowCam saw none on Shackleton's floor, so 0 is also defensible.")
    depth_step_m: float = Field(
        0.1, gt=0.0, le=0.5,
        description="Thickness of one depth bin [m]: the ~10 cm sample bins of the drill and water analysis "
        "(REFERENCES.md section 5).")
    max_depth_m: float = Field(
        1.5, ge=1.5, le=10.0,
        description="Bottom of the modelled column [m]; at least the 1.5 m reach of the LUPEX drill (JAXA).")

    @model_validator(mode="after")
    def _consistent(self) -> IceParams:
        if self.dry_layer_max_m < self.dry_layer_min_m:
            raise ValueError(f"dry_layer_max_m ({self.dry_layer_max_m:g}) is below dry_layer_min_m "
                             f"({self.dry_layer_min_m:g})")
        bins = self.max_depth_m / self.depth_step_m
        if abs(bins - round(bins)) > 1e-6:
            raise ValueError(f"max_depth_m ({self.max_depth_m:g}) is not a whole number of depth_step_m "
                             f"({self.depth_step_m:g})")
        return self

    def depth_edges(self) -> NDArray:
        """Tops and bottoms of the depth bins, from 0 to ``max_depth_m`` [m]."""
        n = round(self.max_depth_m / self.depth_step_m)
        return np.linspace(0.0, self.max_depth_m, n + 1)

    def concentration_moments(self) -> tuple[float, float]:
        """Mean and mean square of the WEH inside a patch [wt%, wt%^2] (lognormal)."""
        m, s2 = self.concentration_median_wt_pct, self.concentration_sigma**2
        return m * math.exp(s2 / 2.0), m * m * math.exp(2.0 * s2)
