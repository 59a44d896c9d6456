"""Shared fixtures: the real LOLA / SPICE data beside the checkout, and a CLI runner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from lupex.cli.main import run

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def lola_dir() -> Path:
    """The folder of real LOLA files (../shared/data/lola); skips the test when absent."""
    folder = SHARED_DATA / "lola"
    if not folder.is_dir():
        pytest.skip("real LOLA data not found at ../shared/data/lola (only in the full workspace)")
    return folder


@pytest.fixture(scope="session")
def shoemaker_tif(lola_dir: Path) -> Path:
    """The 256 x 256 crop of the LOLA 5 m Shoemaker site DEM (PGDA product 78)."""
    return lola_dir / "Shoemaker_final_adj_5mpp_surf_1k.tif"


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys):
    """Run ``lupex ARGS...`` in-process and return its exit code, stdout and stderr."""

    def invoke(*args: str) -> CliResult:
        code = run([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke


def assert_one_line_error(result: CliResult, *fragments: str) -> None:
    """The bad-input contract: exit 2, one stderr line starting 'lupex: error:', no traceback."""
    assert result.code == 2, (result.code, result.out, result.err)
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    assert lines[0].startswith("lupex: error: "), lines[0]
    assert "Traceback" not in result.err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
