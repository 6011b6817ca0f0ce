"""Named datasets: where their files live, how they are checked, and loading them as arrays.

One table (``DATASETS``) holds every fact about a dataset: file names, the sha256 of each file's
*decompressed* content (so a recompressed copy still verifies), the download mirrors in the order
they are tried, and the system folders where a package manager puts them. The shipped subset
``mnist-mini`` takes its checksums from the manifest written next to its files.

Lookup order for a downloadable dataset NAME: ``data_dir/NAME`` (explicit: it must hold the files),
then ``$DIGITLAB_DATA/NAME``, then the user cache (``$DIGITLAB_CACHE`` or the platform cache folder,
plus ``datasets/NAME``), then the spec's system folders, then a download into the cache.

A download that fails on every mirror is remembered for ``RETRY_AFTER`` seconds in a marker file
(``cache_dir()/NAME/.unreachable``), so that an offline machine does not wait through the mirrors again on
every command; ``load_dataset(..., download="force")`` retries at once, and finding the files removes it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import gzip
import hashlib
import json
import os
import time
import zlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import numpy as np

from ..errors import DataError, DatasetNotFound, DownloadError, OutputError, ParameterError, UsageError
from ..fileio import atomic_path, terminate_raises, write_json
from ..shapes import IMAGE_SHAPE, N_PIXELS
from . import idx
from .fetch import FetchError, ProgressCallback, fetch, size_limit

# Download behaviour; tests shrink BACKOFF so a dead mirror costs no waiting (timeouts and per-file limits: fetch.py).
RETRIES = 3  # attempts per mirror for transient failures
BACKOFF = 1.0  # seconds before the second attempt, doubled after each failure
RETRY_AFTER = 600.0  # seconds a download that failed on every mirror is not tried again (without "force")
UNREACHABLE = ".unreachable"  # the marker file, in the dataset's cache folder
_MAX_RATIO = 64  # a download decompressing to more than this many times its size bound is not hashed further


@dataclass(frozen=True)
class FileSpec:
    name: str  # file name as the mirrors serve it (gzip-compressed)
    sha256: str  # sha256 of the decompressed content
    size: int | None = None  # bytes of the file the mirrors serve: bounds the download's size and time

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


def _idx_files(sums: dict[str, tuple[str, int]]) -> dict[str, FileSpec]:
    """File specs from stem -> (sha256 of the content, size of the published .gz)."""
    return {role: FileSpec(stem + ".gz", *sums[stem]) for role, stem in _STEMS.items()}


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
            "train-images-idx3-ubyte": ("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 9912422),
            "train-labels-idx1-ubyte": ("65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 28881),
            "t10k-images-idx3-ubyte": ("0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 1648877),
            "t10k-labels-idx1-ubyte": ("ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 4542),
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
            "train-images-idx3-ubyte": ("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 26421880),
            "train-labels-idx1-ubyte": ("bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 29515),
            "t10k-images-idx3-ubyte": ("5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 4422102),
            "t10k-labels-idx1-ubyte": ("0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 5148),
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
    holdout: float | None = None  # for csv:PATH, the fraction of rows held out as the test split


@dataclass(frozen=True)
class Location:
    """Where a dataset would be loaded from, without downloading it (for ``digitlab datasets``)."""

    name: str
    found_by: str  # data-dir | env | cache | system | package | file | not-found
    path: str | None  # the folder (or file) found, None when not found
    verified: bool  # every file matched its published checksum
    detail: str = ""  # why it is not found or not verified
    description: str = ""
    download_to: str | None = None  # where a missing dataset would be downloaded to (None: found, or not downloadable)
    cache_dir: str = ""  # the cache folder downloads go to (``cache_dir()``)

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
    download: bool | Literal["force"] = True,
    test_fraction: float = 0.2,
    seed: int = 42,
    progress: ProgressCallback | None = None,
) -> Dataset:
    """Load a named dataset as arrays, finding, verifying and if need be downloading its files.

    ``download``: True downloads into the cache what is found nowhere, unless a download failed on every
    mirror less than ``RETRY_AFTER`` seconds ago (then DownloadError at once, with the same advice);
    ``"force"`` downloads even then; False never downloads (DatasetNotFound). An explicit ``data_dir``
    lacking the files is DatasetNotFound, never a download. ``test_fraction`` and ``seed`` only matter for
    ``csv:PATH``, whose test split is a seeded, stratified holdout; ``data_dir`` does not apply to
    ``mnist-mini`` and ``csv:PATH``.
    """
    if download not in (True, False, "force"):
        raise UsageError(f"download={download!r} is not one of True, False or 'force'.")
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
            raise DatasetNotFound(f"Dataset {name} was not found in {places}, and downloading is turned off; "
                                  f"{_by_hand(spec)}.")
        return _download_to_cache(spec, progress, force=download == "force")
    _rule, folder, paths = found
    _forget_failure(spec)
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
    stands for the dataset name), else the table. Each file is bounded in time and size (see
    ``fetch.py``); a host that stalled or timed out is skipped for the remaining files. A file lands in
    ``dest_dir`` only once its decompressed sha256 matches; on failure (or SIGTERM, SIGINT) nothing is left
    behind and DownloadError names the file and each mirror with its reason. Returns role -> path.
    """
    dest = Path(dest_dir)
    bases = _mirrors(spec, mirrors)
    existed = dest.is_dir()
    paths: dict[str, Path] = {}
    attempt = _Attempt(timeout=timeout,
                       retries=RETRIES if retries is None else retries,
                       backoff=BACKOFF if backoff is None else backoff, progress=progress)
    try:
        with terminate_raises():  # SIGTERM between two attempts still removes the folder made
            for role, file in spec.files.items():
                paths[role] = _existing(dest, file) or _download_file(spec, file, dest, bases, attempt)
    except BaseException:
        if not existed:
            _remove_if_empty(dest)
        raise
    return paths


def stratified_split(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train/test row indices holding out ``test_fraction`` of each class (both sorted); 0 holds out
    nothing (training on every row, as for a final Kaggle submission)."""
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or \
            not 0.0 <= test_fraction < 1.0:
        raise ParameterError("holdout", f"must be a fraction from 0 (hold out nothing) to below 1, got "
                                        f"{test_fraction}.")
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
            raise DatasetNotFound(_missing_message(Path(data_dir).expanduser(), spec, missing))
        return "data-dir", folder, paths
    for rule, folder in _search_folders(spec):
        paths, missing = _files_in(folder, spec)
        if not missing:
            return rule, folder, paths
    return None


def _missing_message(data_dir: Path, spec: DatasetSpec, missing: list[FileSpec]) -> str:
    """One sentence saying what an explicit data folder lacks, and what to put where."""
    folder = data_dir / spec.name
    wanted = f"it should hold a {spec.name}/ folder with {_file_names(spec)}"
    if not data_dir.is_dir():
        return f"Data folder {data_dir} does not exist; {wanted}."
    if not folder.is_dir():
        if not _files_in(data_dir, spec)[1]:
            return (f"Data folder {data_dir} has no {spec.name}/ sub-folder but holds the {spec.name} files "
                    f"itself, so pass its parent folder instead.")
        return f"Data folder {data_dir} has no {spec.name}/ sub-folder; {wanted}."
    first = missing[0]
    more = f" and {len(missing) - 1} other file(s)" if len(missing) > 1 else ""
    return (f"Data folder {folder} lacks {first.name} (or the uncompressed {first.raw_name}){more}; "
            f"put {_file_names(spec)} there.")


def _file_names(spec: DatasetSpec) -> str:
    """The dataset's file names as a list in words ("a, b, c and d")."""
    *others, last = [file.name for file in spec.files.values()]
    return f"{', '.join(others)} and {last}" if others else last


def _by_hand(spec: DatasetSpec) -> str:
    """How to install a dataset without digitlab downloading it (the end of a sentence)."""
    return (f"to get {spec.name} by hand, put {_file_names(spec)} (gzip-compressed or not) into "
            f"{cache_dir() / spec.name}, or into a {spec.name}/ folder inside a folder given as --data-dir "
            f"or $DIGITLAB_DATA")


def _locate_one(spec: DatasetSpec, data_dir: str | os.PathLike | None, verify: bool) -> Location:
    """Where ``spec`` would load from, with its verification state."""

    def where(found_by: str, path: str | None, verified: bool, detail: str = "") -> Location:
        download_to = str(cache_dir() / spec.name) if found_by == "not-found" and spec.mirrors else None
        return Location(spec.name, found_by, path, verified, detail, spec.description, download_to, str(cache_dir()))

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
        failure = _recent_failure(spec)
        if failure:
            return where("not-found", None, False, f"not found; {failure}; {_by_hand(spec)}")
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


def _load_csv(name: str, test_fraction: float, seed: int) -> Dataset:
    """A Kaggle ``train.csv`` with a seeded, stratified holdout as the test split."""
    from . import kaggle

    path = name[len(CSV_PREFIX):]
    if not path:
        raise DataError(f"Dataset {name!r} names no file; write csv:PATH, e.g. csv:train.csv.")
    X, y = kaggle.read_train_csv(path)
    train, test = stratified_split(y, test_fraction, seed)
    if not len(train) or test_fraction and not len(test):
        raise DataError(f"{path} has too few rows ({len(y)}) to hold out a test fraction of {test_fraction}.")
    return Dataset(name=name, X_train=X[train], y_train=y[train], X_test=X[test], y_test=y[test],
                   source=str(Path(path)), verified=False, holdout=float(test_fraction))


# ----------------------------------------------------------------------------- downloading


def _download_to_cache(spec: DatasetSpec, progress: ProgressCallback | None, force: bool) -> Dataset:
    """Download the files missing from the cache, then load them from there; remember a failure.

    Without ``force``, a failure remembered less than RETRY_AFTER seconds ago is raised again at once.
    """
    folder = cache_dir() / spec.name
    if not force:
        failure = _recent_failure(spec)
        if failure:
            raise DownloadError(f"Dataset {spec.name} was not downloaded: {failure}; {_by_hand(spec)}.")
    try:
        paths = download(spec, folder, progress=progress)
    except DownloadError as exc:
        reason = str(exc).rstrip(".")
        _remember_failure(spec, reason, _mirrors(spec, None))
        raise DownloadError(f"{reason}; {_by_hand(spec)}.") from None
    _forget_failure(spec)
    return _load_files(spec, paths, str(folder))


def _marker(spec: DatasetSpec) -> Path:
    return cache_dir() / spec.name / UNREACHABLE


def _remember_failure(spec: DatasetSpec, reason: str, mirrors: list[str]) -> None:
    """Write the marker saying when, why and from which mirrors the download failed (skipped if the cache is
    unwritable)."""
    now = time.time()
    stamp = datetime.datetime.fromtimestamp(now).astimezone().isoformat(timespec="seconds")
    with contextlib.suppress(OutputError):
        write_json(_marker(spec), {"time": stamp, "timestamp": now, "reason": reason, "mirrors": mirrors})


def _forget_failure(spec: DatasetSpec) -> None:
    with contextlib.suppress(OSError):
        _marker(spec).unlink()


def _recent_failure(spec: DatasetSpec) -> str:
    """How the last download failed, if that was less than RETRY_AFTER seconds ago from the same mirrors (new
    ones in $DIGITLAB_MIRRORS are tried at once); else an empty string."""
    marker = _marker(spec)
    try:
        record = json.loads(marker.read_text(encoding="utf-8"))
        age = time.time() - float(record["timestamp"])
        reason, mirrors = str(record["reason"]), record["mirrors"]
        same_mirrors = mirrors == _mirrors(spec, None)
    except (OSError, ValueError, TypeError, KeyError, DownloadError):
        return ""
    if not same_mirrors or not -60 <= age < RETRY_AFTER:  # other mirrors, stale, or written by a clock far ahead
        return ""
    when = "less than a minute ago" if age < 60 else f"{age // 60:.0f} min ago"
    return (f"the last attempt, {when}, failed ({reason}), and it is retried only after "
            f"{RETRY_AFTER / 60:.0f} min or once {marker} is deleted")


@dataclass(frozen=True)
class _Attempt:
    """How one download tries each mirror, and the hosts given up on so far (shared by its files)."""

    timeout: float | None
    retries: int
    backoff: float
    progress: ProgressCallback | None
    down: dict[str, str] = field(default_factory=dict)  # host -> why it was given up on


def _mirrors(spec: DatasetSpec, mirrors: list[str] | tuple[str, ...] | None) -> list[str]:
    """Base URLs to try, in order: the argument, then ``$DIGITLAB_MIRRORS``, then the table."""
    if mirrors is None:
        env = os.environ.get("DIGITLAB_MIRRORS", "")
        mirrors = [m.strip() for m in env.split(",") if m.strip()] or list(spec.mirrors)
    if not mirrors:
        raise DownloadError(f"Dataset {spec.name} has no download mirrors.")
    return [m.replace("{name}", spec.name) for m in mirrors]


def _download_file(spec: DatasetSpec, file: FileSpec, dest: Path, bases: list[str], attempt: _Attempt) -> Path:
    """Fetch one file from the first mirror that serves a verified copy; raise naming every failure.

    A host that stalled or timed out on an earlier file of the same download is skipped at once.
    """
    target = dest / file.name
    failures = []
    for base in bases:
        host = urlsplit(base).netloc
        if host in attempt.down:
            failures.append(f"{base} (skipped: {attempt.down[host]} on an earlier file)")
            continue
        failure = _try_mirror(base.rstrip("/") + "/" + file.name, target, file, attempt)
        if failure is None:
            return target
        if failure.host_down:
            attempt.down[host] = failure.reason
        failures.append(f"{base} ({failure.reason})")
    raise DownloadError(f"Could not download {file.name} for {spec.name}: " + "; ".join(failures) + ".")


def _try_mirror(url: str, target: Path, file: FileSpec, attempt: _Attempt) -> FetchError | None:
    """Fetch ``url`` into ``target`` (retrying transient failures); None on success, else the last failure."""
    failure = FetchError("not tried")
    for number in range(max(1, attempt.retries)):
        if number:
            time.sleep(attempt.backoff * 2 ** (number - 1))
        try:
            with atomic_path(target) as tmp:
                fetch(url, tmp, size=file.size, timeout=attempt.timeout, label=file.name, progress=attempt.progress)
                _check_download(tmp, file)
            return None
        except FetchError as exc:
            failure = exc
        if not failure.retry:
            break
    return failure


def _check_download(path: Path, file: FileSpec) -> None:
    """Raise FetchError unless the decompressed content of ``path`` has the published sha256."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            magic = fh.read(2)
        opener = gzip.open if magic == b"\x1f\x8b" else open
        most, seen = _MAX_RATIO * size_limit(file.size), 0
        with opener(path, "rb") as fh:
            while (chunk := fh.read(1 << 20)) and seen <= most:
                digest.update(chunk)
                seen += len(chunk)
    except (EOFError, OSError, zlib.error):
        raise FetchError("not a valid gzip file") from None
    if digest.hexdigest() != file.sha256:
        raise FetchError("content does not match the published checksum")


def _remove_if_empty(folder: Path) -> None:
    """Remove a folder a failed download created, if nothing is in it."""
    try:
        folder.rmdir()
    except OSError:
        pass
