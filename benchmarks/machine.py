"""What every benchmark prints about where it ran: CPU, lupex source state, load."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import lupex


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (or the platform's guess elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def source_state() -> str:
    """Commit of the lupex checkout, and the files of the package that differ from it."""
    src = Path(lupex.__file__).parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=src, check=True,
                              capture_output=True, text=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--", "."], cwd=src, check=True,
                                 capture_output=True, text=True).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    names = [Path(line[3:]).name for line in changed if line.strip()]
    return f"git {head}" + (f" (modified since: {', '.join(names)})" if names else "")


def load_average() -> str:
    """1-, 5- and 15-minute load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
