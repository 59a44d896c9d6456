"""Temperatures of one facet of regolith under the real Sun, with an unobstructed horizon."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from lupex.constants import AU_KM, SOLAR_CONSTANT_W_M2
from lupex.sky.ephemeris import parse_utc, sun_earth_topocentric
from lupex.sky.illumination import disk_visible_fraction
from lupex.sky.tracks import epochs
from lupex.thermal.regolith import RegolithParams, albedo, run_to_equilibrium

__all__ = ["LUNAR_SEASON_DAYS", "FacetConfig", "absorbed_flux", "facet_temperatures"]

LUNAR_SEASON_DAYS = 346.62
"""Period of the Sun's declination cycle in the lunar sky, the eclipse year [days]: the
forcing repeats after a whole number of them."""


class FacetConfig(BaseModel):
    """A facet of regolith at a place (validated, immutable)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lat: float = Field(ge=-90, le=90, description="Latitude [deg].")
    lon: float = Field(0.0, description="East longitude [deg].")
    slope_deg: float = Field(0.0, ge=0, le=90, description="Facet slope [deg].")
    aspect_deg: float = Field(0.0, description="Downslope direction, clockwise from local north [deg].")
    seasons: int = Field(1, ge=1, le=20, description="Forcing length in lunar seasons of 346.62 days.")
    step_h: float = Field(1.0, gt=0, le=12, description="Time step [h].")
    start_utc: str = Field("2025-01-01T00:00:00Z", description="Start of the forcing, ISO 8601 UTC.")
    regolith: RegolithParams = Field(default_factory=RegolithParams, description="Regolith properties.")


def absorbed_flux(config: FacetConfig) -> tuple[np.ndarray, float]:
    """Absorbed solar flux on the facet at each step [W m^-2], and the step [s].

    The visible fraction of the Sun's disk above the flat local horizon, the incidence on the
    facet, the Sun's distance and the incidence-dependent albedo are all applied.
    """
    start = parse_utc(config.start_utc)
    end = start + np.timedelta64(int(config.seasons * LUNAR_SEASON_DAYS * 86400), "s")
    times = epochs(start, end, config.step_h)[:-1]
    sun = sun_earth_topocentric(config.lat, config.lon, times).sun
    e, az = np.radians(sun.elevation_deg), np.radians(sun.azimuth_deg)
    s, a = np.radians(config.slope_deg), np.radians(config.aspect_deg)
    cos_i = np.sin(e) * np.cos(s) + np.cos(e) * np.sin(s) * np.cos(az - a)
    incidence = np.degrees(np.arccos(np.clip(cos_i, 0.0, 1.0)))
    irradiance = SOLAR_CONSTANT_W_M2 * (AU_KM / sun.distance_km) ** 2
    visible = disk_visible_fraction(sun.elevation_deg, sun.angular_radius_deg)
    flux = irradiance * visible * np.clip(cos_i, 0.0, None) * (1.0 - albedo(incidence, config.regolith))
    return flux, config.step_h * 3600.0


def facet_temperatures(config: FacetConfig) -> dict[str, float]:
    """Surface temperature statistics of a facet at equilibrium.

    Returns
    -------
    dict
        ``t_max_k``, ``t_min_k``, ``t_mean_k`` (surface, over the forcing) [K],
        ``t_bottom_mean_k`` (at the grid bottom, at least 1.5 m) [K], ``bottom_depth_m``,
        ``cycles`` (forcing cycles until converged).
    """
    flux, dt = absorbed_flux(config)
    run = run_to_equilibrium(flux, dt, config.regolith, period_s=29.530589 * 86400.0, tolerance_k=1e-3,
                             min_depth_m=1.5)
    return {
        "t_max_k": float(run.surface_k.max()),
        "t_min_k": float(run.surface_k.min()),
        "t_mean_k": float(run.surface_k.mean()),
        "t_bottom_mean_k": float(run.mean_profile_k[-1]),
        "bottom_depth_m": float(run.grid.z[-1]),
        "cycles": run.cycles,
    }
