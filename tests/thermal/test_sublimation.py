"""Sublimation of exposed ice against the published figures."""

import numpy as np
import pytest

from lupex.thermal.sublimation import loss_rate_m_per_gyr, stability_temperature, vapour_pressure_ice


def test_murphy_koop_vapour_pressure_at_the_triple_point():
    # Murphy & Koop 2005: 611.657 Pa at 273.16 K.
    assert vapour_pressure_ice(273.16) == pytest.approx(611.657, rel=1e-3)


def test_bare_ice_at_110_k_loses_about_155_mm_per_gyr():
    # REFERENCES.md section 4 (Murphy & Koop 2005 vapour pressure, free sublimation).
    assert loss_rate_m_per_gyr(110.0) * 1000 == pytest.approx(155.0, rel=0.05)


def test_one_millimetre_per_gyr_near_101_k():
    assert stability_temperature() == pytest.approx(101.0, abs=1.0)
    assert loss_rate_m_per_gyr(stability_temperature()) == pytest.approx(1e-3, rel=1e-9)


def test_loss_rises_steeply_with_temperature():
    rates = loss_rate_m_per_gyr(np.array([90.0, 100.0, 110.0, 120.0]))
    assert np.all(np.diff(np.log10(rates)) > 1.0)  # more than tenfold per 10 K
