"""idx reading and writing: round trips and every malformed file."""

import gzip

import numpy as np
import pytest

from digitlab.data import idx
from digitlab.errors import DataError


@pytest.mark.parametrize("name", ["images.gz", "images"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_round_trip_gzip_and_raw(tmp_path, name, dtype):
    array = (np.arange(3 * 4 * 5) - 7).astype(dtype).reshape(3, 4, 5)
    path = tmp_path / name
    idx.write(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    back = idx.read(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (3, 4, 5)
    np.testing.assert_array_equal(back, array)


def test_header_is_the_mnist_layout():
    raw = idx.to_bytes(np.zeros((2, 28, 28), np.uint8))
    assert raw[:16] == bytes.fromhex("00000803" "00000002" "0000001c" "0000001c")
    assert len(raw) == 16 + 2 * 784


def test_gzip_output_is_byte_identical_across_writes(tmp_path):
    array = np.arange(100, dtype=np.uint8)
    idx.write(tmp_path / "a.gz", array)
    idx.write(tmp_path / "b.gz", array)
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()


def test_expected_shape_accepts_free_dimension(tmp_path):
    idx.write(tmp_path / "x", np.zeros((5, 28, 28), np.uint8))
    assert idx.read(tmp_path / "x", expect_shape=(None, 28, 28)).shape == (5, 28, 28)


def test_wrong_shape(tmp_path):
    idx.write(tmp_path / "labels", np.zeros(10, np.uint8))
    with pytest.raises(DataError, match=r"labels: idx shape 10 does not match the expected Nx28x28"):
        idx.read(tmp_path / "labels", expect_shape=(None, 28, 28))


def test_wrong_magic(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"PK\x03\x04" + bytes(20))
    with pytest.raises(DataError, match=r"bad: wrong idx magic number 0x504b0304"):
        idx.read(path)


def test_unknown_type_code(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(bytes.fromhex("00000701") + bytes(8))
    with pytest.raises(DataError, match="wrong idx magic"):
        idx.read(path)


def test_truncated_gzip(tmp_path):
    path = tmp_path / "cut.gz"
    full = gzip.compress(idx.to_bytes(np.arange(5000, dtype=np.int32)))
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(DataError, match=r"cut.gz: the gzip stream is truncated or corrupt"):
        idx.read(path)


def test_empty_file(tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(DataError, match=r"empty: the file is empty"):
        idx.read(tmp_path / "empty")


@pytest.mark.parametrize("delta, word", [(-1, "holds 99"), (1, "holds 101")])
def test_length_mismatch(tmp_path, delta, word):
    raw = idx.to_bytes(np.zeros(100, np.uint8))
    path = tmp_path / "n"
    path.write_bytes(raw[: len(raw) + delta] if delta < 0 else raw + b"\0")
    with pytest.raises(DataError, match=rf"promises shape \(100,\) \(100 bytes of data\) but the file {word}"):
        idx.read(path)


def test_header_cut_short(tmp_path):
    (tmp_path / "h").write_bytes(bytes.fromhex("00000803") + bytes(6))
    with pytest.raises(DataError, match="header is cut short"):
        idx.read(tmp_path / "h")


def test_forged_huge_header_does_not_overflow(tmp_path):
    (tmp_path / "h").write_bytes(bytes.fromhex("00000804") + b"\xff" * 16)
    with pytest.raises(DataError, match="promises shape"):
        idx.read(tmp_path / "h")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DataError, match="nope: file not found"):
        idx.read(tmp_path / "nope")
    with pytest.raises(DataError, match="is a folder"):
        idx.read(tmp_path)


def test_unstorable_dtype_writes_nothing(tmp_path):
    with pytest.raises(ValueError):
        idx.write(tmp_path / "x.gz", np.zeros(3, np.int64))
    assert list(tmp_path.iterdir()) == []


def test_gzip_bomb_is_stopped(tmp_path, monkeypatch):
    import tracemalloc

    monkeypatch.setattr(idx, "MAX_BYTES", 1 << 20)
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(idx.to_bytes(np.zeros(64 << 20, np.uint8)), compresslevel=1))  # 64 MiB of zeros
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=r"bomb.gz: decompresses to more than 1,048,576 bytes"):
            idx.read(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20
