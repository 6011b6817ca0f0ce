"""The web app under test: the app around the shipped CNN, a live uvicorn on a free loopback port (in a thread,
bounded waits), and digits as image bytes."""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest

START_TIMEOUT = 20.0  # seconds a server may take to answer /api/health in a test


def png_bytes(pixels: np.ndarray, size: int | None = None, dark_on_light: bool = False) -> bytes:
    """A (784,) or 2-D uint8 image as PNG bytes, optionally enlarged to ``size`` and inverted (ink on paper)."""
    from PIL import Image

    array = np.asarray(pixels, dtype=np.uint8)
    image = Image.fromarray(array.reshape(28, 28) if array.ndim == 1 else array)
    if dark_on_light:
        image = Image.fromarray(255 - np.asarray(image))
    if size is not None:
        image = image.resize((size, size), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="session")
def engine_app():
    """The app around the shipped CNN (loaded once for the session)."""
    from digitlab.serve import create_app

    return create_app()


class LiveServer:
    """uvicorn serving an app in a thread on 127.0.0.1, on a free port."""

    def __init__(self, app):
        import uvicorn

        from digitlab.serve.server import bind, url_of

        self.sock = bind("127.0.0.1", 0)
        self.sock.listen(128)
        self.url = url_of(self.sock).rstrip("/")
        config = uvicorn.Config(app, log_level="error", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> "LiveServer":
        import httpx

        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"the server did not answer within {START_TIMEOUT} s")

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture(scope="session")
def live(engine_app):
    """Base URL of a live server around the shipped CNN, for the whole session."""
    with LiveServer(engine_app) as server:
        yield server.url
