"""Power and energy functions against values worked by hand from the default rover.

Defaults used below: m = 350 kg, g = 1.625 m s^-2, C_rr = 0.15, eta_drive = 0.5, driving
avionics 90 W; panels of 1 m^2 at 30 % facing 90, 180 and 270 deg from the heading;
battery 3000 Wh, reserve 0.25, charge and discharge efficiency 0.95; drill 150 W at 1 h per m.
"""

import numpy as np
import pytest

from lupex.constants import AU_KM
from lupex.errors import LupexError
from lupex.rover.model import RoverConfig
from lupex.rover.power import (
    battery_step,
    drill_energy_wh,
    drill_time_h,
    drive_energy_wh,
    drive_power_w,
    shadow_endurance_h,
    solar_power_w,
)

ROVER = RoverConfig()


def test_drive_power_uphill_by_hand():
    # m g v = 350 * 1.625 * 0.05 = 28.4375 W
    # C_rr cos 15 + sin 15 = 0.15 * 0.9659258 + 0.2588190 = 0.4037079
    # track power 28.4375 * 0.4037079 = 11.480440 W; / 0.5 = 22.960880 W; + 90 W = 112.960880 W
    assert drive_power_w(ROVER, 15.0, 0.05) == pytest.approx(112.960880, rel=1e-7)


def test_drive_power_flat_and_peak_by_hand():
    # flat: 28.4375 * 0.15 / 0.5 + 90 = 98.53125 W
    assert drive_power_w(ROVER, 0.0, 0.05) == pytest.approx(98.53125, rel=1e-12)
    # 0.2 m/s on 25 deg: m g v = 113.75 W; 0.15 * 0.9063078 + 0.4226183 = 0.5585645;
    # 113.75 * 0.5585645 = 63.536710 W; / 0.5 + 90 = 217.073420 W
    assert drive_power_w(ROVER, 25.0, 0.2) == pytest.approx(217.073420, rel=1e-7)


def test_drive_power_defaults_to_the_nominal_speed():
    assert drive_power_w(ROVER, 15.0) == drive_power_w(ROVER, 15.0, ROVER.mobility.nominal_speed_m_s)


def test_downhill_draws_no_less_than_the_avionics():
    # Gravity outweighs resistance below -atan(0.15) = -8.53 deg; no energy is recovered.
    power = drive_power_w(ROVER, np.array([-5.0, -8.6, -15.0, -25.0]), 0.05)
    assert power[0] > 90.0
    np.testing.assert_array_equal(power[1:], 90.0)


def test_drive_power_broadcasts():
    power = drive_power_w(ROVER, np.array([[0.0], [15.0]]), np.array([0.05, 0.1, 0.2]))
    assert power.shape == (2, 3)
    assert power[1, 0] == pytest.approx(112.960880, rel=1e-7)
    assert np.all(np.diff(power, axis=1) > 0)


def test_drive_energy_of_a_leg_by_hand():
    # 100 m at 0.05 m/s takes 2000 s = 0.5556 h; 112.960880 W * 2000 s / 3600 s/h = 62.756049 Wh
    assert drive_energy_wh(ROVER, 100.0, 15.0, 0.05) == pytest.approx(62.756049, rel=1e-7)
    assert drive_energy_wh(ROVER, 100.0, 15.0) == pytest.approx(62.756049, rel=1e-7)


def test_solar_power_between_two_fixed_panels_by_hand():
    # Sun at elevation 2 deg, azimuth 135 deg, heading 0: the right (90) and rear (180) panels
    # each see cos 45 = 0.7071068, the left one none.
    # 1361 W m^-2 * 0.3 * 1 m^2 * cos 2 deg (0.9993908) * 2 * 0.7071068 = 577.071647 W
    assert solar_power_w(ROVER, 1.0, 2.0, 135.0, 0.0) == pytest.approx(577.071647, rel=1e-7)
    # Turning the rover changes only the relative azimuth.
    assert solar_power_w(ROVER, 1.0, 2.0, 235.0, 100.0) == pytest.approx(577.071647, rel=1e-7)


def test_solar_power_is_zero_with_the_sun_ahead_or_below_the_horizon():
    # No panel faces forward: the side panels see the Sun edge-on.
    assert solar_power_w(ROVER, 1.0, 1.0, 40.0, 40.0) == pytest.approx(0.0, abs=1e-9)
    assert solar_power_w(ROVER, 0.0, -1.0, 90.0, 0.0) == 0.0


def test_solar_power_scales_with_disk_fraction_and_distance():
    # Half the disk at 1.0167 au, Sun square on the right panel at elevation 0:
    # 1361 * 0.3 / 1.0167^2 * 0.5 = 197.498471 W
    power = solar_power_w(ROVER, 0.5, 0.0, 90.0, 0.0, sun_distance_km=1.0167 * AU_KM)
    assert power == pytest.approx(197.498471, rel=1e-7)


def test_tracking_panel_ignores_azimuth_and_heading():
    tracking = RoverConfig(solar={"orientation": "tracking"})
    # 1361 * 0.3 * 1 m^2 * cos 2 deg = 408.051275 W whatever the azimuths.
    power = solar_power_w(tracking, 1.0, 2.0, np.array([0.0, 77.0, 200.0]), np.array([[0.0], [180.0]]))
    assert power.shape == (2, 3)
    np.testing.assert_allclose(power, 408.051275, rtol=1e-7)


def test_battery_step_charges_and_discharges_with_losses():
    # surplus 300 - 100 = 200 W for 1 h, stored at 0.95: 2000 + 190 = 2190 Wh
    assert battery_step(2000.0, 300.0, 100.0, 3600.0, ROVER) == pytest.approx(2190.0)
    # deficit 95 W for 1 h drawn at 0.95: 2000 - 100 = 1900 Wh
    assert battery_step(2000.0, 0.0, 95.0, 3600.0, ROVER) == pytest.approx(1900.0)


def test_battery_step_clips_to_empty_and_full():
    soc = battery_step(np.array([2950.0, 50.0]), np.array([400.0, 0.0]), np.array([0.0, 200.0]), 3600.0, ROVER)
    # 2950 + 380 = 3330 -> 3000 (surplus shed); 50 - 210.5 -> 0
    np.testing.assert_array_equal(soc, [3000.0, 0.0])


def test_shadow_endurance_by_hand_and_against_the_battery():
    # 3000 Wh * (1 - 0.25) * 0.95 = 2137.5 Wh delivered; at 30 + 30 = 60 W: 35.625 h
    assert shadow_endurance_h(ROVER, ROVER.shadow_load_w) == pytest.approx(35.625)
    np.testing.assert_allclose(shadow_endurance_h(ROVER, np.array([60.0, 120.0])), [35.625, 17.8125])
    assert shadow_endurance_h(ROVER, 0.0) == np.inf
    # Discharging a full battery for that long ends exactly at the reserve (750 Wh).
    assert battery_step(3000.0, 0.0, 60.0, 35.625 * 3600.0, ROVER) == pytest.approx(750.0)


def test_drill_energy_and_time_by_hand():
    # 150 W * 1 h m^-1 * 1.5 m = 225 Wh in 1.5 h; 0.3 m: 45 Wh in 0.3 h
    np.testing.assert_allclose(drill_energy_wh(ROVER, [1.5, 0.3, 0.0]), [225.0, 45.0, 0.0])
    np.testing.assert_allclose(drill_time_h(ROVER, [1.5, 0.3]), [1.5, 0.3])


@pytest.mark.parametrize("depth", [1.6, -0.1, np.nan])
def test_drill_refuses_depths_out_of_reach(depth):
    with pytest.raises(LupexError, match=r"drill\.max_depth_m"):
        drill_energy_wh(ROVER, [0.5, depth])
