"""Fuzzing the model-file readers: whatever bytes a file holds, loading it gives a model or a DigitlabError, never
another exception, and never a large allocation.

Mutations of real digitlab files (the fixtures, and the fixture CNN saved again in today's format): random
bytes, byte flips, truncations, edits of the JSON headers (digitlab's, safetensors' tensor index, skops's object
tree) with and without the checksum recomputed, and tensor shapes or array headers enlarged.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors import safe_open
from safetensors.torch import save

from digitlab.errors import DigitlabError
from digitlab.models import persist
from digitlab.models.neural import load_net, save_net, storage

FIXTURES = Path(__file__).parent.parent / "fixtures" / "models"
MEMORY_BOUND = 200 * 2**20  # loading any of these small files takes a few MB
FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True),
                        st.text(max_size=12), st.lists(st.integers(-2**40, 2**40), max_size=4),
                        st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    """Name -> bytes of valid files of each kind and format version."""
    v2 = tmp_path_factory.mktemp("fuzz") / "cnn-v2.safetensors"
    save_net(load_net(FIXTURES / "cnn.safetensors"), v2, meta={"format": persist.FORMAT, "model": "cnn"})
    paths = {"cnn-v2.safetensors": v2, **{p.name: p for p in FIXTURES.iterdir() if p.suffix in (".skops",
                                                                                                ".safetensors")}}
    return Originals({name: path.read_bytes() for name, path in paths.items()})


class Originals(dict):
    """File name -> bytes, shown by name only when Hypothesis reports a failing example."""

    def __repr__(self) -> str:
        return f"Originals({', '.join(self)})"


def _leaves(node, path=()):
    """Paths to every value in a JSON tree."""
    yield path
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield from _leaves(child, (*path, key))


def _replace(node, path, value):
    if not path:
        return value
    node[path[0]] = _replace(node[path[0]], path[1:], value)
    return node


def _edit_json(data, tree):
    """Replace one value anywhere in ``tree`` with a random JSON value (or a multiple of an integer there)."""
    paths = list(_leaves(tree))[1:]  # not the root itself
    if not paths:
        return tree
    path = paths[data.draw(st.integers(0, len(paths) - 1), label="where")]
    old = tree
    for key in path:
        old = old[key]
    if isinstance(old, int) and not isinstance(old, bool) and data.draw(st.booleans(), label="enlarge"):
        value = old * data.draw(st.sampled_from([-1, 2, 1000, 10**9]), label="factor")
    else:
        value = data.draw(JSON_VALUES, label="value")
    return _replace(tree, path, value)


def _flip(data, blob: bytes) -> bytes:
    out = bytearray(blob)
    for _ in range(data.draw(st.integers(1, 8), label="flips")):
        at = data.draw(st.integers(0, len(out) - 1), label="at")
        out[at] ^= data.draw(st.integers(1, 255), label="xor")
    return bytes(out)


def _mutate_safetensors(data, blob: bytes) -> bytes:
    kind = data.draw(st.sampled_from(["digitlab header", "digitlab header, resigned", "tensor index"]), label="kind")
    n = struct.unpack("<Q", blob[:8])[0]
    index = json.loads(blob[8:8 + n])
    if kind == "tensor index":  # shapes, dtypes, offsets as safetensors reads them
        index = _edit_json(data, {k: v for k, v in index.items() if k != "__metadata__"}) | \
            {"__metadata__": index["__metadata__"]}
        head = json.dumps(index).encode()
        return struct.pack("<Q", len(head)) + head + blob[8 + n:]
    with safe_open_bytes(blob) as (tensors, header):
        header = _edit_json(data, header)
        if kind.endswith("resigned") and isinstance(header, dict):
            header.pop("sha256", None)
            header["sha256"] = storage.digest(tensors, header)
        return save(tensors, metadata={storage.FORMAT: json.dumps(header)})


class safe_open_bytes:
    """The tensors and digitlab header of a safetensors file held in memory."""

    def __init__(self, blob: bytes):
        self.blob = blob

    def __enter__(self):
        import tempfile

        self.tmp = tempfile.NamedTemporaryFile(suffix=".safetensors")
        self.tmp.write(self.blob)
        self.tmp.flush()
        with safe_open(self.tmp.name, framework="pt") as fh:
            return {k: fh.get_tensor(k) for k in fh.keys()}, json.loads(fh.metadata()[storage.FORMAT])

    def __exit__(self, *exc):
        self.tmp.close()


def _mutate_skops(data, blob: bytes) -> bytes:
    kind = data.draw(st.sampled_from(["schema", "array header"]), label="kind")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as zin, zipfile.ZipFile(out, "w") as zout:
        arrays = [i.filename for i in zin.infolist() if i.filename.endswith(".npy")]
        target = "schema.json" if kind == "schema" else data.draw(st.sampled_from(arrays), label="array")
        for info in zin.infolist():
            content = zin.read(info.filename)
            if info.filename == target == "schema.json":
                content = json.dumps(_edit_json(data, json.loads(content))).encode()
            elif info.filename == target:
                end = content.index(b"\n") + 1
                header = content[:end].decode("latin1")
                shape = header[header.index("(") + 1:header.index(")")]
                bigger = data.draw(st.sampled_from(["10**9", "1000000000, 784", "7", "-1"]), label="shape")
                content = content[:end].replace(f"({shape})".encode(), f"({bigger},)".encode()) + content[end:]
            zout.writestr(info, content)
    return out.getvalue()


def _outcome(path: Path) -> None:
    """Load ``path``: a loaded model or a DigitlabError are both fine; anything else fails the test."""
    try:
        persist.load(path)
    except DigitlabError as exc:
        assert "\n" not in str(exc)


@FUZZ
@given(data=st.data())
def test_any_mutation_loads_or_gives_one_sentence(originals, tmp_path, peak_growth, data):
    name = data.draw(st.sampled_from(sorted(originals)), label="file")
    blob = originals[name]
    how = data.draw(st.sampled_from(["random bytes", "flips", "truncate", "structured"]), label="how")
    if how == "random bytes":
        blob = data.draw(st.sampled_from([b"", blob[:8], b"PK\x03\x04"]), label="prefix") + \
            data.draw(st.binary(max_size=2000), label="bytes")
    elif how == "flips":
        blob = _flip(data, blob)
    elif how == "truncate":
        blob = blob[:data.draw(st.integers(0, len(blob) - 1), label="length")]
    elif name.endswith(".safetensors"):
        blob = _mutate_safetensors(data, blob)
    else:
        blob = _mutate_skops(data, blob)
    path = tmp_path / name
    path.write_bytes(blob)
    assert peak_growth(lambda: _outcome(path)) < MEMORY_BOUND


def test_the_unmutated_files_load(originals, tmp_path):
    for name, blob in originals.items():
        (tmp_path / name).write_bytes(blob)
        assert persist.load(tmp_path / name).estimator is not None
