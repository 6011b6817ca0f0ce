"""Safe file writes: every path digitlab writes goes through ``atomic_path`` (or ``atomic_open``).

What happens depends on what the path names:

- a regular file, or nothing yet: a temporary file beside it is written and renamed over it only when the
  block succeeds, so a reader never sees half a file and a failure leaves nothing behind; an existing file
  keeps its permission bits (and, when run as root, its owner); a new one gets 0666 less the umask;
- a character device or a named pipe (``/dev/null``, ``/dev/stdout``, a FIFO): written directly, with no
  temporary and no rename, so ``/dev/null`` stays a device and a pipe's reader gets the data;
- a symbolic link: followed on purpose, the link's final target is written as above and the link stays a link;
- a folder, a socket or a block device: refused with one sentence.

An ``OSError`` while writing (no space, no permission, read-only file system) becomes an ``OutputError`` such as
"no space left on device while writing out.csv.", and no temporary file is left. While a temporary exists,
SIGTERM and SIGHUP raise ``SystemExit`` (exit status 128 + signal) instead of killing the process outright, so
the temporary is removed; a handler the application installed itself is left alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import stat
import threading
from pathlib import Path
from typing import IO, Any, Iterator

from .errors import OutputError

_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
_TEMP_TRIES = 100  # names tried before giving up on creating a temporary file


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield the path to write for ``path``: a temporary renamed onto it when the block succeeds, or ``path``
    itself for a device or a named pipe (see the module docstring)."""
    shown = Path(path)
    target, status = _target(shown)
    if status is not None and (stat.S_ISCHR(status.st_mode) or stat.S_ISFIFO(status.st_mode)):
        with _write_errors(shown, target):
            yield target
        return
    with terminate_raises():
        tmp = _temporary(target, shown)
        try:
            with _write_errors(shown, tmp):
                yield tmp
                if status is not None:
                    _copy_owner_and_mode(tmp, status)
                os.replace(tmp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """Open ``path`` for writing through ``atomic_path``: the file appears complete, or not at all."""
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh


def refuse_overwriting(output: str | os.PathLike, *inputs: str | os.PathLike | None) -> None:
    """Raise OutputError when ``output`` is the same file as one of ``inputs`` (by inode: links and other
    names for it count); a device or a pipe as output, and paths that do not exist, are never refused."""
    try:
        if not stat.S_ISREG(os.stat(output).st_mode):
            return
    except OSError:
        return
    for source in inputs:
        if source is None:
            continue
        with contextlib.suppress(OSError):
            if os.path.samefile(output, source):
                raise OutputError(f"{output} is the same file as the input {source}; "
                                  f"choose another output file so the input is not overwritten.")


@contextlib.contextmanager
def terminate_raises() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP raise SystemExit(128 + signal) where they would otherwise kill
    the process outright (default handler, main thread), so ``finally`` clauses can clean up."""
    installed = {}
    if threading.current_thread() is threading.main_thread():
        for sig in _SIGNALS:
            if signal.getsignal(sig) == signal.SIG_DFL:
                installed[sig] = signal.signal(sig, _exit_on_signal)
    try:
        yield
    finally:
        for sig, previous in installed.items():
            signal.signal(sig, previous)


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _target(path: Path) -> tuple[Path, os.stat_result | None]:
    """The file to write for ``path`` (a symlink's final target) and its status (None when it does not exist);
    refuse a folder and anything that is neither a regular file, a character device nor a pipe."""
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        status = os.stat(target)
    except (FileNotFoundError, NotADirectoryError):  # the folder is made, or refused, with the temporary
        return target, None
    except OSError as exc:
        raise OutputError(f"{_reason(exc)} while writing {path}.") from None
    mode = status.st_mode
    if stat.S_ISDIR(mode):
        raise OutputError(f"{path} is a folder; give a file name.")
    if not (stat.S_ISREG(mode) or stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        kind = "block device" if stat.S_ISBLK(mode) else "socket" if stat.S_ISSOCK(mode) else "special file"
        raise OutputError(f"{path} is a {kind}, not a file digitlab can write; give a file name.")
    return target, status


def _temporary(target: Path, shown: Path) -> Path:
    """Create an empty temporary file beside ``target`` with mode 0666 less the umask (the kernel applies it)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(_TEMP_TRIES):
            tmp = target.with_name(f".{target.name[:200]}.{secrets.token_hex(4)}.part")
            try:
                os.close(os.open(tmp, flags, 0o666))
            except FileExistsError:
                continue
            return tmp
        raise FileExistsError(f"{_TEMP_TRIES} temporary names taken")
    except OSError as exc:
        raise OutputError(f"{_reason(exc)} while writing {shown}.") from None


def _copy_owner_and_mode(tmp: Path, status: os.stat_result) -> None:
    """Give the temporary the replaced file's permission bits, and its owner where allowed (root)."""
    if hasattr(os, "chown") and (status.st_uid, status.st_gid) != (os.getuid(), os.getgid()):
        with contextlib.suppress(OSError):
            os.chown(tmp, status.st_uid, status.st_gid)
    os.chmod(tmp, stat.S_IMODE(status.st_mode))


@contextlib.contextmanager
def _write_errors(shown: Path, written: Path) -> Iterator[None]:
    """Turn an OSError about the file being written into one OutputError sentence; others pass through."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None and os.fspath(exc.filename) not in (os.fspath(written), os.fspath(shown)):
            raise
        raise OutputError(f"{_reason(exc)} while writing {shown}.") from None


def _reason(exc: OSError) -> str:
    """The system's wording for an OSError, lowercased ("no space left on device")."""
    return (exc.strerror or str(exc) or type(exc).__name__).lower()


@contextlib.contextmanager
def reading(path: str | os.PathLike, what: str) -> Iterator[None]:
    """Errors while reading ``path`` as one DataError sentence: not found, a folder instead of ``what``, or the
    system's reason it cannot be read."""
    from .errors import DataError

    try:
        yield
    except FileNotFoundError:
        raise DataError(f"{path}: file not found.") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, expected {what}.") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc}).") from None


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as indented, strict JSON (NumPy values made plain, NaN and infinities as null),
    atomically."""
    from .plain import plain

    with atomic_open(path, "w", encoding="utf-8") as fh:
        json.dump(plain(data, finite=True), fh, indent=2, sort_keys=False, allow_nan=False)
        fh.write("\n")
