"""File layout of terrain products: rock sidecars and the derived-layer folder."""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from lupex.errors import LupexError
from lupex.files import check_writable
from lupex.raster import write_geotiff
from lupex.report.quicklook import save_quicklook
from lupex.terrain.derive import HazardConfig, derive_layers

__all__ = ["LAYER_FILES", "rocks_path_for", "write_layers"]

LAYER_FILES = ("slope", "roughness", "hazard", "traversable")
"""Derived layers, each written as NAME.tif and NAME.png."""

_QUICKLOOK_STYLE = {
    "slope": ("magma", "slope [deg]"),
    "roughness": ("viridis", "RMS deviation from local plane [m]"),
    "hazard": ("inferno", "rocks >= obstacle size per 100 m^2"),
    "traversable": ("RdYlGn", "1 = traversable"),
}


def rocks_path_for(dem_path: Path) -> Path:
    """Where the rock-area map of a synthetic DEM lives: ``NAME_rocks.tif`` beside ``NAME.tif``."""
    return dem_path.with_name(dem_path.stem + "_rocks.tif")


def write_layers(dem: xr.DataArray, rocks: xr.DataArray | None, config: HazardConfig,
                 out_dir: Path, overwrite: bool = False) -> tuple[xr.Dataset, list[Path]]:
    """Derive the hazard layers of a DEM and write each as GeoTIFF and quicklook PNG.

    Every output is checked before any work starts and written atomically.

    Parameters
    ----------
    dem : xarray.DataArray
        Heights [m].
    rocks : xarray.DataArray or None
        Fractional rock area [-] on the same grid.
    config : HazardConfig
        Thresholds.
    out_dir : Path
        Output folder (created if missing).
    overwrite : bool
        Whether existing files may be replaced.

    Returns
    -------
    layers : xarray.Dataset
        The derived layers (:func:`lupex.terrain.derive.derive_layers`).
    paths : list of Path
        The files written.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise LupexError(f"{out_dir} exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{name}.{ext}" for name in LAYER_FILES for ext in ("tif", "png")]
    for path in paths:
        check_writable(path, overwrite)
    layers = derive_layers(dem, rocks, config)
    for name in LAYER_FILES:
        write_geotiff(layers[name], out_dir / f"{name}.tif", overwrite)
        cmap, label = _QUICKLOOK_STYLE[name]
        limits = {"vmin": 0, "vmax": 1} if name == "traversable" else {}
        save_quicklook(layers[name], out_dir / f"{name}.png", layers[name].attrs["long_name"], cmap,
                       label, relief=dem, overwrite=overwrite, **limits)
    return layers, paths
