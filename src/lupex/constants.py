"""Physical constants and reference values used across lupex (SI units)."""

MOON_RADIUS_M = 1_737_400.0
"""Radius of the lunar reference sphere used by LOLA products [m] (Smith et al. 2010)."""

SOLAR_CONSTANT_W_M2 = 1361.0
"""Total solar irradiance at 1 au [W m^-2] (Kopp & Lean 2011)."""

AU_KM = 149_597_870.7
"""Astronomical unit [km] (IAU 2012 B2)."""

MOON_GRAVITY_M_S2 = 1.625
"""Mean surface gravity of the Moon [m s^-2] (Williams et al. 2014, GRAIL)."""

SOUTH_POLAR_STEREOGRAPHIC_CRS = "IAU_2015:30135"
"""PROJ code of the lunar south polar stereographic projection on the 1737.4 km sphere.

Equivalent to ``+proj=stere +lat_0=-90 +lon_0=0 +k=1 +x_0=0 +y_0=0 +R=1737400 +units=m``,
the projection of every LOLA polar product.
"""

MOON_GEOGRAPHIC_CRS = "IAU_2015:30100"
"""PROJ code of planetocentric latitude / east longitude on the 1737.4 km sphere."""

MAX_TILE_PX = 16384
"""Largest tile side lupex builds in memory (synthesis, cropping) [pixels]: 2 GB of float64."""
