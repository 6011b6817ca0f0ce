"""Several server processes on one port (``digitlab serve --workers N``; by default one per core, see
``default_workers``), so that a 2-core machine answers on both cores: forked before any model is loaded, each loads
its own. On Linux each listens on a socket of its own bound to the port with SO_REUSEPORT, and the kernel spreads
new connections over them; from one shared listening socket, the process that woke first took every connection of
a burst (16 clients at once: all 16, or 11 and 5), and the other one idled.

Each child tells the parent through a pipe that it is ready, or the one sentence of the error that stopped it;
the parent reports the first failure as its own error, forwards SIGTERM, and stops the others when one ends.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import traceback
from typing import Callable

from ..errors import DigitlabError, UsageError

READY = b"ready"
# Linux spreads the connections to a port over the listening sockets bound with SO_REUSEPORT; other systems give
# them all to one socket (BSD, macOS), so there the processes share one.
BALANCED = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")
PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h): the signal a process gets when its parent ends
AUTO_MAX = 4  # server processes started by default, at most: a drawing page needs no more


def default_workers() -> int:
    """How many server processes ``digitlab serve`` starts unless told: one per CPU core this process may use, at
    most AUTO_MAX; one where processes are not forked by default (not Linux: macOS warns against forking a process
    that has loaded system frameworks)."""
    if not sys.platform.startswith("linux"):
        return 1
    return max(1, min(AUTO_MAX, len(os.sched_getaffinity(0))))


def preload() -> None:
    """Import, before forking, what loading a model needs (PyTorch, scikit-learn, the nets): the children share
    these modules instead of each importing them at once on the same cores. Nothing is run: no PyTorch thread
    exists yet when the children are forked."""
    from ..models import persist, pretrained  # noqa: F401
    from ..models.neural import files  # noqa: F401


def serve_forked(make_server: Callable, sock: socket.socket, workers: int, on_ready: Callable[[], None]) -> None:
    """Fork ``workers`` children, each running ``make_server().run(sockets=[...])``; return when they end.
    ``sock``: where BALANCED, bound with SO_REUSEPORT and not listening (each child listens on its own socket
    bound alike, while this one keeps the port from others); elsewhere the listening socket they share."""
    if not hasattr(os, "fork"):
        raise UsageError("--workers above 1 needs a system that can fork processes (Linux, macOS).")
    children: dict[int, int] = {}  # pid -> read end of its pipe
    parent = os.getpid()
    previous = signal.getsignal(signal.SIGTERM)
    try:
        for _ in range(workers):
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: never returns
                os.close(read)
                _end_with(parent)
                _child(make_server, sock, write)
            os.close(write)
            children[pid] = read
        signal.signal(signal.SIGTERM, lambda *_: _signal_all(children, signal.SIGTERM))
        for read in children.values():
            _await_ready(read)
        on_ready()
        os.wait()  # the first child to end (Ctrl-C, SIGTERM, a crash) ends the server
    finally:
        signal.signal(signal.SIGTERM, previous)
        _stop(children)


def _end_with(parent: int) -> None:
    """Have Linux send this child SIGTERM when the parent ends, even killed with SIGKILL: otherwise the workers
    would serve on, orphaned, holding the port."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent ended before the request was made
        os._exit(1)


def _child(make_server: Callable, sock, write: int) -> None:
    status = 0
    try:
        listening = _own_listener(sock) if BALANCED else sock
        server = make_server()
        os.write(write, READY)
        os.close(write)
        server.run(sockets=[listening])
    except DigitlabError as exc:
        os.write(write, f"{exc.exit_code}\t{exc}".encode())
        status = exc.exit_code
    except BaseException:  # noqa: BLE001 - whatever happens, the child must not return into the parent's code
        traceback.print_exc()
        status = 1
    finally:
        os._exit(status)


def _own_listener(shared: socket.socket) -> socket.socket:
    """A listening socket of this process's own on ``shared``'s address, bound with SO_REUSEPORT."""
    from .server import BACKLOG

    sock = socket.socket(shared.family, shared.type, shared.proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(shared.getsockname())
    sock.listen(BACKLOG)
    return sock


def _await_ready(read: int) -> None:
    """Wait for one child's word: ready, or its error as this process's own."""
    with os.fdopen(read, "rb") as pipe:
        word = pipe.read(4096)
    if word == READY:
        return
    code, _, sentence = word.decode(errors="replace").partition("\t")
    error = DigitlabError(sentence or "a server process stopped while starting (see the messages above).")
    error.exit_code = int(code) if code.isdigit() else 1
    raise error


def _signal_all(children: dict[int, int], sig: int) -> None:
    for pid in children:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _stop(children: dict[int, int], timeout: float = 10.0) -> None:
    """SIGTERM every child still running and reap them all (SIGKILL after ``timeout`` seconds)."""
    import time

    _signal_all(children, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for pid in children:
        while True:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                break
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)
