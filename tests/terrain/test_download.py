"""Downloader tests against a local HTTP server that speaks Range and can drop connections."""

from __future__ import annotations

import hashlib
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest

from lupex.errors import LupexError
from lupex.terrain.catalog import CATALOG, Product, RemoteFile, get_product, product_names
from lupex.terrain.download import (
    cached_paths,
    fetch_product,
    image_size_from_label,
    is_cached,
    resolve_cache_dir,
    resolve_mirror,
)

SHARED_LABELS = Path("/work/shared/data/lola")
TIMEOUT_S = 5.0


@dataclass
class ServerState:
    """What the test server serves and what it saw."""

    root: Path
    url: str = ""
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    drop_after: dict[str, int] = field(default_factory=dict)
    ignore_range: bool = False

    def ranges(self, name: str) -> list[str | None]:
        """Range headers of the requests for file ``name``, in order."""
        return [rng for path, rng in self.requests if path.endswith("/" + name)]


class RangeHandler(BaseHTTPRequestHandler):
    """GET with ``Range: bytes=N-`` support, 416, and one-shot dropped connections."""

    def do_GET(self) -> None:
        state: ServerState = self.server.state  # type: ignore[attr-defined]
        requested = self.headers.get("Range")
        state.requests.append((self.path, requested))
        file = state.root / unquote(self.path.lstrip("/"))
        if not file.is_file():
            self.send_error(404, "Not Found")
            return
        body = file.read_bytes()
        start = 0
        if requested and not state.ignore_range:
            start = int(re.fullmatch(r"bytes=(\d+)-", requested)[1])
            if start >= len(body):
                self._send_head(416, 0, {"Content-Range": f"bytes */{len(body)}"})
                return
            self._send_head(206, len(body) - start, {
                "Content-Range": f"bytes {start}-{len(body) - 1}/{len(body)}"
            })
        else:
            self._send_head(200, len(body), {})
        limit = state.drop_after.pop(file.name, None)
        self.wfile.write(body[start:] if limit is None else body[start : start + limit])

    def _send_head(self, status: int, length: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(length))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Keep the test output quiet."""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose the cache and mirror themselves."""
    monkeypatch.delenv("LUPEX_CACHE_DIR", raising=False)
    monkeypatch.delenv("LUPEX_DATA_MIRROR", raising=False)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerState]:
    """A threaded HTTP server on 127.0.0.1 serving ``tmp_path/remote``."""
    root = tmp_path / "remote"
    root.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    state = ServerState(root, url=f"http://127.0.0.1:{httpd.server_address[1]}/data/")
    (root / "data").mkdir()
    httpd.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def publish(server: ServerState, name: str, payload: bytes) -> bytes:
    """Put a file on the test server under ``/data/<name>``."""
    (server.root / "data" / name).write_bytes(payload)
    return payload


def random_bytes(size: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()


def tif_product(server: ServerState, size: int | None = None, sha256: str | None = None) -> Product:
    """A one-file test product ``FAKE.TIF`` on the test server."""
    files = (RemoteFile("FAKE.TIF", size, sha256),)
    return Product("fake_tif", "test GeoTIFF", 20.0, "test", server.url, files)


def fake_label(lines: int, samples: int) -> bytes:
    return (
        'PDS_VERSION_ID = "PDS3"\nOBJECT = IMAGE\n'
        f"  LINES = {lines}\n  LINE_SAMPLES = {samples}\n"
        "  SAMPLE_TYPE = LSB_INTEGER\n  SAMPLE_BITS = 16\nEND_OBJECT = IMAGE\nEND\n"
    ).encode()


def pds_product(server: ServerState) -> Product:
    files = (RemoteFile("FAKE_LDEM.LBL"), RemoteFile("FAKE_LDEM.IMG"))
    return Product("fake_ldem", "test PDS3 pair", 20.0, "test", server.url, files)


# --- downloads ---------------------------------------------------------------------------


def test_fresh_download_records_checksum(server: ServerState, cache: Path) -> None:
    payload = publish(server, "FAKE.TIF", random_bytes(5000))
    digest = hashlib.sha256(payload).hexdigest()
    seen: list[tuple[int, int | None]] = []
    product = tif_product(server, size=5000, sha256=digest)

    paths = fetch_product(product, cache_dir=cache, progress=lambda d, t: seen.append((d, t)))

    assert paths == [cache / "lola" / "FAKE.TIF"]
    assert paths[0].read_bytes() == payload
    assert (cache / "lola" / "FAKE.TIF.sha256").read_text().splitlines() == [
        "# size_bytes=5000",
        f"{digest}  FAKE.TIF",
    ]
    assert not (cache / "lola" / "FAKE.TIF.part").exists()
    assert seen[0] == (0, 5000)
    assert seen[-1] == (5000, 5000)
    assert is_cached(product, cache)


def test_resume_after_dropped_connection(server: ServerState, cache: Path) -> None:
    payload = publish(server, "FAKE.TIF", random_bytes(6000))
    server.drop_after["FAKE.TIF"] = 2500
    product = tif_product(server, size=6000)

    with pytest.raises(LupexError, match="run again to resume"):
        fetch_product(product, cache_dir=cache, retries=0, timeout=TIMEOUT_S)
    part = cache / "lola" / "FAKE.TIF.part"
    assert part.stat().st_size == 2500
    assert not (cache / "lola" / "FAKE.TIF").exists()

    (path,) = fetch_product(product, cache_dir=cache, retries=0, timeout=TIMEOUT_S)

    assert path.read_bytes() == payload
    assert server.ranges("FAKE.TIF") == [None, "bytes=2500-"]
    assert not part.exists()


def test_dropped_connection_resumes_within_one_call(server: ServerState, cache: Path) -> None:
    payload = publish(server, "FAKE.TIF", random_bytes(4000, seed=1))
    server.drop_after["FAKE.TIF"] = 1000
    digest = hashlib.sha256(payload).hexdigest()

    (path,) = fetch_product(tif_product(server, 4000, digest), cache_dir=cache, timeout=TIMEOUT_S)

    assert path.read_bytes() == payload
    assert server.ranges("FAKE.TIF") == [None, "bytes=1000-"]


def test_server_ignoring_range_restarts_from_zero(server: ServerState, cache: Path) -> None:
    payload = publish(server, "FAKE.TIF", random_bytes(3000, seed=2))
    server.ignore_range = True
    (cache / "lola").mkdir(parents=True)
    (cache / "lola" / "FAKE.TIF.part").write_bytes(b"stale bytes from another version")
    digest = hashlib.sha256(payload).hexdigest()

    (path,) = fetch_product(tif_product(server, 3000, digest), cache_dir=cache)

    assert path.read_bytes() == payload
    assert server.ranges("FAKE.TIF") == ["bytes=32-"]


def test_complete_part_is_finished_after_416(server: ServerState, cache: Path) -> None:
    payload = publish(server, "FAKE.TIF", random_bytes(2000, seed=3))
    (cache / "lola").mkdir(parents=True)
    (cache / "lola" / "FAKE.TIF.part").write_bytes(payload)

    (path,) = fetch_product(tif_product(server, 2000), cache_dir=cache)

    assert path.read_bytes() == payload
    assert server.ranges("FAKE.TIF") == ["bytes=2000-"]


def test_oversized_part_is_fetched_afresh_after_416(server: ServerState, cache: Path) -> None:
    payload = publish(server, "FAKE.TIF", random_bytes(2000, seed=4))
    (cache / "lola").mkdir(parents=True)
    (cache / "lola" / "FAKE.TIF.part").write_bytes(random_bytes(2500))

    (path,) = fetch_product(tif_product(server), cache_dir=cache)

    assert path.read_bytes() == payload
    assert server.ranges("FAKE.TIF") == ["bytes=2500-", None]


def test_checksum_mismatch_leaves_no_file(server: ServerState, cache: Path) -> None:
    payload = publish(server, "FAKE.TIF", random_bytes(1000))
    wrong = "0" * 64

    with pytest.raises(LupexError) as info:
        fetch_product(tif_product(server, sha256=wrong), cache_dir=cache)

    message = str(info.value)
    assert "FAKE.TIF" in message
    assert wrong in message
    assert hashlib.sha256(payload).hexdigest() in message
    assert list((cache / "lola").iterdir()) == []


def test_size_mismatch_leaves_no_file(server: ServerState, cache: Path) -> None:
    publish(server, "FAKE.TIF", random_bytes(1000))

    with pytest.raises(LupexError, match="expected 1001 bytes, got 1000"):
        fetch_product(tif_product(server, size=1001), cache_dir=cache)

    assert list((cache / "lola").iterdir()) == []


def test_http_404_names_status_and_url(server: ServerState, cache: Path) -> None:
    with pytest.raises(LupexError, match=r"HTTP error 404 .*FAKE\.TIF.*--mirror"):
        fetch_product(tif_product(server), cache_dir=cache)


def test_network_failure_suggests_mirror(cache: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    product = Product("x", "", 1.0, "test", f"http://127.0.0.1:{port}/", (RemoteFile("X.TIF"),))

    with pytest.raises(LupexError, match=r"could not download .*--mirror"):
        fetch_product(product, cache_dir=cache, retries=0, timeout=TIMEOUT_S)


def test_cached_product_is_reused_without_requests(server: ServerState, cache: Path) -> None:
    publish(server, "FAKE.TIF", random_bytes(1500))
    product = tif_product(server, size=1500)
    first = fetch_product(product, cache_dir=cache)
    count = len(server.requests)

    assert fetch_product(product, cache_dir=cache) == first
    assert fetch_product(product, cache_dir=cache, verify=True) == first
    assert len(server.requests) == count


def test_damaged_cached_file_is_fetched_again_with_verify(
    server: ServerState, cache: Path
) -> None:
    payload = publish(server, "FAKE.TIF", random_bytes(1500))
    product = tif_product(server)
    (path,) = fetch_product(product, cache_dir=cache)
    path.write_bytes(b"\x00" + payload[1:])

    fetch_product(product, cache_dir=cache)  # same size: only --verify notices
    assert path.read_bytes() != payload
    fetch_product(product, cache_dir=cache, verify=True)

    assert path.read_bytes() == payload
    assert len(server.requests) == 2


def test_truncated_cached_file_is_fetched_again(server: ServerState, cache: Path) -> None:
    payload = publish(server, "FAKE.TIF", random_bytes(1500))
    product = tif_product(server)
    (path,) = fetch_product(product, cache_dir=cache)
    path.write_bytes(payload[:100])

    assert not is_cached(product, cache)
    fetch_product(product, cache_dir=cache)

    assert path.read_bytes() == payload


def test_file_placed_in_cache_is_adopted(server: ServerState, cache: Path) -> None:
    payload = random_bytes(800)
    (cache / "lola").mkdir(parents=True)
    (cache / "lola" / "FAKE.TIF").write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()

    fetch_product(tif_product(server, 800, digest), cache_dir=cache)

    assert server.requests == []
    assert digest in (cache / "lola" / "FAKE.TIF.sha256").read_text()


def test_pds_pair_label_first_and_image_size_from_label(server: ServerState, cache: Path) -> None:
    publish(server, "FAKE_LDEM.LBL", fake_label(4, 4))
    image = publish(server, "FAKE_LDEM.IMG", np.arange(16, dtype="<i2").tobytes())

    paths = fetch_product(pds_product(server), cache_dir=cache)

    assert [p.name for p in paths] == ["FAKE_LDEM.LBL", "FAKE_LDEM.IMG"]
    assert paths[1].read_bytes() == image
    assert [path for path, _ in server.requests] == ["/data/FAKE_LDEM.LBL", "/data/FAKE_LDEM.IMG"]
    assert cached_paths(pds_product(server), cache) == paths


def test_pds_image_shorter_than_its_label_says(server: ServerState, cache: Path) -> None:
    publish(server, "FAKE_LDEM.LBL", fake_label(4, 4))
    publish(server, "FAKE_LDEM.IMG", bytes(30))

    with pytest.raises(LupexError, match=r"FAKE_LDEM\.IMG.*expected 32 bytes, got 30"):
        fetch_product(pds_product(server), cache_dir=cache)

    assert not (cache / "lola" / "FAKE_LDEM.IMG").exists()


# --- where things go ---------------------------------------------------------------------


def test_cache_dir_environment_is_honoured(
    server: ServerState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(server, "FAKE.TIF", random_bytes(100))
    monkeypatch.setenv("LUPEX_CACHE_DIR", str(tmp_path / "env-cache"))

    (path,) = fetch_product(tif_product(server))

    assert path == tmp_path / "env-cache" / "lola" / "FAKE.TIF"


def test_cache_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert resolve_cache_dir() == tmp_path / "xdg" / "lupex"
    monkeypatch.setenv("LUPEX_CACHE_DIR", str(tmp_path / "mine"))
    assert resolve_cache_dir() == tmp_path / "mine"
    assert resolve_cache_dir(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("LUPEX_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert resolve_cache_dir() == Path.home() / ".cache" / "lupex"


def test_unwritable_cache_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")

    with pytest.raises(LupexError, match=r"cannot create the cache folder .*--cache-dir"):
        fetch_product("ldem_4", cache_dir=blocker / "cache")


def test_mirror_environment_replaces_base_url(
    server: ServerState, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = publish(server, "FAKE.TIF", random_bytes(100))
    unreachable = Product(
        "fake_tif", "", 20.0, "test", "http://lupex.invalid/x/", (RemoteFile("FAKE.TIF"),)
    )
    monkeypatch.setenv("LUPEX_DATA_MIRROR", server.url)

    (path,) = fetch_product(unreachable, cache_dir=cache)

    assert path.read_bytes() == payload


def test_folder_mirror(tmp_path: Path, cache: Path) -> None:
    mirror = tmp_path / "copy"
    (mirror / "sub").mkdir(parents=True)
    (mirror / "sub" / "SITE.tif").write_bytes(b"tiff bytes")
    files = (RemoteFile("sub/SITE.tif"),)
    product = Product("site", "", 5.0, "test", "http://lupex.invalid/", files)

    (path,) = fetch_product(product, cache_dir=cache, mirror=str(mirror))

    assert path == cache / "lola" / "SITE.tif"
    assert path.read_bytes() == b"tiff bytes"


def test_missing_mirror_folder(tmp_path: Path) -> None:
    with pytest.raises(LupexError, match="mirror folder"):
        resolve_mirror(str(tmp_path / "nowhere"))


# --- the catalog -------------------------------------------------------------------------


def test_unknown_product_lists_known_names() -> None:
    with pytest.raises(LupexError, match=r"unknown product 'ldem_nope'.*ldem_80s_20m"):
        get_product("ldem_nope")


def test_lookup_is_case_insensitive() -> None:
    assert get_product("LDEM_80S_20M.IMG") is CATALOG["ldem_80s_20m"]


def test_catalog_contents() -> None:
    names = set(product_names())
    assert {
        "ldem_80s_20m", "ldem_80s_40m", "ldem_80s_80m", "ldem_75s_240m", "ldem_80s_240m",
        "ldem_875s_5m", "ldem_4", "ldem_16", "ldem_64", "ldem_80s_20mpp_adj",
        "ldem_80s_40mpp_adj", "ldem_80s_80mpp_adj", "shoemaker_5mpp",
    } <= names
    assert CATALOG["ldem_80s_20m"].size_bytes == 30400 * 30400 * 2
    assert CATALOG["ldem_4"].size_bytes == 2_073_600
    pair = [f.name for f in CATALOG["ldem_80s_20m"].files]
    assert pair == ["LDEM_80S_20M.LBL", "LDEM_80S_20M.IMG"]


@pytest.mark.parametrize("name", ["ldem_4", "ldem_80s_20m", "ldem_875s_5m"])
def test_catalog_sizes_agree_with_real_labels(name: str) -> None:
    product = CATALOG[name]
    label = SHARED_LABELS / product.files[0].name
    if not label.is_file():
        pytest.skip(f"{label} not available")
    assert image_size_from_label(label.read_text(encoding="latin-1")) == product.size_bytes


def test_label_without_geometry_gives_no_size() -> None:
    assert image_size_from_label('PDS_VERSION_ID = "PDS3"\nEND\n') is None
