"""The mission engine on a small site: the battery, the sky, the data and the holes in its telemetry
agree with the models they come from; the same seed gives the same run; a stop request ends it cleanly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from lupex.constants import AU_KM
from lupex.ice import IceParams, water_prior
from lupex.planning.costmap import costmap
from lupex.raster import like
from lupex.rover.model import RoverConfig
from lupex.rover.power import battery_step
from lupex.sim.config import SimConfig
from lupex.sim.engine import Simulation
from lupex.sim.thermal_box import ThermalBox
from lupex.sim.world import build_world
from lupex.sky.horizon import DemHorizons
from lupex.terrain.derive import HazardConfig, derive_layers
from lupex.terrain.synth import SynthConfig, synthesize

START = "2028-09-01T00:00:00Z"
DAYS = 4.0


def icy_prior(dem: xr.DataArray, params: IceParams) -> xr.Dataset:
    """Ice stable at the surface on the lowest fifth of the ground, deeper with height, none above the median."""
    low, high = np.nanpercentile(dem.values, [20, 50])
    depth = np.clip((dem.values - low) / (high - low) * 1.5, 0.0, None)
    depth = np.where(depth < 1.5, depth, np.nan).astype(np.float32)
    return water_prior(xr.Dataset({"ice_depth_m": like(dem, depth, "ice_depth_m", "m")}), params)


@pytest.fixture(scope="module")
def inputs():
    """The arguments of build_world before the rover: a 128 px site, its horizons, prior and landing."""
    site = synthesize(SynthConfig(size=128, resolution_m=20.0, center_lat=-89.45, center_lon=222.7, seed=4))
    dem = site.dem
    horizon = DemHorizons(dem)(np.arange(0.0, 360.0, 8.0))
    params = IceParams()
    rows, cols = np.mgrid[40:88, 40:88]
    highest = horizon.max(axis=0)[rows, cols]
    k = np.argmin(np.where(site.rocks.values[rows, cols] < 0.05, highest, np.inf))  # the most open place, few rocks
    landing = (float(dem.x.values[cols.ravel()[k]]), float(dem.y.values[rows.ravel()[k]]))
    return dem, horizon, site.rocks, icy_prior(dem, params), params, landing


def world_of(inputs, config: SimConfig | None = None, **options):
    dem, horizon, rocks, prior, params, landing = inputs
    return build_world(dem, horizon, rocks, prior, params, RoverConfig(), config or SimConfig(), START, DAYS, landing,
                       **options)


@pytest.fixture(scope="module")
def world(inputs):
    return world_of(inputs)


@pytest.fixture(scope="module")
def run(world):
    return Simulation(world, RoverConfig(), SimConfig(), seed=11).run()


def test_the_missions_hazard_limits_reach_the_planner(inputs, world):
    """The [hazards] table shapes the planner's costmap as it shapes the landing's (it once fell back
    to the defaults inside build_world)."""
    dem, _, rocks, *_ = inputs
    strict = HazardConfig(max_rock_density_per_100m2=2.0)
    allowed = np.isfinite(world_of(inputs, hazards=strict).search.cost)
    expected = np.isfinite(costmap(derive_layers(dem, rocks, strict), RoverConfig(), strict).values)
    np.testing.assert_array_equal(allowed, expected)
    assert allowed.sum() < np.isfinite(world.search.cost).sum()  # stricter than the defaults here


def test_hourly_checks_are_hourly_whatever_the_tick(inputs, monkeypatch):
    """With 30-minute ticks the rover checks its haven every 2 ticks while it analyses a core, and a
    recharge wait lasts an hour (the checks were once written as every 4th tick)."""
    config = SimConfig(plan={"tick_min": 30.0})
    simulation = Simulation(world_of(inputs, config), RoverConfig(), config, seed=11)
    checks = []
    monkeypatch.setattr(simulation, "_ensure_haven", lambda: checks.append(simulation.tick))
    simulation._analyse(8, 10.0)
    assert simulation.hour_ticks == 2 and np.all(np.diff(checks) == 2), checks


def test_a_survey_draws_the_radar_and_the_near_infrared_spectrometer(world, monkeypatch):
    """Survey drives charge the neutron spectrometer, the radar and ALIS; other drives the neutron
    spectrometer only (gpr_w and nir_spectrometer_w were once declared and never charged)."""
    rover = RoverConfig()
    loads = {}
    for survey in (False, True):
        simulation = Simulation(world, rover, SimConfig(), seed=11)
        xs = simulation.x + np.array([0.0, 200.0])  # long enough that the first tick is all driving
        ys = simulation.y + np.zeros(2)
        recorded = []
        monkeypatch.setattr(simulation, "_advance",
                            lambda activity, x, y, load, *rest, out=recorded, **kw: out.append(load))
        simulation._follow(xs, ys, neutron=True, survey=survey)
        loads[survey] = recorded[0][0]
    instruments = rover.instruments
    assert loads[True] - loads[False] == pytest.approx(instruments.gpr_w + instruments.nir_spectrometer_w, rel=1e-3)


def test_the_battery_follows_the_power_in_the_telemetry(run):
    """Replaying the recorded array power and load through the battery model gives the recorded charge."""
    rover = RoverConfig()
    t = run.telemetry.frame()
    assert len(t) == int(DAYS * 24 * 4)
    soc = rover.battery.initial_soc * rover.battery.capacity_wh
    replay = []
    for solar, load in zip(t["solar_w"], t["load_w"], strict=True):
        soc = float(battery_step(soc, solar, load, 900.0, rover))
        replay.append(soc / rover.battery.capacity_wh)
    np.testing.assert_allclose(t["soc"], replay, rtol=1e-12)
    assert run.min_soc == pytest.approx(min(replay[0], t["soc"].min()) if replay else 1.0)
    assert run.energy_in_wh == pytest.approx(t["solar_w"].sum() * 0.25)
    assert run.energy_out_wh == pytest.approx(t["load_w"].sum() * 0.25)


def test_the_sky_in_the_telemetry_is_the_sky_at_the_recorded_place(world, run):
    t = run.telemetry.frame()
    for k in range(0, len(t), 37):
        sky = world.sky.at(t["x_m"][k], t["y_m"][k], k)
        assert t["sun_fraction"][k] == pytest.approx(sky.sun_fraction[0])
        assert t["earth_visible"][k] == sky.earth_visible[0]
    # hours in darkness count up in shadow and reset in the Sun
    dark = t["dark_h"].to_numpy()
    lit = t["sun_fraction"].to_numpy() > 0
    assert (dark[lit] == 0).all()
    assert np.allclose(np.diff(dark)[~lit[1:]], 0.25)


def test_data_go_down_only_with_the_earth_in_view(run):
    t = run.telemetry.frame()
    sent = np.diff(np.concatenate([[0.0], t["downlinked_mb"].to_numpy()]))
    assert (sent >= 0).all()
    assert (sent[~t["earth_visible"].to_numpy()] == 0).all()
    assert (t["buffer_mb"] >= 0).all()
    assert run.downlinked_mb == pytest.approx(t["downlinked_mb"].iloc[-1])


def test_holes_hold_the_truth_under_them(world, run):
    assert run.holes, "the rover should drill on this icy site"
    water, _ = world.truth(11)
    for hole in run.holes:
        r = hole.result
        assert r.depth_reached_m <= 1.5
        found = water.sample(np.array([hole.x]), np.array([hole.y]))
        expected = [float(water.mean_between(found, a, b)[0]) for a, b in zip(r.bin_top_m, r.bin_bottom_m,
                                                                               strict=True)]
        np.testing.assert_allclose(r.true_weh_wt_pct, expected, rtol=1e-12)
    xs = np.array([h.x for h in run.holes])
    ys = np.array([h.y for h in run.holes])
    gaps = np.hypot(xs[:, None] - xs[None], ys[:, None] - ys[None])[np.triu_indices(len(xs), 1)]
    # holes at least the spacing apart, up to the position errors of the two fixes
    assert (gaps >= SimConfig().min_drill_spacing_m - 8 * SimConfig().odometry.fix_sigma_m).all()


def test_the_same_seed_gives_the_same_run_and_another_seed_another(world, run):
    again = Simulation(world, RoverConfig(), SimConfig(), seed=11).run()
    pd.testing.assert_frame_equal(again.telemetry.frame(), run.telemetry.frame())
    assert again.telemetry.events == run.telemetry.events
    other = Simulation(world, RoverConfig(), SimConfig(), seed=12).run()
    assert other.telemetry.events != run.telemetry.events


def test_a_stop_request_ends_the_run_with_valid_records(world):
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 1

    result = Simulation(world, RoverConfig(), SimConfig(), seed=11).run(should_stop=stop)
    assert result.interrupted and result.status == "completed"
    t = result.telemetry.frame()
    assert 0 < len(t) < int(DAYS * 24 * 4)
    assert result.telemetry.events[-1][1] == "end" and result.telemetry.events[-1][4] == "interrupted"


@pytest.fixture(scope="module")
def dark_landing(world):
    """The world landed at the tile's centre, in shadow for the first 40 h, with a 1 kWh battery."""
    dem = world.dem
    centre = (float(dem.x.values[64]), float(dem.y.values[64]))
    assert (world.sky.at(*centre, 0, 40 * 4).sun_fraction == 0).all()
    rover = RoverConfig.model_validate({"battery": {"capacity_wh": 1000.0}, "thermal": {"max_shadow_h": 10.0}})
    horizon = DemHorizons(dem)(np.arange(0.0, 360.0, 8.0))
    return build_world(dem, horizon, None, world.prior, world.ice, rover, SimConfig(), START, DAYS, centre), rover


def test_a_rover_in_a_long_shadow_with_nowhere_to_go_is_lost(dark_landing):
    """Allowed no haven search (radius 10 m), it hibernates until the battery is empty: on the heat its
    warm box stored until the box cools to its survival temperature, then on hibernation plus survival
    heaters. The heaters in the telemetry are those of the box replayed on its own."""
    dark, rover = dark_landing
    result = Simulation(dark, rover, SimConfig(search_radius_m=10.0), seed=11).run()
    t = result.telemetry.frame()
    assert result.status == "lost" and result.reason == "battery depleted in shadow"
    assert t["soc"].iloc[-1] == 0.0 and (t["sun_fraction"] == 0).all()
    assert (t["activity"] == "hibernate").all()
    box = ThermalBox(rover)
    heaters = [box.step(rover.loads.hibernation_w, 0.0, AU_KM, 900.0) for _ in range(len(t))]
    assert np.allclose(t["heater_w"], heaters, rtol=0, atol=1e-6 * rover.thermal.survival_heater_w)
    assert t["heater_w"].iloc[0] == 0.0 and t["heater_w"].iloc[-2] == pytest.approx(rover.thermal.survival_heater_w)
    battery = rover.battery
    drawn_wh = np.cumsum(rover.loads.hibernation_w + np.asarray(heaters)) * 0.25
    empty_tick = np.flatnonzero(drawn_wh >= battery.initial_soc * battery.capacity_wh * battery.discharge_efficiency)
    assert len(t) == empty_tick[0] + 1


def test_a_rover_in_a_long_shadow_drives_to_a_safe_haven(dark_landing):
    """With the default haven search it leaves at once, on its own (the Earth is out of view), reaches
    sunlight and outlives the 40 h shadow it landed in."""
    dark, rover = dark_landing
    result = Simulation(dark, rover, SimConfig(), seed=11).run()
    havens = [event for event in result.telemetry.events if event[1] == "haven"]
    assert havens and havens[0][4].startswith("darkness or a low battery ahead: moved from")
    t = result.telemetry.frame()
    assert t["activity"].iloc[0] == "drive"  # it leaves at once
    assert len(t) > 40 * 4 and (t["soc"].iloc[:40 * 4] > 0).all()
    assert (t["sun_fraction"].iloc[:8 * 4] > 0).any()


def test_surveys_sound_the_radar_and_queue_its_data(run):
    surveys = [event for event in run.telemetry.events if event[1] == "survey"]
    assert surveys, "the adaptive rover surveys before drilling"
    for event in surveys:
        assert "radar layer under" in event[4] and "soundings" in event[4]


def test_autonomy_and_truth_terrain_settings_reach_the_run_from_the_mission_toml(world, tmp_path, monkeypatch):
    """[sim.autonomy] and [sim.terrain] reach the simulation, and the rover's slope limit and rolling
    resistance reach the truth terrain and the slip (each was once built with its own defaults)."""
    from lupex import sim as sim_package
    from lupex.config import build, load_toml
    from lupex.mission import MissionConfig

    path = tmp_path / "m.toml"
    path.write_text("[sim.autonomy]\nsensor_range_m = 15.0\n[sim.terrain]\ncell_m = 0.25\n"
                    "[rover.mobility]\nmax_slope_deg = 20.0\nrolling_resistance = 0.3\n")
    config = build(MissionConfig, load_toml(path), str(path))
    assert config.hazards.max_slope_deg == 20.0  # traversable.tif obeys the rover's limit
    simulation = Simulation(world, config.rover, config.sim, seed=11)
    assert simulation.autonomy.sensor_range_m == 15.0
    assert simulation.terrain.config.cell_m == 0.25 and simulation.terrain.max_slope_deg == 20.0
    seen = []
    real = sim_package.engine.slip_fraction
    monkeypatch.setattr(sim_package.engine, "slip_fraction", lambda *args: seen.append(args[2]) or real(*args))
    simulation._follow(simulation.x + np.array([0.0, 50.0]), simulation.y + np.zeros(2), neutron=False)
    assert seen == [0.3]


def test_the_slope_limit_is_stated_once():
    from lupex.config import build
    from lupex.errors import LupexError as Error
    from lupex.mission import MissionConfig

    with pytest.raises(Error, match=r"state the slope limit once"):
        build(MissionConfig, {"hazards": {"max_slope_deg": 30.0}}, "m.toml")
    assert build(MissionConfig, {"hazards": {"max_slope_deg": 25.0}}, "m.toml").hazards.max_slope_deg == 25.0
