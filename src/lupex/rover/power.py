"""Power and energy of the rover: driving, sunlight on vertical panels, the battery, the drill.

Pure, vectorised functions of a :class:`~lupex.rover.model.RoverConfig` and arrays (numpy
broadcasting applies between the array arguments); they return floats or ndarrays.

Driving on a slope (steady speed, no regeneration):

    P_drive = m g v (C_rr cos(s) + sin(s)) / eta_drive + P_avionics,    g = 1.625 m s^-2,

with the track term floored at zero downhill, where gravity outweighs the motion resistance
and the motors brake without recovering energy. Sunlight on a vertical panel facing azimuth
``a`` (Sun at elevation ``e`` and azimuth ``A``):

    P_solar = S0 (1 au / d)^2 f eta A_panel cos(e) max(0, cos(A - a)),

``f`` the visible fraction of the Sun's disk, ``S0`` the solar constant, ``d`` the Sun's
distance; fixed panels add up, a tracking panel always has ``cos(A - a) = 1``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lupex.constants import AU_KM, MOON_GRAVITY_M_S2, SOLAR_CONSTANT_W_M2
from lupex.errors import LupexError
from lupex.rover.model import RoverConfig

__all__ = [
    "battery_step",
    "drill_energy_wh",
    "drill_time_h",
    "drive_energy_wh",
    "drive_power_w",
    "panel_facing",
    "shadow_endurance_h",
    "solar_power_w",
]


def drive_power_w(config: RoverConfig, slope_deg: ArrayLike, speed_m_s: ArrayLike | None = None) -> NDArray:
    """Electrical power drawn while driving at a steady speed on a slope [W].

    ``P = m g v (C_rr cos(s) + sin(s)) / eta_drive + P_avionics``; the track term is floored at
    zero downhill (no regenerative braking), so the least a drive draws is the avionics load.

    Parameters
    ----------
    config : RoverConfig
        The rover (mass, ``mobility.rolling_resistance``, ``drive_efficiency``, ``avionics_w``).
    slope_deg : array_like
        Slope along the direction of travel [deg], positive uphill, negative downhill.
    speed_m_s : array_like, optional
        Speed over the ground [m/s]; ``mobility.nominal_speed_m_s`` when absent.
    """
    mobility = config.mobility
    speed = mobility.nominal_speed_m_s if speed_m_s is None else np.asarray(speed_m_s, dtype=float)
    slope = np.radians(np.asarray(slope_deg, dtype=float))
    track_w = config.mass_kg * MOON_GRAVITY_M_S2 * speed * (
        mobility.rolling_resistance * np.cos(slope) + np.sin(slope))
    return np.maximum(track_w, 0.0) / mobility.drive_efficiency + mobility.avionics_w


def drive_energy_wh(config: RoverConfig, length_m: ArrayLike, slope_deg: ArrayLike,
                    speed_m_s: ArrayLike | None = None) -> NDArray:
    """Energy to drive a leg of constant slope [Wh].

    Parameters
    ----------
    config : RoverConfig
        The rover.
    length_m : array_like
        Distance driven along the ground [m].
    slope_deg : array_like
        Slope along the leg [deg], positive uphill.
    speed_m_s : array_like, optional
        Speed over the ground [m/s], > 0; ``mobility.nominal_speed_m_s`` when absent.
    """
    speed = config.mobility.nominal_speed_m_s if speed_m_s is None else np.asarray(speed_m_s, dtype=float)
    hours = np.asarray(length_m, dtype=float) / speed / 3600.0
    return drive_power_w(config, slope_deg, speed) * hours


def solar_power_w(config: RoverConfig, sun_fraction: ArrayLike, sun_elevation_deg: ArrayLike,
                  sun_azimuth_deg: ArrayLike, rover_heading_deg: ArrayLike = 0.0,
                  sun_distance_km: ArrayLike = AU_KM) -> NDArray:
    """Electrical power from the vertical solar array [W].

    Each fixed panel gets ``cos(elevation) * max(0, cos(sun azimuth - heading - panel azimuth))``
    of the irradiance on its area; a tracking panel faces the Sun's azimuth, ``cos(elevation)``.
    Light reflected by the terrain is neglected.

    Parameters
    ----------
    config : RoverConfig
        The rover (``solar`` section).
    sun_fraction : array_like
        Visible fraction of the Sun's disk [-], in [0, 1] (e.g. from
        :func:`lupex.sky.illumination.disk_visible_fraction` or the horizon tables).
    sun_elevation_deg : array_like
        Elevation of the Sun's centre above the astronomical horizon [deg].
    sun_azimuth_deg : array_like
        Azimuth of the Sun [deg], clockwise from north; any north (local or grid) as long as
        ``rover_heading_deg`` uses the same one.
    rover_heading_deg : array_like
        Direction the rover faces [deg], clockwise from the same north.
    sun_distance_km : array_like
        Distance to the Sun [km]; 1 au by default.
    """
    solar = config.solar
    elevation = np.radians(np.asarray(sun_elevation_deg, dtype=float))
    irradiance = SOLAR_CONSTANT_W_M2 * (AU_KM / np.asarray(sun_distance_km, dtype=float)) ** 2
    relative = np.asarray(sun_azimuth_deg, dtype=float) - np.asarray(rover_heading_deg, dtype=float)
    if solar.orientation == "tracking":
        facing = np.ones_like(relative)
    else:
        normals = np.asarray(solar.panel_azimuths_deg, dtype=float)
        facing = np.clip(np.cos(np.radians(relative[..., None] - normals)), 0.0, None).sum(axis=-1)
    projected_m2 = solar.panel_area_m2 * np.clip(np.cos(elevation), 0.0, None) * facing
    return irradiance * np.asarray(sun_fraction, dtype=float) * solar.efficiency * projected_m2


def panel_facing(rover: RoverConfig, relative_azimuth_deg: NDArray) -> NDArray:
    """Facing factor of the array for the Sun at an azimuth relative to the heading [-].

    The ratio of :func:`lupex.rover.power.solar_power_w` to its value for one panel square
    to the Sun: the sum over fixed panels of ``max(0, cos(relative - panel azimuth))``, or 1
    for a tracking panel.
    """
    one_panel = solar_power_w(rover.model_copy(update={"solar": rover.solar.model_copy(
        update={"orientation": "tracking"})}), 1.0, 0.0, 0.0)
    return solar_power_w(rover, 1.0, 0.0, relative_azimuth_deg) / one_panel


def battery_step(soc_wh: ArrayLike, power_in_w: ArrayLike, power_out_w: ArrayLike, dt_s: ArrayLike,
                 config: RoverConfig) -> NDArray:
    """Energy in the battery after a time step [Wh].

    A surplus on the bus (``power_in_w > power_out_w``) charges the battery at
    ``charge_efficiency``; a deficit is drawn from it, ``1 / discharge_efficiency`` times over.
    The result is clipped to ``[0, capacity_wh]``: surplus beyond full is shed. The reserve
    ``min_soc`` is a planning limit and is not enforced here.

    Parameters
    ----------
    soc_wh : array_like
        Energy in the battery at the start of the step [Wh].
    power_in_w : array_like
        Power supplied to the bus, e.g. :func:`solar_power_w` [W].
    power_out_w : array_like
        Load on the bus [W].
    dt_s : array_like
        Length of the step [s].
    config : RoverConfig
        The rover (``battery`` section).
    """
    battery = config.battery
    net_w = np.asarray(power_in_w, dtype=float) - np.asarray(power_out_w, dtype=float)
    stored_w = np.where(net_w > 0.0, net_w * battery.charge_efficiency, net_w / battery.discharge_efficiency)
    new = np.asarray(soc_wh, dtype=float) + stored_w * np.asarray(dt_s, dtype=float) / 3600.0
    return np.clip(new, 0.0, battery.capacity_wh)


def _checked_depth(config: RoverConfig, depth_m: ArrayLike) -> NDArray:
    depth = np.asarray(depth_m, dtype=float)
    if np.any(~(depth >= 0.0)) or np.any(depth > config.drill.max_depth_m):
        raise LupexError(f"drill depths must lie in [0, {config.drill.max_depth_m:g}] m, the drill's reach "
                         f"(drill.max_depth_m); got {depth.min():g} to {depth.max():g} m")
    return depth


def drill_time_h(config: RoverConfig, depth_m: ArrayLike) -> NDArray:
    """Time to drill a hole to ``depth_m`` [h], ``time_per_m_h * depth``.

    Raises
    ------
    LupexError
        When a depth is negative, not a number, or beyond ``drill.max_depth_m``.
    """
    return config.drill.time_per_m_h * _checked_depth(config, depth_m)


def drill_energy_wh(config: RoverConfig, depth_m: ArrayLike) -> NDArray:
    """Energy the drill itself uses to reach ``depth_m`` [Wh], ``power_w * time_per_m_h * depth``.

    The rover's idle load during the same time is not included.

    Raises
    ------
    LupexError
        When a depth is negative, not a number, or beyond ``drill.max_depth_m``.
    """
    return config.drill.energy_per_m_wh * _checked_depth(config, depth_m)


def shadow_endurance_h(config: RoverConfig, load_w: ArrayLike) -> NDArray:
    """Time a full battery carries a constant load down to the reserve [h].

    ``capacity_wh (1 - min_soc) discharge_efficiency / load``: the same discharge as
    :func:`battery_step` with no power in. A zero load gives infinity.

    Parameters
    ----------
    config : RoverConfig
        The rover (``battery`` section).
    load_w : array_like
        Constant load [W], >= 0 (e.g. ``config.shadow_load_w`` for waiting out a shadow).
    """
    with np.errstate(divide="ignore"):
        return config.battery.usable_energy_wh / np.asarray(load_w, dtype=float)
