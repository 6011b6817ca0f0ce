"""Read and write idx files (the MNIST format), gzip-compressed or raw, checking every header field.

An idx file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions), one
big-endian uint32 per dimension, then the values in C order. MNIST uses type 0x08 (unsigned byte).
"""

from __future__ import annotations

import gzip
import io
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..fileio import atomic_path, reading

# idx type code -> big-endian NumPy dtype
_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype.newbyteorder("="): code for code, dtype in _DTYPES.items()}
MAX_BYTES = 1 << 28  # decompressed idx content read at most (256 MiB; MNIST's largest file is 47 MB)
_CHUNK = 1 << 20


def _is_gzip(raw: bytes) -> bool:
    return raw[:2] == b"\x1f\x8b"


def read_bytes(path: str | os.PathLike) -> bytes:
    """Return the decompressed content of an idx file (gzip is recognised by its magic bytes)."""
    path = Path(path)
    with reading(path, "an idx file"):
        raw = path.read_bytes()
    if not raw:
        raise DataError(f"{path}: the file is empty, expected an idx file.")
    return decompress(raw, str(path))


def decompress(raw: bytes, source: str = "<bytes>") -> bytes:
    """Return ``raw`` gunzipped when it starts with the gzip magic bytes, else unchanged.

    Decompression stops past MAX_BYTES, so that a small file cannot expand into gigabytes.
    """
    if not _is_gzip(raw):
        return raw
    parts, size = [], 0
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as fh:
            while chunk := fh.read(_CHUNK):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise DataError(f"{source}: decompresses to more than {MAX_BYTES:,} bytes, more than digitlab "
                                    f"reads from an idx file.")
                parts.append(chunk)
    except (EOFError, OSError, zlib.error):
        raise DataError(f"{source}: the gzip stream is truncated or corrupt.") from None
    return b"".join(parts)


def parse(raw: bytes, source: str = "<bytes>", expect_shape: tuple[int | None, ...] | None = None) -> np.ndarray:
    """Parse decompressed idx content into an array, checking magic, dimensions and length.

    ``expect_shape`` may fix the number of dimensions and some sizes (None = any size).
    """
    if len(raw) < 4:
        raise DataError(f"{source}: too short to be an idx file ({len(raw)} bytes).")
    zero, code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or code not in _DTYPES:
        raise DataError(f"{source}: wrong idx magic number 0x{raw[:4].hex()}, expected 0x0000 then a type code and a dimension count.")
    if ndim == 0:
        raise DataError(f"{source}: idx header gives zero dimensions.")
    header_end = 4 + 4 * ndim
    if len(raw) < header_end:
        raise DataError(f"{source}: idx header is cut short (needs {header_end} bytes, has {len(raw)}).")
    shape = struct.unpack(f">{ndim}I", raw[4:header_end])
    dtype = _DTYPES[code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: a forged header cannot overflow
    body = len(raw) - header_end
    if body != expected:
        raise DataError(f"{source}: idx header promises shape {tuple(shape)} ({expected} bytes of data) but the file holds {body}.")
    if expect_shape is not None:
        if len(shape) != len(expect_shape) or any(e is not None and e != s for e, s in zip(expect_shape, shape)):
            want = "x".join("N" if e is None else str(e) for e in expect_shape)
            raise DataError(f"{source}: idx shape {'x'.join(map(str, shape))} does not match the expected {want}.")
    array = np.frombuffer(raw, dtype=dtype, offset=header_end).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def read(path: str | os.PathLike, expect_shape: tuple[int | None, ...] | None = None) -> np.ndarray:
    """Read an idx file (gzip or raw) into a NumPy array."""
    return parse(read_bytes(path), str(path), expect_shape)


def to_bytes(array: np.ndarray) -> bytes:
    """Encode an array as idx content (uncompressed)."""
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        raise ValueError(f"idx cannot store dtype {array.dtype}")
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError("idx needs between 1 and 255 dimensions")
    header = struct.pack(">HBB", 0, _CODES[native], array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=_DTYPES[_CODES[native]]).tobytes()


def write(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> None:
    """Write an array as an idx file, atomically; gzip when ``compress`` or the name ends in ``.gz``."""
    path = Path(path)
    data = to_bytes(array)
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        data = gzip.compress(data, compresslevel=9, mtime=0)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
