"""Maps from horizons and tracks against per-epoch brute force and closed forms."""

import numpy as np
import pytest

from lupex.constants import MOON_RADIUS_M
from lupex.sky.illumination import (
    BodyTrack,
    build_table,
    disk_visible_fraction,
    longest_darkness_hours,
    mean_visibility,
    never_visible,
    visibility_per_epoch,
)

N_AZ = 72


def _track(n=3000, amplitude=1.5, step_h=1.0, seed=0):
    """A polar-like Sun: azimuth turning once per 708 h, elevation oscillating slowly."""
    t = np.arange(n) * step_h
    rng = np.random.default_rng(seed)
    azimuth = (t * 360.0 / 708.7 + rng.uniform(0, 360)) % 360
    elevation = amplitude * np.sin(2 * np.pi * t / 8766.0 * 3.1 + 0.3) + 0.4 * np.sin(2 * np.pi * t / 708.7)
    radius = 0.2666 * (1 + 0.017 * np.sin(2 * np.pi * t / 8766.0))
    times = np.datetime64("2030-01-01T00:00") + (t * 3600).astype("timedelta64[s]")
    return BodyTrack(times, azimuth, elevation, radius, (0.0, 0.0), step_h)


def _horizons(ny=6, nx=7, seed=1):
    rng = np.random.default_rng(seed)
    base = rng.normal(0.0, 0.8, size=(N_AZ, ny, nx))
    # Smooth in azimuth, like real horizons.
    return (base + np.roll(base, 1, 0) + np.roll(base, -1, 0)) / 3


def test_disk_fraction_closed_form():
    assert disk_visible_fraction(0.0, 0.27) == pytest.approx(0.5)
    assert disk_visible_fraction(0.27, 0.27) == pytest.approx(1.0)
    assert disk_visible_fraction(-0.3, 0.27) == pytest.approx(0.0)
    # Half the radius above: segment area by the chord formula.
    u = 0.5
    assert disk_visible_fraction(0.135, 0.27) == pytest.approx(1 - (np.arccos(u) - u * np.sqrt(1 - u * u)) / np.pi)


@pytest.mark.parametrize("centre_only,mask", [(False, 0.0), (True, 0.0), (True, 0.5)])
def test_mean_visibility_equals_brute_force(centre_only, mask):
    track = _track()
    horizon = _horizons()
    x = np.linspace(-9_000, 9_000, horizon.shape[2])
    y = np.linspace(7_000, -7_000, horizon.shape[1])
    table = build_table(track, N_AZ, centre_only=centre_only, mask_deg=mask)
    fast = mean_visibility(horizon, x, y, track, table)
    # The table splits each epoch linearly between azimuths, the direct evaluation interpolates the
    # horizon instead: equal for a horizon flat in azimuth, within 1e-2 for this rough one.
    exact = visibility_per_epoch(horizon, x, y, track, centre_only, mask).mean(axis=0)
    np.testing.assert_allclose(fast, exact, atol=1.5e-2)
    flat = np.repeat(horizon[:1], N_AZ, axis=0)
    np.testing.assert_allclose(mean_visibility(flat, x, y, track, table),
                               visibility_per_epoch(flat, x, y, track, centre_only, mask).mean(axis=0),
                               atol=2e-3)


def test_never_visible_is_conservative_and_tight():
    track = _track(n=6000)
    horizon = _horizons(ny=10, nx=10, seed=3) + np.linspace(-1.5, 3.5, 10)[None, :, None]
    x = np.linspace(-5_000, 5_000, 10)
    y = np.linspace(5_000, -5_000, 10)
    table = build_table(track, N_AZ)
    psr = never_visible(horizon, x, y, track, table)
    ever_lit = (visibility_per_epoch(horizon, x, y, track) > 0).any(axis=0)
    assert not (psr & ever_lit).any()          # never calls a lit pixel dark
    assert psr.any() and (~psr).any()
    # Tight: a horizon just above the highest disk top (plus tilt) darkens every pixel; just
    # below it, the reference pixel sees the Sun at its highest and is not a PSR.
    highest_top = float(np.max(track.elevation_deg + track.radius_deg))
    tilt = np.degrees(np.hypot(5_000, 5_000) / MOON_RADIUS_M)
    above = np.full((N_AZ, 3, 3), table.envelope_deg.max() + tilt + 1e-3)
    small = np.array([-5_000.0, 0.0, 5_000.0])
    assert never_visible(above, small, small[::-1], track, table).all()
    below = np.full((N_AZ, 3, 3), highest_top - 0.01)
    assert not never_visible(below, small, small[::-1], track, table)[1, 1]


def test_longest_darkness_equals_brute_force_runs():
    track = _track(n=2000, step_h=2.0)
    horizon = _horizons(ny=5, nx=5, seed=7) + 0.8
    x = np.linspace(-2_000, 2_000, 5)
    y = np.linspace(2_000, -2_000, 5)
    hidden = visibility_per_epoch(horizon, x, y, track) <= 0
    expected = np.zeros(hidden.shape[1:])
    for i in range(5):
        for j in range(5):
            run = best = 0
            for value in hidden[:, i, j]:
                run = run + 1 if value else 0
                best = max(best, run)
            expected[i, j] = best * 2.0
    np.testing.assert_array_equal(longest_darkness_hours(horizon, x, y, track), expected)
