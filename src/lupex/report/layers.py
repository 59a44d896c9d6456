"""Write a set of map layers as GeoTIFFs with quicklook PNGs, checked and atomic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import xarray as xr

from lupex.files import claim_folder
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


def prepare_folder(out_dir: Path, names: list[str], overwrite: bool, files: Sequence[str] = (),
                   keep: Sequence[str] = ()) -> list[Path]:
    """Check that ``NAME.tif`` and ``NAME.png`` for every name, and ``files``, may be written into
    ``out_dir``, then create it (:func:`lupex.files.claim_folder`).

    Called before any long work, so a refusal costs nothing.

    Parameters
    ----------
    out_dir : Path
        The output folder.
    names : list of str
        Layer names.
    overwrite : bool
        Whether the command's own earlier outputs may be replaced.
    files, keep : sequence of str
        Further files written there, and entries resumed or reused there (``claim_folder``).

    Returns
    -------
    list of Path
        The layer files that will be written, GeoTIFF then PNG for each name.
    """
    layer_files = [f"{name}.{ext}" for name in names for ext in ("tif", "png")]
    claim_folder(out_dir, [*layer_files, *files], overwrite, keep)
    return [out_dir / name for name in layer_files]


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
