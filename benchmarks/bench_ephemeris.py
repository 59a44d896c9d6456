"""Benchmark: Sun + Earth ephemeris throughput (target >= 50,000 epochs/s on 2 cores), against SPICE.

Measures, in one run and on this machine (best of ``--repeat``, kernels already loaded):

* ``lupex.sky.ephemeris.body_vectors_moon_fixed``: apparent (LT+S) Sun and Earth vectors
  from the Moon's centre in MOON_ME, the path the horizon and illumination code uses;
* ``lupex.sky.ephemeris.sun_earth_topocentric``: azimuth, elevation, distance and angular
  radius of both bodies from a surface point (observer on the surface, exact parallax);
* the reference, spiceypy (CSPICE) with the same kernels: its vectorised ``spkpos`` (a loop
  over epochs in spiceypy, one C call each) for the Moon-centred vectors, and ``azlcpo`` per
  epoch for the topocentric azimuth/elevation; and the largest angle between the two
  answers on the reference's epochs [arcsec].

Times are given to lupex as ``datetime64`` (UTC; the conversion is counted) and to SPICE as
ephemeris seconds (conversion not counted). The SPICE rows need spiceypy and
``naif0012.tls`` / ``pck00010.tpc`` (``--spice-dir``, default ``../shared/data/spice``
beside the checkout). Run as::

    python benchmarks/bench_ephemeris.py [--epochs 200000] [--spice-epochs 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from lupex.geo import moon_fixed_xyz
from lupex.sky.ephemeris import body_vectors_moon_fixed, kernel_paths, sun_earth_topocentric

TARGET_PER_S = 50_000
"""The issue's target for Sun + Earth Moon-fixed vectors [epochs/s]."""

SITE = (-89.45, 222.7, 0.0)
"""Latitude [deg], east longitude [deg], height [m]: the Shackleton rim."""

BODIES = ("SUN", "EARTH")


def best_seconds(func: Callable[[], object], repeat: int) -> float:
    """Shortest wall-clock time of ``repeat`` calls [s]."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def epochs(n: int) -> np.ndarray:
    """``n`` epochs 10 min apart from 2025-01-01 (UTC)."""
    return np.datetime64("2025-01-01T00:00", "s") + np.arange(n) * np.timedelta64(600, "s")


def angle_arcsec(a: np.ndarray, b: np.ndarray) -> float:
    """Largest angle between paired vectors along the last axis [arcsec]."""
    cross = np.linalg.norm(np.cross(a, b), axis=-1)
    return float(np.degrees(np.arctan2(cross, np.sum(a * b, axis=-1))).max() * 3600.0)


def load_spice(spice_dir: Path):
    """spiceypy with the same kernels as lupex, or None (with the reason printed)."""
    try:
        import spiceypy as sp
    except ImportError:
        print("spiceypy not installed: SPICE rows skipped (pip install -e .[test])")
        return None
    if not spice_dir.is_dir():
        print(f"{spice_dir} not found: SPICE rows skipped (--spice-dir)")
        return None
    kernels = kernel_paths()
    sp.furnsh([str(spice_dir / "naif0012.tls"), str(spice_dir / "pck00010.tpc"), *map(str, kernels.values())])
    sp.furnsh(str(kernels["moon_080317.tf"].with_name("moon_assoc_me.tf")))
    return sp


def spice_vectors(sp, ets: np.ndarray) -> dict[str, np.ndarray]:
    """Moon-centred LT+S vectors in MOON_ME from spiceypy's vectorised spkpos [km]."""
    return {body: np.asarray(sp.spkpos(body, ets, "MOON_ME", "LT+S", "MOON")[0]) for body in BODIES}


def spice_azel(sp, ets: np.ndarray, site_km: np.ndarray) -> dict[str, np.ndarray]:
    """Range [km], azimuth (clockwise) and elevation [rad] from the site, by azlcpo per epoch."""
    return {
        body: np.array(
            [sp.azlcpo("ELLIPSOID", body, et, "LT+S", False, True, site_km, "MOON", "MOON_ME")[0][:3] for et in ets]
        )
        for body in BODIES
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=200_000, help="epochs for lupex")
    parser.add_argument("--spice-epochs", type=int, default=20_000, help="epochs for the SPICE reference")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--spice-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "spice"
    )
    args = parser.parse_args()
    lat, lon, height = SITE
    times = epochs(args.epochs)
    sub = times[: args.spice_epochs]
    body_vectors_moon_fixed(times[:10])  # open the kernels outside the timings

    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    rows = [
        ("lupex Moon-centred vectors", args.epochs, best_seconds(lambda: body_vectors_moon_fixed(times), args.repeat)),
        (
            "lupex topocentric az/el",
            args.epochs,
            best_seconds(lambda: sun_earth_topocentric(lat, lon, times, height), args.repeat),
        ),
    ]
    sp = load_spice(args.spice_dir)
    accuracy = []
    if sp is not None:
        ets = np.asarray(sp.str2et(list(np.datetime_as_string(sub))))
        site_km = moon_fixed_xyz(lat, lon, height) / 1000.0
        rows.append(("spiceypy spkpos (vectorised)", sub.size, best_seconds(lambda: spice_vectors(sp, ets), 1)))
        rows.append(("spiceypy azlcpo (per epoch)", sub.size, best_seconds(lambda: spice_azel(sp, ets, site_km), 1)))
        ours, ref = body_vectors_moon_fixed(sub), spice_vectors(sp, ets)
        sky, ref_azel = sun_earth_topocentric(lat, lon, sub, height), spice_azel(sp, ets, site_km)
        for body, topo in (("SUN", sky.sun), ("EARTH", sky.earth)):
            el = np.radians(topo.elevation_deg)
            az = np.radians(topo.azimuth_deg)
            mine = np.stack([np.cos(el) * np.sin(az), np.cos(el) * np.cos(az), np.sin(el)], axis=-1)
            raz, rel = ref_azel[body][:, 1], ref_azel[body][:, 2]
            theirs = np.stack([np.cos(rel) * np.sin(raz), np.cos(rel) * np.cos(raz), np.sin(rel)], axis=-1)
            accuracy.append((body, angle_arcsec(ours[body.lower()], ref[body]), angle_arcsec(mine, theirs)))

    rate = {name: n / s for name, n, s in rows}
    spice_rate = {"vectors": rate.get("spiceypy spkpos (vectorised)"), "azel": rate.get("spiceypy azlcpo (per epoch)")}
    print(f"\n{'Sun + Earth':<32}{'epochs':>9}{'time [s]':>10}{'epochs/s':>12}{'vs target':>11}{'vs SPICE':>10}")
    for name, n, seconds in rows:
        reference = spice_rate["azel" if "az" in name else "vectors"]
        ratio = f"{rate[name] / reference:>9.1f}x" if reference and name.startswith("lupex") else f"{'':>10}"
        print(f"{name:<32}{n:>9,}{seconds:>10.3f}{rate[name]:>12,.0f}{rate[name] / TARGET_PER_S:>10.1f}x{ratio}")
    for body, vec, azel in accuracy:
        print(f"max angle to SPICE, {body.lower():<5}: vectors {vec:.5f} arcsec, topocentric az/el {azel:.5f} arcsec")


if __name__ == "__main__":
    main()
