"""lupex: mission simulator and planner for a LUPEX-class lunar south-pole rover.

The package is organised along the mission's data flow (see ``docs/design.md``):
``lupex.geo`` (coordinates), ``lupex.terrain`` (DEMs: reading, cropping, synthesis,
derived hazard layers), and the command line in ``lupex.cli``.
"""

from lupex.errors import LupexError

__version__ = "0.1.0"

__all__ = ["LupexError", "__version__"]
