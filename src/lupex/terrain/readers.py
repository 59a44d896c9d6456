"""Open DEMs from GeoTIFF (any GDAL raster with a CRS) and PDS3 IMG + LBL products.

Heights always come out in metres above the 1737.4 km reference sphere, as ``float32``
with ``NaN`` for missing data. PDS3 LOLA labels state ``PLANETARY_RADIUS = DN *
SCALING_FACTOR + OFFSET`` with OFFSET the reference radius, so the height is ``DN *
SCALING_FACTOR``; GDAL reports that radius as the band offset, which is why PDS3 products
are read by lupex's own label reader instead of GDAL's PDS driver.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import rasterio.errors
import xarray as xr
from affine import Affine
from pyproj import CRS

from lupex.constants import MOON_RADIUS_M
from lupex.errors import LupexError
from lupex.raster import grid_array, pixel_size
from lupex.terrain import pds3

__all__ = ["DemFile", "open_dem", "read_dem"]

Window = tuple[slice, slice]
"""A (rows, columns) pair of slices with non-negative starts and explicit stops."""


def lunar_crs(crs: CRS | None, source: str) -> CRS:
    """Check that ``crs`` exists and belongs to the Moon (1737.4 km sphere within 1%).

    Parameters
    ----------
    crs : pyproj.CRS or None
        The CRS a file declares.
    source : str
        The file name, for the error message.
    """
    if crs is None:
        raise LupexError(f"{source} has no coordinate reference system; lupex needs a lunar CRS")
    ellipsoid = crs.ellipsoid
    if ellipsoid is None:
        raise LupexError(f"{source} has a CRS without an ellipsoid; lupex needs a lunar CRS")
    if abs(ellipsoid.semi_major_metre - MOON_RADIUS_M) > 0.01 * MOON_RADIUS_M:
        raise LupexError(
            f"{source} is not in a lunar CRS (its body has a radius of "
            f"{ellipsoid.semi_major_metre:.0f} m, the Moon's is {MOON_RADIUS_M:.0f} m)"
        )
    return crs


@dataclass(frozen=True)
class DemFile:
    """An opened DEM file: its grid geometry and how to turn stored values into heights.

    Attributes
    ----------
    path : Path
        The file given by the user.
    width, height : int
        Grid size [pixels].
    transform : affine.Affine
        Pixel-corner transform in CRS units.
    crs : pyproj.CRS
        Lunar CRS of the grid.
    scale, offset : float
        ``height = stored * scale + offset`` [m].
    nodata : float or None
        Stored value that marks missing data.
    format : str
        ``"PDS3"`` or the GDAL driver that reads the file.
    pds3_image : lupex.terrain.pds3.Pds3Image or None
        The label's description when the file is a PDS3 product.
    """

    path: Path
    width: int
    height: int
    transform: Affine
    crs: CRS
    scale: float
    offset: float
    nodata: float | None
    format: str
    pds3_image: pds3.Pds3Image | None = None

    def pixel_size_m(self) -> float:
        """Pixel height on the ground [m]; for a geographic grid, degrees of latitude on the
        1737.4 km sphere."""
        size = abs(self.transform.e)
        return size * np.pi / 180.0 * MOON_RADIUS_M if self.crs.is_geographic else size

    def read(self, window: Window | None = None) -> xr.DataArray:
        """Read heights in a window (all of the grid by default).

        Parameters
        ----------
        window : tuple of slice, optional
            Rows and columns to read, e.g. ``(slice(0, 100), slice(50, 150))``.

        Returns
        -------
        xarray.DataArray
            Heights above the 1737.4 km sphere [m], float32, NaN where missing.
        """
        rows, cols = window or (slice(0, self.height), slice(0, self.width))
        if not (0 <= rows.start < rows.stop <= self.height and 0 <= cols.start < cols.stop <= self.width):
            raise ValueError(f"window {window} outside the {self.height} x {self.width} grid")
        stored = self._read_pds3(rows, cols) if self.pds3_image else self._read_gdal(rows, cols)
        heights = stored.astype(np.float64)
        if self.nodata is not None:
            heights[stored == self.nodata] = np.nan
        if self.scale != 1.0 or self.offset != 0.0:
            heights = heights * self.scale + self.offset
        transform = self.transform @ Affine.translation(cols.start, rows.start)
        return grid_array(
            heights.astype(np.float32), transform, self.crs, "height", "m",
            "height above the 1737.4 km lunar sphere",
        )

    def _read_gdal(self, rows: slice, cols: slice) -> np.ndarray:
        try:
            with rasterio.open(self.path) as ds:
                return ds.read(1, window=((rows.start, rows.stop), (cols.start, cols.stop)))
        except rasterio.errors.RasterioError as exc:
            raise LupexError(f"{self.path} cannot be read (corrupt or truncated?): {_first_line(exc)}") from None

    def _read_pds3(self, rows: slice, cols: slice) -> np.ndarray:
        image = self.pds3_image
        pixels = np.memmap(
            image.image_path, dtype=image.dtype, mode="r", offset=image.byte_offset,
            shape=(image.lines, image.samples),
        )
        return np.array(pixels[rows, cols])


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _is_pds3_label(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(64).lstrip().startswith(b"PDS_VERSION_ID")


def _detached_label(image_path: Path) -> Path | None:
    for suffix in (".LBL", ".lbl", ".Lbl"):
        candidate = image_path.with_suffix(suffix)
        if candidate.exists():
            return candidate
    return None


def _open_pds3(label_path: Path, user_path: Path) -> DemFile:
    image = pds3.image_geometry(pds3.read_label(label_path), label_path)
    size = image.image_path.stat().st_size
    if size < image.expected_bytes:
        raise LupexError(
            f"{image.image_path.name} holds {size} bytes but its label describes "
            f"{image.expected_bytes} ({image.lines} x {image.samples} {np.dtype(image.dtype).name}): "
            "truncated download or wrong label"
        )
    if size > image.expected_bytes and image.image_path != label_path:
        raise LupexError(
            f"{image.image_path.name} holds {size} bytes, more than the {image.expected_bytes} "
            "its label describes: the label does not belong to this image"
        )
    crs = lunar_crs(CRS.from_proj4(image.proj4), user_path.name)
    return DemFile(
        path=user_path, width=image.samples, height=image.lines,
        transform=Affine(*image.transform), crs=crs,
        scale=image.scaling_factor, offset=image.height_offset_m(),
        nodata=image.missing, format="PDS3", pds3_image=image,
    )


def _open_gdal(path: Path) -> DemFile:
    try:
        with rasterio.open(path) as ds:
            if ds.count < 1:
                raise LupexError(f"{path} has no raster band")
            crs = lunar_crs(CRS.from_wkt(ds.crs.to_wkt()) if ds.crs else None, path.name)
            scale = ds.scales[0] if ds.scales and ds.scales[0] else 1.0
            offset = ds.offsets[0] if ds.offsets else 0.0
            if abs(offset - MOON_RADIUS_M) < 100_000.0:
                offset -= MOON_RADIUS_M  # the band offset is the reference radius, as in LOLA
            return DemFile(
                path=path, width=ds.width, height=ds.height, transform=ds.transform, crs=crs,
                scale=float(scale), offset=float(offset),
                nodata=None if ds.nodata is None else float(ds.nodata), format=ds.driver,
            )
    except rasterio.errors.RasterioError as exc:
        raise LupexError(f"{path} is not a readable raster: {_first_line(exc)}") from None


def open_dem(path: str | os.PathLike) -> DemFile:
    """Open a DEM file without reading its pixels.

    Parameters
    ----------
    path : path-like
        A GeoTIFF (or any GDAL raster with a lunar CRS), a PDS3 label (``.LBL``), or a PDS3
        image (``.IMG``) with a detached label beside it or an attached label.

    Raises
    ------
    LupexError
        For a missing or empty file, a label that disagrees with its image, a missing or
        non-lunar CRS, or a file GDAL cannot read.
    """
    path = Path(path)
    if not path.exists():
        raise LupexError(f"{path} does not exist")
    if path.is_dir():
        raise LupexError(f"{path} is a folder, not a DEM file")
    if path.stat().st_size == 0:
        raise LupexError(f"{path} is empty")
    if _is_pds3_label(path):
        return _open_pds3(path, path)
    if path.suffix.lower() == ".img":
        label = _detached_label(path)
        if label is not None:
            return _open_pds3(label, path)
    return _open_gdal(path)


def read_dem(path: str | os.PathLike) -> xr.DataArray:
    """Read a whole DEM into memory and check it is usable for terrain analysis.

    Parameters
    ----------
    path : path-like
        See :func:`open_dem`.

    Returns
    -------
    xarray.DataArray
        Heights above the 1737.4 km sphere [m] (see :mod:`lupex.raster` for the layout).

    Raises
    ------
    LupexError
        As :func:`open_dem`, and for non-square pixels or a DEM without any valid height.
    """
    dem = open_dem(path).read()
    pixel_size(dem)
    if not np.isfinite(dem.values).any():
        raise LupexError(f"{path} holds no valid height (every pixel is nodata)")
    return dem
