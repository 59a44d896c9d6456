"""Self-affine roughness and the Golombek & Rapp rock model."""

import numpy as np
import pytest
from scipy import integrate

from lupex.terrain.fractal import rms_height_difference, self_affine_surface
from lupex.terrain.rocks import cumulative_area_fraction, q_of_k, rock_density


@pytest.mark.parametrize("hurst", [0.5, 0.9])
def test_structure_function_recovers_the_hurst_exponent(hurst):
    surface = self_affine_surface((1024, 1024), 5.0, hurst, 0.3, 5.0, np.random.default_rng(4))
    assert rms_height_difference(surface, 1) == pytest.approx(0.3, rel=1e-9)
    lags = np.array([2, 4, 8, 16, 32])
    rms = [rms_height_difference(surface, lag) for lag in lags]
    fitted = np.polyfit(np.log(lags), np.log(rms), 1)[0]
    assert fitted == pytest.approx(hurst, abs=0.06)


def test_golombek_rapp_q_and_area_fraction():
    # Golombek & Rapp 1997 eq. 2: q(k) = 1.79 + 0.152/k; k = 0.07 gives q = 3.96 m^-1.
    assert q_of_k(0.07) == pytest.approx(1.79 + 0.152 / 0.07)
    assert cumulative_area_fraction(0.0, 0.07) == pytest.approx(0.07)
    assert cumulative_area_fraction(1.0, 0.07) == pytest.approx(0.07 * np.exp(-q_of_k(0.07)))


@pytest.mark.parametrize("k", [0.005, 0.02, 0.1, 0.3])
def test_rock_density_equals_direct_integration(k):
    q = q_of_k(k)
    direct = integrate.quad(lambda s: k * q * np.exp(-q * s) / (np.pi * s * s / 4), 0.3, 20.0)[0]
    assert rock_density(0.3, np.array([k]))[0] == pytest.approx(direct, rel=0.02)
    assert rock_density(0.3, np.array([0.0]))[0] == 0.0
