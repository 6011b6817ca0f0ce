"""Build ``mnist-mini``, the class-balanced MNIST subset shipped inside digitlab.

    .venv/bin/python scripts/build_mini.py [--data-dir DIR] [--out src/digitlab/data/mini]

Takes 600 images per digit from the MNIST train split (6,000) and 100 per digit from the test
split (1,000). Within each digit the images kept are those whose index has the smallest
``blake2b(f"{SEED}:{split}:{index}")`` digest — a fixed, seeded choice that, unlike a NumPy random
stream, cannot change with library versions. Kept images stay in their MNIST order. The files are
gzip idx with mtime 0, so rebuilding gives byte-identical files; ``manifest.json`` records the
counts, the seed, the source and the sha256 of each file's decompressed content.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

from digitlab.data import idx
from digitlab.data.datasets import MANIFEST, load_dataset
from digitlab.shapes import IMAGE_SHAPE
from digitlab.fileio import write_json

SEED = 42
PER_CLASS = {"train": 600, "test": 100}
NAMES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "src" / "digitlab" / "data" / "mini"


def _rank_key(split: str, index: int) -> bytes:
    return hashlib.blake2b(f"{SEED}:{split}:{index}".encode(), digest_size=8).digest()


def select(y: np.ndarray, split: str, per_class: int) -> np.ndarray:
    """Sorted indices of ``per_class`` images of each digit, chosen by the seeded digest ranking."""
    chosen = []
    for digit in range(10):
        members = np.flatnonzero(y == digit).tolist()
        if len(members) < per_class:
            raise SystemExit(f"MNIST {split} split has only {len(members)} images of digit {digit}.")
        chosen.extend(sorted(members, key=lambda i: _rank_key(split, i))[:per_class])
    return np.sort(np.asarray(chosen))


def build(out: Path, data_dir: str | None = None) -> dict:
    """Write the four idx files and the manifest into ``out``; return the manifest."""
    mnist = load_dataset("mnist", data_dir)
    arrays = {}
    for split, X, y in (("train", mnist.X_train, mnist.y_train), ("test", mnist.X_test, mnist.y_test)):
        keep = select(y, split, PER_CLASS[split])
        arrays[f"{split}_images"] = X[keep].reshape(-1, *IMAGE_SHAPE)
        arrays[f"{split}_labels"] = y[keep]
    files = {}
    for role, name in NAMES.items():
        idx.write(out / name, arrays[role])
        files[role] = {
            "name": name,
            "shape": list(arrays[role].shape),
            "sha256": hashlib.sha256(idx.to_bytes(arrays[role])).hexdigest(),
        }
    manifest = {
        "name": "mnist-mini",
        "source": "MNIST (Yann LeCun, Corinna Cortes; CC BY-SA 3.0), the standard train and test splits",
        "selection": f"per digit, the indices with the smallest blake2b('{{seed}}:{{split}}:{{index}}', 8 bytes) digest, kept in MNIST order",
        "seed": SEED,
        "counts": {split: 10 * n for split, n in PER_CLASS.items()},
        "per_class": PER_CLASS,
        "files": files,
    }
    write_json(out / MANIFEST, manifest)
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="folder holding mnist/ (default: the usual lookup, then download)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    args = parser.parse_args()
    manifest = build(args.out, args.data_dir)
    size = sum((args.out / f["name"]).stat().st_size for f in manifest["files"].values())
    print(f"wrote {manifest['counts']} images to {args.out} ({size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
