"""File layout of terrain products: rock sidecars and the derived-layer folder."""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from lupex.report.layers import LayerStyle, prepare_folder, write_layer_files
from lupex.terrain.derive import HazardConfig, derive_layers

__all__ = ["LAYER_STYLES", "rocks_path_for", "write_layers"]

LAYER_STYLES = {
    "slope": LayerStyle("magma", "slope [deg]"),
    "roughness": LayerStyle("viridis", "RMS deviation from local plane [m]"),
    "hazard": LayerStyle("inferno", "rocks >= obstacle size per 100 m^2"),
    "traversable": LayerStyle("RdYlGn", "1 = traversable", 0, 1),
}
"""Derived layers, each written as NAME.tif and NAME.png, and how their quicklooks look."""


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
    prepare_folder(out_dir, list(LAYER_STYLES), overwrite)
    layers = derive_layers(dem, rocks, config)
    paths = []
    for name, style in LAYER_STYLES.items():
        paths += write_layer_files(layers[name], style, out_dir, dem, overwrite)
    return layers, paths
