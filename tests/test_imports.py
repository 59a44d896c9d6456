"""Importing lupex leaves the caller's matplotlib backend alone (a notebook keeps its own)."""

from __future__ import annotations

import subprocess
import sys


def test_importing_lupex_keeps_the_matplotlib_backend():
    code = ("import matplotlib; matplotlib.use('pdf'); import pkgutil, importlib, lupex\n"
            "for m in pkgutil.walk_packages(lupex.__path__, 'lupex.'): importlib.import_module(m.name)\n"
            "print(matplotlib.get_backend())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pdf"
