"""The water prior: per pixel and depth bin, the mean and spread of WEH a drill core would find.

The model (REFERENCES.md section 5; every number is a field of :class:`IceParams`):

- Ice exists only on ground where the thermal maps keep it stable (``ice_depth_m`` finite).
  There, a fraction ``p`` of the ground is covered by ice patches; elsewhere the regolith is dry
  at the background WEH ``B``.
- A patch holds WEH ``C``, lognormal (median and log-spread from LCROSS), from the top of its
  ice down to the bottom of the model. Above the top lies dry regolith at ``B``.
- The top of the ice is ``t = max(d, s)``: ``d`` the patch's dry lag, uniform between
  ``dry_layer_min_m`` and ``dry_layer_max_m``, ``s`` the pixel's ice-stability depth; ice is never
  shallower than it is stable. Where ice is stable at the surface (``s = 0``), a patch is bare
  frost (``t = 0``) with probability ``exposed_frost_probability``.

The WEH of a depth bin ``[a, b)`` at a point is then ``B + I (C - B) f(t)``, with ``I`` the
patch indicator (probability ``p``) and ``f(t) = clip((b - t) / (b - a), 0, 1)`` the part of the
bin below the ice top. ``I``, ``C`` and ``t`` are independent, so

    E = B + p E[C - B] E[f],    Var = p E[(C - B)^2] E[f^2] - (p E[C - B] E[f])^2,

with ``E[f]`` and ``E[f^2]`` integrated in closed form over the uniform dry lag. These are the
statistics of one point (a drill core at an unknown place in the pixel), not of the pixel's
average, and they are exactly those of :class:`lupex.ice.truth.WaterTruth`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from lupex.errors import LupexError
from lupex.ice.params import IceParams
from lupex.raster import like
from lupex.report.layers import LayerStyle

__all__ = ["DRILL_DEPTH_M", "NEUTRON_DEPTH_M", "PRIOR_STYLES", "water_prior"]

NEUTRON_DEPTH_M = 1.0
"""Depth of the column summarised for the neutron spectrometer [m] (it senses the top ~0.5-1 m)."""

DRILL_DEPTH_M = 1.5
"""Reach of the drill, the depth within which ``ice_probability`` counts ice [m] (JAXA: 1.5 m auger)."""

PRIOR_STYLES = {
    "weh_top1m_mean": LayerStyle("YlGnBu", "expected WEH, top 1 m [wt%]", 0.0),
    "weh_top1m_std": LayerStyle("magma", "standard deviation of WEH at a point, top 1 m [wt%]", 0.0),
    "ice_probability": LayerStyle("Blues", "probability of ice within 1.5 m at a point", 0.0, 1.0),
    "ice_top_mean_m": LayerStyle("viridis_r", "expected depth of the ice top where there is ice [m]", 0.0, 1.5),
}
"""The 2-D layers of a prior folder, each written as NAME.tif and NAME.png."""

Antiderivative = Callable[[NDArray], NDArray]


def _bin_fraction(top: float, bottom: float) -> tuple[Antiderivative, Antiderivative, Antiderivative]:
    """``f(t)``, the part of the bin [top, bottom) below an ice top at depth t, and the antiderivatives
    from 0 of ``f`` and ``f^2`` [m] (``f`` is 1 above the bin, linear across it, 0 below)."""
    h = bottom - top

    def f(t):
        return np.clip((bottom - t) / h, 0.0, 1.0)

    def f_integral(u):
        return np.minimum(u, top) + (h * h - (bottom - np.clip(u, top, bottom)) ** 2) / (2.0 * h)

    def f2_integral(u):
        return np.minimum(u, top) + (h**3 - (bottom - np.clip(u, top, bottom)) ** 3) / (3.0 * h * h)

    return f, f_integral, f2_integral


def _expect(g: Antiderivative, g_integral: Antiderivative, s: NDArray, frost: NDArray,
            params: IceParams) -> NDArray:
    """Expectation of ``g(t)`` over the ice top ``t`` of a patch, per pixel.

    Parameters
    ----------
    g, g_integral : callable
        The function of the ice top and its antiderivative from 0.
    s : ndarray
        Ice-stability depth [m] (finite).
    frost : ndarray
        Probability that the patch is bare frost, ``t = s`` [-].
    params : IceParams
        Dry-lag range.
    """
    d0, d1 = params.dry_layer_min_m, params.dry_layer_max_m
    if d1 > d0:
        below = np.clip((s - d0) / (d1 - d0), 0.0, 1.0)  # P(d <= s): the lag lies inside unstable ground
        lag = below * g(s) + (g_integral(d1) - g_integral(np.clip(s, d0, d1))) / (d1 - d0)
    else:
        lag = g(np.maximum(s, d0))
    return frost * g(s) + (1.0 - frost) * lag


def _stability(thermal: xr.Dataset, params: IceParams) -> NDArray:
    """The ice-stability depth of the thermal maps [m], NaN where ice is not stable, checked."""
    if "ice_depth_m" not in thermal:
        raise LupexError("the thermal maps have no ice_depth_m layer; make them with 'lupex thermal map'")
    s = np.asarray(thermal["ice_depth_m"].values, dtype=float)
    finite = s[np.isfinite(s)]
    if finite.size and (finite.min() < 0.0 or finite.max() > params.max_depth_m):
        raise LupexError(f"ice_depth_m holds values outside 0..{params.max_depth_m:g} m "
                         f"({finite.min():g}..{finite.max():g}); the thermal maps are damaged")
    return s


def water_prior(thermal: xr.Dataset, params: IceParams) -> xr.Dataset:
    """Expected WEH and its spread per pixel and depth bin, from the ice-stability map.

    Parameters
    ----------
    thermal : xarray.Dataset
        Thermal maps (:func:`lupex.thermal.products.read_thermal`); only ``ice_depth_m`` [m] is used
        (NaN: no stable ice within reach; 0: stable at the surface).
    params : IceParams
        The water model.

    Returns
    -------
    xarray.Dataset
        On the thermal grid, with ``depth`` the bin centres [m] (coordinates ``depth_top``,
        ``depth_bottom`` [m]):

        - ``weh_mean_wt_pct``, ``weh_std_wt_pct`` (depth, y, x): mean and standard deviation of the
          bin's WEH at a point [wt%];
        - ``weh_top1m_mean``, ``weh_top1m_std`` (y, x): the same for the top 1 m [wt%];
        - ``ice_probability`` (y, x): probability that a point has ice within 1.5 m [-];
        - ``ice_top_mean_m`` (y, x): expected depth of the ice top where a point has ice [m]
          (NaN where ice is not stable);
        - ``patch_fraction`` (y, x): ice-patch area fraction [-];
        - ``ice_depth_m`` (y, x): the ice-stability depth it was computed from [m].
    """
    template = thermal["ice_depth_m"]
    s_raw = _stability(thermal, params)
    stable = np.isfinite(s_raw)
    s = np.where(stable, s_raw, params.max_depth_m)
    p = np.where(stable, params.patch_fraction, 0.0)
    frost = np.where(s_raw == 0.0, params.exposed_frost_probability, 0.0)
    background = params.background_wt_pct
    mean_c, mean_c2 = params.concentration_moments()
    excess = mean_c - background  # E[C - B]
    excess2 = mean_c2 - 2.0 * background * mean_c + background**2  # E[(C - B)^2]

    def moments(top: float, bottom: float) -> tuple[NDArray, NDArray]:
        f, f_int, f2_int = _bin_fraction(top, bottom)
        ef = _expect(f, f_int, s, frost, params)
        ef2 = _expect(lambda t: f(t) ** 2, f2_int, s, frost, params)
        mean = background + p * excess * ef
        var = p * excess2 * ef2 - (p * excess * ef) ** 2
        return mean.astype(np.float32), np.sqrt(np.maximum(var, 0.0)).astype(np.float32)

    edges = params.depth_edges()
    bins = [moments(top, bottom) for top, bottom in itertools.pairwise(edges)]
    column_mean, column_std = moments(0.0, NEUTRON_DEPTH_M)

    d0, d1 = params.dry_layer_min_m, params.dry_layer_max_m
    lag_reaches = np.clip((DRILL_DEPTH_M - d0) / (d1 - d0), 0.0, 1.0) if d1 > d0 else float(d0 < DRILL_DEPTH_M)
    ice_within = np.where(s < DRILL_DEPTH_M, frost + (1.0 - frost) * lag_reaches, 0.0)
    top_mean = _expect(lambda t: t, lambda u: u * u / 2.0, s, frost, params)

    depth = xr.DataArray((edges[:-1] + edges[1:]) / 2.0, dims="depth",
                         attrs={"units": "m", "long_name": "centre of the depth bin"})
    coords = {"depth": depth, "depth_top": ("depth", edges[:-1], {"units": "m"}),
              "depth_bottom": ("depth", edges[1:], {"units": "m"}), "y": template["y"], "x": template["x"]}

    def cube(values: list[NDArray], name: str, long_name: str) -> xr.DataArray:
        return xr.DataArray(np.stack(values), dims=("depth", "y", "x"), coords=coords, name=name,
                            attrs={"units": "wt%", "long_name": long_name})

    layers = [
        cube([m for m, _ in bins], "weh_mean_wt_pct", "expected WEH in the depth bin at a point"),
        cube([sd for _, sd in bins], "weh_std_wt_pct", "standard deviation of WEH in the depth bin at a point"),
        like(template, column_mean, "weh_top1m_mean", "wt%", "expected WEH of the top 1 m at a point"),
        like(template, column_std, "weh_top1m_std", "wt%", "standard deviation of WEH of the top 1 m at a point"),
        like(template, (p * ice_within).astype(np.float32), "ice_probability", "1",
             "probability of ice within 1.5 m at a point"),
        like(template, np.where(stable, top_mean, np.nan).astype(np.float32), "ice_top_mean_m", "m",
             "expected depth of the ice top where there is ice"),
        like(template, p.astype(np.float32), "patch_fraction", "1", "ice-patch area fraction"),
        like(template, s_raw.astype(np.float32), "ice_depth_m", "m", "ice-stability depth (NaN: none within reach)"),
    ]
    prior = xr.merge([layer.drop_vars("spatial_ref", errors="ignore") for layer in layers], compat="override",
                     join="exact", combine_attrs="override")
    prior.attrs = {"title": "lupex water prior"}
    return prior.rio.write_crs(template.rio.crs).rio.write_transform(template.rio.transform())
