"""Open DEMs from GeoTIFF (any GDAL raster with a CRS) and PDS3 IMG + LBL products.

Heights always come out in metres above the 1737.4 km reference sphere, as ``float32``
with ``NaN`` for missing data. PDS3 LOLA labels state ``PLANETARY_RADIUS = DN *
SCALING_FACTOR + OFFSET`` with OFFSET the reference radius, so the height is ``DN *
SCALING_FACTOR``; GDAL reports that radius as the band offset, which is why PDS3 products
are read by lupex's own label reader instead of GDAL's PDS driver.

Grids come out north-up (see :func:`lupex.raster.north_up`) whatever order the file stores its
pixels in: south-up, east-to-west and quarter-turned files are reordered exactly, and a file on
a rotated grid is refused (only ``lupex terrain crop`` reads it, to warp it).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.errors
import xarray as xr
from affine import Affine
from pyproj import CRS
from pyproj.exceptions import CRSError

from lupex.constants import MOON_RADIUS_M
from lupex.errors import LupexError
from lupex.limits import check_memory
from lupex.raster import grid_array, north_up, pixel_size
from lupex.terrain import pds3

__all__ = ["DemFile", "gdal_warnings_held", "open_dem", "read_dem"]

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

    The geometry is that of the north-up grid :meth:`read` returns, which differs from the
    file's own when the file stores its pixels in another order (``stored_transform``). A file
    on a rotated grid keeps its own geometry and :meth:`read` refuses it (``refusal``); only
    warping code (:func:`lupex.terrain.reproject.crop_to_polar`) reads it, with :meth:`heights`.

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
    stored_transform : affine.Affine or None
        The file's own transform when it stores the pixels in another order than north-up;
        None when the two agree.
    refusal : str or None
        Why :meth:`read` refuses the file (a rotated grid), or None.
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
    stored_transform: Affine | None = None
    refusal: str | None = None

    def pixel_size_m(self) -> float:
        """Pixel height on the ground [m] (the length of one row step); for a geographic grid,
        degrees of latitude on the 1737.4 km sphere."""
        size = float(np.hypot(self.transform.b, self.transform.e))
        return size * np.pi / 180.0 * MOON_RADIUS_M if self.crs.is_geographic else size

    def read(self, window: Window | None = None) -> xr.DataArray:
        """Read heights in a window (all of the grid by default).

        Parameters
        ----------
        window : tuple of slice, optional
            Rows and columns of the north-up grid to read, e.g. ``(slice(0, 100), slice(50, 150))``.

        Returns
        -------
        xarray.DataArray
            Heights above the 1737.4 km sphere [m], float32, NaN where missing, north-up.

        Raises
        ------
        LupexError
            For a file on a rotated grid (``refusal``), or one that cannot be read.
        """
        if self.refusal:
            raise LupexError(self.refusal)
        rows, cols = window or (slice(0, self.height), slice(0, self.width))
        return grid_array(
            self.heights(window), self.transform @ Affine.translation(cols.start, rows.start), self.crs,
            "height", "m", "height above the 1737.4 km lunar sphere",
        )

    def heights(self, window: Window | None = None) -> np.ndarray:
        """Heights in a window of the grid this object describes, as a bare array.

        Parameters
        ----------
        window : tuple of slice, optional
            Rows and columns of the grid of ``width``, ``height`` and ``transform`` (north-up,
            or a rotated file's own grid).

        Returns
        -------
        numpy.ndarray
            Heights above the 1737.4 km sphere [m], float32, C-ordered, NaN where missing.
        """
        rows, cols = window or (slice(0, self.height), slice(0, self.width))
        if not (0 <= rows.start < rows.stop <= self.height and 0 <= cols.start < cols.stop <= self.width):
            raise ValueError(f"window {window} outside the {self.height} x {self.width} grid")
        check_read_size(self.path, rows.stop - rows.start, cols.stop - cols.start)
        if self.stored_transform is None:
            return self._stored_heights(rows, cols)
        # the window's corners, carried from this grid's pixels into the file's own
        to_stored = ~self.stored_transform @ self.transform
        (c0, r0), (c1, r1) = to_stored @ (cols.start, rows.start), to_stored @ (cols.stop, rows.stop)
        r0, r1, c0, c1 = (int(round(v)) for v in (min(r0, r1), max(r0, r1), min(c0, c1), max(c0, c1)))
        stored = self._stored_heights(slice(r0, r1), slice(c0, c1))
        values, _ = north_up(stored, self.stored_transform @ Affine.translation(c0, r0), self.path.name)
        return np.ascontiguousarray(values)

    def _stored_heights(self, rows: slice, cols: slice) -> np.ndarray:
        """Heights [m] of a window of the file in its own pixel order."""
        stored = self._read_pds3(rows, cols) if self.pds3_image else self._read_gdal(rows, cols)
        heights = stored.astype(np.float64)
        if self.nodata is not None:
            heights[stored == self.nodata] = np.nan
        if self.scale != 1.0 or self.offset != 0.0:
            heights = heights * self.scale + self.offset
        return heights.astype(np.float32)

    def _read_gdal(self, rows: slice, cols: slice) -> np.ndarray:
        try:
            with gdal_warnings_held(), rasterio.open(self.path) as ds:
                return ds.read(1, window=((rows.start, rows.stop), (cols.start, cols.stop)))
        except (rasterio.errors.RasterioError, UnicodeDecodeError) as exc:  # a corrupt tag may not be UTF-8
            raise LupexError(f"{self.path} cannot be read (corrupt or truncated?): {_first_line(exc)}") from None

    def _read_pds3(self, rows: slice, cols: slice) -> np.ndarray:
        image = self.pds3_image
        pixels = np.memmap(
            image.image_path, dtype=image.dtype, mode="r", offset=image.byte_offset,
            shape=(image.lines, image.samples),
        )
        return np.array(pixels[rows, cols])


GDAL_LOGGER = "rasterio._env"
"""The logger through which rasterio passes on GDAL's warnings (``CPLE_AppDefined in ...``)."""


class _Held(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def gdal_warnings_held() -> Iterator[None]:
    """Hold back GDAL's and rasterio's warnings while the block runs: passed on (each once) when it
    succeeds, dropped when it raises, so that a refused file gives one ``lupex: error:`` line and no more.

    A corrupt GeoTIFF makes GDAL warn ("tags apparently corrupt, they are being ignored") and
    rasterio warn (``NotGeoreferencedWarning``) before lupex refuses it; the refusal names the
    problem, and the warnings would only bury it. Held are the records of the ``rasterio._env``
    logger, Python warnings issued in the block, and the ``UnicodeDecodeError`` rasterio's GDAL
    message handler raises (and Python prints) for a message that is not UTF-8, which is dropped
    either way. The readers hold them while they open and read a file; a command line should hold
    them for the whole command, since a file that opens with warnings may still be refused later.
    """
    logger = logging.getLogger(GDAL_LOGGER)
    held, propagate = _Held(), logger.propagate
    unraisable, excepthook = sys.unraisablehook, sys.excepthook
    logger.addHandler(held)
    logger.propagate = False
    sys.unraisablehook = functools.partial(_undecodable_unraisable, unraisable)
    sys.excepthook = functools.partial(_undecodable_printed, excepthook)
    try:
        with warnings.catch_warnings(record=True) as issued:
            yield
    finally:
        logger.removeHandler(held)
        logger.propagate = propagate
        sys.unraisablehook, sys.excepthook = unraisable, excepthook
    shown = set()
    for record in held.records:  # reached only when the block succeeded
        if record.getMessage() not in shown:
            shown.add(record.getMessage())
            logger.handle(record)
    for warning in issued:
        warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno,
                             warning.file, warning.line)


def _undecodable_unraisable(hook: Callable[[Any], None], unraisable: Any) -> None:
    """Drop the UnicodeDecodeError that rasterio's GDAL error handler raises when a corrupt file's
    GDAL message is not UTF-8 (rasterio 1.4 decodes it strictly), which Python would print as an
    "Exception ignored in: 'rasterio._env.log_error'" traceback; pass on anything else."""
    if isinstance(unraisable.exc_value, UnicodeDecodeError) and "rasterio" in str(unraisable.object):
        logging.getLogger(GDAL_LOGGER).debug("a GDAL message is not UTF-8: %s", unraisable.exc_value)
        return
    hook(unraisable)


def _undecodable_printed(hook: Callable[..., None], kind: type, value: BaseException, traceback: Any) -> None:
    """Drop the same UnicodeDecodeError where rasterio's handler prints it (``PyErr_Print``, through
    ``sys.excepthook``) before it is reported as unraisable; pass on anything else."""
    if isinstance(value, UnicodeDecodeError) and traceback is None:
        logging.getLogger(GDAL_LOGGER).debug("a GDAL message is not UTF-8: %s", value)
        return
    hook(kind, value, traceback)


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


def _geometry(path: Path, rows: int, cols: int, transform: Affine) -> dict:
    """The :class:`DemFile` geometry fields of a file of ``rows`` x ``cols`` pixels stored with
    ``transform``: its north-up grid, or its own grid and the refusal when it is rotated.

    Raises
    ------
    LupexError
        For a transform that maps the pixels onto no area (a zero pixel size) or off any map.
    """
    if not (np.isfinite(tuple(transform)[:6]).all() and transform.determinant != 0):
        raise LupexError(f"{path.name} has a degenerate pixel grid (geotransform {tuple(transform)[:6]}): its pixels "
                         "have no area on the map; correct the file's pixel size")
    try:
        # a zero-size stand-in for the pixels: only the shape and transform are needed here
        grid, north = north_up(np.broadcast_to(np.float32(0), (rows, cols)), transform, path.name)
    except LupexError as exc:
        return {"width": cols, "height": rows, "transform": transform, "refusal": str(exc)}
    geometry = {"width": grid.shape[1], "height": grid.shape[0], "transform": north}
    if north != transform:
        geometry["stored_transform"] = transform
    return geometry


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
    try:
        crs = CRS.from_proj4(image.proj4)
    except CRSError as exc:
        raise LupexError(f"{user_path.name}: PROJ refuses the map projection its label describes "
                         f"({_first_line(exc)}); correct the label") from None
    crs = lunar_crs(crs, user_path.name)
    return DemFile(
        path=user_path, crs=crs, scale=image.scaling_factor, offset=image.height_offset_m(),
        nodata=image.missing, format="PDS3", pds3_image=image,
        **_geometry(user_path, image.lines, image.samples, Affine(*image.transform)),
    )


def _open_gdal(path: Path) -> DemFile:
    try:
        with gdal_warnings_held(), rasterio.open(path) as ds:
            if ds.count < 1:
                raise LupexError(f"{path} has no raster band")
            try:
                crs = CRS.from_wkt(ds.crs.to_wkt()) if ds.crs else None
            except CRSError as exc:
                raise LupexError(f"{path} has a coordinate reference system PROJ cannot read: "
                                 f"{_first_line(exc)}") from None
            crs = lunar_crs(crs, path.name)
            scale = ds.scales[0] if ds.scales and ds.scales[0] else 1.0
            offset = ds.offsets[0] if ds.offsets else 0.0
            if not (np.isfinite(scale) and np.isfinite(offset)):
                raise LupexError(f"{path} gives its heights a scale of {scale:g} and an offset of {offset:g}; "
                                 "both must be finite numbers: correct the file's band metadata")
            if abs(offset - MOON_RADIUS_M) < 100_000.0:
                offset -= MOON_RADIUS_M  # the band offset is the reference radius, as in LOLA
            return DemFile(
                path=path, crs=crs, scale=float(scale), offset=float(offset),
                nodata=None if ds.nodata is None else float(ds.nodata), format=ds.driver,
                **_geometry(path, ds.height, ds.width, ds.transform),
            )
    except (rasterio.errors.RasterioError, UnicodeDecodeError) as exc:  # a corrupt tag may not be UTF-8
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
    if "\0" in str(path):
        raise LupexError(f"{str(path)!r} is not a valid file name (it holds a NUL character)")
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
        As :func:`open_dem`, and for a rotated grid, non-square pixels or a DEM without any
        valid height.
    """
    dem = open_dem(path).read()
    pixel_size(dem)
    if not np.isfinite(dem.values).any():
        raise LupexError(f"{path} holds no valid height (every pixel is nodata)")
    return dem


READ_BYTES_PER_PX = 32
"""Peak memory of reading a DEM window, per pixel [bytes]: the stored values (up to 8 B), the
float64 heights and their scaled copy (16 B), and the float32 result with its north-up copy (8 B)."""


def check_read_size(path: Path, rows: int, cols: int) -> None:
    """Refuse, before reading, a window of ``rows`` x ``cols`` pixels that would not fit in memory.

    A file's declared size is only checked when it is read whole; windowed reads (the tiled
    path's) are checked for the window alone.

    Raises
    ------
    LupexError
        When ``READ_BYTES_PER_PX`` a pixel exceeds :func:`lupex.limits.memory_budget`.
    """
    check_memory(float(rows) * cols * READ_BYTES_PER_PX, f"reading {cols} x {rows} pixels of {path.name}",
                 "crop it with 'lupex terrain crop', or make illumination maps tile by tile with "
                 "'lupex illuminate --tile-px'")
