"""The rover's prospecting instruments: noisy measurements of the hidden water truth.

Four models read a :class:`~lupex.ice.truth.WaterTruth` and return what the rover would see:

* Neutron spectrometer: the epithermal count rate falls as hydrogen rises,
  ``C(W) = C0 / (1 + a W)``, with ``W`` the water-equivalent hydrogen (WEH) of the sensed
  column weighted by depth with ``exp(-z / L)`` (epithermal leakage depth ``L``) and averaged
  over the footprint; counts are Poisson.
* Ground-penetrating radar: the depth of the dry-lag / ice interface, found with the Swerling I
  probability ``P_d = P_fa^(1 / (1 + SNR))`` of its reflection, with false alarms at ``P_fa``.
* Drill: an auger to ``rover.drill.max_depth_m`` that stops on a buried rock; refusals form a
  Poisson process in depth whose rate follows from the Golombek & Rapp (1997) rock model.
* Sample analysis: WEH of each 10 cm interval of the core with absolute plus relative noise.

Every function takes its randomness from the ``numpy.random.Generator`` passed in: the same
inputs and generator state give the same measurements.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.special import exp1

from lupex.errors import LupexError
from lupex.ice.truth import WaterTruth
from lupex.rover.model import RoverConfig
from lupex.rover.power import drill_energy_wh, drill_time_h
from lupex.terrain.rocks import q_of_k

__all__ = [
    "AnalysisConfig",
    "DrillResult",
    "DrillSiteConfig",
    "GprConfig",
    "InstrumentModels",
    "NeutronConfig",
    "analyse_samples",
    "depth_weighted_weh",
    "drill_hole",
    "gpr_detection_probability",
    "gpr_interface_depth",
    "gpr_range_resolution_m",
    "icy_regolith_permittivity",
    "neutron_counts",
    "neutron_estimate",
    "neutron_rate_cps",
    "refusal_rate_per_m",
    "regolith_permittivity",
    "sample_analysis_cost",
    "sensed_weh_wt_pct",
]

SPEED_OF_LIGHT_M_S = 299_792_458.0
"""Speed of light in vacuum [m/s] (SI definition)."""

ICE_DENSITY_KG_M3 = 917.0
"""Density of water ice Ih [kg m^-3] (Petrenko & Whitworth 1999, *Physics of Ice*; ~2 % more at 100 K)."""

ICE_PERMITTIVITY = 3.15
"""Real relative permittivity of water ice at radio frequencies [-] (Evans 1965, J. Glaciol. 5, 773)."""

GRAIN_DENSITY_KG_M3 = 3100.0
"""Density of lunar soil grains [kg m^-3]: specific gravity ~3.1 (Carrier, Olhoeft & Mendell 1991, Lunar Sourcebook)."""

ROCK_HITS_PER_VOLUME_FRACTION = 1.5
"""A vertical line crosses ``1.5 phi / D`` spheres of diameter ``D`` per metre at volume fraction ``phi`` [-]."""


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class NeutronConfig(_Section):
    """The neutron spectrometer: epithermal suppression law, depth and footprint of the sensed column."""

    dry_rate_cps: float = Field(
        20.0, gt=0.0,
        description="Epithermal count rate over regolith without hydrogen, C0 [counts/s]. Assumption: 20 counts/s "
        "(REFERENCES.md section 5); rover rates are not published. The rover instrument (VIPER / Resource "
        "Prospector NSS) uses Lunar Prospector-heritage 3He counters (two 5.7 cm x 20 cm tubes at 10 atm, Feldman "
        "et al. 1999, NIM A 422, 562), which count tens per second at the surface.")
    suppression_per_wt_pct: float = Field(
        0.18, gt=0.0,
        description="Coefficient a of the suppression law C(W) = C0 / (1 + a W) [wt%^-1]. 0.18 reproduces the LEND "
        "polar suppression of ~2 % for ~125 ppm H = 0.1125 wt% WEH (Mitrofanov et al. 2010, Science 330, 483; "
        "REFERENCES.md section 5; uncertain by about x2).")
    leakage_depth_m: float = Field(
        0.2, gt=0.0,
        description="E-folding depth L of the depth weighting exp(-z / L) of the sensed WEH [m]: the ~20 cm "
        "effective leakage depth of epithermal neutrons measured from Lunar Prospector data (Teodoro et al. 2015, "
        "arXiv:1501.05712). Beyond 1 m the weight is exp(-5) < 1 %.")
    footprint_radius_m: float = Field(
        1.5, ge=0.0,
        description="Radius of the ground the WEH is averaged over [m]; 0 senses a point. Assumption: an "
        "omnidirectional detector resolves 1-1.5 times its height (Lawrence et al. 2010, Astrobiology 10, 183), "
        "and the rover carries it about 1 m above the ground; the response is taken as uniform over the disc.")
    footprint_points: int = Field(
        16, ge=1, le=256,
        description="Points of the Vogel (1979) sunflower pattern that sample the footprint disc, each with equal "
        "area [-]. Assumption: 16, several per patch radius of the water truth.")


class GprConfig(_Section):
    """The ground-penetrating radar: range resolution, reflection of the ice interface, false alarms."""

    bandwidth_hz: float = Field(
        500e6, gt=0.0,
        description="Bandwidth B of the high-frequency channel [Hz]: 250-750 MHz around 500 MHz, the Chang'e-3/4 "
        "Lunar Penetrating Radar channel 2 (Fang et al. 2014, RAA 14, 1607); LUPEX's radar is not described. "
        "Range resolution c / (2 sqrt(eps) B) = 0.18 m, within the 0.3 m quoted for Chang'e-4 (Song et al. 2021, "
        "Remote Sens. 13, 48).")
    regolith_density_kg_m3: float = Field(
        1500.0, gt=0.0, lt=GRAIN_DENSITY_KG_M3,
        description="Bulk density of the top 1.5 m of regolith [kg m^-3]: ~1.5 g cm^-3, within the 1.1-1.8 g cm^-3 "
        "profile of Hayne et al. 2017 (JGR Planets 122). Sets the permittivity 1.919^rho (Olhoeft & Strangway "
        "1975, EPSL 24, 394) and the pore space ice can fill.")
    reference_reflection: float = Field(
        0.002, gt=0.0,
        description="Amplitude reflection coefficient whose echo has a signal-to-clutter ratio of 1 [-]; SNR = "
        "(Gamma / reference)^2. Assumption: 0.002 (-54 dB), so an ice layer under dry lag is found about 36 % of the "
        "time at 1 wt%, 75 % at 2 wt% and 95 % at 5 wt%; clutter from rocks and the surface echo, not receiver "
        "noise, limits lunar radar, and attenuation is negligible within 1.5 m (loss tangent < 0.005, Olhoeft & "
        "Strangway 1975).")
    false_alarm_probability: float = Field(
        0.01, gt=0.0, lt=1.0,
        description="Probability that a sounding reports an interface where none is found [-], also the detection "
        "threshold of the Swerling I law. Assumption: 0.01.")
    depth_sigma_fraction: float = Field(
        0.5, ge=0.0,
        description="One-sigma error of a picked interface depth as a fraction of the range resolution [-]. "
        "Assumption: 0.5 (a pick is better than the resolution; velocity errors are ignored).")
    window_m: float = Field(
        1.5, gt=0.0,
        description="Deepest interface the processing reports; false alarms fall uniformly between the range "
        "resolution and this depth [m]. Assumption: 1.5 m, the drill's reach (JAXA).")

    @model_validator(mode="after")
    def _window_below_resolution(self) -> GprConfig:
        resolution = gpr_range_resolution_m(self)
        if self.window_m <= resolution:
            raise ValueError(f"window_m ({self.window_m:g} m) must exceed the range resolution ({resolution:.3f} m); "
                             "raise window_m or bandwidth_hz")
        return self


class DrillSiteConfig(_Section):
    """Where the drill meets the ground: refusal on buried rocks and the smallest sample."""

    refusal_rock_diameter_m: float = Field(
        0.1, gt=0.0,
        description="Smallest buried rock that stops the auger [m]. Assumption: 0.1 m, several auger diameters; "
        "smaller clasts are pushed aside or drilled through.")
    min_sample_m: float = Field(
        0.02, ge=0.0,
        description="Thinnest partial interval at the bottom of a stopped hole that is still analysed [m]. "
        "Assumption: 2 cm of core gives too little soil below that.")


class AnalysisConfig(_Section):
    """Water analysis of the drilled samples (REIWA: heating, thermogravimetry, mass spectrometry)."""

    absolute_sigma_wt_pct: float = Field(
        0.1, ge=0.0,
        description="Absolute one-sigma noise of a measured interval [wt%]. Assumption: 0.1 wt% (REFERENCES.md "
        "section 5); REIWA's accuracy is not published.")
    relative_sigma: float = Field(
        0.075, ge=0.0,
        description="Relative one-sigma noise, a fraction of the true WEH [-]. Assumption: 0.075, the middle of "
        "the 5-10 % in REFERENCES.md section 5.")


class InstrumentModels(BaseModel):
    """All instrument models of the mission simulator (validated, immutable; loadable from TOML)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    neutron: NeutronConfig = Field(default_factory=NeutronConfig, description="Neutron spectrometer.")
    gpr: GprConfig = Field(default_factory=GprConfig, description="Ground-penetrating radar.")
    drill: DrillSiteConfig = Field(default_factory=DrillSiteConfig, description="Drill refusal and sampling.")
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig, description="Sample water analysis.")


# --- Neutron spectrometer -------------------------------------------------------------------------------------


def neutron_rate_cps(weh_wt_pct: ArrayLike, config: NeutronConfig) -> NDArray:
    """Expected epithermal count rate ``C0 / (1 + a W)`` [counts/s].

    The hyperbolic suppression law with ``a`` fitted to the LEND polar suppression (Mitrofanov
    et al. 2010); see :class:`NeutronConfig`.

    Parameters
    ----------
    weh_wt_pct : array_like
        WEH of the sensed column [wt%], >= 0.
    config : NeutronConfig
        The spectrometer.
    """
    return config.dry_rate_cps / (1.0 + config.suppression_per_wt_pct * np.asarray(weh_wt_pct, dtype=float))


def depth_weighted_weh(concentration_wt_pct: ArrayLike, ice_top_m: ArrayLike, background_wt_pct: float,
                       leakage_depth_m: float) -> NDArray:
    """WEH of a two-layer column weighted by depth with ``exp(-z / L) / L`` [wt%].

    Background ``b`` above the ice top ``d`` and concentration ``c`` below integrate to
    ``b + (c - b) exp(-d / L)``.

    Parameters
    ----------
    concentration_wt_pct : array_like
        WEH below the ice top [wt%]; NaN where there is no ice.
    ice_top_m : array_like
        Depth of the ice top [m]; NaN where there is no ice.
    background_wt_pct : float
        WEH of the dry regolith above the ice and where there is none [wt%].
    leakage_depth_m : float
        E-folding depth ``L`` of the weighting [m].
    """
    reach = np.exp(-np.nan_to_num(np.asarray(ice_top_m, dtype=float), nan=np.inf) / leakage_depth_m)
    ice = np.nan_to_num(np.asarray(concentration_wt_pct, dtype=float), nan=background_wt_pct)
    return background_wt_pct + (ice - background_wt_pct) * reach


def _footprint_offsets(config: NeutronConfig) -> tuple[NDArray, NDArray]:
    """Equal-area points of the footprint disc (Vogel 1979, Math. Biosci. 44, 179) [m]."""
    k = np.arange(config.footprint_points)
    radius = config.footprint_radius_m * np.sqrt((k + 0.5) / config.footprint_points)
    angle = k * math.pi * (3.0 - math.sqrt(5.0))  # the golden angle
    return radius * np.cos(angle), radius * np.sin(angle)


def sensed_weh_wt_pct(truth: WaterTruth, x: ArrayLike, y: ArrayLike, config: NeutronConfig) -> NDArray:
    """WEH the spectrometer senses at each point: depth-weighted, averaged over the footprint [wt%].

    Each footprint point contributes :func:`depth_weighted_weh` of the truth's column there;
    points off the truth's grid are left out, and a footprint with none on it gives NaN.

    Parameters
    ----------
    truth : WaterTruth
        The hidden water.
    x, y : array_like
        Map coordinates of the instrument [m]; broadcast together.
    config : NeutronConfig
        The spectrometer.
    """
    x, y = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(x, y))
    dx, dy = _footprint_offsets(config)
    found = truth.sample(x[..., None] + dx, y[..., None] + dy)
    column = depth_weighted_weh(found.concentration_wt_pct, found.ice_top_m, truth.params.background_wt_pct,
                                config.leakage_depth_m)
    on_grid = found.inside.sum(axis=-1)
    total = np.where(found.inside, column, 0.0).sum(axis=-1)
    return np.where(on_grid > 0, total / np.maximum(on_grid, 1), np.nan)


def neutron_counts(truth: WaterTruth, x: ArrayLike, y: ArrayLike, integration_s: ArrayLike,
                   config: NeutronConfig, rng: np.random.Generator) -> NDArray:
    """Epithermal counts recorded in one integration at each point, Poisson with mean ``C(W) t`` [counts].

    A rover that drives at speed ``v`` while it integrates for ``t`` smears the footprint over
    ``v t`` metres along its track; to model that, pass points along the track and sum their
    counts over shorter integrations.

    Parameters
    ----------
    truth : WaterTruth
        The hidden water.
    x, y : array_like
        Map coordinates of the instrument [m].
    integration_s : array_like
        Integration time [s], >= 0; broadcast with ``x`` and ``y``.
    config : NeutronConfig
        The spectrometer.
    rng : numpy.random.Generator
        Source of the Poisson draws.

    Raises
    ------
    LupexError
        When an integration time is negative or not finite, or a footprint lies off the truth's grid.
    """
    seconds = np.asarray(integration_s, dtype=float)
    if not np.all(np.isfinite(seconds) & (seconds >= 0.0)):
        raise LupexError("neutron integration times must be finite and >= 0 s")
    weh = sensed_weh_wt_pct(truth, x, y, config)
    off = int(np.isnan(weh).sum())
    if off:
        raise LupexError(f"{off} neutron measurement point(s) lie off the water truth's grid; keep the rover "
                         "inside the prior's extent")
    return rng.poisson(neutron_rate_cps(weh, config) * seconds)


def neutron_estimate(counts: ArrayLike, integration_s: ArrayLike,
                     config: NeutronConfig) -> tuple[NDArray, NDArray]:
    """WEH estimated from counts by inverting the suppression law, and its one-sigma error [wt%].

    ``W = (C0 t / N - 1) / a``, clipped to >= 0. The delta method on the Poisson rate gives
    ``sigma_W = (C0 t / N) / (a sqrt(N))``; to second order the estimate is biased high by
    ``(1 + a W) / (a N)``, small next to ``sigma_W`` once ``N`` is more than a few hundred.
    No counts give an infinite estimate and error.

    Parameters
    ----------
    counts : array_like
        Recorded counts [counts], >= 0.
    integration_s : array_like
        Integration time of each count [s], > 0; broadcast with ``counts``.
    config : NeutronConfig
        The spectrometer the counts came from.

    Returns
    -------
    weh_wt_pct, sigma_wt_pct : ndarray
        The estimate and its one-sigma error [wt%].

    Raises
    ------
    LupexError
        When a count is negative or an integration time is not positive.
    """
    n = np.asarray(counts, dtype=float)
    seconds = np.asarray(integration_s, dtype=float)
    if not np.all(n >= 0.0):
        raise LupexError("neutron counts must be >= 0")
    if not np.all(np.isfinite(seconds) & (seconds > 0.0)):
        raise LupexError("neutron integration times must be finite and > 0 s to estimate WEH")
    a = config.suppression_per_wt_pct
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = config.dry_rate_cps * seconds / n  # 1 + a W
        sigma = ratio / (a * np.sqrt(n))
    return np.maximum((ratio - 1.0) / a, 0.0), sigma


# --- Ground-penetrating radar ----------------------------------------------------------------------------------


def regolith_permittivity(density_kg_m3: ArrayLike) -> NDArray:
    """Relative permittivity of dry lunar soil, ``1.919^rho`` with ``rho`` in g cm^-3 [-] (Olhoeft & Strangway 1975).

    Parameters
    ----------
    density_kg_m3 : array_like
        Bulk density [kg m^-3].
    """
    return 1.919 ** (np.asarray(density_kg_m3, dtype=float) / 1000.0)


def icy_regolith_permittivity(weh_wt_pct: ArrayLike, density_kg_m3: float) -> NDArray:
    """Relative permittivity of regolith whose pores hold ice [-].

    CRIM mixing (Birchak et al. 1974, Proc. IEEE 62, 93): ice replaces vacuum in the pores,
    ``sqrt(eps) = sqrt(eps_dry) + v (sqrt(eps_ice) - 1)``, with the ice volume fraction
    ``v = rho W / ((100 - W) rho_ice)`` capped at the porosity ``1 - rho / rho_grain``.

    Parameters
    ----------
    weh_wt_pct : array_like
        WEH of the layer [wt%], in [0, 100).
    density_kg_m3 : float
        Bulk density of the dry regolith [kg m^-3].
    """
    weh = np.asarray(weh_wt_pct, dtype=float)
    porosity = 1.0 - density_kg_m3 / GRAIN_DENSITY_KG_M3
    ice_volume = np.minimum(density_kg_m3 * weh / ((100.0 - weh) * ICE_DENSITY_KG_M3), porosity)
    return (np.sqrt(regolith_permittivity(density_kg_m3)) + ice_volume * (math.sqrt(ICE_PERMITTIVITY) - 1.0)) ** 2


def gpr_range_resolution_m(config: GprConfig) -> float:
    """Range resolution of the radar in dry regolith, ``c / (2 sqrt(eps) B)`` [m].

    Interfaces shallower than this merge with the surface echo and are not found.
    """
    return SPEED_OF_LIGHT_M_S / (2.0 * math.sqrt(float(regolith_permittivity(config.regolith_density_kg_m3)))
                                 * config.bandwidth_hz)


def gpr_detection_probability(lag_weh_wt_pct: ArrayLike, ice_weh_wt_pct: ArrayLike, config: GprConfig) -> NDArray:
    """Probability that the radar finds the interface between a dry lag and an icy layer [-].

    Normal-incidence reflection ``Gamma = (n2 - n1) / (n2 + n1)`` with ``n = sqrt(eps)`` of the
    two layers (:func:`icy_regolith_permittivity`), ``SNR = (Gamma / reference)^2``, and the
    Swerling I detection law ``P_d = P_fa^(1 / (1 + SNR))`` (Swerling 1960, IRE Trans. IT-6,
    269; Skolnik, *Introduction to Radar Systems*): no contrast gives the false-alarm rate.

    Parameters
    ----------
    lag_weh_wt_pct, ice_weh_wt_pct : array_like
        WEH above and below the interface [wt%].
    config : GprConfig
        The radar.
    """
    n1 = np.sqrt(icy_regolith_permittivity(lag_weh_wt_pct, config.regolith_density_kg_m3))
    n2 = np.sqrt(icy_regolith_permittivity(ice_weh_wt_pct, config.regolith_density_kg_m3))
    snr = ((n2 - n1) / (n2 + n1) / config.reference_reflection) ** 2
    return config.false_alarm_probability ** (1.0 / (1.0 + snr))


def gpr_interface_depth(truth: WaterTruth, x: ArrayLike, y: ArrayLike, config: GprConfig,
                        rng: np.random.Generator) -> NDArray:
    """Depth of the dry-lag / ice interface the radar reports at each point [m]; NaN where none.

    Where ice lies at least one range resolution deep, the interface is found with
    :func:`gpr_detection_probability` and its depth is the true one plus Gaussian noise of
    ``depth_sigma_fraction`` resolutions (floored at 0). Where nothing is found, a false alarm
    reports a depth uniform between the resolution and ``window_m`` with probability
    ``false_alarm_probability``. Exposed ice and ice above the resolution give no interface.

    Parameters
    ----------
    truth : WaterTruth
        The hidden water.
    x, y : array_like
        Map coordinates of the soundings [m]; broadcast together.
    config : GprConfig
        The radar.
    rng : numpy.random.Generator
        Source of the detection, false-alarm and depth draws.

    Raises
    ------
    LupexError
        When a sounding lies off the truth's grid.
    """
    x, y = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(x, y))
    found = truth.sample(x, y)
    off = int((~found.inside).sum())
    if off:
        raise LupexError(f"{off} radar sounding(s) lie off the water truth's grid; keep the rover inside the "
                         "prior's extent")
    background = truth.params.background_wt_pct
    resolution = gpr_range_resolution_m(config)
    top = found.ice_top_m
    interface = np.isfinite(top) & (top >= resolution)
    ice = np.nan_to_num(found.concentration_wt_pct, nan=background)
    p_detect = np.where(interface, gpr_detection_probability(background, ice, config), 0.0)
    u_detect, u_false, u_depth = rng.random((3, *x.shape))
    noise = rng.standard_normal(x.shape)
    detected = u_detect < p_detect
    false_alarm = ~detected & (u_false < config.false_alarm_probability)
    picked = np.maximum(np.where(interface, top, 0.0) + config.depth_sigma_fraction * resolution * noise, 0.0)
    spurious = resolution + (config.window_m - resolution) * u_depth
    return np.where(detected, picked, np.where(false_alarm, spurious, np.nan))


# --- Drill and sample analysis ---------------------------------------------------------------------------------


def refusal_rate_per_m(rock_fraction: ArrayLike, config: DrillSiteConfig) -> NDArray:
    """Rate of drill refusals per metre of depth [m^-1].

    Rocks at depth are taken to fill the same volume fraction as they cover of the surface
    (Delesse's principle: area fraction = volume fraction), with the Golombek & Rapp (1997)
    size distribution ``dphi = k q exp(-q D) dD``, ``q = 1.79 + 0.152 / k``. A thin vertical
    auger crosses ``1.5 dphi / D`` rocks of diameter ``D`` per metre, so rocks of at least
    ``D_min`` stop it at the rate ``1.5 k q E1(q D_min)`` (``E1`` the exponential integral).
    The rate is 0 at ``k = 0`` and grows with ``k``: 0.019 m^-1 at k = 1 %, 0.41 m^-1 at 10 % (D_min = 0.1 m).

    Parameters
    ----------
    rock_fraction : array_like
        Total fractional rock area ``k`` at the site [-], in [0, 1) (the ``rocks.tif`` layer).
    config : DrillSiteConfig
        The drill's refusal settings.

    Raises
    ------
    LupexError
        When a rock fraction lies outside [0, 1).
    """
    k = np.asarray(rock_fraction, dtype=float)
    if not np.all((k >= 0.0) & (k < 1.0)):
        raise LupexError("rock fractions must lie in [0, 1) (the Golombek & Rapp k of the rock map)")
    rocky = k > 0.0
    q = q_of_k(np.where(rocky, k, 1.0))
    rate = ROCK_HITS_PER_VOLUME_FRACTION * k * q * exp1(q * config.refusal_rock_diameter_m)
    return np.where(rocky, rate, 0.0)


@dataclass(frozen=True)
class DrillResult:
    """One drilled hole and the water analysis of its core.

    Attributes
    ----------
    depth_reached_m : float
        Bottom of the hole [m].
    stopped_on_rock : bool
        Whether a buried rock stopped the drill above its full depth.
    time_h, energy_wh : float
        Drilling time [h] and the drill's energy [Wh] for the depth reached (rover.power).
    bin_top_m, bin_bottom_m : ndarray
        Depth intervals of the samples [m]: 10 cm bins, the last one partial when the drill stopped.
    true_weh_wt_pct : ndarray
        True mean WEH of each interval [wt%].
    measured_weh_wt_pct : ndarray
        WEH of each interval reported by the sample analysis [wt%].
    analysis_time_h, analysis_energy_wh : float
        Time [h] and energy [Wh] to analyse the samples, one per interval.
    """

    depth_reached_m: float
    stopped_on_rock: bool
    time_h: float
    energy_wh: float
    bin_top_m: NDArray
    bin_bottom_m: NDArray
    true_weh_wt_pct: NDArray
    measured_weh_wt_pct: NDArray
    analysis_time_h: float
    analysis_energy_wh: float


def analyse_samples(true_bins_wt_pct: ArrayLike, config: AnalysisConfig, rng: np.random.Generator) -> NDArray:
    """WEH the water analysis reports for each sample [wt%], never negative.

    ``measured = max(0, true + sigma e)``, ``e ~ N(0, 1)``, ``sigma = hypot(absolute, relative * true)``.

    Parameters
    ----------
    true_bins_wt_pct : array_like
        True WEH of each sample [wt%], >= 0.
    config : AnalysisConfig
        The analyser's noise.
    rng : numpy.random.Generator
        Source of the noise.

    Raises
    ------
    LupexError
        When a true value is negative or not a number.
    """
    true = np.asarray(true_bins_wt_pct, dtype=float)
    if not np.all(true >= 0.0):
        raise LupexError("true sample WEH values must be numbers >= 0 wt%")
    sigma = np.hypot(config.absolute_sigma_wt_pct, config.relative_sigma * true)
    return np.maximum(true + sigma * rng.standard_normal(true.shape), 0.0)


def sample_analysis_cost(n_samples: int, rover: RoverConfig) -> tuple[float, float]:
    """Time [h] and energy [Wh] to analyse ``n_samples`` samples.

    ``instruments.sample_analysis_h`` per sample at ``instruments.sample_analysis_w``, on top of
    the idle load.
    """
    hours = n_samples * rover.instruments.sample_analysis_h
    return hours, hours * rover.instruments.sample_analysis_w


def _sample_intervals(depth_m: float, step_m: float, min_sample_m: float) -> tuple[NDArray, NDArray]:
    """Tops and bottoms of the whole bins above ``depth_m`` and of a partial last bin of at least ``min_sample_m``."""
    whole = int(math.floor(depth_m / step_m + 1e-9))
    edges = np.linspace(0.0, whole * step_m, whole + 1)
    if depth_m - edges[-1] >= max(min_sample_m, 1e-9):
        edges = np.append(edges, depth_m)
    return edges[:-1], edges[1:]


def drill_hole(truth: WaterTruth, x: float, y: float, rock_fraction: float, rover: RoverConfig,
               models: InstrumentModels, rng: np.random.Generator) -> DrillResult:
    """Drill one hole toward ``rover.drill.max_depth_m`` and analyse its core.

    The depth of the first refusal is exponential with :func:`refusal_rate_per_m`; the hole
    ends there or at full depth. The core is cut into the truth's depth bins
    (``truth.params.depth_step_m``, 10 cm) and each interval is one sample for
    :func:`analyse_samples`.

    Parameters
    ----------
    truth : WaterTruth
        The hidden water.
    x, y : float
        Map coordinates of the hole [m].
    rock_fraction : float
        Total fractional rock area ``k`` at the site [-] (``rocks.tif``).
    rover : RoverConfig
        The rover (drill reach, rate and power; sample analysis time and power).
    models : InstrumentModels
        The instrument models (``drill`` and ``analysis``).
    rng : numpy.random.Generator
        Source of the refusal depth and the analysis noise.

    Raises
    ------
    LupexError
        When the site lies off the truth's grid or the rock fraction lies outside [0, 1).
    """
    target = rover.drill.max_depth_m
    rate = float(refusal_rate_per_m(rock_fraction, models.drill))
    refusal = -math.log1p(-rng.random()) / rate if rate > 0.0 else math.inf
    depth = min(target, refusal)
    found = truth.sample(x, y)
    if not bool(found.inside):
        raise LupexError(f"drill site ({x:.1f}, {y:.1f}) m lies off the water truth's grid; drill inside the "
                         "prior's extent")
    tops, bottoms = _sample_intervals(depth, truth.params.depth_step_m, models.drill.min_sample_m)
    true = np.array([float(truth.mean_between(found, top, bottom)) for top, bottom in zip(tops, bottoms, strict=True)])
    measured = analyse_samples(true, models.analysis, rng)
    analysis_h, analysis_wh = sample_analysis_cost(true.size, rover)
    return DrillResult(
        depth_reached_m=depth,
        stopped_on_rock=refusal < target,
        time_h=float(drill_time_h(rover, depth)),
        energy_wh=float(drill_energy_wh(rover, depth)),
        bin_top_m=tops,
        bin_bottom_m=bottoms,
        true_weh_wt_pct=true,
        measured_weh_wt_pct=measured,
        analysis_time_h=analysis_h,
        analysis_energy_wh=analysis_wh,
    )
