"""Property-based tests of the readers: random bytes and mutations of valid files (byte flips, truncation,
insertion, deletion, header edits) give a result or a DigitlabError, never another exception, and memory stays
bounded (a forged header must not make a reader allocate gigabytes)."""

from __future__ import annotations

import gzip
import io
import resource
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from digitlab.data import idx, images, kaggle
from digitlab.errors import DigitlabError

FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
PEAK = 64 << 20  # bytes Python and NumPy may hold at once while reading one small file
RSS_GROWTH = 512 << 20  # growth of the process's peak resident memory over a whole fuzz run


@st.composite
def mutated(draw, seeds: list[bytes]) -> bytes:
    """A seed file with one to four random edits."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "header"]))
        pos = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[pos:]
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[pos:pos + draw(st.integers(1, 16))]
        else:  # overwrite a 4-byte word near the start, where the headers are (sizes, counts, magic)
            pos = draw(st.integers(0, min(len(data), 40) - 1))
            data[pos:pos + 4] = draw(st.sampled_from([b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\0\0\0\0",
                                                      b"\0\x01\0\0", b"\0\0\x4e\x20"]))
    return bytes(data)


class Bounded:
    """Runs readers, letting only DigitlabError through, and records the peak memory they needed."""

    def __init__(self):
        self.peak = 0

    def __call__(self, read, *args):
        tracemalloc.start()
        try:
            read(*args)
        except DigitlabError:
            pass
        finally:
            self.peak = max(self.peak, tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()


@pytest.fixture
def bounded():
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    check = Bounded()
    yield check
    assert check.peak < PEAK
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before < RSS_GROWTH


# ----------------------------------------------------------------------------- idx


def _idx_seeds() -> list[bytes]:
    arrays = [np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28), np.arange(10, dtype=np.uint8),
              np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4), np.arange(6, dtype=np.int16)]
    raw = [idx.to_bytes(a) for a in arrays]
    return raw + [gzip.compress(r, mtime=0) for r in raw]


IDX_SEEDS = _idx_seeds()


@FUZZ
@given(data=st.one_of(st.binary(max_size=300), mutated(IDX_SEEDS)))
def test_idx_parse_and_read(tmp_path, bounded, data):
    bounded(idx.parse, data)
    path = tmp_path / "file.idx"
    path.write_bytes(data)
    bounded(idx.read, path)
    bounded(idx.read, path, (None, 28, 28))


@FUZZ
@given(data=mutated([idx.to_bytes(np.zeros((2, 28, 28), np.uint8))]))
def test_idx_mutated_behind_gzip(tmp_path, bounded, data):
    path = tmp_path / "file.idx.gz"
    path.write_bytes(gzip.compress(data, mtime=0))
    bounded(idx.read, path)


def test_forged_idx_dimensions_allocate_nothing(tmp_path):
    forged = bytes.fromhex("00000803") + b"\xff\xff\xff\xff" * 3 + bytes(100)  # 2^96 bytes promised
    tracemalloc.start()
    try:
        with pytest.raises(DigitlabError, match="promises shape"):
            idx.parse(forged)
        (tmp_path / "f.gz").write_bytes(gzip.compress(forged))
        with pytest.raises(DigitlabError, match="promises shape"):
            idx.read(tmp_path / "f.gz")
        assert tracemalloc.get_traced_memory()[1] < 4 << 20  # one chunk of gzip output, not 2^96 bytes
    finally:
        tracemalloc.stop()


# ----------------------------------------------------------------------------- CSV


def _csv_seeds() -> list[bytes]:
    rng = np.random.default_rng(0)
    X, y = rng.integers(0, 256, (3, 784), dtype=np.uint8), np.array([1, 7, 3])
    train = "label," + ",".join(kaggle.PIXEL_COLUMNS) + "\n" + "".join(
        f"{label}," + ",".join(map(str, row)) + "\n" for label, row in zip(y, X.tolist()))
    test = train.split("\n", 1)[0].split(",", 1)[1] + "\n" + "".join(",".join(map(str, row)) + "\n" for row in X.tolist())
    quoted = "\n".join(",".join(f'"{v}"' for v in line.split(",")) for line in train.splitlines()) + "\n"
    return [s.encode() for s in (train, test, quoted)]


CSV_SEEDS = _csv_seeds()


@FUZZ
@given(data=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode), mutated(CSV_SEEDS)))
def test_csv_readers(tmp_path, bounded, data):
    path = tmp_path / "file.csv"
    path.write_bytes(data)
    bounded(kaggle.read_train_csv, path)
    bounded(kaggle.read_test_csv, path)


# ----------------------------------------------------------------------------- images


def _image_seeds() -> list[bytes]:
    img = Image.new("L", (40, 32), 230)
    ImageDraw.Draw(img).ellipse([10, 4, 30, 28], outline=20, width=3)
    seeds = []
    for fmt, kwargs in (("PNG", {}), ("JPEG", {"quality": 80}), ("BMP", {}), ("TIFF", {}), ("WEBP", {}),
                        ("GIF", {"save_all": True, "append_images": [img.rotate(30)]})):
        buffer = io.BytesIO()
        img.save(buffer, fmt, **kwargs)
        seeds.append(buffer.getvalue())
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(img, np.float32) / 255).save(buffer, "TIFF")
    return seeds + [buffer.getvalue()]


IMAGE_SEEDS = _image_seeds()


@FUZZ
@given(data=st.one_of(st.binary(max_size=300), mutated(IMAGE_SEEDS)))
def test_image_reader(tmp_path, bounded, data):
    path = tmp_path / "file.png"
    path.write_bytes(data)
    bounded(images.prepare_image, path)


@FUZZ
@given(data=mutated(IMAGE_SEEDS))
def test_image_folder_never_aborts(tmp_path, data):
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    (folder / "a.png").write_bytes(IMAGE_SEEDS[0])
    (folder / "b.png").write_bytes(data)
    found = images.load_images(folder)
    assert "a.png" in found.names and len(found.names) + len(found.errors) == 2
