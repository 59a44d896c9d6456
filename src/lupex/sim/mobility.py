"""Driving on regolith: slip on slopes, and the odometry drift that accumulates between localisation fixes.

Slip
    A track of contact length ``L`` on soil of shear-deformation modulus ``K`` develops the
    tractive effort ``F(i) = F_max [1 - K / (i L) (1 - exp(-i L / K))]`` at slip ``i``
    (Janosi & Hanamoto 1961, Proc. 1st Int. Conf. Terrain-Vehicle Systems, Turin; Wong 2008,
    *Theory of Ground Vehicles*, 4th ed., ch. 2), with ``F_max = A c + W cos(theta) tan(phi)``
    (Bekker 1956, *Theory of Land Locomotion*). Climbing a slope ``theta`` at steady speed needs
    ``F = W (sin(theta) + f_r cos(theta))`` with the motion-resistance coefficient ``f_r``. With
    ``mu = F_max / (W cos(theta))`` (the cohesion term lumped into an effective friction
    coefficient, held constant; Assumption) and ``x = i L / K``, the balance reads

        ``1 - (1 - exp(-x)) / x = r``,  ``r = (tan(theta) + f_r) / mu``,

    solved in closed form with the Lambert W function: ``x = 1/a + W0(-(1/a) exp(-1/a))``,
    ``a = 1 - r``. Slip reaches 1 (the tracks spin in place) at the stall slope, where
    ``r = 1 - (1 - exp(-L/K)) / (L/K)``; lupex sets ``mu`` from that stall slope. Odometry is
    calibrated on level ground, so :func:`slip_fraction` reports the loss beyond level-ground
    slip, ``s = 1 - (1 - i(theta)) / (1 - i(0))``: 0 on the flat, 1 at the stall slope.
    Downhill the rover brakes and loses nothing (skid is not modelled).

Odometry
    Between fixes the position error is a 2-D random walk in distance driven (Brownian motion,
    independent per axis): its per-axis variance grows linearly, its standard deviation as the
    square root of the distance, ``sigma^2(D) = sigma_fix^2 + q D``. Odometry drift is quoted
    as a fraction of distance; ``q = f^2 D_ref / 2`` makes the RMS radial error of a drive of
    ``D_ref`` from a perfect fix equal ``f D_ref``. A localisation fix redraws the error with
    standard deviation ``sigma_fix`` per axis.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field
from scipy.special import lambertw

from lupex.errors import LupexError
from lupex.rover.model import MobilityConfig

__all__ = ["Localizer", "OdometryConfig", "SlipConfig", "drive_time_factor", "progress_m", "slip_fraction"]


class SlipConfig(BaseModel):
    """Traction of the crawler tracks on regolith (validated, immutable)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stall_slope_deg: float = Field(
        27.0, gt=0.0, lt=90.0,
        description="Slope at which slip reaches 100 % [deg]. Assumption: 27 deg, 2 deg above the ~25 deg "
        "JAXA slope limit, so that slip at the limit is ~56 % (MER rovers met 40-50 % on 20-30 deg slopes, "
        "Maimone, Cheng & Matthies 2007, J. Field Robotics 24). It implies an effective friction angle of "
        "~36 deg, within the 30-50 deg of lunar soil (Carrier, Olhoeft & Mendell 1991, Lunar Sourcebook).",
    )
    track_length_m: float = Field(
        0.3, gt=0.0,
        description="Contact length L of a crawler track [m]. Assumption: 0.3 m (four crawler legs under a "
        "1.75 m body, JAXA; not published).",
    )
    shear_modulus_m: float = Field(
        0.025, gt=0.0,
        description="Shear-deformation modulus K of the soil [m]. Assumption: 2.5 cm; terramechanics fits for "
        "dry sand and lunar soil simulants give 1-2.5 cm (Wong 2008).",
    )


def _traction_ratio(x: NDArray) -> NDArray:
    """``1 - (1 - exp(-x)) / x``: tractive effort over its maximum at ``x = i L / K`` (Janosi & Hanamoto 1961)."""
    return 1.0 - -np.expm1(-x) / x


def _track_slip(slope_deg: NDArray, config: SlipConfig, rolling_resistance: float) -> NDArray:
    """Absolute track slip ``i`` [-] on an uphill slope, 1 at and beyond the stall slope."""
    lk = config.track_length_m / config.shear_modulus_m
    at_stall = _traction_ratio(np.float64(lk))
    mu = (math.tan(math.radians(config.stall_slope_deg)) + rolling_resistance) / at_stall
    r = (np.tan(np.radians(slope_deg)) + rolling_resistance) / mu
    below = r < at_stall
    a = 1.0 - np.where(below, r, 0.5)
    x = 1.0 / a + lambertw(-np.exp(-1.0 / a) / a).real
    return np.where(below, np.minimum(x / lk, 1.0), 1.0)


def slip_fraction(slope_deg: ArrayLike, config: SlipConfig | None = None,
                  rolling_resistance: float | None = None) -> NDArray:
    """Fraction of the commanded distance lost to slip beyond level-ground slip [-].

    Parameters
    ----------
    slope_deg : array_like
        Climb angle along the direction of travel [deg]; 0 or negative (downhill) loses nothing.
    config : SlipConfig, optional
        Traction settings; defaults when absent.
    rolling_resistance : float, optional
        Motion-resistance coefficient f_r of the tracks [-]: the rover's
        (``lupex.rover.model.MobilityConfig.rolling_resistance``, also its default).

    Returns
    -------
    ndarray
        ``s`` in [0, 1]: 0 on the flat, 1 at and above the stall slope.
    """
    config = config or SlipConfig()
    f_r = rolling_resistance if rolling_resistance is not None else (
        MobilityConfig.model_fields["rolling_resistance"].default)
    slope = np.asarray(slope_deg, dtype=float)
    if np.isnan(slope).any() or (np.abs(slope) >= 90).any():
        raise LupexError("slopes must be angles in degrees between -90 and 90")
    level = _track_slip(np.zeros(()), config, f_r)
    climb = np.maximum(slope, 0.0)
    return np.clip(1.0 - (1.0 - _track_slip(climb, config, f_r)) / (1.0 - level), 0.0, 1.0)


def progress_m(commanded_m: ArrayLike, slope_deg: ArrayLike, config: SlipConfig | None = None) -> NDArray:
    """Distance made good, ``commanded (1 - s)`` [m].

    Parameters
    ----------
    commanded_m : array_like
        Distance the tracks were driven, by odometry [m].
    slope_deg : array_like
        Climb angle along the direction of travel [deg].
    config : SlipConfig, optional
        Traction settings; defaults when absent.
    """
    return np.asarray(commanded_m, dtype=float) * (1.0 - slip_fraction(slope_deg, config))


def drive_time_factor(slope_deg: ArrayLike, config: SlipConfig | None = None) -> NDArray:
    """Factor on the time and energy of driving a distance, ``1 / (1 - s)`` [-]; inf at the stall slope.

    Parameters
    ----------
    slope_deg : array_like
        Climb angle along the direction of travel [deg].
    config : SlipConfig, optional
        Traction settings; defaults when absent.
    """
    s = slip_fraction(slope_deg, config)
    with np.errstate(divide="ignore"):
        return np.where(s < 1.0, 1.0 / (1.0 - s), np.inf)


class OdometryConfig(BaseModel):
    """Dead-reckoning drift and localisation fixes (validated, immutable)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    drift_fraction: float = Field(
        0.03, ge=0.0, lt=1.0,
        description="RMS radial position error after drift_reference_m of driving from a perfect fix, as a "
        "fraction of that distance [-]. Assumption: 3 %, within the 2-5 % assumed for wheel/track odometry "
        "with IMU heading; Spirit's wheel odometry erred by 0.8-10.8 % on slopes (Li et al. 2008, ISPRS "
        "Archives 37 B1) and MER visual odometry brought it to ~1-2 % (Maimone et al. 2007).",
    )
    drift_reference_m: float = Field(
        100.0, gt=0.0,
        description="Distance at which drift_fraction holds [m]. Assumption: 100 m, a short leg.",
    )
    fix_sigma_m: float = Field(
        1.0, ge=0.0,
        description="Per-axis standard deviation of the position error just after a localisation fix [m]. "
        "Assumption: ~1 m, matching rover images to orbital images of 0.5-1 m pixels.",
    )
    fix_interval_m: float | None = Field(
        100.0, gt=0.0,
        description="Distance driven between automatic localisation fixes [m]; None fixes only when asked "
        "(e.g. at each stop). Assumption: 100 m.",
    )

    @property
    def variance_rate_m(self) -> float:
        """Per-axis variance added per metre driven, ``q = f^2 D_ref / 2`` [m^2/m]."""
        return self.drift_fraction**2 * self.drift_reference_m / 2.0


class Localizer:
    """Where the rover believes it is: the true position plus an error that drifts with distance.

    Parameters
    ----------
    config : OdometryConfig
        Drift and fix settings.
    rng : numpy.random.Generator
        Source of randomness; the same generator state and calls give the same errors.
    """

    def __init__(self, config: OdometryConfig, rng: np.random.Generator):
        self.config = config
        self._rng = rng
        self._error = np.zeros(2)
        self._since = 0.0
        self.fix()

    @property
    def error(self) -> NDArray:
        """Estimated minus true position (x, y) [m]."""
        return self._error.copy()

    @property
    def distance_since_fix_m(self) -> float:
        """Distance driven since the last fix [m]."""
        return self._since

    @property
    def sigma_m(self) -> float:
        """Per-axis standard deviation of the error the rover expects now [m]."""
        return math.sqrt(self.config.fix_sigma_m**2 + self.config.variance_rate_m * self._since)

    def fix(self) -> None:
        """Localise: the error is redrawn with ``fix_sigma_m`` per axis."""
        self._error = self._rng.normal(0.0, self.config.fix_sigma_m, 2)
        self._since = 0.0

    def drive(self, distance_m: float) -> NDArray:
        """Accumulate the drift of driving ``distance_m`` (fixing every ``fix_interval_m``); the new error [m].

        Parameters
        ----------
        distance_m : float
            Distance driven [m], >= 0.
        """
        if not (math.isfinite(distance_m) and distance_m >= 0):
            raise LupexError(f"distance driven ({distance_m:g} m) must be a finite, non-negative number")
        interval = self.config.fix_interval_m
        left = float(distance_m)
        while left > 0.0:
            step = left if interval is None else min(left, interval - self._since)
            self._error = self._error + self._rng.normal(0.0, math.sqrt(self.config.variance_rate_m * step), 2)
            self._since += step
            left -= step
            if interval is not None and self._since >= interval * (1.0 - 1e-12):
                self.fix()
        return self.error

    def estimate(self, x: float, y: float) -> tuple[float, float]:
        """The position the rover believes it is at, for a true position (x, y) [m]."""
        return float(x + self._error[0]), float(y + self._error[1])
