"""The rover: its configuration (:mod:`lupex.rover.model`) and power and energy (:mod:`lupex.rover.power`)."""

from lupex.rover.model import RoverConfig, load_rover, rover_toml

__all__ = ["RoverConfig", "load_rover", "rover_toml"]
