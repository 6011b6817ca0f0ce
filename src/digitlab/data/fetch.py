"""Fetch one file over HTTP(S) within bounds, and report progress as plain lines where no bar can be drawn.

Each file gets an overall deadline (its published size at ``MIN_RATE``, between ``DEADLINE_FLOOR`` and
``DEADLINE_CAP``) and a size bound (``SIZE_FACTOR`` times its published size plus ``SIZE_SLACK``, room for a
recompressed copy): a mirror that drips bytes is abandoned at the deadline, one that sends more than the bound
is cut off before the disk fills. Every failure becomes a ``FetchError`` saying whether retrying the same
mirror may help and whether its host should be skipped for the rest of the download (it stalled or timed out).
Tests shrink the module constants so that a dripping server costs a second, not minutes.
"""

from __future__ import annotations

import http.client
import socket
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

TIMEOUT = 30.0  # seconds a connection attempt, or one read, may wait
MIN_RATE = 25_000  # bytes per second: slower than this over a whole file and the mirror is given up
DEADLINE_FLOOR = 30.0  # seconds any file is allowed, however small
DEADLINE_CAP = 900.0  # seconds no file is allowed to exceed
SIZE_FACTOR = 2  # a copy may be this many times its published size (recompressed with another gzip level)...
SIZE_SLACK = 1 << 16  # ... plus this many bytes
UNKNOWN_SIZE_LIMIT = 1 << 28  # bytes read at most when the size is not published (256 MiB)
_CHUNK = 1 << 16
_USER_AGENT = "digitlab (+https://github.com/digitlab)"

# progress(file_name, bytes_done, bytes_total or None), called as a download advances.
ProgressCallback = Callable[[str, int, "int | None"], None]


class FetchError(Exception):
    """One mirror failed to deliver one file: why, whether to retry it, and whether to skip its host from now on."""

    def __init__(self, reason: str, *, retry: bool = False, host_down: bool = False):
        super().__init__(reason)
        self.reason, self.retry, self.host_down = reason, retry, host_down


def deadline_for(size: int | None) -> float:
    """Seconds allowed to fetch a file of ``size`` bytes (the cap when the size is unknown)."""
    if size is None:
        return DEADLINE_CAP
    return min(DEADLINE_CAP, max(DEADLINE_FLOOR, size / MIN_RATE))


def size_limit(size: int | None) -> int:
    """The most bytes accepted for a file published at ``size`` bytes."""
    return UNKNOWN_SIZE_LIMIT if size is None else SIZE_FACTOR * size + SIZE_SLACK


def fetch(url: str, dest: Path, *, size: int | None = None, timeout: float | None = None, label: str = "",
          progress: ProgressCallback | None = None, clock: Callable[[], float] = time.monotonic) -> int:
    """Stream ``url`` into the file ``dest`` within the deadline and size bound for ``size``; return the count.

    Network failures raise FetchError; a failure to write ``dest`` raises the OSError unchanged.
    """
    timeout = TIMEOUT if timeout is None else timeout
    budget, limit = deadline_for(size), size_limit(size)
    deadline = clock() + budget
    label = label or url.rsplit("/", 1)[-1]
    response = _network(lambda: urllib.request.urlopen(
        urllib.request.Request(url, headers={"User-Agent": _USER_AGENT}), timeout=min(timeout, budget)))
    with response, open(dest, "wb") as out:
        total = _content_length(response)
        if total is not None and total > limit:
            raise FetchError(f"it announces {total:,} bytes, more than the {limit:,} expected")
        done = 0
        if progress:
            progress(label, done, total)
        while True:
            remaining = deadline - clock()
            if remaining <= 0:
                raise FetchError(f"too slow: {done:,} bytes in {budget:.3g} s", host_down=True)
            _set_read_timeout(response, min(timeout, remaining))
            chunk = _network(lambda: response.read1(_CHUNK), slow=(done, budget, deadline, clock))
            if not chunk:
                break
            done += len(chunk)
            if done > limit:
                raise FetchError(f"it sent more than the {limit:,} bytes expected")
            out.write(chunk)
            if progress:
                progress(label, done, total)
    if total is not None and done < total:
        raise FetchError(f"connection closed after {done:,} of {total:,} bytes", retry=True)
    return done


def _network(call: Callable, slow: tuple | None = None):
    """Run one network step, turning every failure into a FetchError (a timeout past the deadline: too slow)."""
    try:
        return call()
    except urllib.error.HTTPError as exc:
        raise FetchError(f"HTTP {exc.code} {exc.reason}", retry=exc.code >= 500 or exc.code == 429) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
    except (OSError, http.client.HTTPException) as exc:
        reason = exc
    except ValueError as exc:  # a malformed URL
        raise FetchError(str(exc)) from None
    if slow is not None and _timed_out(reason):
        done, budget, deadline, clock = slow
        if clock() >= deadline - 0.05:
            raise FetchError(f"too slow: {done:,} bytes in {budget:.3g} s", host_down=True)
    raise FetchError(describe(reason), retry=transient(reason), host_down=_host_down(reason))


def _timed_out(reason: object) -> bool:
    return isinstance(reason, TimeoutError) or "timed out" in str(reason)


def _host_down(reason: object) -> bool:
    """Whether a host is worth skipping for the other files: it stalled, timed out or has no address."""
    return _timed_out(reason) or isinstance(reason, socket.gaierror)


def transient(reason: object) -> bool:
    """Whether retrying the same mirror may help: not for an unknown host, a refusal or a silent server.

    Failing over at once keeps an offline machine from waiting through every retry.
    """
    return not isinstance(reason, (socket.gaierror, ConnectionRefusedError, TimeoutError))


def describe(reason: object) -> str:
    """A short human reason for a network failure."""
    if _timed_out(reason):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    if isinstance(reason, http.client.IncompleteRead):
        return f"connection closed after {len(reason.partial):,} bytes"
    return str(reason) or type(reason).__name__


def _content_length(response: http.client.HTTPResponse) -> int | None:
    length = response.headers.get("Content-Length", "").strip()
    return int(length) if length.isdigit() else None


def _set_read_timeout(response: http.client.HTTPResponse, seconds: float) -> None:
    """Shorten the socket's timeout so the last read ends at the deadline.

    http.client exposes no public way to reach the socket; without it the deadline is still checked
    between reads, each bounded by ``TIMEOUT``.
    """
    sock = getattr(getattr(response.fp, "raw", None), "_sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.01))


def progress_lines(write: Callable[[str], None] | None = None, *, every_fraction: float = 0.1,
                   every_seconds: float = 5.0, clock: Callable[[], float] = time.monotonic) -> ProgressCallback:
    """A progress callback that writes plain lines (for a log or a pipe, where no bar can be drawn).

    A line when a file starts, each time another ``every_fraction`` of it has arrived or ``every_seconds`` have
    passed since the last line, and when it is complete; ``write`` defaults to printing on stderr.
    """
    if write is None:
        def write(line: str) -> None:
            print(line, file=sys.stderr, flush=True)

    state: dict[str, tuple[float, int]] = {}  # file name -> (time of the last line, steps of every_fraction shown)

    def report(name: str, done: int, total: int | None) -> None:
        now = clock()
        step = int(done / total / every_fraction + 1e-9) if total else 0  # 0.3 / 0.1 is 2.9999...
        if name in state and done:
            last_time, last_step = state[name]
            complete = total is not None and done >= total
            if not (complete or step > last_step or now - last_time >= every_seconds):
                return
        state[name] = (now, step)
        write(f"downloading {name}: {_amount(done, total)}")

    return report


def _amount(done: int, total: int | None) -> str:
    if not total:
        return f"{done / 1e6:.2f} MB"
    return f"{done / 1e6:.2f} of {total / 1e6:.2f} MB ({100 * done // total}%)"
