"""Named datasets: where their files live, how they are checked, and loading them as arrays.

One table (``DATASETS``) holds every fact about a dataset: file names, the sha256 of each file's
*decompressed* content (so a recompressed copy still verifies), the download mirrors in the order
they are tried, and the system folders where a package manager puts them. The shipped subset
``mnist-mini`` takes its checksums from the manifest written next to its files.

Lookup order for a downloadable dataset NAME: ``data_dir/NAME`` (explicit: it must hold the files),
then ``$DIGITLAB_DATA/NAME``, then the user cache (``$DIGITLAB_CACHE`` or the platform cache folder,
plus ``datasets/NAME``), then the spec's system folders, then a download into the cache.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.client
import json
import os
import socket
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import DataError, DownloadError, UsageError
from ..fileio import atomic_path
from ..shapes import IMAGE_SHAPE, N_PIXELS
from . import idx


# Download behaviour; tests shrink BACKOFF so a dead mirror costs no waiting.
TIMEOUT = 30.0  # seconds per connection attempt and per read
RETRIES = 3  # attempts per mirror for transient failures
BACKOFF = 1.0  # seconds before the second attempt, doubled after each failure
_CHUNK = 1 << 16
_USER_AGENT = "digitlab (+https://github.com/digitlab)"

# progress(file_name, bytes_done, bytes_total or None), called as a download advances.
ProgressCallback = Callable[[str, int, "int | None"], None]


@dataclass(frozen=True)
class FileSpec:
    name: str  # file name as the mirrors serve it (gzip-compressed)
    sha256: str  # sha256 of the decompressed content

    @property
    def raw_name(self) -> str:
        """The name of the same file stored uncompressed."""
        return self.name.removesuffix(".gz")


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    description: str
    files: dict[str, FileSpec]  # role -> file
    mirrors: tuple[str, ...] = ()  # base URLs, tried in order
    system_dirs: tuple[str, ...] = ()  # folders a package manager fills
    classes: tuple[str, ...] = tuple(str(d) for d in range(10))
    package_dir: str | None = None  # shipped inside digitlab.data under this folder


_STEMS = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def _idx_files(sums: dict[str, str]) -> dict[str, FileSpec]:
    return {role: FileSpec(stem + ".gz", sums[stem]) for role, stem in _STEMS.items()}


MINI_DIR = "mini"
MANIFEST = "manifest.json"


def _packaged_files(folder: str) -> dict[str, FileSpec]:
    """File specs of a shipped dataset, from its manifest; empty when the manifest is absent."""
    try:
        manifest = json.loads(resources.files(__package__).joinpath(folder, MANIFEST).read_text("utf-8"))
    except (FileNotFoundError, OSError, ValueError):
        return {}
    return {role: FileSpec(f["name"], f["sha256"]) for role, f in manifest["files"].items()}


DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        name="mnist",
        description="MNIST handwritten digits, 60,000 train + 10,000 test",
        files=_idx_files({
            "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        }),
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
    ),
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist",
        description="Zalando Fashion-MNIST clothing images, 60,000 train + 10,000 test",
        files=_idx_files({
            "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        }),
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        system_dirs=("/usr/share/datasets/fashion-mnist",),
        classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    ),
    "mnist-mini": DatasetSpec(
        name="mnist-mini",
        description="Class-balanced MNIST subset shipped with digitlab, 6,000 train + 1,000 test",
        files=_packaged_files(MINI_DIR),
        package_dir=MINI_DIR,
    ),
}

CSV_PREFIX = "csv:"


@dataclass
class Dataset:
    """Images as (n, 784) uint8 rows, labels as (n,) uint8, with the standard train/test split."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    source: str = ""  # where the files were found ("package" for the shipped subset)
    verified: bool = False  # content checked against the sha256 table
    classes: tuple[str, ...] = field(default_factory=lambda: tuple(str(d) for d in range(10)))


@dataclass(frozen=True)
class Location:
    """Where a dataset would be loaded from, without downloading it (for ``digitlab datasets``)."""

    name: str
    found_by: str  # data-dir | env | cache | system | package | file | not-found
    path: str | None  # the folder (or file) found, None when not found
    verified: bool  # every file matched its published checksum
    detail: str = ""  # why it is not found or not verified
    description: str = ""

    def as_dict(self) -> dict:
        """Plain values, for a table or JSON."""
        return dataclasses.asdict(self)


# ----------------------------------------------------------------------------- public API


def dataset_names() -> list[str]:
    """The valid dataset names, as shown to users (``csv:PATH`` last)."""
    return [*DATASETS, CSV_PREFIX + "PATH"]


def cache_dir() -> Path:
    """The folder downloads go to: ``$DIGITLAB_CACHE/datasets`` or the platform cache's ``datasets``."""
    root = os.environ.get("DIGITLAB_CACHE")
    if not root:
        import platformdirs

        root = platformdirs.user_cache_dir("digitlab")
    return Path(root).expanduser() / "datasets"


def load_dataset(
    name: str,
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = True,
    test_fraction: float = 0.2,
    seed: int = 42,
    progress: ProgressCallback | None = None,
) -> Dataset:
    """Load a named dataset as arrays, finding, verifying and if need be downloading its files.

    ``test_fraction`` and ``seed`` only matter for ``csv:PATH``, whose test split is a seeded,
    stratified holdout; ``data_dir`` does not apply to ``mnist-mini`` and ``csv:PATH``.
    """
    if name.startswith(CSV_PREFIX):
        return _load_csv(name, test_fraction, seed)
    spec = get_spec(name)
    if spec.package_dir:
        return _load_package(spec)
    found = _find(spec, data_dir)
    if found is None:
        if not download:
            *others, last = [str(folder) for _, folder in _search_folders(spec)]
            places = f"{', '.join(others)} or {last}" if others else last
            raise DataError(f"Dataset {name} was not found in {places}, and downloading is turned off.")
        return _download_to_cache(spec, progress)
    _rule, folder, paths = found
    return _load_files(spec, paths, str(folder))


def get_spec(name: str) -> DatasetSpec:
    """The table entry for ``name``; an unknown name is a DataError listing the valid ones."""
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"Unknown dataset {name!r}; valid names are {', '.join(dataset_names())}.") from None


def locate(name: str | None = None, data_dir: str | os.PathLike | None = None, *, verify: bool = True) -> list[Location]:
    """Report where each dataset (or just ``name``) would be loaded from, never downloading.

    With ``verify`` every file found is checked against its checksum (about 0.2 s for MNIST).
    """
    if name is not None and name.startswith(CSV_PREFIX):
        path = Path(name[len(CSV_PREFIX):])
        found = path.is_file()
        return [Location(name, "file" if found else "not-found", str(path) if found else None, False,
                         "a user CSV has no published checksum" if found else f"{path}: file not found.",
                         "Kaggle Digit Recognizer train.csv")]
    specs = [get_spec(name)] if name is not None else list(DATASETS.values())
    return [_locate_one(spec, data_dir, verify) for spec in specs]


def locate_all(data_dir: str | os.PathLike | None = None, *, verify: bool = True) -> list[Location]:
    """Where every dataset in the table would be loaded from (``locate`` for all names)."""
    return locate(None, data_dir, verify=verify)


def download(
    spec: DatasetSpec,
    dest_dir: str | os.PathLike,
    mirrors: list[str] | tuple[str, ...] | None = None,
    *,
    timeout: float | None = None,
    retries: int | None = None,
    backoff: float | None = None,
    progress: ProgressCallback | None = None,
) -> dict[str, Path]:
    """Fetch every file of ``spec`` missing from ``dest_dir``, trying the mirrors in order.

    Mirrors come from ``mirrors``, else ``$DIGITLAB_MIRRORS`` (comma-separated base URLs; ``{name}``
    stands for the dataset name), else the table. A file lands in ``dest_dir`` only once its
    decompressed sha256 matches; on failure nothing is left behind and DownloadError names the file
    and each mirror with its reason. Returns role -> path.
    """
    dest = Path(dest_dir)
    bases = _mirrors(spec, mirrors)
    existed = dest.is_dir()
    paths: dict[str, Path] = {}
    try:
        for role, file in spec.files.items():
            present = _existing(dest, file)
            paths[role] = present or _download_file(
                spec, file, dest, bases,
                timeout=TIMEOUT if timeout is None else timeout,
                retries=RETRIES if retries is None else retries,
                backoff=BACKOFF if backoff is None else backoff,
                progress=progress,
            )
    except BaseException:
        if not existed:
            _remove_if_empty(dest)
        raise
    return paths


def stratified_split(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train/test row indices holding out ``test_fraction`` of each class (both sorted)."""
    if not 0.0 < test_fraction < 1.0:
        raise UsageError(f"test fraction {test_fraction} must be between 0 and 1 (exclusive).")
    rng = np.random.default_rng(seed)
    test_parts = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        n_test = int(round(test_fraction * len(members)))
        test_parts.append(rng.permutation(members)[:n_test])
    test = np.sort(np.concatenate(test_parts)) if test_parts else np.empty(0, dtype=np.intp)
    train = np.setdiff1d(np.arange(len(y)), test, assume_unique=True)
    return train, test


# ----------------------------------------------------------------------------- finding files


def _existing(folder: Path, file: FileSpec) -> Path | None:
    """The file in ``folder`` under its gzip name or its raw name, whichever exists first."""
    for candidate in (folder / file.name, folder / file.raw_name):
        if candidate.is_file():
            return candidate
    return None


def _files_in(folder: Path, spec: DatasetSpec) -> tuple[dict[str, Path], list[FileSpec]]:
    """The spec's files present in ``folder`` by role, and the ones missing."""
    paths, missing = {}, []
    for role, file in spec.files.items():
        found = _existing(folder, file)
        if found is None:
            missing.append(file)
        else:
            paths[role] = found
    return paths, missing


def _search_folders(spec: DatasetSpec) -> list[tuple[str, Path]]:
    """Folders searched when no data folder is given explicitly, with the rule that names each."""
    folders = []
    env = os.environ.get("DIGITLAB_DATA")
    if env:
        folders.append(("env", Path(env).expanduser() / spec.name))
    folders.append(("cache", cache_dir() / spec.name))
    folders.extend(("system", Path(d)) for d in spec.system_dirs)
    return folders


def _find(spec: DatasetSpec, data_dir: str | os.PathLike | None) -> tuple[str, Path, dict[str, Path]] | None:
    """(rule, folder, role -> path) of the first folder holding all files; None to download.

    An explicit ``data_dir`` lacking the dataset is an error, not a reason to download.
    """
    if data_dir is not None:
        folder = Path(data_dir).expanduser() / spec.name
        paths, missing = _files_in(folder, spec)
        if missing:
            raise DataError(_missing_message(Path(data_dir).expanduser(), spec, missing))
        return "data-dir", folder, paths
    for rule, folder in _search_folders(spec):
        paths, missing = _files_in(folder, spec)
        if not missing:
            return rule, folder, paths
    return None


def _missing_message(data_dir: Path, spec: DatasetSpec, missing: list[FileSpec]) -> str:
    """One sentence saying what an explicit data folder lacks."""
    folder = data_dir / spec.name
    if not data_dir.is_dir():
        return f"Data folder {data_dir} does not exist."
    if not folder.is_dir():
        hint = ""
        if not _files_in(data_dir, spec)[1]:
            hint = "; it holds the files itself, so pass its parent folder instead"
        return f"Data folder {data_dir} has no {spec.name}/ sub-folder holding the {spec.name} files{hint}."
    first = missing[0]
    more = f" and {len(missing) - 1} other file(s)" if len(missing) > 1 else ""
    return f"Data folder {folder} lacks {first.name} (or the uncompressed {first.raw_name}){more}."


def _locate_one(spec: DatasetSpec, data_dir: str | os.PathLike | None, verify: bool) -> Location:
    """Where ``spec`` would load from, with its verification state."""

    def where(found_by: str, path: str | None, verified: bool, detail: str = "") -> Location:
        return Location(spec.name, found_by, path, verified, detail, spec.description)

    if spec.package_dir:
        try:
            _load_package(spec)
        except DataError as exc:
            return where("not-found", None, False, str(exc))
        return where("package", "package", True)
    try:
        found = _find(spec, data_dir)
    except DataError as exc:
        return where("not-found", None, False, str(exc))
    if found is None:
        return where("not-found", None, False, f"not found; it will be downloaded into {cache_dir() / spec.name}")
    found_by, folder, paths = found
    if not verify:
        return where(found_by, str(folder), False, "not checked")
    try:
        for role, path in paths.items():
            _verified_bytes(idx.read_bytes(path), spec.files[role], str(path))
    except DataError as exc:
        return where(found_by, str(folder), False, str(exc))
    return where(found_by, str(folder), True)


# ----------------------------------------------------------------------------- loading


def _verified_bytes(content: bytes, file: FileSpec, source: str) -> bytes:
    """Return decompressed ``content`` unchanged if its sha256 matches the table, else raise."""
    digest = hashlib.sha256(content).hexdigest()
    if digest != file.sha256:
        raise DataError(f"{source} does not match the published checksum for {file.raw_name} "
                        f"(sha256 of its content is {digest[:12]}..., expected {file.sha256[:12]}...); "
                        f"replace or delete it.")
    return content


def _load_files(spec: DatasetSpec, paths: dict[str, Path], source: str) -> Dataset:
    """Read, verify and parse the four files at ``paths`` into a Dataset."""
    contents = {role: (idx.read_bytes(path), str(path)) for role, path in paths.items()}
    return _build(spec, contents, source)


def _load_package(spec: DatasetSpec) -> Dataset:
    """Load a dataset shipped inside the package (``mnist-mini``)."""
    if not spec.files:
        raise DataError(f"The packaged {spec.name} files are missing from this installation "
                        f"(no {spec.package_dir}/{MANIFEST}); rebuild them with scripts/build_mini.py.")
    folder = resources.files(__package__).joinpath(spec.package_dir)
    contents = {}
    for role, file in spec.files.items():
        label = f"{spec.name} (packaged) {file.name}"
        try:
            raw = folder.joinpath(file.name).read_bytes()
        except OSError:
            raise DataError(f"{label}: the packaged file is missing; rebuild it with scripts/build_mini.py.") from None
        contents[role] = (idx.decompress(raw, label), label)
    return _build(spec, contents, "package")


def _build(spec: DatasetSpec, contents: dict[str, tuple[bytes, str]], source: str) -> Dataset:
    """Verify decompressed contents against the table, parse them and check they fit together."""
    arrays = {}
    for role, (content, label) in contents.items():
        _verified_bytes(content, spec.files[role], label)
        shape = (None, *IMAGE_SHAPE) if role.endswith("images") else (None,)
        arrays[role] = idx.parse(content, label, shape)
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if len(images) != len(labels):
            raise DataError(f"{contents[f'{split}_labels'][1]} holds {len(labels)} labels but "
                            f"{contents[f'{split}_images'][1]} holds {len(images)} images.")
    return Dataset(
        name=spec.name,
        X_train=_rows(arrays["train_images"]),
        y_train=arrays["train_labels"].astype(np.uint8, copy=False),
        X_test=_rows(arrays["test_images"]),
        y_test=arrays["test_labels"].astype(np.uint8, copy=False),
        source=source,
        verified=True,
        classes=spec.classes,
    )


def _rows(images: np.ndarray) -> np.ndarray:
    """(n, 28, 28) images as C-contiguous (n, 784) uint8 rows."""
    return np.ascontiguousarray(images.reshape(len(images), N_PIXELS), dtype=np.uint8)


def _download_to_cache(spec: DatasetSpec, progress: ProgressCallback | None) -> Dataset:
    """Download the files missing from the cache, then load them from there."""
    folder = cache_dir() / spec.name
    return _load_files(spec, download(spec, folder, progress=progress), str(folder))


def _load_csv(name: str, test_fraction: float, seed: int) -> Dataset:
    """A Kaggle ``train.csv`` with a seeded, stratified holdout as the test split."""
    from . import kaggle

    path = name[len(CSV_PREFIX):]
    if not path:
        raise DataError(f"Dataset {name!r} names no file; write csv:PATH, e.g. csv:train.csv.")
    X, y = kaggle.read_train_csv(path)
    train, test = stratified_split(y, test_fraction, seed)
    if not len(train) or not len(test):
        raise DataError(f"{path} has too few rows ({len(y)}) to hold out a test fraction of {test_fraction}.")
    return Dataset(name=name, X_train=X[train], y_train=y[train], X_test=X[test], y_test=y[test],
                   source=str(Path(path)), verified=False)


# ----------------------------------------------------------------------------- downloading


class _BadContent(Exception):
    """A mirror served a file whose content is not the published one."""


def _mirrors(spec: DatasetSpec, mirrors: list[str] | tuple[str, ...] | None) -> list[str]:
    """Base URLs to try, in order: the argument, then ``$DIGITLAB_MIRRORS``, then the table."""
    if mirrors is None:
        env = os.environ.get("DIGITLAB_MIRRORS", "")
        mirrors = [m.strip() for m in env.split(",") if m.strip()] or list(spec.mirrors)
    if not mirrors:
        raise DownloadError(f"Dataset {spec.name} has no download mirrors.")
    return [m.replace("{name}", spec.name) for m in mirrors]


def _download_file(spec: DatasetSpec, file: FileSpec, dest: Path, bases: list[str], *,
                   timeout: float, retries: int, backoff: float,
                   progress: ProgressCallback | None) -> Path:
    """Fetch one file from the first mirror that serves a verified copy; raise naming every failure."""
    target = dest / file.name
    failures = []
    for base in bases:
        url = base.rstrip("/") + "/" + file.name
        for attempt in range(max(1, retries)):
            if attempt:
                time.sleep(backoff * 2 ** (attempt - 1))
            try:
                with atomic_path(target) as tmp:
                    _fetch(url, tmp, timeout, file.name, progress)
                    _check_download(tmp, file)
                return target
            except _BadContent as exc:
                reason, retry = str(exc), False
            except urllib.error.HTTPError as exc:
                reason, retry = f"HTTP {exc.code} {exc.reason}", exc.code >= 500 or exc.code == 429
            except urllib.error.URLError as exc:
                reason, retry = _describe(exc.reason), _transient(exc.reason)
            except (OSError, http.client.HTTPException) as exc:
                reason, retry = _describe(exc), _transient(exc)
            except ValueError as exc:  # a malformed mirror URL
                reason, retry = str(exc), False
            if not retry:
                break
        failures.append(f"{base} ({reason})")
    raise DownloadError(f"Could not download {file.name} for {spec.name}: " + "; ".join(failures) + ".")


def _transient(reason: object) -> bool:
    """Whether retrying the same mirror may help: not for an unknown host, a refusal or a silent server.

    Failing over at once keeps an offline machine from waiting through every retry.
    """
    return not isinstance(reason, (socket.gaierror, ConnectionRefusedError, TimeoutError))


def _describe(reason: object) -> str:
    """A short human reason for a network failure."""
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    if isinstance(reason, http.client.IncompleteRead):
        return f"connection closed after {len(reason.partial)} bytes"
    return str(reason) or type(reason).__name__


def _fetch(url: str, dest: Path, timeout: float, label: str, progress: ProgressCallback | None) -> None:
    """Stream ``url`` into ``dest``, reporting progress; a short body is an error."""
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(dest, "wb") as out:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        done = 0
        if progress:
            progress(label, done, total)
        while chunk := response.read(_CHUNK):
            out.write(chunk)
            done += len(chunk)
            if progress:
                progress(label, done, total)
    if total is not None and done != total:
        raise http.client.IncompleteRead(b"", total - done)


def _check_download(path: Path, file: FileSpec) -> None:
    """Raise _BadContent unless the decompressed content of ``path`` has the published sha256."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            magic = fh.read(2)
        opener = gzip.open if magic == b"\x1f\x8b" else open
        with opener(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    except (EOFError, OSError, zlib.error):
        raise _BadContent("not a valid gzip file") from None
    if digest.hexdigest() != file.sha256:
        raise _BadContent("content does not match the published checksum")


def _remove_if_empty(folder: Path) -> None:
    """Remove a folder a failed download created, if nothing is in it."""
    try:
        folder.rmdir()
    except OSError:
        pass
