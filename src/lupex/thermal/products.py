"""The thermal folder: the maps ``lupex thermal map`` writes and how later stages read them.

A thermal folder holds one GeoTIFF per layer of :data:`THERMAL_STYLES` (with a quicklook PNG)
and ``thermal.json``, which names the DEM the maps belong to by its fingerprint. Reading the
folder for a DEM checks both, so maps are never paired with other terrain.

``ice_depth_m`` is the depth of the shallowest buried ice that loses less than 1 mm per
billion years [m]: 0 where ice is stable at the surface, and NaN (the file's nodata value)
where no depth within the model's reach (:data:`ICE_DEPTH_LIMIT_M`) keeps ice.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import rasterio
import rasterio.errors
import xarray as xr

from lupex.errors import LupexError
from lupex.files import atomic_output, read_manifest
from lupex.raster import read_grid
from lupex.report.layers import LayerStyle, prepare_folder, write_layer_files
from lupex.sky.horizon_store import HORIZON_ENTRIES, dem_fingerprint
from lupex.terrain.readers import gdal_warnings_held

__all__ = ["EXTRA_STYLES", "ICE_DEPTH_LIMIT_M", "MANIFEST_NAME", "NO_STABLE_ICE", "SUBSURFACE_NAME",
           "THERMAL_STYLES", "prepare_thermal_folder", "read_thermal", "write_manifest", "write_thermal"]

ICE_DEPTH_LIMIT_M = 1.5
"""Deepest ice-stability depth reported [m]: the reach of the rover's drill."""

NO_STABLE_ICE = np.nan
"""Value of ``ice_depth_m`` where no ice is stable within :data:`ICE_DEPTH_LIMIT_M`."""

MANIFEST_NAME = "thermal.json"

SUBSURFACE_NAME = "subsurface.nc"
"""Mean and maximum temperature and ice loss at the model's nodes down to 1.5 m."""

THERMAL_STYLES = {
    "tmax": LayerStyle("inferno", "annual maximum surface temperature [K]"),
    "tmean": LayerStyle("inferno", "annual mean surface temperature [K]"),
    "ice_depth_m": LayerStyle("viridis_r", "ice-stability depth [m] (blank: none within 1.5 m)", 0,
                              ICE_DEPTH_LIMIT_M),
    "cold_trap": LayerStyle("Blues", "1 = surface cold trap (max < 110 K)", 0, 1),
}
"""Layers every thermal folder holds, each written as NAME.tif and NAME.png."""

EXTRA_STYLES = {"tmin": LayerStyle("inferno", "annual minimum surface temperature [K]")}
"""Further layers ``lupex thermal map`` writes."""


def prepare_thermal_folder(out_dir: Path, overwrite: bool) -> None:
    """Check before any work that every file of a thermal folder may be written (a horizon cube
    computed there is reused when it matches)."""
    prepare_folder(out_dir, [*THERMAL_STYLES, *EXTRA_STYLES], overwrite, files=(SUBSURFACE_NAME, MANIFEST_NAME),
                   keep=HORIZON_ENTRIES)


def write_thermal(out_dir: Path, dem: xr.DataArray, maps: xr.Dataset, subsurface: xr.Dataset, settings: dict,
                  overwrite: bool = False) -> list[Path]:
    """Write the maps (GeoTIFF + PNG), ``subsurface.nc`` and, last, the manifest; each file
    atomically, so a folder without a manifest is an unfinished one.

    An earlier run's manifest is removed before the first new layer is written: a run stopped
    half-way through replacing the folder leaves it unfinished, not vouching for a mix of layers.

    Returns
    -------
    list of Path
        The files written.
    """
    (out_dir / MANIFEST_NAME).unlink(missing_ok=True)
    paths = []
    for name, style in {**THERMAL_STYLES, **EXTRA_STYLES}.items():
        paths += write_layer_files(maps[name], style, out_dir, dem, overwrite)
    with atomic_output(out_dir / SUBSURFACE_NAME, overwrite) as tmp:
        subsurface.to_netcdf(tmp, engine="netcdf4")
    paths.append(out_dir / SUBSURFACE_NAME)
    paths.append(write_manifest(out_dir, dem, settings, overwrite))
    return paths


def write_manifest(out_dir: Path, dem: xr.DataArray, settings: dict, overwrite: bool = False) -> Path:
    """Write ``thermal.json``: the DEM's fingerprint and the settings the maps were made with."""
    path = out_dir / MANIFEST_NAME
    with atomic_output(path, overwrite) as tmp:
        tmp.write_text(json.dumps({"dem_fingerprint": dem_fingerprint(dem), **settings}, indent=2) + "\n")
    return path


def _check_declared_size(path: Path, dem: xr.DataArray) -> None:
    """Refuse a layer whose declared size differs from the DEM's before its pixels are read (a
    corrupt header may declare gigabytes)."""
    try:
        with rasterio.open(path) as ds:
            declared = ds.width * ds.height
    except (rasterio.errors.RasterioError, UnicodeDecodeError) as exc:  # a corrupt tag may not be UTF-8
        raise LupexError(f"cannot read {path}: {' '.join(str(exc).split())}") from None
    if declared != dem.size:
        raise LupexError(f"{path} is not on the DEM's grid ({declared} pixels, the DEM has {dem.size})")


def read_thermal(folder: str | Path, dem: xr.DataArray) -> xr.Dataset:
    """The layers of a thermal folder, checked against the DEM they are used with.

    Parameters
    ----------
    folder : path-like
        Output folder of ``lupex thermal map``.
    dem : xarray.DataArray
        Heights [m] the maps must have been computed from.

    Returns
    -------
    xarray.Dataset
        ``tmax`` and ``tmean`` [K], ``ice_depth_m`` [m] (NaN: no stable ice within 1.5 m),
        ``cold_trap`` (uint8, 1 = cold trap), on the DEM's grid.

    Raises
    ------
    LupexError
        When a layer or the manifest is missing or unreadable, or the maps belong to another DEM.
    """
    folder = Path(folder)
    try:
        path, identity = read_manifest(folder, MANIFEST_NAME, "thermal", "lupex thermal map")
    except UnicodeDecodeError:  # not caught by read_manifest itself (issue 21)
        raise LupexError(f"cannot read {folder / MANIFEST_NAME}: it is not UTF-8 text; "
                         "rerun 'lupex thermal map'") from None
    if not isinstance(identity, dict):
        raise LupexError(f"{path} does not hold a JSON object; rerun 'lupex thermal map'")
    if identity.get("dem_fingerprint") != dem_fingerprint(dem):
        raise LupexError(f"thermal folder {folder} was computed from another DEM; "
                         "rerun 'lupex thermal map' on this one")
    layers = {}
    for name in THERMAL_STYLES:
        path = folder / f"{name}.tif"
        if not path.is_file():
            raise LupexError(f"thermal folder {folder} has no {path.name}")
        with gdal_warnings_held():
            _check_declared_size(path, dem)
            layer = read_grid(path, name)
        if layer.shape != dem.shape or not np.allclose(layer["x"].values, dem["x"].values) or not np.allclose(
                layer["y"].values, dem["y"].values):
            raise LupexError(f"{path} is not on the DEM's grid")
        layers[name] = layer.rename(name)
    return xr.Dataset(layers)
