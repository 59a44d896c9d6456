"""Slip against the Janosi-Hanamoto force balance solved numerically, and odometry drift against the
closed-form variance of a random walk in distance."""

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from lupex.errors import LupexError
from lupex.rover.model import RoverConfig
from lupex.sim.mobility import Localizer, OdometryConfig, SlipConfig, drive_time_factor, progress_m, slip_fraction


def reference_track_slip(slope_deg: float, config: SlipConfig, f_r: float) -> float:
    """Slip i where the tractive effort F(i)/F_max = 1 - K/(iL) (1 - exp(-iL/K)) (Janosi & Hanamoto 1961)
    meets the demand (tan(theta) + f_r)/mu, with mu set so that i = 1 at the stall slope, by root finding."""
    lk = config.track_length_m / config.shear_modulus_m

    def effort(i):
        return 1.0 - (1.0 - math.exp(-i * lk)) / (i * lk)

    mu = (math.tan(math.radians(config.stall_slope_deg)) + f_r) / effort(1.0)
    demand = (math.tan(math.radians(slope_deg)) + f_r) / mu
    return brentq(lambda i: effort(i) - demand, 1e-12, 1.0, xtol=1e-15, rtol=1e-14)


@pytest.mark.parametrize("slope", [2.0, 10.0, 17.5, 25.0, 26.5])
@pytest.mark.parametrize("config,f_r", [(SlipConfig(), 0.15), (SlipConfig(stall_slope_deg=32.0, track_length_m=0.5,
                                                                           shear_modulus_m=0.018), 0.08)])
def test_slip_solves_the_track_force_balance(slope, config, f_r):
    level = reference_track_slip(0.0, config, f_r)
    expected = 1.0 - (1.0 - reference_track_slip(slope, config, f_r)) / (1.0 - level)
    assert slip_fraction(slope, config, f_r) == pytest.approx(expected, rel=1e-9)


def test_slip_takes_the_rovers_rolling_resistance_by_default():
    assert RoverConfig().mobility.rolling_resistance == 0.15
    assert slip_fraction(15.0) == slip_fraction(15.0, SlipConfig(), 0.15) != slip_fraction(15.0, SlipConfig(), 0.08)


def test_slip_is_zero_on_the_flat_and_downhill_total_at_the_stall_and_monotonic_between():
    config = SlipConfig()
    assert slip_fraction([0.0, -5.0, -30.0], config).tolist() == [0.0, 0.0, 0.0]
    assert slip_fraction([config.stall_slope_deg, 40.0], config).tolist() == [1.0, 1.0]
    s = slip_fraction(np.linspace(0.0, config.stall_slope_deg, 541), config)
    assert (np.diff(s) > 0).all()


def test_default_calibration():
    """High slip at the ~25 deg JAXA limit (brief: 50-90 %; MER saw 40-50 % on 20-30 deg, Maimone et al.
    2007), little on gentle ground, and an effective friction angle in the lunar 30-50 deg range
    (Carrier, Olhoeft & Mendell 1991)."""
    config = SlipConfig()
    assert 0.5 <= slip_fraction(25.0, config) <= 0.9
    assert slip_fraction(10.0, config) < 0.1
    lk = config.track_length_m / config.shear_modulus_m
    f_r = RoverConfig().mobility.rolling_resistance
    mu = (math.tan(math.radians(config.stall_slope_deg)) + f_r) / (1 - (1 - math.exp(-lk)) / lk)
    assert 30.0 <= math.degrees(math.atan(mu)) <= 50.0


def test_time_and_progress_scale_with_slip():
    slopes = np.array([0.0, 12.0, 24.0, 27.0])
    s = slip_fraction(slopes)
    np.testing.assert_allclose(progress_m(10.0, slopes), 10.0 * (1.0 - s))
    factor = drive_time_factor(slopes)
    np.testing.assert_allclose(factor[:3], 1.0 / (1.0 - s[:3]))
    assert factor[3] == np.inf
    with pytest.raises(LupexError, match="between -90 and 90"):
        slip_fraction(95.0)


def drift_errors(config: OdometryConfig, distances: list[float], n: int = 4000) -> np.ndarray:
    """Errors after driving the given pieces in turn, for n seeds, shape (n, 2)."""
    out = np.empty((n, 2))
    for seed in range(n):
        localizer = Localizer(config, np.random.default_rng(seed))
        for d in distances:
            localizer.drive(d)
        out[seed] = localizer.error
    return out


N = 4000
TOLERANCE = 4.0 * math.sqrt(2.0 / N)  # 4 sigma of a sample variance of N normal draws, relative


@pytest.mark.parametrize("pieces", [[50.0], [200.0], [30.0, 70.0, 100.0]])
def test_drift_variance_grows_linearly_with_distance(pieces):
    config = OdometryConfig(drift_fraction=0.04, fix_sigma_m=0.5, fix_interval_m=None)
    errors = drift_errors(config, pieces, N)
    expected = config.fix_sigma_m**2 + config.drift_fraction**2 * config.drift_reference_m / 2.0 * sum(pieces)
    for axis in range(2):
        assert np.var(errors[:, axis]) == pytest.approx(expected, rel=TOLERANCE)


def test_drift_fraction_is_the_rms_error_at_the_reference_distance():
    config = OdometryConfig(drift_fraction=0.03, drift_reference_m=100.0, fix_sigma_m=0.0, fix_interval_m=None)
    errors = drift_errors(config, [100.0], N)
    assert math.sqrt(np.mean(np.sum(errors**2, axis=1))) == pytest.approx(3.0, rel=TOLERANCE)


def test_a_fix_resets_the_error():
    config = OdometryConfig(drift_fraction=0.05, fix_sigma_m=0.0, fix_interval_m=None)
    localizer = Localizer(config, np.random.default_rng(1))
    assert np.abs(localizer.drive(500.0)).max() > 1.0
    assert localizer.sigma_m == pytest.approx(math.sqrt(config.variance_rate_m * 500.0))
    localizer.fix()
    assert localizer.error.tolist() == [0.0, 0.0]
    assert (localizer.distance_since_fix_m, localizer.sigma_m) == (0.0, 0.0)
    assert localizer.estimate(10.0, -3.0) == (10.0, -3.0)


def test_automatic_fixes_every_interval():
    config = OdometryConfig(drift_fraction=0.04, fix_sigma_m=0.7, fix_interval_m=100.0)
    errors = drift_errors(config, [120.0, 130.0], N)  # fixes at 100 and 200 m; 50 m of drift since
    expected = config.fix_sigma_m**2 + config.variance_rate_m * 50.0
    assert np.var(errors[:, 0]) == pytest.approx(expected, rel=TOLERANCE)
    localizer = Localizer(config, np.random.default_rng(0))
    localizer.drive(250.0)
    assert localizer.distance_since_fix_m == pytest.approx(50.0)


def test_same_seed_same_drift_and_bad_distance_refused():
    config = OdometryConfig()
    a, b = Localizer(config, np.random.default_rng(5)), Localizer(config, np.random.default_rng(5))
    assert a.drive(80.0).tolist() == b.drive(80.0).tolist()
    with pytest.raises(LupexError, match="non-negative"):
        a.drive(-1.0)
