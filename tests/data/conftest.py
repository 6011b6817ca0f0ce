"""Fixtures for the data tests: a tiny fake idx dataset registered in the table, and a local HTTP mirror."""

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
        specs[role] = datasets.FileSpec(stem + ".gz", hashlib.sha256(content).hexdigest())
        files[stem + ".gz"] = gzip.compress(content, mtime=0)
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


class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.routes``: path -> bytes, or an int HTTP status, or a list consumed one per request."""

    def do_GET(self):
        self.server.requests.append(self.path)
        answer = self.server.routes.get(self.path, 404)
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        if isinstance(answer, int):
            self.send_error(answer)
            return
        if isinstance(answer, tuple):  # (body, claimed length): a connection cut short
            body, length = answer
        else:
            body, length = answer, len(answer)
        self.send_response(200)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_mirror():
    """Start local HTTP servers: ``http_mirror(routes) -> (base_url, server)``; stopped at teardown."""
    servers = []

    def start(routes: dict) -> tuple[str, ThreadingHTTPServer]:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.routes, server.requests = routes, []
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/", server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def refused_url():
    """A 127.0.0.1 URL on a port nobody listens on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"

