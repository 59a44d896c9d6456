"""A synthetic lunar south-pole site: cratered, rough terrain and a rock-abundance layer.

The heights are a self-affine rough surface (:mod:`lupex.terrain.fractal`) cut by the
visible crater population of an old highland surface (:mod:`lupex.terrain.craters`).
The rock layer is the Golombek & Rapp (1997) total fractional rock area ``k``
(:mod:`lupex.terrain.rocks`): a patchy background plus blocky ejecta around fresh craters
large enough to excavate bedrock. Everything derives from one seed, so the same
configuration always gives the same tile.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, field_validator

from lupex.constants import MAX_TILE_PX
from lupex.limits import check_memory
from lupex.raster import centered_polar_transform, grid_array, polar_crs
from lupex.terrain.craters import CraterSet, render_craters, sample_craters
from lupex.terrain.fractal import self_affine_surface

__all__ = ["SYNTH_BYTES_PER_PX", "SynthConfig", "SynthSite", "synthesize"]

SYNTH_BYTES_PER_PX = 112
"""Peak memory of making a synthetic tile, per pixel [bytes]: the complex128 spectrum of the rough
surface and its float64 companions. Measured: 108 B for ``lupex terrain synth`` with its
quicklook (peak resident memory of 1024 x 1024 and 2048 x 2048 tiles, minus the interpreter's)."""



class SynthConfig(BaseModel):
    """Settings of a synthetic south-pole tile (all validated, immutable)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    size: int = Field(1024, ge=16, le=MAX_TILE_PX, description="Tile width and height [pixels].")
    resolution_m: float = Field(
        20.0, ge=0.01, le=10_000.0,
        description="Pixel size [m]. Assumption: at least 1 cm, far finer than any lunar DEM (LROC NAC DTMs reach "
        "1-2 m); at 1e-160 m the fractal surface's spectrum underflows to zero.")
    center_lat: float = Field(-89.5, ge=-90.0, le=-45.0, description="Latitude of the tile centre [deg].")
    center_lon: float = Field(0.0, ge=-360.0, le=360.0,
                              description="East longitude of the tile centre [deg], stored in [0, 360).")
    seed: int = Field(0, ge=0, description="Seed of every random draw.")
    surface_age_gyr: float = Field(
        3.9, gt=0.0, le=4.5,
        description="Age of the cratered surface [Gyr]. Assumption: south-polar highlands are "
        "pre-Nectarian to Nectarian, about 3.9-4.2 Ga (Spudis et al. 2008, GRL 35).",
    )
    equilibrium_fraction: float = Field(
        0.02, gt=0.0, le=1.0,
        description="Equilibrium crater density as a fraction of geometric saturation [-]; lunar "
        "small craters equilibrate at about 1-5 % (Xiao & Werner 2015). 2 % reproduces the slope "
        "statistics of the LOLA 5 m Shoemaker tile (docs/terrain.md).",
    )
    hurst: float = Field(
        0.9, gt=0.0, le=1.0,
        description="Hurst exponent of the rough surface [-]; 0.9-0.95 for the lunar highlands "
        "(Rosenburg et al. 2011, JGR 116).",
    )
    roughness_rms_m: float = Field(
        0.3, ge=0.0,
        description="RMS height difference of the rough surface at roughness_baseline_m [m]. "
        "Calibrated so that 5 m tiles match the LOLA Shoemaker 5 m slope statistics.",
    )
    roughness_baseline_m: float = Field(5.0, gt=0.0, description="Baseline of roughness_rms_m [m].")
    background_rock_k: float = Field(
        0.01, ge=0.0, le=0.6,
        description="Median total fractional rock area away from fresh craters [-] (the rock layer "
        "is capped at 0.6). Assumption "
        "from Surveyor-site counts analysed by Golombek & Rapp (1997): about 1 %.",
    )
    background_rock_spread: float = Field(
        0.5, ge=0.0, description="Standard deviation of ln(k) of the background rock cover [-]."
    )
    fresh_ejecta_rock_k: float = Field(
        0.3, ge=0.0, le=0.6,
        description="Fractional rock area on the rim of a fresh blocky crater [-] (at most 0.6); Diviner finds "
        "10-30 % and more on fresh ejecta (Bandfield et al. 2011, JGR 116).",
    )
    blocky_min_diameter_m: float = Field(
        150.0, gt=0.0,
        description="Smallest crater that excavates bedrock and throws boulders [m]. Assumption: "
        "several times the few-metre highland regolith depth (Bart & Melosh 2010, Icarus 209).",
    )


    @field_validator("center_lon")
    @classmethod
    def _wrap_longitude(cls, value: float) -> float:
        return value % 360.0


class SynthSite(BaseModel):
    """A synthetic tile: heights, rock cover and the craters that shaped them."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    config: SynthConfig
    dem: xr.DataArray
    rocks: xr.DataArray
    craters: CraterSet


def synthesize(config: SynthConfig) -> SynthSite:
    """Make a synthetic south-pole tile.

    Parameters
    ----------
    config : SynthConfig
        Size, resolution, place, seed and model parameters.

    Returns
    -------
    SynthSite
        ``dem`` (heights above the 1737.4 km sphere [m], float32), ``rocks`` (total
        fractional rock area k [-], float32) and the crater list.
    """
    check_memory(float(config.size) ** 2 * SYNTH_BYTES_PER_PX, f"a synthetic {config.size} x {config.size} tile",
                 "choose a smaller size (a coarser resolution keeps the area)")
    rng = np.random.default_rng(config.seed)
    rough_rng, rock_rng, crater_rng = rng.spawn(3)
    shape = (config.size, config.size)
    res = config.resolution_m
    transform = centered_polar_transform(config.center_lat, config.center_lon, config.size, res)
    height = self_affine_surface(
        shape, res, config.hurst, config.roughness_rms_m, config.roughness_baseline_m, rough_rng
    )
    rocks = _background_rocks(shape, res, config, rock_rng)
    width_m = config.size * res
    bounds = (transform.c, transform.f - width_m, transform.c + width_m, transform.f)
    craters = sample_craters(
        bounds, 2.0 * res, min(2.0 * width_m, 300_000.0),
        config.surface_age_gyr, config.equilibrium_fraction, crater_rng,
    )
    render_craters(
        height, rocks, (transform.c, transform.f), res, craters,
        config.blocky_min_diameter_m, config.fresh_ejecta_rock_k,
    )
    crs = polar_crs()
    dem = grid_array(height.astype(np.float32), transform, crs, "height", "m",
                     "height above the 1737.4 km lunar sphere")
    rock_grid = grid_array(np.clip(rocks, 0.0, 0.6).astype(np.float32), transform, crs,
                           "rock_area_fraction", "1", "total fractional rock area k (Golombek & Rapp 1997)")
    return SynthSite(config=config, dem=dem, rocks=rock_grid, craters=craters)


def _background_rocks(shape: tuple[int, int], pixel_m: float, config: SynthConfig,
                      rng: np.random.Generator) -> np.ndarray:
    """Log-normal, spatially correlated background rock cover k [-]."""
    if config.background_rock_k == 0.0:
        return np.zeros(shape)
    field = self_affine_surface(shape, pixel_m, 0.8, 1.0, pixel_m, rng)
    field /= field.std() or 1.0
    return config.background_rock_k * np.exp(config.background_rock_spread * field)
