"""The lunar sky: ephemeris, horizons, illumination, Earth visibility."""
