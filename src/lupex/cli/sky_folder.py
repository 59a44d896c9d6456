"""The sky folder that ``lupex plan`` and ``lupex targets`` read: horizons and, when present, maps."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import xarray as xr

from lupex.errors import LupexError
from lupex.raster import same_grid
from lupex.terrain.readers import read_dem


@dataclass(frozen=True)
class SkyFolder:
    """A folder of ``lupex illuminate`` or ``lupex mission`` for one DEM.

    Attributes
    ----------
    horizon_path : Path
        ``horizon.nc``.
    sun_mean : xarray.DataArray or None
        ``sun_fraction_mean.tif``, mean visible fraction of the Sun [-], when present.
    psr : xarray.DataArray or None
        ``psr.tif``, permanent shadow (1), when present.
    """

    horizon_path: Path
    sun_mean: xr.DataArray | None
    psr: xr.DataArray | None


def _layer(folder: Path, name: str, dem: xr.DataArray) -> xr.DataArray | None:
    """``NAME.tif`` of a sky folder when it exists, checked to lie on the DEM's grid."""
    path = folder / f"{name}.tif"
    if not path.is_file():
        return None
    layer = read_dem(path)
    if not same_grid(layer, dem):
        raise LupexError(f"{path} is not on the DEM's grid; use the sky folder made for this DEM")
    return layer


def read_sky_folder(folder: str | Path, dem: xr.DataArray) -> SkyFolder:
    """Check a sky folder for ``dem`` and read its maps (the horizons are opened later, lazily).

    Raises
    ------
    LupexError
        When the folder holds no ``horizon.nc`` or a map is on another grid.
    """
    folder = Path(folder)
    if not (folder / "horizon.nc").is_file():
        raise LupexError(f"{folder} holds no horizon.nc; make one with 'lupex illuminate' or 'lupex horizon'")
    return SkyFolder(folder / "horizon.nc", _layer(folder, "sun_fraction_mean", dem), _layer(folder, "psr", dem))
