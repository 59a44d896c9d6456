"""Compiled kernels of the regolith column: one time step, one forcing cycle, spin-up.

A column is a set of nodes at depths ``z`` (node 0 the surface). Interior nodes follow
Crank-Nicolson; conductivity ``k = k_c (1 + chi (T/350)^3)`` and heat capacity are taken at
the extrapolated half step ``T* = 1.5 T^n - 0.5 T^(n-1)``, which keeps the scheme second
order in time with temperature-dependent properties. The surface node has no heat capacity:
its energy balance ``absorbed + g_0 (T_1 - T_0) - eps sigma T_0^4 = 0`` holds at the new time
(with ``g_0`` from T extrapolated to it, ``2 T^n - T^(n-1)``), solved by Newton's method on
one unknown after the tridiagonal system is eliminated from the bottom up
(``T_i = P_i + Q_i T_(i-1)``); the profile then follows by back substitution. The bottom node
carries the geothermal flux upward. ``tests/thermal/test_solver.py`` checks the analytic
half-space, second-order convergence and the geothermal flux at every depth.

Spin-up. Layers at 1-2 m take decades to reach a polar column's equilibrium, so repeating
the forcing until nothing changes would cost tens of cycles. At equilibrium the cycle-mean
conductive flux equals the geothermal flux at every depth (the stored heat sums to zero over
a periodic cycle). So the heat the layers below an interface gained over a cycle, divided by
the period, is the misfit of the mean flux through it, ``H_i``. After each cycle the kernel
shifts the whole column by ``H_0 / (4 <eps sigma T^4> / <T>)`` (the surface then radiates
the column's net gain away: this carries dark columns, whose radiation is feeble) and widens
the temperature difference across every interface by ``H_i dz_i / k_i``: a Newton-like step
on the slow modes. The heat gained is measured from each node's net temperature change over
the cycle, which is zero exactly when the column is periodic, so the fixed point is the
same periodic solution a plain spin-up reaches. Converged means that no node's temperature
drifted over the last cycle, and no correction moved it, by more than the tolerance.
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
def _step(temp, prev, inv_dz, capacity_dt, kc, chi_350, eps_sigma, absorbed, q_geo, k, capacity, g, p, q):
    """Advance the column one step, in place; ``prev`` becomes the old profile.

    ``inv_dz`` is 1 / node spacing [m^-1], ``capacity_dt`` is density x node thickness / step
    [kg m^-2 s^-1] (0 at the surface and bottom nodes), ``chi_350`` is ``chi / 350^3`` [K^-3].
    ``k``, ``capacity``, ``g``, ``p``, ``q`` are scratch arrays; after the call ``g`` holds
    the conductances the step used [W m^-2 K^-1]. Returns the new surface temperature [K].
    """
    n = temp.size
    for i in range(n):
        ts = 1.5 * temp[i] - 0.5 * prev[i]
        k[i] = kc[i] * (1.0 + chi_350 * ts * ts * ts)
        capacity[i] = capacity_dt[i] * _cp(ts)  # per area and step [W m^-2 K^-1]
        if i > 0:
            g[i - 1] = 0.5 * (k[i - 1] + k[i]) * inv_dz[i - 1]
    p[n - 1] = q_geo / g[n - 2]
    q[n - 1] = 1.0
    for i in range(n - 2, 0, -1):
        half_up = 0.5 * g[i - 1]
        half_down = 0.5 * g[i]
        rhs = capacity[i] * temp[i] + half_down * (temp[i + 1] - temp[i]) - half_up * (temp[i] - temp[i - 1])
        inv_den = 1.0 / (capacity[i] + half_up + half_down * (1.0 - q[i + 1]))
        p[i] = (rhs + half_down * p[i + 1]) * inv_den
        q[i] = half_up * inv_den
    # Surface: absorbed + g_s (P1 + (Q1 - 1) T0) = eps sigma T0^4, monotone in T0. The balance
    # holds at the new time, so its conductance is taken at T extrapolated there.
    t_a = 2.0 * temp[0] - prev[0]
    t_b = 2.0 * temp[1] - prev[1]
    g_s = 0.5 * (kc[0] * (1.0 + chi_350 * t_a * t_a * t_a) + kc[1] * (1.0 + chi_350 * t_b * t_b * t_b)) * inv_dz[0]
    t0 = temp[0]
    a = absorbed + g_s * p[1]
    b = g_s * (1.0 - q[1])
    for _ in range(50):
        t3 = t0 * t0 * t0
        delta = (a - b * t0 - eps_sigma * t3 * t0) / (b + 4.0 * eps_sigma * t3)
        t_new = max(t0 + delta, 0.5 * t0)
        converged = abs(t_new - t0) < 1e-5
        t0 = t_new
        if converged:
            break
    prev[0] = temp[0]
    temp[0] = t0
    for i in range(1, n):
        prev[i] = temp[i]
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
    capacity_dt = np.zeros(n)
    for i in range(1, n - 1):
        capacity_dt[i] = rho[i] * 0.5 * (dz[i - 1] + dz[i]) / dt
    chi_350 = chi / 350.0**3
    inv_dz = 1.0 / dz
    inv_vapour_step = 1.0 / vapour_step
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
        t0 = _step(temp, prev, inv_dz, capacity_dt, kc, chi_350, eps_sigma, forcing[j], q_geo, k, capacity, g, p, q)
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
            position = (temp[i] - VAPOUR_TABLE_START_K) * inv_vapour_step
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

    Arguments as in :func:`run_cycle`; ``tolerance`` [K] bounds each node's drift over the
    last cycle and the correction applied after it. The outputs describe the last cycle.

    Returns
    -------
    int
        Cycles run, or -1 when not converged within ``max_cycles``.
    """
    n = z.size
    prev = temp.copy()
    start = np.empty(n)
    heat = np.zeros(n)
    period = dt * forcing.size
    for cycle in range(1, max_cycles + 1):
        start[:] = temp
        run_cycle(temp, prev, z, rho, kc, chi, eps_sigma, q_geo, forcing, dt, vapour_table, vapour_step,
                  n_vapour, stats, mean_profile, max_profile, mean_flux, vapour_mean, surface)
        drift = 0.0
        for i in range(n):
            drift = max(drift, abs(temp[i] - start[i]))
        # Heat each node gained over the cycle, per area and time [W m^-2]: the slow modes' signature.
        for i in range(1, n - 1):
            volume = 0.5 * (z[i + 1] - z[i - 1])
            heat[i] = rho[i] * volume * _cp(mean_profile[i]) * (temp[i] - start[i]) / period
        gained_below = heat.sum()
        # The whole column gained heat: shift it so that the surface radiates that much more.
        offset = gained_below * stats[2] / (4.0 * stats[3])
        largest = abs(offset)
        temp[0] += offset
        prev[0] += offset
        for i in range(n - 1):
            gained_below -= heat[i]
            t_a = mean_profile[i]
            t_b = mean_profile[i + 1]
            k_a = kc[i] * (1.0 + chi * (t_a / 350.0) ** 3)
            k_b = kc[i + 1] * (1.0 + chi * (t_b / 350.0) ** 3)
            offset += gained_below * (z[i + 1] - z[i]) / (0.5 * (k_a + k_b))
            temp[i + 1] += offset
            prev[i + 1] += offset
            largest = max(largest, abs(offset))
        if drift < tolerance and largest < tolerance:
            return cycle
    return -1
