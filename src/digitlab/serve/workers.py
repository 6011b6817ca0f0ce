"""Several server processes on one port (``digitlab serve --workers N``): forked before any model is loaded, each
loads its own and accepts from the shared listening socket, so a 2-core machine answers on both cores.

Each child tells the parent through a pipe that it is ready, or the one sentence of the error that stopped it;
the parent reports the first failure as its own error, forwards SIGTERM, and stops the others when one ends.
"""

from __future__ import annotations

import os
import signal
import traceback
from typing import Callable

from ..errors import DigitlabError, UsageError

READY = b"ready"


def serve_forked(make_server: Callable, sock, workers: int, on_ready: Callable[[], None]) -> None:
    """Fork ``workers`` children, each running ``make_server().run(sockets=[sock])``; return when they end."""
    if not hasattr(os, "fork"):
        raise UsageError("--workers above 1 needs a system that can fork processes (Linux, macOS).")
    children: dict[int, int] = {}  # pid -> read end of its pipe
    previous = signal.getsignal(signal.SIGTERM)
    try:
        for _ in range(workers):
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: never returns
                os.close(read)
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


def _child(make_server: Callable, sock, write: int) -> None:
    status = 0
    try:
        server = make_server()
        os.write(write, READY)
        os.close(write)
        server.run(sockets=[sock])
    except DigitlabError as exc:
        os.write(write, f"{exc.exit_code}\t{exc}".encode())
        status = exc.exit_code
    except BaseException:  # noqa: BLE001 - whatever happens, the child must not return into the parent's code
        traceback.print_exc()
        status = 1
    finally:
        os._exit(status)


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
