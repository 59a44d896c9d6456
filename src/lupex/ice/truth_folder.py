"""The truth folder: a gridded picture of one ground truth, and everything needed to rebuild it.

``lupex ice truth`` writes:

- ``truth.nc``: ``weh_wt_pct`` (depth, y, x), the mean WEH of each depth bin at cell centres
  [wt%], and ``weh_top1m_wt_pct`` (y, x), the mean of the top 1 m [wt%], with the DEM's CRS;
- ``generator.nc``: the prior's ``patch_fraction`` and ``ice_depth_m`` on the DEM grid, the only
  layers the generator reads;
- ``truth.png``: a quicklook of the top 1 m;
- ``truth.json`` (last): seed, resolution, region, tile size, settings and fingerprints.

:func:`open_truth` rebuilds the generator from ``truth.json`` and ``generator.nc`` alone, so a
simulator evaluates the same truth anywhere on the DEM, at any resolution, without the grid.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import netCDF4
import numpy as np
import xarray as xr
from affine import Affine

from lupex.config import build
from lupex.errors import LupexError
from lupex.files import atomic_output, claim_folder, read_manifest
from lupex.ice.params import IceParams
from lupex.ice.prior import NEUTRON_DEPTH_M
from lupex.ice.prior_folder import prior_fingerprint
from lupex.ice.truth import WaterTruth
from lupex.raster import grid_array
from lupex.report.quicklook import save_quicklook

__all__ = ["MAX_TRUTH_VALUES", "TRUTH_JSON", "TruthGrid", "check_truth_folder", "open_truth", "plan_truth_grid",
           "write_truth"]

MAX_TRUTH_VALUES = 200_000_000
"""Most values (bins x rows x columns) a truth grid may hold: 800 MB of float32 on disk before compression."""

TRUTH_NC = "truth.nc"
TRUTH_JSON = "truth.json"
TRUTH_PNG = "truth.png"
GENERATOR_NC = "generator.nc"
_FORMAT_VERSION = 1
_BLOCK_POINTS = 1_000_000
_QUICKLOOK_PX = 1500


@dataclass(frozen=True)
class TruthGrid:
    """Cells on which the truth is sampled: corner transform [m] and size [rows, columns]."""

    transform: Affine
    ny: int
    nx: int

    @property
    def resolution_m(self) -> float:
        """Cell size [m]."""
        return self.transform.a

    def x(self) -> np.ndarray:
        """Cell-centre x [m]."""
        return self.transform.c + self.transform.a * (np.arange(self.nx) + 0.5)

    def y(self) -> np.ndarray:
        """Cell-centre y [m], decreasing."""
        return self.transform.f + self.transform.e * (np.arange(self.ny) + 0.5)


def plan_truth_grid(truth: WaterTruth, resolution_m: float,
                    region: tuple[float, float, float, float] | None = None) -> TruthGrid:
    """The grid of ``truth.nc``, checked before any work.

    Parameters
    ----------
    truth : WaterTruth
        The generator (its prior grid bounds the region).
    resolution_m : float
        Cell size [m]: positive and at most the prior's pixel size (the simulator's fine truth is
        <= 1 m; coarser cells give a point-sampled overview).
    region : tuple of float, optional
        ``(x0, y0, x1, y1)`` [m], inside the DEM; by default the whole DEM.

    Raises
    ------
    LupexError
        For a bad resolution, a region off the DEM, or a grid of more than :data:`MAX_TRUTH_VALUES`.
    """
    pixel = abs(truth.transform.a)
    if not (math.isfinite(resolution_m) and resolution_m > 0):
        raise LupexError(f"--resolution must be a positive number of metres, not {resolution_m:g}")
    if resolution_m > pixel * (1 + 1e-9):
        raise LupexError(f"--resolution {resolution_m:g} m is coarser than the prior's {pixel:g} m pixels; the "
                         "truth resolves patches inside a pixel: use at most the pixel size (1 m or less for the "
                         "mission simulator)")
    left, bottom, right, top = truth.bounds
    x0, y0, x1, y1 = region if region is not None else truth.bounds
    if not (x0 < x1 and y0 < y1):
        raise LupexError(f"--region {x0:g},{y0:g},{x1:g},{y1:g} is empty; give X0,Y0,X1,Y1 with X0 < X1 and Y0 < Y1")
    tolerance = 1e-6 * pixel
    if x0 < left - tolerance or x1 > right + tolerance or y0 < bottom - tolerance or y1 > top + tolerance:
        raise LupexError(f"--region {x0:g},{y0:g},{x1:g},{y1:g} is not inside the DEM "
                         f"({left:g},{bottom:g},{right:g},{top:g}); give a region within it")
    nx = math.floor((x1 - x0) / resolution_m + 1e-9)
    ny = math.floor((y1 - y0) / resolution_m + 1e-9)
    if nx < 1 or ny < 1:
        raise LupexError(f"--region is narrower than one {resolution_m:g} m cell; enlarge it")
    values = ny * nx * (len(truth.params.depth_edges()) - 1)
    if values > MAX_TRUTH_VALUES:
        raise LupexError(f"the truth grid would hold {values:.3g} values ({nx} x {ny} cells x depth bins), more than "
                         f"{MAX_TRUTH_VALUES:.0e}; pass a smaller --region or a coarser --resolution (the generator "
                         "itself, from open_truth, needs no grid)")
    return TruthGrid(Affine(resolution_m, 0.0, x0, 0.0, -resolution_m, y1), ny, nx)


def check_truth_folder(out_dir: Path, overwrite: bool) -> None:
    """Create ``out_dir`` and check every file of a truth folder may be written, before the work."""
    claim_folder(out_dir, (TRUTH_NC, GENERATOR_NC, TRUTH_PNG, TRUTH_JSON), overwrite)


def _write_cube(path: Path, truth: WaterTruth, grid: TruthGrid, progress: Callable[[int, int], None]) -> np.ndarray:
    """Sample the truth into a NetCDF file block of rows by block; return the top-1 m map."""
    edges = truth.params.depth_edges()
    xs, ys = grid.x(), grid.y()
    column = np.empty((grid.ny, grid.nx), dtype=np.float32)
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        for name, size in (("depth", edges.size - 1), ("y", grid.ny), ("x", grid.nx)):
            nc.createDimension(name, size)
        for name, dim, values, attrs in (
            ("depth", "depth", (edges[:-1] + edges[1:]) / 2, {"units": "m", "long_name": "centre of the depth bin"}),
            ("depth_top", "depth", edges[:-1], {"units": "m"}),
            ("depth_bottom", "depth", edges[1:], {"units": "m"}),
            ("y", "y", ys, {"units": "m", "standard_name": "projection_y_coordinate"}),
            ("x", "x", xs, {"units": "m", "standard_name": "projection_x_coordinate"}),
        ):
            var = nc.createVariable(name, "f8", (dim,))
            var[:] = values
            var.setncatts(attrs)
        crs = nc.createVariable("spatial_ref", "i4")
        wkt = truth.crs.to_wkt()
        crs.setncatts({"crs_wkt": wkt, "spatial_ref": wkt,
                       "GeoTransform": " ".join(str(v) for v in grid.transform.to_gdal())})
        cube = nc.createVariable("weh_wt_pct", "f4", ("depth", "y", "x"), zlib=True, complevel=4,
                                 chunksizes=(edges.size - 1, min(grid.ny, 256), min(grid.nx, 256)))
        cube.setncatts({"units": "wt%", "long_name": "mean WEH of the depth bin at the cell centre",
                        "grid_mapping": "spatial_ref", "coordinates": "depth_top depth_bottom"})
        top = nc.createVariable("weh_top1m_wt_pct", "f4", ("y", "x"), zlib=True, complevel=4)
        top.setncatts({"units": "wt%", "long_name": "mean WEH of the top 1 m at the cell centre",
                       "grid_mapping": "spatial_ref"})
        nc.setncatts({"title": "lupex water ground truth", "seed": truth.seed, "resolution_m": grid.resolution_m})
        rows = max(1, _BLOCK_POINTS // grid.nx)
        for start in range(0, grid.ny, rows):
            stop = min(start + rows, grid.ny)
            x, y = np.meshgrid(xs, ys[start:stop])
            found = truth.sample(x, y)
            cube[:, start:stop, :] = truth.bin_means(found)
            column[start:stop] = truth.mean_between(found, 0.0, NEUTRON_DEPTH_M)
            top[start:stop, :] = column[start:stop]
            progress(stop, grid.ny)
    return column


def write_truth(truth: WaterTruth, grid: TruthGrid, out_dir: Path, prior_manifest: dict, overwrite: bool = False,
                progress: Callable[[int, int], None] | None = None) -> list[Path]:
    """Write a truth folder, each file atomically and ``truth.json`` last.

    Parameters
    ----------
    truth : WaterTruth
        The generator.
    grid : TruthGrid
        Cells to sample (:func:`plan_truth_grid`).
    out_dir : Path
        Output folder (see :func:`check_truth_folder`).
    prior_manifest : dict
        ``prior.json`` of the prior the generator was built from.
    overwrite : bool
        Whether existing files may be replaced.
    progress : callable, optional
        ``progress(rows_done, rows_total)``.
    """
    report = progress or (lambda done, total: None)
    with atomic_output(out_dir / TRUTH_NC, overwrite) as tmp:
        column = _write_cube(tmp, truth, grid, report)
    generator = truth.inputs()
    with atomic_output(out_dir / GENERATOR_NC, overwrite) as tmp:
        generator.to_netcdf(tmp, engine="netcdf4")
    stride = max(1, math.ceil(max(grid.ny, grid.nx) / _QUICKLOOK_PX))
    t = grid.transform
    picture = grid_array(column[::stride, ::stride], Affine(t.a * stride, 0.0, t.c, 0.0, t.e * stride, t.f),
                         truth.crs, "weh_top1m_wt_pct", "wt%")
    save_quicklook(picture, out_dir / TRUTH_PNG, f"ground truth, seed {truth.seed}: WEH of the top 1 m",
                   "YlGnBu", "WEH, top 1 m [wt%]", vmin=0.0, overwrite=overwrite)
    x0, y1 = t.c, t.f
    manifest = {
        "lupex_ice_truth_format": _FORMAT_VERSION,
        "seed": truth.seed,
        "resolution_m": grid.resolution_m,
        "region": [x0, y1 - grid.ny * grid.resolution_m, x0 + grid.nx * grid.resolution_m, y1],
        "shape": [len(truth.params.depth_edges()) - 1, grid.ny, grid.nx],
        "tile_size_m": truth.tile_m,
        "random_numbers": "SplitMix64 counter hash of (seed, tile i, tile j, disc, quantity)",
        "generator": GENERATOR_NC,
        "prior_fingerprint": prior_fingerprint(generator["patch_fraction"], generator["ice_depth_m"], truth.params),
        "dem_fingerprint": prior_manifest.get("dem_fingerprint"),
        "params": truth.params.model_dump(),
    }
    path = out_dir / TRUTH_JSON
    with atomic_output(path, overwrite) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    return [out_dir / TRUTH_NC, out_dir / GENERATOR_NC, out_dir / TRUTH_PNG, path]


def open_truth(folder: str | Path) -> WaterTruth:
    """Rebuild the ground-truth generator of a truth folder.

    Parameters
    ----------
    folder : path-like
        Output folder of ``lupex ice truth``.

    Raises
    ------
    LupexError
        When the folder is unfinished or its files do not match one another.
    """
    folder = Path(folder)
    manifest_path, manifest = read_manifest(folder, TRUTH_JSON, "truth", "lupex ice truth")
    if manifest.get("lupex_ice_truth_format") != _FORMAT_VERSION or not isinstance(manifest.get("params"), dict):
        raise LupexError(f"{manifest_path} is not a lupex truth manifest of format {_FORMAT_VERSION}; "
                         "rerun 'lupex ice truth'")
    params = build(IceParams, manifest["params"], str(manifest_path))
    try:
        with xr.open_dataset(folder / GENERATOR_NC, engine="netcdf4", decode_coords="all") as stored:
            layers = stored.load()
    except (OSError, ValueError) as exc:
        raise LupexError(f"cannot read {folder / GENERATOR_NC}: {exc}") from None
    if {"patch_fraction", "ice_depth_m"} - set(layers.data_vars) or prior_fingerprint(
            layers["patch_fraction"], layers["ice_depth_m"], params) != manifest.get("prior_fingerprint"):
        raise LupexError(f"{folder / GENERATOR_NC} does not match {TRUTH_JSON}; rerun 'lupex ice truth'")
    return WaterTruth(layers["patch_fraction"], layers["ice_depth_m"], params, int(manifest["seed"]))
