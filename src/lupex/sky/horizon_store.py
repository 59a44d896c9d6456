"""Horizon cubes on disk: chunked, quantised NetCDF written azimuth-chunk by chunk, resumable.

A 2000 x 2000 x 360 cube is 5.8 GB as float32, so cubes are stored as int16 with a scale
of 0.005 deg (quantisation error <= 0.0025 deg) in NetCDF-4 chunks of a few azimuths, and
are never needed whole in memory: they are written a chunk of azimuths at a time and read
back lazily. The file carries a fingerprint of the DEM, the observer height and the far
field, so a cube is never used with the wrong terrain, and an interrupted run resumes from
its last finished chunk (the ``.part`` file records which azimuths are done).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Callable
from pathlib import Path

import netCDF4
import numpy as np
import xarray as xr
from numpy.typing import NDArray

from lupex.errors import LupexError
from lupex.files import check_writable
from lupex.sky.horizon import MIN_AZIMUTHS

__all__ = [
    "HORIZON_ENTRIES",
    "HORIZON_SCALE_DEG",
    "dem_fingerprint",
    "open_horizon",
    "read_columns",
    "write_horizon",
]

HORIZON_SCALE_DEG = 0.005
"""Quantisation step of stored horizon angles [deg]."""

HORIZON_ENTRIES = ("horizon.nc", "horizon.nc.part")
"""The horizon cube a command computes into its output folder, and its resumable part: kept and
reused when made for the same DEM and settings (``write_horizon(reuse=True)``)."""

_FILL = np.int16(-32768)
_FORMAT_VERSION = 1


def dem_fingerprint(dem: xr.DataArray) -> str:
    """A short hash of a DEM's heights, grid and CRS: the identity a horizon cube belongs to."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(dem.values, dtype=np.float32).tobytes())
    digest.update(repr(tuple(dem.rio.transform())[:6]).encode())
    digest.update(str(dem.rio.crs.to_wkt()).encode())
    return digest.hexdigest()[:24]


def _identity(dem: xr.DataArray, azimuths: NDArray, observer_height_m: float, far_field: str) -> dict:
    return {
        "lupex_horizon_format": _FORMAT_VERSION,
        "dem_fingerprint": dem_fingerprint(dem),
        "n_azimuths": int(azimuths.size),
        "observer_height_m": float(observer_height_m),
        "far_field": far_field,
    }


def _create(path: Path, dem: xr.DataArray, azimuths: NDArray, identity: dict, chunk_azimuths: int) -> None:
    ny, nx = dem.shape
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        nc.createDimension("azimuth", azimuths.size)
        nc.createDimension("y", ny)
        nc.createDimension("x", nx)
        for name, values, attrs in (
            ("azimuth", azimuths, {"units": "degree", "long_name": "grid azimuth, clockwise from grid north (+y)"}),
            ("y", dem["y"].values, {"units": "m", "standard_name": "projection_y_coordinate"}),
            ("x", dem["x"].values, {"units": "m", "standard_name": "projection_x_coordinate"}),
        ):
            var = nc.createVariable(name, "f8", (name,))
            var[:] = values
            var.setncatts(attrs)
        crs = nc.createVariable("spatial_ref", "i4")
        crs.setncatts({"crs_wkt": dem.rio.crs.to_wkt(), "spatial_ref": dem.rio.crs.to_wkt(),
                       "GeoTransform": " ".join(str(v) for v in dem.rio.transform().to_gdal())})
        horizon = nc.createVariable(
            "horizon_deg", "i2", ("azimuth", "y", "x"), zlib=True, complevel=1, fill_value=_FILL,
            chunksizes=(min(chunk_azimuths, azimuths.size), min(ny, 512), min(nx, 512)),
        )
        horizon.setncatts({"scale_factor": HORIZON_SCALE_DEG, "add_offset": 0.0, "units": "degree",
                           "long_name": "elevation angle of the terrain horizon", "grid_mapping": "spatial_ref"})
        done = nc.createVariable("azimuth_done", "u1", ("azimuth",))
        done[:] = 0
        nc.setncatts(identity)


def _same_identity(path: Path, identity: dict) -> bool:
    """Whether a cube (or its ``.part``) was made for exactly this DEM and these settings."""
    try:
        with netCDF4.Dataset(path) as nc:
            return all(nc.getncattr(key) == value for key, value in identity.items())
    except (OSError, RuntimeError, AttributeError):
        return False


def _open_part(part: Path, dem: xr.DataArray, azimuths: NDArray, identity: dict,
               chunk_azimuths: int) -> netCDF4.Dataset:
    """The resumable ``.part`` of a cube, open for appending: the one there when it was made for
    this identity and HDF5 can open it, else a new one.

    HDF5 files are not crash-safe: a run killed while flushing may leave one that cannot be
    opened (made anew here) or a chunk flagged done whose data is missing (``write_horizon``
    computes it again: a stored horizon is never the fill value).
    """
    if _same_identity(part, identity):
        try:
            return netCDF4.Dataset(part, "a")
        except (OSError, RuntimeError):
            pass
    part.unlink(missing_ok=True)
    _create(part, dem, azimuths, identity, chunk_azimuths)
    return netCDF4.Dataset(part, "a")


def write_horizon(
    path: str | os.PathLike,
    dem: xr.DataArray,
    azimuths_deg: NDArray,
    compute: Callable[[NDArray], NDArray],
    observer_height_m: float = 0.0,
    far_field: str = "",
    chunk_azimuths: int = 8,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    reuse: bool = False,
) -> Path:
    """Compute a horizon cube chunk by chunk of azimuths into a NetCDF file, resumably.

    Parameters
    ----------
    path : path-like
        Output ``.nc`` file. While running, the work lives in ``path + ".part"``; rerunning
        after an interruption continues from the azimuth chunks already done.
    dem : xarray.DataArray
        The DEM the horizons belong to (its fingerprint is stored).
    azimuths_deg : ndarray
        Grid azimuths [deg], clockwise from grid north.
    compute : callable
        ``compute(azimuths_deg) -> ndarray (len(azimuths), ny, nx)`` of horizon angles [deg].
    observer_height_m : float
        Observer height above the ground [m] (stored, and checked on resume).
    far_field : str
        Description of the far-field DEM, or "" (stored, and checked on resume).
    chunk_azimuths : int
        Azimuths computed and written at a time.
    overwrite : bool
        Whether an existing output may be replaced.
    progress : callable, optional
        ``progress(azimuths_done, azimuths_total)`` after each chunk.
    reuse : bool
        Keep an existing ``path`` made for exactly this DEM and these settings instead of
        recomputing it; one made otherwise is refused, or replaced with ``overwrite``.
    """
    azimuths = np.asarray(azimuths_deg, dtype=float)
    identity = _identity(dem, azimuths, observer_height_m, far_field)
    if reuse and Path(path).exists():
        if _same_identity(Path(path), identity):
            return Path(path)
        if not overwrite:
            raise LupexError(f"{path} was computed for another DEM or other settings (azimuths, observer "
                             "height, far field); pass --overwrite to replace it, or choose another --out")
    final = check_writable(path, overwrite)
    part = final.with_name(final.name + ".part")
    with _open_part(part, dem, azimuths, identity, chunk_azimuths) as nc:
        done = nc["azimuth_done"][:].astype(bool)
        horizon = nc["horizon_deg"]
        for start in range(0, azimuths.size, chunk_azimuths):
            stop = min(start + chunk_azimuths, azimuths.size)
            if done[start:stop].all() and np.ma.is_masked(horizon[start:stop]):
                done[start:stop] = False  # flagged done, but a killed run's data never reached the disk
            if not done[start:stop].all():
                horizon[start:stop] = np.asarray(compute(azimuths[start:stop]), dtype=np.float32)
                nc["azimuth_done"][start:stop] = 1
                nc.sync()
            if progress is not None:
                progress(stop, azimuths.size)
    os.replace(part, final)
    return final


def open_horizon(path: str | os.PathLike, dem: xr.DataArray | None = None,
                 observer_height_m: float | None = None) -> xr.DataArray:
    """Open a horizon cube lazily as float32 degrees, checking it belongs to ``dem``.

    Before it is returned, every stored chunk of the cube is read once (a chunk at a time, a few
    MB) so that a corrupt or truncated file is refused here rather than hours into the work that
    reads it; a file is checked once per process (about 2 s for a 1024 x 1024 x 360 cube on
    2 cores).

    Parameters
    ----------
    path : path-like
        A file written by :func:`write_horizon` (or any NetCDF with ``horizon_deg`` on
        dims ``azimuth, y, x``).
    dem : xarray.DataArray, optional
        The DEM it must match: same grid, and the same fingerprint when the file has one.
    observer_height_m : float, optional
        The eye height the caller works with [m]; refused when the file was computed for
        another one.

    Returns
    -------
    xarray.DataArray
        ``horizon_deg`` with dims (azimuth, y, x), lazily loaded [deg].

    Raises
    ------
    LupexError
        For a missing, unreadable, corrupt or truncated file, azimuths that are not increasing
        grid azimuths in [0, 360) deg, or a cube made for another grid, DEM or observer height.
    """
    path = Path(path)
    if not path.exists():
        raise LupexError(f"horizon file {path} does not exist")
    if path.is_dir():
        raise LupexError(f"horizon file {path} is a folder; give the horizon.nc file")
    _check_readable(path)
    try:
        dataset = xr.open_dataset(path, engine="netcdf4", mask_and_scale=True)
    except (OSError, RuntimeError, ValueError, TypeError, KeyError, IndexError) as exc:
        raise LupexError(f"{path} is not a readable NetCDF horizon file: {_first_line(exc)}; "
                         "recompute it with 'lupex horizon'") from None
    try:
        return _checked_cube(dataset, path, dem, observer_height_m)
    except LupexError:
        dataset.close()
        raise


def _checked_cube(dataset: xr.Dataset, path: Path, dem: xr.DataArray | None,
                  observer_height_m: float | None) -> xr.DataArray:
    """``horizon_deg`` of an open horizon file, once its layout, azimuths and identity are checked."""
    if "horizon_deg" not in dataset or dataset["horizon_deg"].dims != ("azimuth", "y", "x"):
        raise LupexError(f"{path} has no horizon_deg variable with dims (azimuth, y, x)")
    horizon = dataset["horizon_deg"]
    if horizon.sizes["azimuth"] < MIN_AZIMUTHS:
        raise LupexError(f"{path} has {horizon.sizes['azimuth']} azimuths; at least {MIN_AZIMUTHS} are needed")
    azimuths = np.asarray(horizon["azimuth"].values)
    if not (np.issubdtype(azimuths.dtype, np.number) and np.all(np.isfinite(azimuths))
            and np.all(np.diff(azimuths) > 0) and azimuths[0] >= 0.0 and azimuths[-1] < 360.0):
        raise LupexError(f"{path} holds azimuths that are not increasing grid azimuths in [0, 360) deg; "
                         "recompute it with 'lupex horizon'")
    if dem is not None:
        _check_matches(horizon, dataset.attrs, dem, path)
    stored_height = dataset.attrs.get("observer_height_m")
    if stored_height is not None and not (isinstance(stored_height, int | float | np.integer | np.floating)
                                          and np.isfinite(stored_height)):
        raise LupexError(f"{path} records an observer height that is not a number; recompute it with 'lupex horizon'")
    if observer_height_m is not None and stored_height is not None and stored_height != observer_height_m:
        raise LupexError(f"horizon file {path.name} was computed for an observer {float(stored_height):g} m above "
                         f"the ground, not {observer_height_m:g} m; recompute it with 'lupex horizon'")
    return horizon


def _check_matches(horizon: xr.DataArray, attrs: dict, dem: xr.DataArray, path: Path) -> None:
    same_grid = horizon.sizes["y"] == dem.sizes["y"] and horizon.sizes["x"] == dem.sizes["x"] and (
        np.allclose(horizon["x"].values, dem["x"].values) and np.allclose(horizon["y"].values, dem["y"].values))
    if not same_grid:
        raise LupexError(f"horizon file {path.name} was computed on another grid than this DEM; "
                         "recompute it with 'lupex horizon'")
    stored = attrs.get("dem_fingerprint")
    if stored is not None and not (isinstance(stored, str) and stored == dem_fingerprint(dem)):
        raise LupexError(f"horizon file {path.name} was computed from other heights than this DEM; "
                         "recompute it with 'lupex horizon'")


def _first_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:200] if text else type(exc).__name__


_READABLE: set[tuple[int, int, int, int]] = set()
"""(device, inode, size, modification time) of the cubes :func:`_check_readable` read through."""

CHECK_SECONDS = 30.0
"""Time allowed to open a horizon file and read it through, on top of ``CHECK_SECONDS_PER_BYTE`` [s]."""

CHECK_SECONDS_PER_BYTE = 1.0 / 5e6
"""Time allowed per byte of the file [s]: 5 MB/s, a twentieth of the 100 MB/s at which a 225 MB cube
of 1024 x 1024 pixels and 360 azimuths is read through on 2 cores (2.2 s)."""


def _check_readable(path: Path) -> None:
    """Open the file and read every chunk of ``horizon_deg`` once, in a child process, before this
    process touches it; a file HDF5 cannot read, crashes on or never finishes reading is a LupexError.

    The cube is lazy, so without this a flipped bit in a compressed chunk would surface as a
    ``RuntimeError`` from the NetCDF library wherever the chunk is first read. A child process,
    because a damaged file can also make HDF5 loop for ever while opening it (one byte of a 15 kB
    cube set to zero does, with HDF5 2.2), and a loop in C code cannot be interrupted in-process.
    A file is checked once per process (about 2 s for 1024 x 1024 pixels and 360 azimuths). A
    daemonic process (a Dask worker of a campaign, reading the cubes its own campaign wrote) may
    not start children, and skips the check.
    """
    stat = path.stat()
    identity = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if identity in _READABLE or multiprocessing.current_process().daemon:
        return
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_read_through, args=(str(path), send), daemon=True)
    child.start()
    send.close()
    seconds = CHECK_SECONDS + stat.st_size * CHECK_SECONDS_PER_BYTE
    try:
        problem = receive.recv() if receive.poll(seconds) else None
    except EOFError:  # the child died without a word: HDF5 crashed on the file
        problem = f"the NetCDF library crashes reading it (exit status {child.join(5) or child.exitcode})"
    else:
        if problem is None and child.is_alive():
            problem = f"the NetCDF library did not finish reading it in {seconds:.0f} s"
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join()
    if problem:
        raise LupexError(f"horizon file {path} is corrupt or truncated ({problem}); recompute it with 'lupex horizon'")
    _READABLE.add(identity)


def _read_through(path: str, send) -> None:
    """In the child: read every chunk of ``horizon_deg``; send "" when all could be read, else the reason."""
    try:
        with netCDF4.Dataset(path) as nc:
            if "horizon_deg" in nc.variables and nc["horizon_deg"].ndim == 3:
                variable = nc["horizon_deg"]
                variable.set_auto_maskandscale(False)
                chunks = variable.chunking()
                steps = chunks if isinstance(chunks, list) else [min(n, 512) for n in variable.shape]
                for a in range(0, variable.shape[0], steps[0]):
                    for r in range(0, variable.shape[1], steps[1]):
                        for c in range(0, variable.shape[2], steps[2]):
                            variable[a:a + steps[0], r:r + steps[1], c:c + steps[2]]
        send.send("")
    except Exception as exc:  # anything the library raises: the parent names it
        send.send(_first_line(exc))
    finally:
        send.close()


def read_columns(horizon, rows, cols, azimuths_per_read: int = 16) -> np.ndarray:
    """Horizon angles at chosen pixels, shape (A, N) [deg], float64.

    Reads a lazy cube (:func:`open_horizon`) a few azimuth planes at a time, in the order it is
    chunked on disk; picking scattered pixels across all azimuths at once makes the NetCDF
    library decompress every chunk once per pixel. Arrays are indexed directly.

    Parameters
    ----------
    horizon : array-like, shape (A, ny, nx)
        The cube [deg].
    rows, cols : array_like of int
        Pixel rows and columns, same length N.
    azimuths_per_read : int
        Azimuth planes read at once.
    """
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    if not isinstance(horizon, xr.DataArray):
        return np.asarray(horizon, dtype=float)[:, rows, cols]
    n_az = horizon.shape[0]
    out = np.empty((n_az, rows.size))
    for a in range(0, n_az, azimuths_per_read):
        planes = np.asarray(horizon.isel(azimuth=slice(a, a + azimuths_per_read)).values)
        out[a:a + planes.shape[0]] = planes[:, rows, cols]
    return out
