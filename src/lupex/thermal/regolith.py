"""The 1-D regolith heat-conduction model of Hayne et al. (2017, JGR Planets 122, 2371-2400).

Density and contact conductivity rise with depth on an e-folding scale ``H`` (their eqs. A2,
A4); conductivity grows with temperature by the radiative term ``k = k_c (1 + chi (T/350)^3)``
(eq. A5); heat capacity follows the polynomial fit to Hemingway et al. (1981) and Ledlow
et al. (1992) (eq. A6); albedo rises with the incidence angle as
``A = A0 + a (theta/45)^3 + b (theta/90)^8`` (Keihm 1984; eq. A7). The surface absorbs sunlight
and radiates as a grey body, the bottom receives the geothermal flux.

Numerics: nodes on a grid that is fine at the surface and grows geometrically with depth
(first layer ``z_s / m``, growth ``1 + 1/n``, down to ``b z_s``, ``z_s`` the skin depth of the
forcing period; Hayne et al. 2017, appendix A2), Crank-Nicolson in time with conductivity
and heat capacity taken at the start of each step, and the surface energy balance solved by
Newton's method together with the interior (the linearised surface row joins the tridiagonal
system). The run repeats the forcing cycle until the temperature at every depth changes by
less than a tolerance from one cycle to the next: spin-up by a criterion, not a fixed count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field

from lupex.errors import LupexError

__all__ = [
    "STEFAN_BOLTZMANN",
    "Grid",
    "RegolithParams",
    "ThermalRun",
    "albedo",
    "heat_capacity",
    "make_grid",
    "run_to_equilibrium",
]

STEFAN_BOLTZMANN = 5.670374419e-8
"""Stefan-Boltzmann constant [W m^-2 K^-4] (CODATA 2018)."""

HEAT_CAPACITY_COEFFS = (8.9093e-9, -1.234e-5, 2.3616e-3, 2.7431, -3.6125)
"""c_p(T) polynomial, highest power first [J kg^-1 K^-1] (Hayne et al. 2017, eq. A6)."""


class RegolithParams(BaseModel):
    """Thermophysical properties of lunar regolith (Hayne et al. 2017, Table A1)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    density_surface: float = Field(1100.0, gt=0, description="Density at the surface [kg m^-3].")
    density_deep: float = Field(1800.0, gt=0, description="Density at depth [kg m^-3].")
    conductivity_surface: float = Field(7.4e-4, gt=0, description="Contact conductivity at the surface [W m^-1 K^-1].")
    conductivity_deep: float = Field(3.4e-3, gt=0, description="Contact conductivity at depth [W m^-1 K^-1].")
    h_parameter_m: float = Field(0.06, gt=0, description="e-folding depth H of density and conductivity [m] "
                                 "(0.06 m global mean, Hayne et al. 2017).")
    chi: float = Field(2.7, ge=0, description="Radiative conductivity parameter at 350 K [-].")
    albedo: float = Field(0.12, ge=0, lt=1, description="Normal bond albedo A0 [-].")
    albedo_a: float = Field(0.06, ge=0, description="Albedo coefficient a of (theta/45)^3 [-] (Keihm 1984).")
    albedo_b: float = Field(0.25, ge=0, description="Albedo coefficient b of (theta/90)^8 [-] (Keihm 1984).")
    emissivity: float = Field(0.95, gt=0, le=1, description="Infrared emissivity [-].")
    geothermal_flux: float = Field(0.018, ge=0, description="Heat flux from below [W m^-2] (Langseth et al. 1976).")
    layers_per_skin: float = Field(10.0, gt=1, description="m: the first layer is z_s / m thick [-].")
    growth_n: float = Field(5.0, gt=0, description="n: each layer is (1 + 1/n) times the one above [-].")
    skins_deep: float = Field(20.0, gt=1, description="b: the grid reaches b skin depths [-].")


def heat_capacity(temperature_k: ArrayLike) -> NDArray:
    """Specific heat capacity of regolith [J kg^-1 K^-1] (Hayne et al. 2017, eq. A6; T >~ 10 K)."""
    return np.polyval(HEAT_CAPACITY_COEFFS, np.asarray(temperature_k, dtype=float))


def albedo(incidence_deg: ArrayLike, params: RegolithParams) -> NDArray:
    """Bond albedo at a solar incidence angle [-] (Keihm 1984; Hayne et al. 2017, eq. A7)."""
    theta = np.asarray(incidence_deg, dtype=float)
    return params.albedo + params.albedo_a * (theta / 45.0) ** 3 + params.albedo_b * (theta / 90.0) ** 8


@dataclass(frozen=True)
class Grid:
    """Depth nodes of the model.

    Attributes
    ----------
    z : ndarray
        Node depths, 0 at the surface [m].
    density : ndarray
        Density at the nodes [kg m^-3].
    contact_conductivity : ndarray
        Contact conductivity at the nodes [W m^-1 K^-1].
    skin_depth_m : float
        Skin depth of the forcing period at the surface [m].
    """

    z: NDArray
    density: NDArray
    contact_conductivity: NDArray
    skin_depth_m: float


def make_grid(params: RegolithParams, period_s: float, min_depth_m: float = 0.0) -> Grid:
    """The geometric grid of Hayne et al. (2017, appendix A2) for a forcing period.

    Parameters
    ----------
    params : RegolithParams
        Regolith properties.
    period_s : float
        Period of the forcing (one lunation for the diurnal cycle) [s].
    min_depth_m : float
        Reach at least this depth [m] (e.g. 1.5 m for ice stability).
    """
    kappa = params.conductivity_surface / (params.density_surface * float(heat_capacity(250.0)))
    skin = float(np.sqrt(kappa * period_s / np.pi))
    bottom = max(params.skins_deep * skin, min_depth_m)
    thickness = skin / params.layers_per_skin
    z = [0.0]
    while z[-1] < bottom:
        z.append(z[-1] + thickness)
        thickness *= 1.0 + 1.0 / params.growth_n
    z = np.array(z)
    decay = np.exp(-z / params.h_parameter_m)
    density = params.density_deep - (params.density_deep - params.density_surface) * decay
    conductivity = params.conductivity_deep - (params.conductivity_deep - params.conductivity_surface) * decay
    return Grid(z, density, conductivity, skin)


@numba.njit(cache=True)
def _cp(t):
    return (((8.9093e-9 * t - 1.234e-5) * t + 2.3616e-3) * t + 2.7431) * t - 3.6125


@numba.njit(cache=True)
def _tridiagonal(a, b, c, d, out):
    n = d.size
    cp = np.empty(n)
    dp = np.empty(n)
    cp[0] = c[0] / b[0]
    dp[0] = d[0] / b[0]
    for i in range(1, n):
        m = b[i] - a[i] * cp[i - 1]
        cp[i] = c[i] / m
        dp[i] = (d[i] - a[i] * dp[i - 1]) / m
    out[n - 1] = dp[n - 1]
    for i in range(n - 2, -1, -1):
        out[i] = dp[i] - cp[i] * out[i + 1]


@numba.njit(cache=True)
def _step(temp, z, rho, kc, chi, eps_sigma, absorbed, q_geo, dt):
    """One Crank-Nicolson step with the Newton-solved surface row, in place."""
    n = z.size
    k = kc * (1.0 + chi * (temp / 350.0) ** 3)
    k_half = 0.5 * (k[1:] + k[:-1])
    dz = z[1:] - z[:-1]
    g = k_half / dz  # conductance between nodes [W m^-2 K^-1]
    a = np.zeros(n)
    b = np.zeros(n)
    c = np.zeros(n)
    d = np.zeros(n)
    for i in range(1, n - 1):
        volume = 0.5 * (dz[i - 1] + dz[i])
        capacity = rho[i] * _cp(temp[i]) * volume / dt
        flux_now = g[i] * (temp[i + 1] - temp[i]) - g[i - 1] * (temp[i] - temp[i - 1])
        a[i] = -0.5 * g[i - 1]
        c[i] = -0.5 * g[i]
        b[i] = capacity + 0.5 * (g[i - 1] + g[i])
        d[i] = capacity * temp[i] + 0.5 * flux_now
    a[n - 1] = -g[n - 2]
    b[n - 1] = g[n - 2]
    d[n - 1] = q_geo
    new = temp.copy()
    for _ in range(20):
        t0 = new[0]
        b[0] = -(4.0 * eps_sigma * t0**3 + g[0])
        c[0] = g[0]
        d[0] = -absorbed - 3.0 * eps_sigma * t0**4
        _tridiagonal(a, b, c, d, new)
        if abs(new[0] - t0) < 1e-6:
            break
    temp[:] = new


@numba.njit(cache=True)
def _cycle(temp, z, rho, kc, chi, eps_sigma, absorbed, q_geo, dt, surface, bottom_mean):
    """Run one forcing cycle; record the surface temperature and the mean at every node."""
    mean = np.zeros(z.size)
    for j in range(absorbed.size):
        _step(temp, z, rho, kc, chi, eps_sigma, absorbed[j], q_geo, dt)
        surface[j] = temp[0]
        mean += temp
    bottom_mean[:] = mean / absorbed.size


@dataclass(frozen=True)
class ThermalRun:
    """Result of a run to equilibrium.

    Attributes
    ----------
    surface_k : ndarray
        Surface temperature at each step of the last cycle [K].
    mean_profile_k : ndarray
        Cycle-mean temperature at every node [K].
    final_profile_k : ndarray
        Temperature at every node at the end of the last cycle [K].
    grid : Grid
        The nodes.
    cycles : int
        Cycles run until converged.
    """

    surface_k: NDArray
    mean_profile_k: NDArray
    final_profile_k: NDArray
    grid: Grid
    cycles: int


def run_to_equilibrium(absorbed_w_m2: ArrayLike, dt_s: float, params: RegolithParams | None = None,
                       period_s: float | None = None, tolerance_k: float = 0.01, max_cycles: int = 2000,
                       min_depth_m: float = 0.0) -> ThermalRun:
    """Repeat a cycle of absorbed flux until the regolith's temperatures stop changing.

    Parameters
    ----------
    absorbed_w_m2 : array_like
        Absorbed solar flux at each step of one cycle [W m^-2] (albedo already applied).
    dt_s : float
        Time step [s].
    params : RegolithParams, optional
        Regolith properties (defaults of Hayne et al. 2017).
    period_s : float, optional
        Period that sets the grid's skin depth [s]; the cycle's length by default.
    tolerance_k : float
        Convergence: largest change of the cycle-mean temperature at any node from one
        cycle to the next [K].
    max_cycles : int
        Give up after this many cycles.
    min_depth_m : float
        Reach at least this depth [m].

    Raises
    ------
    LupexError
        When the run has not converged after ``max_cycles``.
    """
    params = params or RegolithParams()
    flux = np.ascontiguousarray(absorbed_w_m2, dtype=float)
    grid = make_grid(params, period_s or flux.size * dt_s, min_depth_m)
    eps_sigma = params.emissivity * STEFAN_BOLTZMANN
    # Start near the radiative-equilibrium mean, with the geothermal gradient below.
    start = max((max(flux.mean(), 1e-3) / eps_sigma) ** 0.25 * 0.8, 40.0)
    temp = start + params.geothermal_flux * grid.z / grid.contact_conductivity.mean()
    surface = np.empty(flux.size)
    mean = np.zeros(grid.z.size)
    previous = np.full(grid.z.size, np.inf)
    for cycle in range(1, max_cycles + 1):
        _cycle(temp, grid.z, grid.density, grid.contact_conductivity, params.chi, eps_sigma, flux,
               params.geothermal_flux, dt_s, surface, mean)
        if np.max(np.abs(mean - previous)) < tolerance_k:
            return ThermalRun(surface.copy(), mean.copy(), temp.copy(), grid, cycle)
        previous = mean.copy()
    raise LupexError(f"the regolith model did not converge to {tolerance_k} K within {max_cycles} cycles")
