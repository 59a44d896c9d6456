"""The rover's configuration: a LUPEX / Chandrayaan-5-class rover as validated, immutable data.

Every figure JAXA and ISRO have published (mass, crawler legs, slope limit, 1.5 m drill) is a
default with its source; everything else (power figures, battery, link rate, drill rate) is
not public and is an assumption marked as such, with the analog it leans on (NASA VIPER).
A rover file (TOML or JSON) holds only the keys it changes; the rest keep these defaults.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lupex.config import build, load_toml, not_text
from lupex.errors import LupexError

__all__ = [
    "BatteryConfig",
    "CommsConfig",
    "DrillConfig",
    "InstrumentsConfig",
    "LoadsConfig",
    "MobilityConfig",
    "RoverConfig",
    "SolarArrayConfig",
    "ThermalConfig",
    "load_rover",
    "rover_toml",
]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class MobilityConfig(_Section):
    """Locomotion: slope limits, speeds and the driving power model's coefficients."""

    crawler_legs: int = Field(4, ge=1, description="Tracked crawler legs, each driven and steered [-] (JAXA).")
    max_slope_deg: float = Field(
        25.0, gt=0.0, lt=90.0,
        description="Steepest slope the rover can climb [deg]; about 25 deg (JAXA, 2025 press summaries).",
    )
    slope_margin_deg: float = Field(
        5.0, ge=0.0,
        description="Margin below max_slope_deg that routes are planned to [deg]. Assumption: 5 deg, so plans "
        "stay under 20 deg; slopes from a DEM are uncertain, and plans at a 20 deg limit exceeded it on most "
        "DEM-error realisations while planning 5 deg lower cost only ~1.6 % more distance.",
    )
    nominal_speed_m_s: float = Field(
        0.05, gt=0.0,
        description="Planning speed while driving [m/s]. Assumption: 0.05 m/s made good (not published).",
    )
    peak_speed_m_s: float = Field(
        0.2, gt=0.0,
        description="Highest driving speed [m/s]. Assumption: 0.2 m/s, the peak of NASA's VIPER, the closest "
        "documented analog.",
    )
    rolling_resistance: float = Field(
        0.15, ge=0.0, le=1.0,
        description="Motion-resistance coefficient C_rr of the tracks on regolith [-]: resisting force over "
        "normal load. Assumption: 0.15 (not measured for LUPEX; motion resistance of wheels and tracks on "
        "loose soil from Bekker's terramechanics is typically 0.05-0.2 of the load).",
    )
    drive_efficiency: float = Field(
        0.5, gt=0.0, le=1.0,
        description="Efficiency from battery bus to track work eta_drive [-] (motor, gearbox, track losses). "
        "Assumption: 0.5.",
    )
    avionics_w: float = Field(
        90.0, ge=0.0,
        description="Load while driving besides the track motors [W] (computer, cameras, hazard avoidance, "
        "motor controllers, thermal control). Assumption: 90 W, so driving at the nominal speed draws "
        "100-115 W on 0-15 deg slopes, within the 100-150 W suggested for this class.",
    )

    @property
    def planning_slope_deg(self) -> float:
        """Slope limit routes are planned to, ``max_slope_deg - slope_margin_deg`` [deg]."""
        return self.max_slope_deg - self.slope_margin_deg

    @model_validator(mode="after")
    def _consistent(self) -> MobilityConfig:
        if self.slope_margin_deg >= self.max_slope_deg:
            raise ValueError(f"slope_margin_deg ({self.slope_margin_deg:g}) must be below max_slope_deg "
                             f"({self.max_slope_deg:g}), or no slope is left to plan on")
        if self.nominal_speed_m_s > self.peak_speed_m_s:
            raise ValueError(f"nominal_speed_m_s ({self.nominal_speed_m_s:g}) exceeds peak_speed_m_s "
                             f"({self.peak_speed_m_s:g})")
        return self


class LoadsConfig(_Section):
    """Electrical loads of the rover when it is not driving."""

    idle_w: float = Field(
        60.0, ge=0.0,
        description="Awake and parked [W] (avionics, receiver, thermal control; instruments off). "
        "Assumption: 60 W (30-60 W suggested for this class).",
    )
    hibernation_w: float = Field(
        30.0, ge=0.0,
        description="Lowest-power state while waiting at a safe haven [W], survival heaters not included. "
        "Assumption: 30 W.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> LoadsConfig:
        if self.hibernation_w > self.idle_w:
            raise ValueError(f"hibernation_w ({self.hibernation_w:g}) exceeds idle_w ({self.idle_w:g})")
        return self


class SolarArrayConfig(_Section):
    """Vertical solar panels: the Sun stays within a few degrees of the horizon at the pole."""

    orientation: Literal["fixed", "tracking"] = Field(
        "fixed",
        description="'fixed': vertical panels on the body, facing panel_azimuths_deg; 'tracking': one vertical "
        "panel of panel_area_m2 on a mast that turns to face the Sun's azimuth (panel_azimuths_deg unused). "
        "Assumption: fixed side panels, as on VIPER (JAXA describes a deployable thin-film array).",
    )
    panel_azimuths_deg: tuple[float, ...] = Field(
        (90.0, 180.0, 270.0),
        description="Outward normal of each fixed panel, clockwise from the rover's heading [deg]. "
        "Assumption: right, rear and left sides, as VIPER's three side panels; the front holds the cameras.",
    )
    panel_area_m2: float = Field(
        1.0, gt=0.0,
        description="Active area of each panel [m^2]. Assumption: 1 m^2 (the stowed body is 1.75 x 1.46 x "
        "1.50 m, JAXA); one panel square to the Sun at 1 au then gives ~410 W, near VIPER's 450 W peak.",
    )
    efficiency: float = Field(
        0.30, gt=0.0, le=1.0,
        description="Conversion efficiency from sunlight on the panel to the battery bus [-]. Assumption: 0.30, "
        "space triple-junction cells (~30 % suggested for this class).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> SolarArrayConfig:
        if self.orientation == "fixed" and not self.panel_azimuths_deg:
            raise ValueError("fixed panels need at least one entry in panel_azimuths_deg")
        return self


class BatteryConfig(_Section):
    """The Li-ion battery (JAXA: 'high-energy-density'; no capacity published)."""

    capacity_wh: float = Field(
        3000.0, gt=0.0,
        description="Energy stored when full [Wh]. Assumption: 3 kWh (2-5 kWh suggested for this class).",
    )
    min_soc: float = Field(
        0.25, ge=0.0, lt=1.0,
        description="Reserve: state of charge that planning must never go below [-]. Assumption: 0.25 "
        "(20-30 % suggested for this class).",
    )
    initial_soc: float = Field(1.0, ge=0.0, le=1.0,
                               description="State of charge when the mission starts [-]. Assumption: full.")
    charge_efficiency: float = Field(
        0.95, gt=0.0, le=1.0,
        description="Fraction of surplus bus power stored while charging [-]. Assumption: 0.95 (Li-ion).",
    )
    discharge_efficiency: float = Field(
        0.95, gt=0.0, le=1.0,
        description="Fraction of stored energy delivered to the bus while discharging [-]. Assumption: 0.95.",
    )

    @property
    def usable_energy_wh(self) -> float:
        """Energy delivered to the loads from full down to the reserve [Wh]."""
        return self.capacity_wh * (1.0 - self.min_soc) * self.discharge_efficiency

    @model_validator(mode="after")
    def _consistent(self) -> BatteryConfig:
        if self.initial_soc < self.min_soc:
            raise ValueError(f"initial_soc ({self.initial_soc:g}) is below the reserve min_soc ({self.min_soc:g})")
        return self


class CommsConfig(_Section):
    """The X-band direct-to-Earth link (JAXA: high- and low-gain antennas)."""

    earth_mask_deg: float = Field(
        1.0, ge=0.0, lt=90.0,
        description="Clearance the Earth's centre needs above the terrain horizon for a link [deg]. "
        "Assumption: 1 deg, about the Earth's angular radius seen from the Moon.",
    )
    data_rate_kbit_s: float = Field(
        100.0, gt=0.0,
        description="Downlink rate to a ground station [kbit/s]. Assumption: 100 kbit/s (not published).",
    )
    transmit_w: float = Field(
        45.0, ge=0.0,
        description="Extra load while transmitting [W] (X-band amplifier and transponder). Assumption: 45 W.",
    )


class DrillConfig(_Section):
    """The auger drill (JAXA: to 1.5 m, samples at several depths)."""

    max_depth_m: float = Field(1.5, gt=0.0, description="Deepest hole [m]: 1.5 m (JAXA).")
    time_per_m_h: float = Field(
        1.0, gt=0.0,
        description="Drilling time per metre of depth, sample handling included [h m^-1]. Assumption: 1 h per m "
        "(not published; drills of this class, such as VIPER's TRIDENT, work in 10 cm bites).",
    )
    power_w: float = Field(
        150.0, ge=0.0,
        description="Drill load while drilling, on top of the idle load [W]. Assumption: 150 W "
        "(100-300 W suggested for this class).",
    )

    @property
    def energy_per_m_wh(self) -> float:
        """Drill energy per metre of depth [Wh m^-1]."""
        return self.power_w * self.time_per_m_h


class InstrumentsConfig(_Section):
    """Science instruments (JAXA, ISRO, NASA, ESA payloads; their powers are not published)."""

    neutron_spectrometer_w: float = Field(
        5.0, ge=0.0,
        description="Neutron spectrometer (NASA; gas proportional counters) [W]. Assumption: 5 W.",
    )
    gpr_w: float = Field(15.0, ge=0.0, description="Ground-penetrating radar [W]. Assumption: 15 W.")
    nir_spectrometer_w: float = Field(
        15.0, ge=0.0, description="ALIS near-infrared imaging spectrometer with its lamp [W]. Assumption: 15 W.",
    )
    sample_analysis_w: float = Field(
        100.0, ge=0.0,
        description="REIWA water analysis: sample ovens heated for thermogravimetry and mass spectrometry [W]. "
        "Assumption: 100 W.",
    )
    sample_analysis_h: float = Field(
        2.0, gt=0.0, description="Time to analyse one sample [h]. Assumption: 2 h.",
    )


class ThermalConfig(_Section):
    """Survival in shadow: heaters and the longest time planning allows without sunlight."""

    survival_heater_w: float = Field(
        30.0, ge=0.0,
        description="Heaters that keep the battery and electronics above their survival limits in shadow [W]. "
        "Assumption: 30 W.",
    )
    max_shadow_h: float = Field(
        24.0, gt=0.0,
        description="Longest time planning may keep the rover out of the Sun [h]. Assumption: 24 h; it must "
        "not exceed what the battery lasts from full to the reserve at hibernation plus survival-heater load "
        "(35.6 h with the defaults).",
    )
    box_heat_capacity_j_k: float = Field(
        45000.0, gt=0.0,
        description="Heat capacity of the warm box (avionics and battery as one lumped node) [J K^-1]. "
        "Assumption: about 50 kg at 900 J kg^-1 K^-1 (aluminium structure, Li-ion cells).",
    )
    survival_temp_c: float = Field(
        -20.0, description="Lowest temperature of the warm box; its heaters hold it there [degC]. Assumption: "
        "-20 degC, the usual storage limit of Li-ion cells.",
    )
    max_operating_temp_c: float = Field(
        40.0, description="Warmest the box may get when awake, transmitting, in full Sun: the open louvres are "
        "sized for it [degC]. Assumption: 40 degC, the usual charging limit of Li-ion cells.",
    )
    louvre_closed_c: float = Field(
        0.0, description="Below this box temperature the radiator's louvres are shut [degC]. Assumption.",
    )
    louvre_open_c: float = Field(
        25.0, description="Above this box temperature the louvres are fully open [degC]. Assumption.",
    )
    sink_temp_k: float = Field(
        100.0, gt=0.0,
        description="Effective sink temperature of the radiator [K]: cold sky and 50-100 K polar shadows "
        "(Paige et al. 2010). Assumption: 100 K.",
    )
    sun_absorbing_area_m2: float = Field(
        0.05, ge=0.0,
        description="Absorptance times area of the box that takes the Sun through its blankets [m^2]. "
        "Assumption: 0.05 m^2.",
    )
    initial_temp_c: float = Field(20.0, description="Box temperature at landing [degC]. Assumption.")

    @model_validator(mode="after")
    def _ordered_temperatures(self) -> ThermalConfig:
        sink_c = self.sink_temp_k - 273.15
        if not (sink_c < self.survival_temp_c <= self.louvre_closed_c < self.louvre_open_c
                <= self.max_operating_temp_c):
            raise ValueError("the thermal temperatures must rise as sink_temp_k < survival_temp_c <= louvre_closed_c "
                             "< louvre_open_c <= max_operating_temp_c")
        return self


class RoverConfig(BaseModel):
    """A LUPEX-class rover (validated, immutable; loaded from TOML or JSON)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: str = Field("LUPEX-class rover", min_length=1, description="Label used in reports.")
    mass_kg: float = Field(
        350.0, gt=0.0,
        description="Mass with instruments [kg]: about 350 kg (JAXA, JpGU 2023); some 2025 reports say 250 kg.",
    )
    mobility: MobilityConfig = Field(default_factory=MobilityConfig, description="Locomotion.")
    loads: LoadsConfig = Field(default_factory=LoadsConfig, description="Loads when not driving.")
    solar: SolarArrayConfig = Field(default_factory=SolarArrayConfig, description="Solar array.")
    battery: BatteryConfig = Field(default_factory=BatteryConfig, description="Battery.")
    comms: CommsConfig = Field(default_factory=CommsConfig, description="Direct-to-Earth link.")
    drill: DrillConfig = Field(default_factory=DrillConfig, description="Drill.")
    instruments: InstrumentsConfig = Field(default_factory=InstrumentsConfig, description="Instruments.")
    thermal: ThermalConfig = Field(default_factory=ThermalConfig, description="Survival in shadow.")

    @property
    def shadow_load_w(self) -> float:
        """Load while waiting out a shadow: hibernation plus survival heaters [W]."""
        return self.loads.hibernation_w + self.thermal.survival_heater_w

    @model_validator(mode="after")
    def _shadow_within_battery(self) -> RoverConfig:
        load = self.shadow_load_w
        endurance_h = self.battery.usable_energy_wh / load if load > 0 else float("inf")
        if self.thermal.max_shadow_h > endurance_h:
            raise ValueError(
                f"thermal.max_shadow_h ({self.thermal.max_shadow_h:g} h) exceeds the {endurance_h:.1f} h the "
                f"battery lasts from full to the reserve at the {load:g} W hibernation plus survival-heater load; "
                "lower max_shadow_h or raise battery.capacity_wh"
            )
        return self


def load_rover(path: str | os.PathLike) -> RoverConfig:
    """Read a rover file (TOML, or JSON when the name ends in ``.json``) over the defaults.

    Raises
    ------
    LupexError
        When the file is missing or unreadable, not valid TOML/JSON, or holds an unknown key
        or an unphysical value.
    """
    path = Path(path)
    if path.suffix.lower() != ".json":
        return build(RoverConfig, load_toml(path), str(path))
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LupexError(f"configuration file {path} does not exist") from None
    except IsADirectoryError:
        raise LupexError(f"configuration file {path} is a folder; give a JSON file") from None
    except OSError as exc:
        raise LupexError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise LupexError(not_text(path, exc)) from None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise LupexError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(values, dict):
        raise LupexError(f"{path} must hold a JSON object of rover settings")
    return build(RoverConfig, values, str(path))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    return "[" + ", ".join(_toml_value(item) for item in value) + "]"


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text, width=100, initial_indent="# ", subsequent_indent="# ")


def _toml_fields(model: BaseModel) -> list[str]:
    lines: list[str] = []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if not isinstance(value, BaseModel):
            lines += [*_comment(field.description or ""), f"{name} = {_toml_value(value)}", ""]
    return lines


def rover_toml(config: RoverConfig) -> str:
    """A rover file for ``config``: every key, each with its description as a comment.

    Loading the text back with :func:`load_rover` gives ``config`` again.
    """
    lines = [
        "# lupex rover configuration: LUPEX / Chandrayaan-5-class defaults, units in brackets.",
        "# A rover file only needs the keys it changes; the others keep these defaults.",
        "",
        *_toml_fields(config),
    ]
    for name in RoverConfig.model_fields:
        section = getattr(config, name)
        if isinstance(section, BaseModel):
            lines += [f"[{name}]", *_comment(type(section).__doc__ or ""), "", *_toml_fields(section)]
    return "\n".join(lines).rstrip("\n") + "\n"
