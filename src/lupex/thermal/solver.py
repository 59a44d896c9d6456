"""Compiled kernels of the regolith column: one time step, one forcing cycle, spin-up.

A column is a set of nodes at depths ``z`` (node 0 the surface). Interior nodes follow
Crank-Nicolson; conductivity ``k = k_c (1 + chi (T/350)^3)`` and heat capacity are taken at
the extrapolated half step ``T* = 1.5 T^n - 0.5 T^(n-1)``, which keeps the scheme second
order in time with temperature-dependent properties. The surface node has no heat capacity:
its energy balance ``absorbed + g_0 (T_1 - T_0) - eps sigma T_0^4 = 0`` holds at the new time,
solved by Newton's method on one unknown after the tridiagonal system is eliminated from the
bottom up (``T_i = P_i + Q_i T_(i-1)``), then the profile follows by back substitution. The
bottom node carries the geothermal flux upward.

Spin-up. Layers at 1-2 m take decades to reach a polar column's equilibrium, so repeating
the forcing until nothing changes would cost tens of cycles. At equilibrium the cycle-mean
conductive flux equals the geothermal flux at every depth (the stored heat sums to zero over
a periodic cycle); after each cycle the kernel corrects the temperature differences between
nodes by the misfit of that mean flux, ``dT_(i+1) - dT_i = -(G_i - q) / g_i``, anchored at the
surface, whose mean is pinned by radiation. The fixed point is the same periodic solution a
plain spin-up reaches; the correction only removes the slow deep mode (a Newton step on it).
Convergence is declared when the cycle-mean temperature at every node changes by less than
the tolerance and the correction itself is below it.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["CYCLE_STATS", "VAPOUR_TABLE_START_K", "equilibrate", "initial_profile", "run_cycle"]

VAPOUR_TABLE_START_K = 85.0
"""Below this temperature the vapour loss of buried ice is negligible (< 1e-6 of the 1 mm/Gyr
limit even without a barrier) and is not accumulated [K]."""

CYCLE_STATS = ("t_max", "t_min", "t_mean", "emitted_mean", "absorbed_mean")
"""Order of the surface statistics a cycle returns."""


@numba.njit(cache=True)
def _cp(t):
    """Heat capacity [J kg^-1 K^-1] (Hayne et al. 2017, eq. A6)."""
    return (((8.9093e-9 * t - 1.234e-5) * t + 2.3616e-3) * t + 2.7431) * t - 3.6125


@numba.njit(cache=True)
def _step(temp, prev, dz, rho_volume, kc, chi, eps_sigma, absorbed, q_geo, dt, k, capacity, g, p, q):
    """Advance the column one step, in place; ``prev`` becomes the old profile.

    ``k``, ``capacity``, ``g``, ``p``, ``q`` are scratch arrays; after the call ``g`` holds
    the conductances the step used [W m^-2 K^-1]. Returns the new surface temperature [K].
    """
    n = temp.size
    for i in range(n):
        ts = 1.5 * temp[i] - 0.5 * prev[i]
        k[i] = kc[i] * (1.0 + chi * (ts / 350.0) ** 3)
        capacity[i] = rho_volume[i] * _cp(ts) / dt  # per area and step [W m^-2 K^-1]
    for i in range(n - 1):
        g[i] = 0.5 * (k[i] + k[i + 1]) / dz[i]
    p[n - 1] = q_geo / g[n - 2]
    q[n - 1] = 1.0
    for i in range(n - 2, 0, -1):
        rhs = capacity[i] * temp[i] + 0.5 * (g[i] * (temp[i + 1] - temp[i]) - g[i - 1] * (temp[i] - temp[i - 1]))
        den = capacity[i] + 0.5 * (g[i - 1] + g[i]) - 0.5 * g[i] * q[i + 1]
        p[i] = (rhs + 0.5 * g[i] * p[i + 1]) / den
        q[i] = 0.5 * g[i - 1] / den
    # Surface: absorbed + g0 (P1 + (Q1 - 1) T0) = eps sigma T0^4, monotone in T0.
    t0 = temp[0]
    a = absorbed + g[0] * p[1]
    b = g[0] * (1.0 - q[1])
    for _ in range(50):
        t3 = t0 * t0 * t0
        f = a - b * t0 - eps_sigma * t3 * t0
        delta = f / (b + 4.0 * eps_sigma * t3)
        t_new = t0 + delta
        if t_new < 0.5 * t0:
            t_new = 0.5 * t0
        if abs(t_new - t0) < 1e-7:
            t0 = t_new
            break
        t0 = t_new
    for i in range(n):
        prev[i] = temp[i]
    temp[0] = t0
    for i in range(1, n):
        temp[i] = p[i] + q[i] * temp[i - 1]
    return t0


@numba.njit(cache=True)
def run_cycle(temp, prev, z, rho, kc, chi, eps_sigma, q_geo, forcing, dt, vapour_table, vapour_step,
              n_vapour, stats, mean_profile, max_profile, mean_flux, vapour_mean, surface):
    """Run one forcing cycle from the state (temp, prev) and record its statistics.

    Parameters
    ----------
    temp, prev : ndarray
        Temperature at the current and the previous step [K] (updated in place).
    z, rho, kc : ndarray
        Node depths [m], densities [kg m^-3], contact conductivities [W m^-1 K^-1].
    chi, eps_sigma, q_geo : float
        Radiative conductivity parameter [-], emissivity x Stefan-Boltzmann
        [W m^-2 K^-4], geothermal flux [W m^-2].
    forcing : ndarray
        Absorbed flux at the surface at each step [W m^-2].
    dt : float
        Step [s].
    vapour_table : ndarray
        ``u(T) = p_v(T) / sqrt(T)`` [Pa K^-1/2] on a grid from 85 K in steps of ``vapour_step``
        [K] (:func:`lupex.thermal.ice_stability.vapour_table`).
    n_vapour : int
        Nodes (from the surface) whose mean ``u`` is recorded.
    stats : ndarray (5,)
        Out: surface T max, min, mean [K], mean emitted and absorbed flux [W m^-2].
    mean_profile, max_profile : ndarray (n,)
        Out: cycle-mean and cycle-maximum temperature at every node [K].
    mean_flux : ndarray (n - 1,)
        Out: cycle-mean upward conductive flux between nodes [W m^-2] (trapezoidal in time).
    vapour_mean : ndarray (n_vapour,)
        Out: cycle-mean ``u(T)`` at the first nodes.
    surface : ndarray
        Out: the surface temperature at every step [K] when its size is the number of
        steps; pass an empty array to skip.
    """
    n = z.size
    dz = z[1:] - z[:-1]
    rho_volume = np.empty(n)
    rho_volume[0] = 0.0
    for i in range(1, n - 1):
        rho_volume[i] = rho[i] * 0.5 * (dz[i - 1] + dz[i])
    rho_volume[n - 1] = 0.0
    k = np.empty(n)
    capacity = np.empty(n)
    g = np.empty(n - 1)
    p = np.empty(n)
    q = np.empty(n)
    mean_profile[:] = 0.0
    max_profile[:] = 0.0
    mean_flux[:] = 0.0
    vapour_mean[:] = 0.0
    t_max = -1.0
    t_min = 1e9
    t_sum = 0.0
    emitted = 0.0
    steps = forcing.size
    n_table = vapour_table.size
    for j in range(steps):
        t0 = _step(temp, prev, dz, rho_volume, kc, chi, eps_sigma, forcing[j], q_geo, dt, k, capacity, g, p, q)
        for i in range(n - 1):
            mean_flux[i] += 0.5 * g[i] * (temp[i + 1] - temp[i] + prev[i + 1] - prev[i])
        if t0 > t_max:
            t_max = t0
        if t0 < t_min:
            t_min = t0
        t_sum += t0
        if surface.size == steps:
            surface[j] = t0
        emitted += eps_sigma * t0 * t0 * t0 * t0
        for i in range(n):
            mean_profile[i] += temp[i]
            if temp[i] > max_profile[i]:
                max_profile[i] = temp[i]
        for i in range(n_vapour):
            position = (temp[i] - VAPOUR_TABLE_START_K) / vapour_step
            if position > 0.0:
                m = int(position)
                if m >= n_table - 1:
                    vapour_mean[i] += vapour_table[n_table - 1]
                else:
                    w = position - m
                    vapour_mean[i] += (1.0 - w) * vapour_table[m] + w * vapour_table[m + 1]
    mean_profile /= steps
    mean_flux /= steps
    vapour_mean /= steps
    stats[0] = t_max
    stats[1] = t_min
    stats[2] = t_sum / steps
    stats[3] = emitted / steps
    stats[4] = forcing.mean()


@numba.njit(cache=True)
def initial_profile(z, kc, eps_sigma, q_geo, mean_absorbed, out):
    """A starting profile: 0.8 x the radiative-equilibrium temperature of the mean absorbed
    flux at the surface (at least 25 K), rising with the geothermal gradient below [K]."""
    start = max((max(mean_absorbed, 0.0) + q_geo) / eps_sigma, 1.0) ** 0.25 * 0.8
    start = max(start, 25.0)
    gradient = q_geo / kc.mean()
    for i in range(z.size):
        out[i] = start + gradient * z[i]


@numba.njit(cache=True)
def equilibrate(temp, z, rho, kc, chi, eps_sigma, q_geo, forcing, dt, vapour_table, vapour_step, n_vapour,
                tolerance, max_cycles, stats, mean_profile, max_profile, mean_flux, vapour_mean, surface):
    """Repeat the forcing cycle from ``temp`` until the column is periodic (module docstring).

    Arguments as in :func:`run_cycle`; ``tolerance`` [K] bounds the change of the cycle-mean
    temperature at every node and the flux correction. The outputs describe the last cycle.

    Returns
    -------
    int
        Cycles run, or -1 when not converged within ``max_cycles``.
    """
    n = z.size
    prev = temp.copy()
    last = np.full(n, np.inf)
    for cycle in range(1, max_cycles + 1):
        run_cycle(temp, prev, z, rho, kc, chi, eps_sigma, q_geo, forcing, dt, vapour_table, vapour_step,
                  n_vapour, stats, mean_profile, max_profile, mean_flux, vapour_mean, surface)
        change = 0.0
        for i in range(n):
            change = max(change, abs(mean_profile[i] - last[i]))
            last[i] = mean_profile[i]
        offset = 0.0
        largest = 0.0
        for i in range(n - 1):
            t_a = mean_profile[i]
            t_b = mean_profile[i + 1]
            k_a = kc[i] * (1.0 + chi * (t_a / 350.0) ** 3)
            k_b = kc[i + 1] * (1.0 + chi * (t_b / 350.0) ** 3)
            offset += (q_geo - mean_flux[i]) * (z[i + 1] - z[i]) / (0.5 * (k_a + k_b))
            temp[i + 1] += offset
            prev[i + 1] += offset
            largest = max(largest, abs(offset))
        if change < tolerance and largest < tolerance:
            return cycle
    return -1
