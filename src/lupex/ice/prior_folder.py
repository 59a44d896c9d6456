"""The prior folder: what ``lupex ice prior`` writes, and how the truth and the planner read it back.

A prior folder holds ``prior.nc`` (every layer of :func:`lupex.ice.prior.water_prior`, with the
DEM's CRS), a GeoTIFF and a quicklook PNG of each layer of :data:`PRIOR_STYLES`, and
``prior.json``: the model settings, the fingerprint of the DEM the thermal maps came from, and
the prior's own fingerprint (the inputs of the truth generator). ``prior.json`` is written last,
so a folder without it is unfinished.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import xarray as xr

from lupex.config import build
from lupex.errors import LupexError
from lupex.files import atomic_output, read_manifest
from lupex.ice.params import IceParams
from lupex.ice.prior import PRIOR_STYLES
from lupex.report.layers import prepare_folder, write_layer_files
from lupex.sky.horizon_store import dem_fingerprint

__all__ = ["PRIOR_JSON", "PRIOR_NC", "check_prior_folder", "prior_fingerprint", "read_prior", "write_prior"]

PRIOR_NC = "prior.nc"
PRIOR_JSON = "prior.json"
_FORMAT_VERSION = 1


def prior_fingerprint(patch_fraction: xr.DataArray, ice_depth_m: xr.DataArray, params: IceParams) -> str:
    """A short hash of what the truth generator reads: the two layers, their grid and the settings.

    The CRS is left out (its WKT text changes on a trip through NetCDF); the DEM's fingerprint covers it.
    """
    digest = hashlib.sha256()
    for layer in (patch_fraction, ice_depth_m):
        digest.update(np.ascontiguousarray(layer.values, dtype=np.float32).tobytes())
    digest.update(repr(tuple(patch_fraction.rio.transform())[:6]).encode())
    digest.update(params.model_dump_json().encode())
    return digest.hexdigest()[:24]


def check_prior_folder(out_dir: Path, overwrite: bool) -> list[Path]:
    """Create ``out_dir`` and check every file of a prior folder may be written, before the work."""
    paths = prepare_folder(out_dir, list(PRIOR_STYLES), overwrite, files=(PRIOR_NC, PRIOR_JSON))
    return [*paths, out_dir / PRIOR_NC, out_dir / PRIOR_JSON]


def write_prior(prior: xr.Dataset, params: IceParams, dem: xr.DataArray, out_dir: Path, thermal_dir: str,
                overwrite: bool = False) -> list[Path]:
    """Write a prior folder, each file atomically and ``prior.json`` last.

    Parameters
    ----------
    prior : xarray.Dataset
        Output of :func:`lupex.ice.prior.water_prior`.
    params : IceParams
        The settings it was made with.
    dem : xarray.DataArray
        The DEM under the thermal maps (fingerprinted, and drawn beneath the quicklooks).
    out_dir : Path
        Output folder (see :func:`check_prior_folder`).
    thermal_dir : str
        The thermal folder it was made from (recorded).
    overwrite : bool
        Whether existing files may be replaced.

    Returns
    -------
    list of Path
        The files written.
    """
    written = []
    nc = out_dir / PRIOR_NC
    encoding = {name: {"zlib": True, "complevel": 4, "grid_mapping": "spatial_ref"} for name in prior.data_vars}
    with atomic_output(nc, overwrite) as tmp:
        prior.to_netcdf(tmp, engine="netcdf4", encoding=encoding)
    written.append(nc)
    for name, style in PRIOR_STYLES.items():
        written += write_layer_files(prior[name], style, out_dir, dem, overwrite)
    manifest = {
        "lupex_ice_prior_format": _FORMAT_VERSION,
        "dem_fingerprint": dem_fingerprint(dem),
        "prior_fingerprint": prior_fingerprint(prior["patch_fraction"], prior["ice_depth_m"], params),
        "thermal": str(thermal_dir),
        "params": params.model_dump(),
    }
    path = out_dir / PRIOR_JSON
    with atomic_output(path, overwrite) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    written.append(path)
    return written


def read_prior(folder: str | Path, dem: xr.DataArray | None = None) -> tuple[xr.Dataset, IceParams, dict]:
    """Open a prior folder, checked for completeness, integrity and (optionally) its DEM.

    Parameters
    ----------
    folder : path-like
        Output folder of ``lupex ice prior``.
    dem : xarray.DataArray, optional
        The DEM it must have been made from.

    Returns
    -------
    tuple
        The prior dataset (loaded), its settings and the manifest (``prior.json``) as a dict.

    Raises
    ------
    LupexError
        When the folder is not a finished prior folder, was made from another DEM, or its
        ``prior.nc`` no longer matches its manifest.
    """
    folder = Path(folder)
    manifest_path, manifest = read_manifest(folder, PRIOR_JSON, "prior", "lupex ice prior")
    if manifest.get("lupex_ice_prior_format") != _FORMAT_VERSION or not isinstance(manifest.get("params"), dict):
        raise LupexError(f"{manifest_path} is not a lupex prior manifest of format {_FORMAT_VERSION}; "
                         "rerun 'lupex ice prior'")
    if dem is not None and manifest.get("dem_fingerprint") != dem_fingerprint(dem):
        raise LupexError(f"prior folder {folder} was made from another DEM; rerun 'lupex ice prior' on this one")
    params = build(IceParams, manifest["params"], str(manifest_path))
    try:
        with xr.open_dataset(folder / PRIOR_NC, engine="netcdf4", decode_coords="all") as stored:
            prior = stored.load()
    except (OSError, ValueError) as exc:
        raise LupexError(f"cannot read {folder / PRIOR_NC}: {exc}") from None
    missing = {"patch_fraction", "ice_depth_m", "weh_mean_wt_pct", "weh_std_wt_pct"} - set(prior.data_vars)
    if missing or prior_fingerprint(prior["patch_fraction"], prior["ice_depth_m"], params) != manifest.get(
            "prior_fingerprint"):
        raise LupexError(f"{folder / PRIOR_NC} does not match {PRIOR_JSON}; rerun 'lupex ice prior'")
    return prior, params, manifest
