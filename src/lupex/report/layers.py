"""Write a set of map layers as GeoTIFFs with quicklook PNGs, checked and atomic."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import xarray as xr

from lupex.errors import LupexError
from lupex.files import check_writable
from lupex.raster import write_geotiff
from lupex.report.quicklook import save_quicklook

__all__ = ["LayerStyle", "prepare_folder", "write_layer_files"]


@dataclass(frozen=True)
class LayerStyle:
    """How a layer's quicklook looks: colour map, colour-bar label, optional fixed range."""

    cmap: str
    label: str
    vmin: float | None = None
    vmax: float | None = None


def prepare_folder(out_dir: Path, names: list[str], overwrite: bool) -> list[Path]:
    """Create ``out_dir`` and check that ``NAME.tif`` and ``NAME.png`` may be written for every name.

    Called before any long work, so a refusal costs nothing.

    Returns
    -------
    list of Path
        The files that will be written, GeoTIFF then PNG for each name.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise LupexError(f"{out_dir} exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{name}.{ext}" for name in names for ext in ("tif", "png")]
    for path in paths:
        check_writable(path, overwrite)
    return paths


def write_layer_files(layer: xr.DataArray, style: LayerStyle, out_dir: Path, relief: xr.DataArray | None,
                      overwrite: bool = False) -> list[Path]:
    """Write one layer as ``NAME.tif`` and a quicklook ``NAME.png`` (over the relief's hillshade).

    Parameters
    ----------
    layer : xarray.DataArray
        The layer; its ``name`` names the files and its ``long_name`` titles the picture.
    style : LayerStyle
        Quicklook colours.
    out_dir : Path
        Existing output folder.
    relief : xarray.DataArray or None
        DEM whose hillshade is drawn beneath.
    overwrite : bool
        Whether existing files may be replaced.
    """
    tif = out_dir / f"{layer.name}.tif"
    png = out_dir / f"{layer.name}.png"
    write_geotiff(layer, tif, overwrite)
    save_quicklook(layer, png, layer.attrs.get("long_name", str(layer.name)), style.cmap, style.label,
                   relief=relief, vmin=style.vmin, vmax=style.vmax, overwrite=overwrite)
    return [tif, png]
