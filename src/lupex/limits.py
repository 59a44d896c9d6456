"""Limits on sizes and counts: the memory a job may plan to use, and the largest counts lupex takes.

A file can declare any size (a 130 kB GeoTIFF may declare 65536 x 65536 pixels) and a command
line can ask for any count, so every stage that allocates in proportion to a size or a count
estimates its peak first and calls :func:`check_memory`, and every count with a natural bound
is checked against one of the limits below with :func:`check_count`. Both raise
:class:`lupex.errors.LupexError` naming the figure and the fix before anything is allocated.

The memory budget is ``MEMORY_FRACTION`` of the memory this machine has available now
(``MemAvailable`` of ``/proc/meminfo``, lowered to what a cgroup's memory limit leaves when the
process runs in one; the physical memory elsewhere). The environment variable
``LUPEX_MEMORY_LIMIT`` sets the budget instead, as bytes or with a ``K``, ``M``, ``G`` or ``T``
suffix, powers of 1024, optionally followed by ``iB`` or ``B`` (``LUPEX_MEMORY_LIMIT=8GiB``):
lower it to share a machine, raise it at your own risk.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from lupex.errors import LupexError

__all__ = [
    "MAX_CAMPAIGN_RUNS",
    "MAX_EPOCHS",
    "MAX_HORIZON_AZIMUTHS",
    "MEMORY_FRACTION",
    "MEMORY_LIMIT_ENV",
    "available_memory",
    "check_count",
    "check_memory",
    "format_bytes",
    "memory_budget",
]

MEMORY_LIMIT_ENV = "LUPEX_MEMORY_LIMIT"
"""Environment variable that sets the memory budget of one job [bytes, or with a KiB/MiB/GiB/TiB suffix]."""

MEMORY_FRACTION = 0.75
"""Share of the available memory one job may plan to use [-].

Assumption: the estimates of :func:`check_memory` count the large arrays of a stage, measured
on the path users run, but not the interpreter and its libraries (GDAL's block cache alone
takes 5 % of the physical memory by default), nor fragmentation, nor other programs starting
while the job runs; a quarter of what is available is kept for those. A job that still fits
is not guaranteed to succeed, but one that does not fit would certainly fail, hours in.
"""

MAX_HORIZON_AZIMUTHS = 3600
"""Most azimuths of a horizon cube (0.1 deg apart) [-].

Assumption: 0.1 deg is the horizon tolerance of the tiled path (``lupex.sky.tiled``) and about
a third of the Sun's angular radius (0.27 deg), so interpolating between azimuths 0.1 deg
apart cannot miss a notch that lets a useful part of the Sun through. Finer spacing only
separates rays where they are more than 1 / tan(0.1 deg) = 573 pixels from the pixel whose
horizon they trace, where one pixel of terrain spans less than the spacing itself: the DEM
cannot resolve it. Each azimuth costs as much as any other, so 3600 is already ten times the
default of 360.
"""

MAX_EPOCHS = 10_000_000
"""Most epochs of one time series, illumination run or mission sky [-].

Assumption: the Sun crosses the lunar sky at 360 deg per synodic month (29.53 days), 0.0085 deg
a minute: close to the 0.005 deg to which horizon cubes are stored and a thirtieth of the Sun's
radius, so steps shorter than a minute resolve almost nothing the horizons can. Ten million epochs
hold a whole 18.61-year nodal cycle (9.8 million minutes) at one-minute steps, and every hour of
the 1900-2050 ephemeris (1.3 million). The mission's simulation ticks are held to the same limit.
The ephemeris needs about 250 bytes and 8 microseconds an epoch (measured on 2 cores), so the
limit costs about 2.5 GB and a minute and a half.
"""

MAX_CAMPAIGN_RUNS = 100_000
"""Most missions in one campaign (grid points times replicates) [-].

Assumption: a 100-day mission takes about 23 s of simulation (docs/benchmarks.md), so 100,000
runs are about 27 core-days of work and as many result files; a campaign grid beyond that is
almost always a mistake in the grid (a list where one value was meant), and its expansion alone,
a validated configuration per run, would take gigabytes before any mission starts.
"""

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:([kmgt])(?:ib|i|b)?|(b))?\s*$", re.IGNORECASE)


def _cgroup_free() -> int | None:
    """Memory left under this process's cgroup limit [bytes], or None when there is no limit."""
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            limit = Path(limit_file).read_text().strip()
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 1 << 60:  # cgroup v1 writes "no limit" as about 2^63
            return max(0, int(limit) - usage)
    return None


def available_memory() -> int:
    """Memory this machine can give a new allocation now [bytes].

    ``MemAvailable`` of ``/proc/meminfo`` (what the kernel can hand out without swapping), at
    most the room left under the process's cgroup memory limit; the physical memory where
    ``/proc/meminfo`` does not exist.
    """
    available = None
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        available = None
    if available is None:
        try:
            available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (AttributeError, OSError, ValueError):
            available = 1 << 62  # nothing to go by: no check refuses
    cgroup = _cgroup_free()
    return available if cgroup is None else min(available, cgroup)


def _parse_size(text: str) -> int:
    match = _SIZE.match(text)
    if not match:
        raise LupexError(f"{MEMORY_LIMIT_ENV}={text!r} cannot be read; set it to a number of bytes or a size "
                         "such as 512MiB, 8GiB or 1.5TiB")
    unit = (match.group(2) or match.group(3) or "").lower()
    return int(float(match.group(1)) * _UNITS[unit])


def memory_budget() -> tuple[int, str]:
    """The memory one job may plan to use [bytes], and where that figure comes from (for messages).

    ``LUPEX_MEMORY_LIMIT`` when it is set, else ``MEMORY_FRACTION`` of :func:`available_memory`.

    Raises
    ------
    LupexError
        When ``LUPEX_MEMORY_LIMIT`` is set to something that is not a size.
    """
    text = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if text:
        return _parse_size(text), f"{MEMORY_LIMIT_ENV} allows"
    return int(MEMORY_FRACTION * available_memory()), f"this machine can give ({MEMORY_LIMIT_ENV} overrides)"


def format_bytes(nbytes: float) -> str:
    """A size for people: ``"16.0 GiB"``, ``"512.0 MiB"``, ``"3.2 TiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(nbytes) < 1024 or unit == "TiB":
            return f"{nbytes:.0f} B" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    raise AssertionError("unreachable")


def check_memory(nbytes: float, what: str, fix: str) -> None:
    """Refuse, before allocating, a job whose estimated peak memory exceeds the budget.

    Parameters
    ----------
    nbytes : float
        Estimated peak memory of the job [bytes].
    what : str
        The job, as the subject of the message ("the horizons of a 65536 x 65536 DEM").
    fix : str
        What the user can do instead ("crop it with 'lupex terrain crop'").

    Raises
    ------
    LupexError
        "WHAT needs 16.0 GiB of memory, more than the 11.6 GiB this machine can give
        (LUPEX_MEMORY_LIMIT overrides); FIX".
    """
    budget, source = memory_budget()
    if nbytes > budget:
        raise LupexError(f"{what} needs {format_bytes(nbytes)} of memory, more than the {format_bytes(budget)} "
                         f"{source}; {fix}")


def check_count(count: int, limit: int, what: str, fix: str) -> None:
    """Refuse a count above its documented limit.

    Parameters
    ----------
    count : int
        The count asked for [-].
    limit : int
        Its limit (one of the ``MAX_*`` constants of this module) [-].
    what : str
        What is counted ("the epochs from 2030-01-01 to 2050-01-01 every 1 s").
    fix : str
        What the user can do instead.

    Raises
    ------
    LupexError
        "WHAT number COUNT, more than the limit of LIMIT; FIX".
    """
    if count > limit:
        raise LupexError(f"{what} number {count:,}, more than the limit of {limit:,}; {fix}")
