"""Settings of a simulated surface mission: strategy, science autonomy, data and commanding."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from lupex.planning.timed import PlanConfig
from lupex.sim.instruments import InstrumentModels
from lupex.sim.local_planner import AutonomyConfig
from lupex.sim.mobility import OdometryConfig
from lupex.sim.truth_terrain import TruthTerrainConfig
from lupex.sim.water_map import WaterMapConfig

__all__ = ["SimConfig"]


class SimConfig(BaseModel):
    """How the simulated rover operates (validated, immutable; the ``[sim]`` table of a mission TOML)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    strategy: Literal["adaptive", "baseline"] = Field(
        "adaptive",
        description="'adaptive': the rover picks each drill site from its water map (prior plus neutron and "
        "drill data) and surveys the site with the neutron spectrometer before drilling at the most promising "
        "spot; 'baseline': drill sites fixed before landing from the prior, drilled where planned.")
    plan: PlanConfig = Field(default_factory=PlanConfig, description="The strategic planner's lattice and rules.")
    planning_window_h: float = Field(
        72.0, gt=0.0, le=720.0,
        description="Look-ahead of each strategic plan [h]; the goal must be a safe haven to the window's end. "
        "Assumption: three days, longer than the Earth's and the Sun's gaps at the default site.")
    search_radius_m: float = Field(
        1500.0, gt=0.0, description="Farthest drill candidate considered from the rover [m]. Assumption.")
    min_drill_spacing_m: float = Field(
        30.0, ge=0.0,
        description="Least distance between two holes [m]: beyond the ice patches' 10 m correlation "
        "(IceParams.patch_radius_m x 2), so a new hole learns something new. Assumption.")
    threshold_wt_pct: float = Field(
        1.0, gt=0.0, description="Water worth finding [wt%]: the issue's >= 1 wt% drill target.")
    information_weight: float = Field(
        0.1, ge=0.0,
        description="Weight of a hole's information gain [per bit] against its probability of >= threshold in "
        "the adaptive score. Assumption: exploitation first.")
    baseline_min_sun: float = Field(
        0.5, ge=0.0, le=1.0,
        description="The baseline plans only sites whose parking node sees the Sun at least this fraction of the "
        "mission [-] (a pre-landing planner knows the sky). Assumption.")
    survey_size_m: float = Field(
        20.0, ge=0.0, description="Side of the square the adaptive rover surveys around a candidate [m] "
        "(one 20 m map pixel). Assumption.")
    survey_line_spacing_m: float = Field(
        4.0, gt=0.0, description="Spacing of the survey lines [m]: about twice the neutron footprint radius.")
    neutron_integration_s: float = Field(
        60.0, gt=0.0, le=3600.0,
        description="Integration time of one neutron measurement [s]; at 0.05 m/s it smears the footprint over "
        "3 m. Assumption.")
    odometry: OdometryConfig = Field(default_factory=OdometryConfig,
                                     description="Odometry drift and localisation fixes (also at every node and "
                                     "before every hole).")
    command_latency_h: float = Field(
        1.0, ge=0.0, le=48.0,
        description="Time from a decision that needs the ground (a new drill site) to the command arriving, "
        "counted only while the Earth is in view [h]. Assumption: one operations cycle.")
    drill_data_mb: float = Field(20.0, ge=0.0, description="Data of one drilled hole and its analyses [MB]. "
                                 "Assumption.")
    drive_data_mb_per_m: float = Field(0.05, ge=0.0, description="Navigation images and neutron records per metre "
                                       "driven [MB/m]. Assumption.")
    radar_data_mb_per_m: float = Field(0.1, ge=0.0, description="Ground-penetrating radar soundings per metre "
                                       "surveyed [MB/m]. Assumption.")
    housekeeping_kbit_s: float = Field(1.0, ge=0.0, description="Housekeeping telemetry rate [kbit/s]. Assumption.")
    work_min_soc: float = Field(
        0.5, ge=0.0, le=1.0,
        description="Charge below which the rover starts no new drive or hole and recharges at its haven [-]. "
        "Assumption: half the battery, so a haven's darkness and the way to the next one are always covered.")
    way_energy_margin: float = Field(
        1.5, ge=1.0,
        description="Factor on the energy of the cheapest lattice way to a node when the rover judges whether "
        "it can reach a haven or a drill site with charge to spare [-]. Assumption: the true terrain's detours "
        "around rocks the map did not show, and slip, cost up to half again as much.")
    max_drills: int = Field(60, ge=0, description="Holes the drill is allowed over the mission [-]. Assumption.")
    max_replans: int = Field(
        4, ge=1, description="Strategic plans tried for one drive, a new one after each edge the rover finds "
        "blocked [-]. Assumption: past a few blocked edges the lattice around the goal is wrong, and the rover "
        "does better to choose another goal than to keep probing.")
    haven_gain_soc: float = Field(
        0.05, ge=0.0, le=1.0,
        description="When no node within reach is a safe haven, the rover moves only to one whose lowest "
        "forecast charge beats staying by this share of the battery [-]. Assumption: 5 % of the capacity, "
        "beyond the forecast's own spread, so the rover does not shuttle between near-equal nodes.")
    haven_tries: int = Field(
        3, ge=1, description="Havens the rover tries to reach, best first, before it stays where it is [-]. "
        "Assumption: each try plans a drive; three bound that cost when ways keep failing.")
    analysis_soc_margin: float = Field(
        0.1, ge=0.0, le=1.0,
        description="Charge above the battery's minimum below which the rover pauses a core's analysis until "
        "the Sun is up and the battery recovers [-]. Assumption: the 100 W ovens must not be what empties the "
        "battery before the next darkness.")
    edge_margin_m: float = Field(
        40.0, ge=0.0,
        description="Ground kept between a candidate drill site's survey square and the DEM's edge [m]. "
        "Assumption: the local planner's corridor (autonomy corridor_margin_m, 30 m) and 10 m of turns.")
    sky_margin_m: float = Field(
        200.0, ge=0.0,
        description="Ground beyond the search radius and a survey square for which the rover's own sky is "
        "held in memory around the landing [m]. Assumption: the drive to a survey's start; beyond it the "
        "rover's sky is read from the horizon cube when first visited.")
    models: InstrumentModels = Field(default_factory=InstrumentModels, description="Instrument models.")
    autonomy: AutonomyConfig = Field(default_factory=AutonomyConfig,
                                     description="Perception, local planning and track slip ([sim.autonomy]).")
    terrain: TruthTerrainConfig = Field(default_factory=TruthTerrainConfig,
                                        description="The metre-scale rocks and craters the rover meets, which the "
                                        "orbital map does not show ([sim.terrain]).")
    water_map: WaterMapConfig = Field(default_factory=WaterMapConfig, description="The rover's water map.")
