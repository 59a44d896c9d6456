"""``lupex data`` through ``lupex.cli.main.run``, against a local HTTP mirror."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from lupex.cli.main import run

PRODUCT = "ldem_75s_240m"  # its image size comes from the label, so a tiny fake works


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        """Keep the test output quiet."""


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A private cache, and the products' own servers unless a test passes --mirror."""
    monkeypatch.setenv("LUPEX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("LUPEX_DATA_MIRROR", raising=False)


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[str]:
    """URL of a local server holding a fake LDEM_75S_240M pair (4 x 4 int16)."""
    root = tmp_path / "mirror"
    root.mkdir()
    (root / "LDEM_75S_240M.LBL").write_text(
        'PDS_VERSION_ID = "PDS3"\nOBJECT = IMAGE\n  LINES = 4\n  LINE_SAMPLES = 4\n'
        "  SAMPLE_TYPE = LSB_INTEGER\n  SAMPLE_BITS = 16\nEND_OBJECT = IMAGE\nEND\n"
    )
    (root / "LDEM_75S_240M.IMG").write_bytes(np.arange(16, dtype="<i2").tobytes())
    httpd = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root))
    )
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def listing(capsys: pytest.CaptureFixture[str]) -> dict[str, dict]:
    assert run(["data", "list", "--json"]) == 0
    return {row["name"]: row for row in json.loads(capsys.readouterr().out)}


def test_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    rows = listing(capsys)

    row = rows["ldem_80s_20m"]
    assert row["resolution_m"] == 20.0
    assert row["cached"] is False
    assert row["description"]
    assert [f["name"] for f in row["files"]] == ["LDEM_80S_20M.LBL", "LDEM_80S_20M.IMG"]
    assert row["files"][1]["size_bytes"] == 1_848_320_000
    assert row["files"][1]["url"].startswith("https://pds-geosciences.wustl.edu/")


def test_list_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "ldem_80s_20m" in out
    assert "1.85 GB" in out


def test_fetch_prints_paths_then_reuses_cache(
    mirror: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "cache" / "lola"

    assert run(["data", "fetch", PRODUCT, "--mirror", mirror]) == 0
    out = capsys.readouterr().out.splitlines()

    assert out == [str(folder / "LDEM_75S_240M.LBL"), str(folder / "LDEM_75S_240M.IMG")]
    assert (folder / "LDEM_75S_240M.IMG").stat().st_size == 32
    assert listing(capsys)[PRODUCT]["cached"] is True
    assert run(["data", "path", PRODUCT]) == 0
    assert capsys.readouterr().out.splitlines() == out
    assert run(["-q", "data", "fetch", PRODUCT, "--verify", "--mirror", "http://127.0.0.1:9/"]) == 0
    assert capsys.readouterr().out.splitlines() == out


def test_fetch_into_cache_dir_option(
    mirror: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "elsewhere"

    assert run(["-q", "data", "fetch", PRODUCT, "--cache-dir", str(other), "--mirror", mirror]) == 0

    assert capsys.readouterr().out.splitlines()[1] == str(other / "lola" / "LDEM_75S_240M.IMG")


def test_fetch_unknown_product_is_one_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["data", "fetch", "ldem_nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lupex: error: unknown product 'ldem_nope'")
    assert "ldem_80s_20m" in err
    assert "Traceback" not in err


def test_fetch_http_error_is_one_error_line(
    mirror: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["data", "fetch", "ldem_80s_20mpp_adj", "--mirror", mirror]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lupex: error: HTTP error 404")
    assert len(err.strip().splitlines()) == 1


def test_path_of_product_not_cached(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["data", "path", "ldem_4"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lupex: error: ldem_4 is not in the cache")
    assert "lupex data fetch ldem_4" in err
