"""Serving the app with uvicorn on a socket bound here, so that a port in use is one clear sentence and port 0
(any free port) tells its number before the first request."""

from __future__ import annotations

import errno
import ipaddress
import socket
from typing import Callable

from ..errors import UsageError
from .app import LOOPBACK, create_app

BACKLOG = 2048  # connections waiting to be taken by a server process


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host.strip("[]") in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str = "127.0.0.1", port: int = 8000, *, reuse_port: bool = False) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` (not yet listening); UsageError when that cannot be done.
    ``reuse_port``: other sockets of this user may bind the same port with SO_REUSEPORT (the server processes of
    ``workers.serve_forked``), once the port is known to be free for anyone else."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except OverflowError:
        raise UsageError(f"--port {port}: a port is a number from 0 to 65535.") from None
    except (socket.gaierror, UnicodeError) as exc:
        raise UsageError(f"--host {host}: not an address this machine can listen on ({exc}).") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart at once after a stop (TIME_WAIT)
    try:
        sock.bind(address)
        if reuse_port:  # free (not even shared by another server with SO_REUSEPORT): now bound to share it
            address = sock.getsockname()  # the port chosen for port 0
            sock.close()
            sock = socket.socket(family, kind, proto)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"Port {port} on {host} is in use (another server?); choose another with --port.") \
                from None
        raise UsageError(f"Cannot listen on {host} port {port} ({exc.strerror or exc}).") from None
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}/"


def run(model=None, denoiser=None, host: str = "127.0.0.1", port: int = 8000, *, workers: int = 1,
        on_ready: Callable[[str], None] | None = None, log_level: str = "warning") -> None:
    """Serve the app for ``model`` (a classifier file or fitted estimator; default the shipped CNN) and an
    optional ``denoiser`` until Ctrl-C or SIGTERM. ``on_ready(url)`` is called once requests are answered.
    ``workers`` > 1 forks that many server processes sharing the port (POSIX; the models given as files, and best
    from a process that has not run PyTorch yet; ``digitlab serve`` starts ``workers.default_workers()``). A host
    other than a loopback address answers requests from any Host name."""
    if workers < 1:
        raise UsageError(f"--workers {workers}: give 1 or more server processes.")
    from . import workers as forked

    hosts = (*LOOPBACK, host) if is_loopback(host) else None
    balanced = workers > 1 and forked.BALANCED  # each process listens on a socket of its own
    sock = bind(host, port, reuse_port=balanced)
    try:
        if not balanced:
            sock.listen(BACKLOG)  # connections made from now on wait in the backlog until a server takes them
        if workers == 1:
            server = make_server(create_app(model, denoiser, hosts=hosts), log_level)
            if on_ready is not None:
                on_ready(url_of(sock))
            server.run(sockets=[sock])
        else:
            forked.preload()
            forked.serve_forked(lambda: make_server(create_app(model, denoiser, hosts=hosts), log_level), sock,
                                workers, lambda: on_ready(url_of(sock)) if on_ready is not None else None)
    finally:
        sock.close()


def make_server(app, log_level: str = "warning"):
    """A uvicorn server for ``app``, quiet (no access log), without the lifespan protocol the app does not use."""
    import gc

    import uvicorn

    # The 250,000 objects of startup (PyTorch, FastAPI) never die: a full collection walking them took 80-200 ms,
    # a request's worth of delay; frozen, the collector leaves them alone (no collection first: 0.15 s of startup).
    # The collector is on from here even where the caller (`digitlab serve`) turned it off for the imports.
    gc.freeze()
    gc.enable()
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off", server_header=False,
                            timeout_graceful_shutdown=3)
    return uvicorn.Server(config)
