"""Fixtures for the data tests: a tiny fake idx dataset registered in the table, and local HTTP mirrors that
serve, fail, drip, stall, omit Content-Length or send too much (all on 127.0.0.1, all bounded in time)."""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from digitlab.data import datasets, idx


@dataclass
class Fake:
    """A dataset registered as "fake", its gzip files' bytes by file name, and its arrays by role."""

    spec: datasets.DatasetSpec
    files: dict[str, bytes]
    arrays: dict[str, np.ndarray]

    def write(self, folder: Path, raw: bool = False) -> Path:
        """Put the four files into ``folder`` (uncompressed when ``raw``); return the folder."""
        folder.mkdir(parents=True, exist_ok=True)
        for role, file in self.spec.files.items():
            if raw:
                (folder / file.raw_name).write_bytes(idx.to_bytes(self.arrays[role]))
            else:
                (folder / file.name).write_bytes(self.files[file.name])
        return folder


def make_fake_spec(arrays: dict[str, np.ndarray], system_dir: Path) -> tuple[datasets.DatasetSpec, dict[str, bytes]]:
    files, specs = {}, {}
    for role, stem in datasets._STEMS.items():
        content = idx.to_bytes(arrays[role])
        files[stem + ".gz"] = gzip.compress(content, mtime=0)
        specs[role] = datasets.FileSpec(stem + ".gz", hashlib.sha256(content).hexdigest(), len(files[stem + ".gz"]))
    spec = datasets.DatasetSpec("fake", "a tiny test dataset", specs, mirrors=("http://127.0.0.1:9/",),
                                system_dirs=(str(system_dir),))
    return spec, files


@pytest.fixture
def make_fake(isolated_data, monkeypatch):
    """Register a dataset "fake" made of the given arrays (by role); return it as a Fake."""

    def register(arrays: dict[str, np.ndarray]) -> Fake:
        spec, files = make_fake_spec(arrays, isolated_data / "system" / "fake")
        monkeypatch.setitem(datasets.DATASETS, "fake", spec)
        return Fake(spec, files, arrays)

    return register


@pytest.fixture
def fake(make_fake) -> Fake:
    """A registered 12+6-image fake dataset of random pixels."""
    rng = np.random.default_rng(0)
    return make_fake({
        "train_images": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
        "train_labels": np.arange(12, dtype=np.uint8) % 10,
        "test_images": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "test_labels": np.arange(6, dtype=np.uint8),
    })


@dataclass
class Drip:
    """Announce ``body`` in full, then send ``step`` bytes every ``delay`` seconds."""

    body: bytes
    delay: float = 0.05
    step: int = 1


@dataclass
class Stall:
    """Read the request, then say nothing for ``seconds`` (or until the server stops)."""

    seconds: float = 5.0


@dataclass
class NoLength:
    """Send ``body`` ``times`` times with no Content-Length header, then close (or stop when the client leaves)."""

    body: bytes
    times: int = 1


class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.routes``: path -> bytes, an int HTTP status, (body, claimed length) for a connection cut
    short, a Drip, a Stall or a NoLength; a list is consumed one answer per request."""

    def do_GET(self):
        self.server.requests.append(self.path)
        answer = self.server.routes.get(self.path, 404)
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        if isinstance(answer, int):
            self.send_error(answer)
        elif isinstance(answer, Stall):
            self.server.stopping.wait(answer.seconds)
        elif isinstance(answer, Drip):
            self._send(answer.body[:0], len(answer.body))
            for start in range(0, len(answer.body), answer.step):
                if self.server.stopping.wait(answer.delay):
                    break
                self.wfile.write(answer.body[start:start + answer.step])
                self.wfile.flush()
        elif isinstance(answer, NoLength):
            self._send(answer.body, None, times=answer.times)
        elif isinstance(answer, tuple):  # (body, claimed length): a connection cut short
            self._send(*answer)
        else:
            self._send(answer, len(answer))

    def _send(self, body: bytes, length: int | None, times: int = 1) -> None:
        self.send_response(200)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        for _ in range(times):
            if self.server.stopping.is_set():
                break
            self.wfile.write(body)

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up, as it should
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def http_mirror():
    """Start local HTTP servers: ``http_mirror(routes) -> (base_url, server)``; stopped at teardown."""
    servers = []

    def start(routes: dict) -> tuple[str, ThreadingHTTPServer]:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.routes, server.requests, server.stopping = routes, [], threading.Event()
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/", server

    yield start
    for server in servers:
        server.stopping.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def fast_limits(monkeypatch):
    """Shrink the per-file download limits so that a dripping or silent mirror costs well under a second."""
    from digitlab.data import fetch

    monkeypatch.setattr(fetch, "DEADLINE_FLOOR", 0.5)
    monkeypatch.setattr(fetch, "MIN_RATE", 10**9)
    monkeypatch.setattr(fetch, "TIMEOUT", 0.5)
    monkeypatch.setattr(fetch, "SIZE_SLACK", 0)
    return fetch


@pytest.fixture
def refused_url():
    """A 127.0.0.1 URL on a port nobody listens on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"

