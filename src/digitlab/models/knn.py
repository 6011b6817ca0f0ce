"""digitlab's k-nearest-neighbour engine: exact search in float32, optional deskewing and principal components.

Two scikit-learn estimators share one search: ``FastKNNClassifier`` (registry name ``knn-fast``) and
``FastKNNDenoiser`` (``knn-fast-denoise``, the notebooks' multioutput denoiser: each pixel is the vote, or the mean,
of the neighbours' clean pixels). Their defaults live in their ``__init__`` signatures, which the registry reads.

How the search works, and why (figures measured on the 2-core machine, per 10,000 queries against 60,000
MNIST rows in 50 dimensions, CPU seconds summed over both cores; ``benchmarks/knn.py`` holds the end-to-end ones):

* Scores ``||x||^2 - 2 q.x`` (the squared distance minus the query's own norm, which does not change the
  ranking) come out of ONE matrix product: each stored row is ``[x, ||x||^2]`` and each query ``[-2q, 1]``.
  On an AMD EPYC NumPy's float32 GEMM (OpenBLAS) took 0.75 s where ``torch.mm`` took 0.93-1.1 s; on an Intel
  Xeon ``torch.mm`` (MKL) is the faster up to some 48 columns (1.7x at 31), slower beyond:
  ``_torch_multiplies`` picks by the CPU's vendor and the width.
* Selection does not sort all 60,000 scores of a query: ``torch.topk`` on them cost 0.93 s, more than the
  product. Instead the scores are cut into groups of ``_GROUP`` rows and reduced to their minimum (0.2 s);
  the ``m`` groups with the smallest minima must hold the ``m`` smallest scores, so a top-k over those
  ``m * _GROUP`` scores is exact. Total selection: about 0.4 s. A group is every ``n_groups``-th row of a
  block, not ``_GROUP`` consecutive rows: its minimum is then an element-wise minimum of ``_GROUP`` contiguous
  runs, which vectorises (on the Xeon 12 ms per 512 queries against 21 ms for ``amin`` over runs of 32). For
  projected features one compiled loop (``_kernels.nearest_group_members``) then picks each query's ``m`` groups,
  scores their members and keeps the ``m`` best, where ``torch.topk``, a gather and a second ``torch.topk`` took
  twice as long. Groups of 16 rows rather than 32 halve the members to score for the same work on the minima:
  the default classifier's prediction on the Xeon took 0.458 s with 16, 0.478 s with 32 and 0.474 s with 8
  (medians of 7, both cores, same predictions).
* Float32 scores lose digits to cancellation (norms of ~10^7 for raw pixels), so the search keeps a few
  candidates beyond k (``_EXTRA_WIDE``, ``_EXTRA_NARROW``) and re-ranks them by distances recomputed from
  coordinate differences (squared in float32, summed in float64), ties broken by the lower training index. For
  integer pixels (no projection, no deskewing) these distances are exact, so the neighbours are the ones
  scikit-learn finds (its float64 search is exact on integers too). Raw pixels are also centred on the training
  mean, rounded to an integer so they stay integers, which shrinks the norms and the cancellation.
* Queries go through in chunks of ``chunk_size`` rows and the training rows in blocks of ``_BLOCK``, keeping
  only the running best candidates per query: each thread's score buffer never exceeds
  ``chunk_size * _BLOCK * 4`` bytes (64 MiB at 256), whatever the training-set size. With up to
  ``_TILED_MAX_COLUMNS`` columns (projected features) the group minima are taken tile by tile instead, in two
  buffers of ``chunk_size * _BLOCK / _GROUP`` scores, and the chosen groups' members scored again from their rows.
  With 50 components, chunks of 256, 512 and 1,024 queries ran at the same speed; with the classifier's 30
  components (a thinner GEMM) 512 and 1,024 predicted 10,000 against 60,000 in 0.65 and 0.64 s against 0.71 s
  at 256 (medians of 3, quiet machine, before the tiles), so the classifier's default is 512 and the
  denoiser's stays 256.
* Both cores: ``n_jobs`` chunks run side by side, each on single-threaded kernels (see ``_map_chunks``).
  OpenBLAS (SkylakeX kernels on this AMD EPYC) reaches about 94 GFLOP/s per core in float32, close to the
  CPU's peak, so on 784 raw pixels the search cannot get much faster: the gains come from doing less work.
* The classifier then re-ranks only the queries the search leaves in doubt (``rerank``). When a query's 6
  nearest all carry one label, a costlier distance rarely changes the vote: on the validation split (10,000
  digits) 130 of the search's 157 errors sat in the 607 queries whose 6 nearest disagree, 27 in the other 9,393.
  Only those 6 % of queries get their 32 nearest re-ranked by the image distortion model (``distortion.py``),
  at some 2,000 times the search's cost per pair; their errors fall from 130 to 61. Re-ranking every query
  gave 99.16 % instead of 99.12 % for 4x the prediction time. The queries in doubt get a second, narrower
  search for their 32 nearest: widening the main search to 32 for every query cost more (+0.2 s of CPU per
  10,000 queries, one core) than the second search (0.12 s).
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral
from typing import Callable

import numpy as np
import torch  # imported here, not at the first predict: the import takes ~2 s on this machine
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ..data.augment import ONE_PIXEL_SHIFTS, shift_image
from ..shapes import N_PIXELS
from . import distortion, features

_GROUP = 16  # training rows per group in the selection (see the module docstring)
_BLOCK = 65536  # training rows per score block; a multiple of _GROUP
# Candidates kept beyond k for the float64 re-ranking, as the float32 scores' rounding may misorder near-ties: 8 for
# wide rows (785 columns of raw pixels, whose integer distances must come out exactly as scikit-learn's), 2 for
# narrow ones (projected features), whose scores sum at most _TILED_MAX_COLUMNS terms. With none at all the default
# classifier found the same 4 neighbours for the first 3,000 MNIST test digits and predicted the same for all 10,000.
_EXTRA_WIDE, _EXTRA_NARROW = 8, 2
# Widest rows (components + 1) whose groups' minima are taken tile by tile (``_candidates_by_tiles``). A product of
# 512 queries and 60,000 rows of 31 columns writes 123 MB of scores and reads them back for the minima: bound by
# memory, not arithmetic. Tile by tile it stays in cache: the default classifier's prediction (10,000 against
# 60,000, both cores, AMD EPYC with AVX2 only, the two paths alternated in one process, 7 rounds each) took a median
# of 0.79 s instead of 0.93 s and 0.85 s instead of 0.96 s in a second run, same predictions, and 37 MiB per
# thread instead of 128; the default denoiser's (40 components) the same time. On raw pixels (785 columns) the
# product is bound by arithmetic, and recomputing the candidates' scores would gather 384 rows of 785 per query:
# those keep the whole block's scores.
_TILED_MAX_COLUMNS = 64

_WEIGHTS = ("uniform", "distance")
_F16_MAX = float(np.finfo(np.float16).max)
_SHIFTS = ((0, 0), *ONE_PIXEL_SHIFTS)  # augment='shift': the stored copies, in order (the originals first)


# --------------------------------------------------------------------------------------------------------------
# threads
# --------------------------------------------------------------------------------------------------------------

def _n_threads(n_jobs) -> int:
    """scikit-learn's convention: None -> 1, -1 -> all cores, -2 -> all but one, n -> n."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    if n_jobs is None:
        return 1
    if n_jobs < 0:
        return max(1, cores + 1 + n_jobs)
    return max(1, int(n_jobs))


@contextlib.contextmanager
def _single_threaded_kernels():
    """OpenBLAS and PyTorch each on one thread while the chunk workers run (see ``_map_chunks``)."""
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(before)


def _map_chunks(n_rows: int, chunk_size: int, n_threads: int, work: Callable[[slice, dict], None]) -> None:
    """Call ``work(rows, scratch)`` on consecutive slices of ``chunk_size`` rows, ``n_threads`` at a time.

    Both cores are used by running whole chunks side by side, each on single-threaded kernels, not by
    multithreading each GEMM and reduction: with OpenBLAS and PyTorch each running 2 threads, their pools took
    turns on the 2 cores, spinning while waiting for each other, and a prediction (10,000 against 60,000) took
    2.4 CPU-s and 5 s wall; on single-threaded kernels, 1.1 CPU-s and 2.3 s wall, one chunk at a time.
    ``scratch`` is a per-thread dict in which ``work`` keeps its buffers from one chunk to the next, so the
    large score buffer is allocated (and its pages touched) once per thread.
    """
    # Never fewer chunks than threads: 200 queries in one chunk of 256 would leave a core idle.
    chunk_size = max(1, min(chunk_size, -(-n_rows // max(n_threads, 1))))
    chunks = [slice(start, min(start + chunk_size, n_rows)) for start in range(0, n_rows, chunk_size)]
    with _single_threaded_kernels():
        if n_threads <= 1 or len(chunks) <= 1:
            scratch: dict = {}
            for rows in chunks:
                work(rows, scratch)
            return
        local = threading.local()

        def run(rows: slice) -> None:
            if not hasattr(local, "scratch"):
                local.scratch = {}
            work(rows, local.scratch)

        with ThreadPoolExecutor(max_workers=min(n_threads, len(chunks))) as pool:
            for future in [pool.submit(run, rows) for rows in chunks]:
                future.result()


# --------------------------------------------------------------------------------------------------------------
# exact search
# --------------------------------------------------------------------------------------------------------------

@functools.cache
def _mkl_on_intel() -> bool:
    """Whether PyTorch's GEMM is Intel's MKL running on an Intel CPU, where MKL takes its fast path."""
    if not torch.backends.mkl.is_available():
        return False
    try:
        with open("/proc/cpuinfo") as info:
            return any(line.startswith("vendor_id") and "GenuineIntel" in line for line in info)
    except OSError:  # not Linux: NumPy, the choice measured first
        return False


# Widest products (columns of the stored rows) that PyTorch's GEMM computes on an Intel CPU. One score block
# (512 queries against 60,032 rows, one core, Intel Xeon with AMX), milliseconds for np.matmul / torch.mm:
# 31 columns (30 components, the classifier's default) 28 / 17; 41: 35 / 24; 51: 40 / 58; 785 (raw pixels):
# 340 / 323, a tie. On an AMD EPYC np.matmul was the faster (0.75 s of CPU against 0.93-1.1 s at 51 columns).
_TORCH_GEMM_MAX_COLUMNS = 48


def _torch_multiplies(columns: int) -> bool:
    """Whether ``torch.mm`` computes a score block with ``columns`` columns, not ``np.matmul`` (OpenBLAS):
    decided by the CPU's vendor and the width, never by timing both at run time, so that one machine always
    computes the same scores. For the default classifier on the Xeon, prediction (10,000 against 60,000)
    fell from 0.99-1.02 s to 0.85-0.90 s, with the same predictions."""
    return columns <= _TORCH_GEMM_MAX_COLUMNS and _mkl_on_intel()


def _gemm(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """``out = a @ b`` in float32, by the library that is faster for this CPU and width."""
    if _torch_multiplies(a.shape[1]):
        torch.mm(torch.from_numpy(a), torch.from_numpy(b), out=torch.from_numpy(out))
    else:
        np.matmul(a, b, out=out)


def _search_matrix(parts, n_rows: int, d: int) -> np.ndarray:
    """Stored form of the training features, given as consecutive float32 blocks of ``d`` columns: rows
    ``[x, ||x||^2]``, padded to a multiple of _GROUP with rows whose norm is +inf (their score is +inf, so they
    are never chosen). Filled block by block, so an augmented training set never exists twice in memory."""
    n_pad = -(-n_rows // _GROUP) * _GROUP
    M = np.zeros((n_pad, d + 1), dtype=np.float32)
    at = 0
    for F in parts:
        M[at:at + len(F), :d] = F
        M[at:at + len(F), d] = np.einsum("ij,ij->i", F, F, dtype=np.float64)
        at += len(F)
    M[n_rows:, d] = np.inf
    return M


def _scratch_buffer(scratch: dict, key: str, size: int) -> np.ndarray:
    """The first ``size`` float32 values of ``scratch[key]``, a buffer kept from one chunk to the next and grown
    when a chunk needs more."""
    if scratch.get(key) is None or scratch[key].size < size:
        scratch[key] = np.empty(size, dtype=np.float32)
    return scratch[key][:size]


def _group_members(minima: torch.Tensor, m: int) -> torch.Tensor:
    """The rows (c, m * _GROUP) of each query's ``m`` groups with the smallest minima. Group g of a block is its rows
    g, g + n_groups, g + 2 n_groups, ...: its minimum is then an element-wise minimum over _GROUP contiguous runs of
    scores, which vectorises (see the module docstring)."""
    n_groups = minima.shape[1]
    top = torch.topk(minima, min(m, n_groups), dim=1, largest=False, sorted=False).indices
    return (top[:, :, None] + torch.arange(_GROUP) * n_groups).reshape(len(minima), -1)


def _candidates_by_scores(lift: np.ndarray, rows: np.ndarray, m: int, scratch: dict):
    """Scores and indices (both (c, m * _GROUP)) of the members of each query's best ``m`` groups of ``rows``, from
    one product of the queries and the whole block, kept in ``scratch``'s score buffer (wide rows)."""
    c = len(lift)
    S = _scratch_buffer(scratch, "scores", c * len(rows)).reshape(c, len(rows))  # the one large buffer (docstring)
    _gemm(lift, rows.T, S)
    cand = _group_members(torch.from_numpy(S.reshape(c, _GROUP, -1).min(axis=1)), m)
    return torch.gather(torch.from_numpy(S), 1, cand), cand


def _candidates_by_tiles(lift: np.ndarray, rows: np.ndarray, m: int, scratch: dict):
    """The ``m`` best scores of each query among the members of its best ``m`` groups of ``rows``, and their indices,
    both (c, m), for narrow rows: the groups' minima are taken tile by tile (tile j is rows j n_groups .. (j + 1)
    n_groups - 1, the j-th member of every group), so the block's scores are never all in memory; the chosen
    groups' members are then scored again from their rows, in a compiled loop (``_kernels.py``)."""
    from . import _kernels

    c, n_groups = len(lift), len(rows) // _GROUP
    minima, tile = _scratch_buffer(scratch, "tiles", 2 * c * n_groups).reshape(2, c, n_groups)
    _gemm(lift, rows[:n_groups].T, minima)
    for j in range(1, _GROUP):
        _gemm(lift, rows[j * n_groups:(j + 1) * n_groups].T, tile)
        np.minimum(minima, tile, out=minima)
    scores, indices = _kernels.nearest_group_members(minima, rows, lift, m, _GROUP)
    return torch.from_numpy(scores), torch.from_numpy(indices)


def _kneighbors(M: np.ndarray, n_fit: int, q: np.ndarray, k: int, scratch: dict) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest stored rows of each query row: float64 distances (ascending) and indices, both (n, k).

    ``M`` comes from ``_search_matrix`` (``n_fit`` real rows); ``q`` is one chunk of float32 queries (c, d).
    ``scratch`` keeps the score buffers between calls.
    """
    c, d = q.shape
    narrow = d + 1 <= _TILED_MAX_COLUMNS
    m = min(k + (_EXTRA_NARROW if narrow else _EXTRA_WIDE), n_fit)  # candidates kept per query
    block = min(_BLOCK, len(M))
    lift = np.empty((c, d + 1), dtype=np.float32)
    np.multiply(q, -2.0, out=lift[:, :d])
    lift[:, d] = 1.0
    candidates = _candidates_by_tiles if narrow else _candidates_by_scores
    best_s, best_i = [], []
    for b0 in range(0, len(M), block):
        cand_s, cand = candidates(lift, M[b0:b0 + block], m, scratch)
        sel = torch.topk(cand_s, min(m, cand.shape[1]), dim=1, largest=False, sorted=False).indices
        best_s.append(torch.gather(cand_s, 1, sel))
        best_i.append(torch.gather(cand, 1, sel) + b0)
    if len(best_s) > 1:  # merge the blocks' candidates: keep the overall m best
        all_s, all_i = torch.cat(best_s, 1), torch.cat(best_i, 1)
        sel = torch.topk(all_s, m, dim=1, largest=False, sorted=False).indices
        cand_i = torch.gather(all_i, 1, sel).numpy()
    else:
        cand_i = best_i[0].numpy()
    # Re-rank the m candidates: squared differences summed in float64, ties to the lower index. For integer
    # pixels every step is exact (differences and squares of integers below 2^24 in float32, their sum in
    # float64); otherwise the error is float32 rounding of each coordinate, with no cancellation.
    diff = np.take(M, cand_i.ravel(), axis=0)[:, :d].reshape(c, -1, d)
    diff -= q[:, None, :]
    np.square(diff, out=diff)
    sq = diff.sum(axis=2, dtype=np.float64)
    order = np.lexsort((cand_i, sq), axis=-1)[:, :k]
    return np.sqrt(np.take_along_axis(sq, order, axis=1)), np.take_along_axis(cand_i, order, axis=1)


def _half(images: np.ndarray) -> np.ndarray:
    """float16 copy, clipped to its range (pixels are 0..255; nothing real reaches 65,504)."""
    return np.clip(images, -_F16_MAX, _F16_MAX).astype(np.float16)


def _distance_weights(dist: np.ndarray) -> np.ndarray:
    """1 / distance, as scikit-learn: a query at distance 0 from some neighbours gives those weight 1, others 0."""
    with np.errstate(divide="ignore"):
        w = 1.0 / dist
    inf = np.isinf(w)
    rows = inf.any(axis=1)
    w[rows] = inf[rows]
    return w


# --------------------------------------------------------------------------------------------------------------
# shared estimator machinery
# --------------------------------------------------------------------------------------------------------------

class _FastKNNBase(BaseEstimator):
    """Parameter checks, the feature map (deskew -> augmentation -> projection) and the search."""

    # scikit-learn's declarative constraints, checked by ``_validate_params`` (at ``registry.make`` and ``fit``).
    _parameter_constraints = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "weights": [StrOptions(set(_WEIGHTS))],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "augment": [StrOptions({"shift"}), None],
        "chunk_size": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Interval(Integral, 1, None, closed="left"), Interval(Integral, None, -1, closed="right"), None],
    }

    def _check_rows(self, X) -> None:
        """The checks that need the data, made before any work: enough rows for ``n_neighbors``."""
        n = len(X) * (5 if self.augment == "shift" else 1)
        if self.n_neighbors > n:
            held = f"{n:,} sample{'' if n == 1 else 's'}" + (", shifts included" if self.augment == "shift" else "")
            raise InvalidParameterError(
                f"The 'n_neighbors' parameter of {type(self).__name__} must be an int in the range [1, {n}] "
                f"(the training set holds {held}). Got {self.n_neighbors!r} instead.")

    def _needs_images(self, X: np.ndarray, what: str) -> None:
        if X.shape[1] != N_PIXELS:
            raise ValueError(f"{what} works on 28x28 images: X must have {N_PIXELS} columns, "
                             f"got {X.shape[1]}.")

    def _base_features(self, X: np.ndarray) -> np.ndarray:
        """float32 features before projection: deskewed images, or the raw values."""
        if self._deskew():
            return features.deskew(X)
        return np.asarray(X, dtype=np.float32)

    def _deskew(self) -> bool:
        return False

    def _fit_features(self, X: np.ndarray, Y: np.ndarray | None = None):
        """Learn the feature map on ``X``, store the training rows' features; return the features before
        projection (deskewed images, or the raw values) and the targets ``Y`` (None for the classifier) shifted
        along with the images when augmenting."""
        base = self._base_features(X)
        if self.augment == "shift":
            self._needs_images(X, "augment='shift'")

            def blocks():
                for dx, dy in _SHIFTS:
                    yield base if (dx, dy) == (0, 0) else shift_image(base, dx, dy)
            if Y is not None:
                if Y.shape[1] != N_PIXELS:
                    raise ValueError(f"augment='shift' shifts the clean images along with the noisy ones: y must "
                                     f"have {N_PIXELS} columns, got {Y.shape[1]}.")
                Y = np.concatenate([Y if (dx, dy) == (0, 0) else shift_image(Y, dx, dy) for dx, dy in _SHIFTS])
        else:
            def blocks():
                yield base

        if self.n_components is None:
            # Centre on the training mean, rounded: integer pixels stay integers (exact in float32), and the
            # smaller norms lose fewer digits in the float32 scores.
            self.mean_ = np.rint(base.mean(axis=0, dtype=np.float64))
            self.components_ = None
        else:
            self.mean_, self.components_ = features.fit_pca(blocks(), self.n_components)
        n_rows = len(base) * (5 if self.augment == "shift" else 1)
        d = base.shape[1] if self.components_ is None else self.components_.shape[1]
        self.n_samples_fit_ = n_rows
        self._fit_matrix_ = _search_matrix((self._query_features(b, base=True) for b in blocks()), n_rows, d)
        return base, Y

    def _query_features(self, X: np.ndarray, base: bool = False) -> np.ndarray:
        """float32 features of images ``X`` (or, with ``base=True``, of already deskewed images)."""
        if not base:
            X = self._base_features(X)
        if self.components_ is None:
            return np.asarray(X, dtype=np.float32) - self.mean_.astype(np.float32)
        return features.project(X, self.mean_, self.components_)

    def _validate_query(self, X):
        check_is_fitted(self, "_fit_matrix_")
        return validate_data(self, X, reset=False, dtype="numeric")

    def kneighbors(self, X, n_neighbors: int | None = None, return_distance: bool = True):
        """Distances and indices of the nearest training rows, nearest first: the neighbours that vote.

        Distances are Euclidean in the feature space, except for the queries the classifier re-ranks
        (``rerank``), whose distances are the image distortion model's. Indices refer to the training rows as
        stored, i.e. after augmentation (original rows first, then each shift in turn), as scikit-learn's
        ``kneighbors``.
        """
        X = self._validate_query(X)
        k = n_neighbors or self.n_neighbors
        dist = np.empty((len(X), k))
        ind = np.empty((len(X), k), dtype=np.intp)

        def keep(rows, d, i):
            dist[rows], ind[rows] = d, i
        self._search(X, k, keep)
        return (dist, ind) if return_distance else ind

    def _search(self, X: np.ndarray, k: int, consume: Callable[[slice, np.ndarray, np.ndarray], None]) -> None:
        """Find the k neighbours of the rows of ``X`` chunk by chunk; ``consume(rows, dist, ind)`` each chunk."""
        if k > self.n_samples_fit_:
            raise ValueError(f"Expected n_neighbors <= n_samples_fit, but n_neighbors = {k}, "
                             f"n_samples_fit = {self.n_samples_fit_}, n_samples = {len(X)}.")

        width = self._search_width(k)

        def work(rows: slice, scratch: dict) -> None:
            base = self._base_features(X[rows])
            Q = self._query_features(base, base=True)
            dist, ind = _kneighbors(self._fit_matrix_, self.n_samples_fit_, Q, width, scratch)
            consume(rows, *self._refine(base, Q, dist, ind, k, scratch))
        _map_chunks(len(X), self.chunk_size, _n_threads(self.n_jobs), work)

    def _search_width(self, k: int) -> int:
        """Neighbours the search finds per query, for ``_refine`` to choose the ``k`` that vote among."""
        return k

    def _refine(self, base, Q, dist, ind, k: int, scratch: dict) -> tuple[np.ndarray, np.ndarray]:
        """The k neighbours of a chunk of queries from the search's ``width`` (``base``: the queries' features
        before projection, ``Q`` after)."""
        return dist[:, :k], ind[:, :k]

    def _weights_for(self, dist: np.ndarray) -> np.ndarray:
        if self.weights == "distance":
            return _distance_weights(dist)
        return np.ones_like(dist)


# --------------------------------------------------------------------------------------------------------------
# classifier
# --------------------------------------------------------------------------------------------------------------

class FastKNNClassifier(ClassifierMixin, _FastKNNBase):
    """k-nearest-neighbour classifier for 28x28 digits: exact float32 search, deskewing, principal components,
    and a costlier distance for the few queries whose nearest neighbours disagree.

    The defaults are the most accurate setting measured that predicts MNIST's 10,000 test digits against its
    60,000 training digits at least 15x faster than scikit-learn's ``KNeighborsClassifier(n_neighbors=4,
    weights='distance', n_jobs=-1)``: deskewed images projected onto 30 principal components; the queries whose
    6 nearest carry more than one label (about 6 % of them) re-ranked among their 32 nearest by the image distortion
    model; 4 neighbours weighted by inverse distance (99.1 % test accuracy against 97.1 %;
    ``benchmarks/RESULTS.md``, "Round two"). The parameters were chosen on a validation split (the last 10,000
    training digits against the first 50,000: 99.12 %). With ``deskew=False, n_components=None`` (and so no
    re-ranking) it finds the same neighbours as scikit-learn and predicts the same.

    Parameters
    ----------
    n_neighbors : int, default=4
        Neighbours that vote.
    weights : {'uniform', 'distance'}, default='distance'
        Votes weigh 1, or 1/distance (a neighbour at distance 0 takes the whole vote, as in scikit-learn).
    n_components : int or None, default=30
        Project onto this many principal components of the (deskewed, augmented) training images; None keeps
        every feature. Without re-ranking, 35 to 60 components all gave 98.4-98.5 % after deskewing (round one's
        default was 50); with it the search only has to bring the right neighbours within the 32 nearest, and 30
        components did as well as 50 (validation 99.12 % against 99.13 %) at 3/5 of the search's arithmetic.
    deskew : bool, default=True
        Straighten each image by its moments (``features.deskew``) before anything else; needs 784 columns.
        Lifts accuracy from 97.1-97.7 % to 98.4-98.5 % without re-ranking. Moments taken on the image clipped
        at 64 or 128, binarised, squared or square-rooted moved accuracy by 0.15 % at most, up or down, with
        or without re-ranking (validation and test): no variant was better on both.
    augment : None or 'shift', default=None
        'shift': train on the (deskewed) images and their four one-pixel shifts, 5x the rows (98.7 % without
        re-ranking, prediction 5x slower). Shifting is done after deskewing: deskewing recentres digits and
        would undo shifts made before it.
    rerank : {'auto', 'idm'} or None, default='auto'
        'idm': re-rank the queries in doubt by the image distortion model (``distortion.py``: each pixel's
        gradient matched within 1 pixel), which tolerates the small shifts, bends and thickness changes that
        a Euclidean distance punishes; needs 784 columns. 'auto': 'idm' with deskewing, None without (so the
        exact mode stays exact). Validation split: 98.43 % -> 99.12 % at 30 components; a one-sided tangent
        distance in its place gave 98.90 %, and a blur before the projection lowered accuracy (98.65 % -> 98.59 %
        at 0.5 px, 98.36 % at 1 px). Prediction takes about 1.3x as long.
    rerank_window : int or None, default=6
        A query is in doubt when its ``rerank_window`` nearest in the search space carry more than one label;
        None re-ranks every query (validation 99.16 %, prediction 4x as long as with 6). 4 (and 16 candidates)
        gave 98.98 %; 8 gave 0.02 % more than 6 for a quarter more queries re-ranked.
    rerank_candidates : int, default=32
        Nearest rows in the search space that the re-ranking reorders (at least ``n_neighbors``). 16 and 24
        gave 0.05-0.1 % less than 32 on the validation split, 48 no more (0.03 % less; 0.1 % more on the test
        split), for 1.5x the re-ranking work.
    chunk_size : int, default=512
        Queries per chunk. Peak extra memory while predicting is, per thread, about ``chunk_size * 65,536 * 4``
        bytes of scores on raw pixels (128 MiB at 512; with the default 30 components, two tile buffers
        instead: 22 MiB in all for one chunk of 512, measured with tracemalloc) plus
        ``chunk_size * (n_neighbors + 8) * (n_features + 1) * 4`` bytes for the float64 re-ranking (20 MiB at
        512 on raw pixels) and a few MiB for the IDM re-ranking of the queries in doubt, independent of the
        training-set size. The IDM re-ranking keeps the (deskewed) training images in float16: 2 bytes a pixel,
        94 MB for MNIST's 60,000, in memory and in a saved file.
    n_jobs : int or None, default=-1
        Threads for the search (None: 1, -1: all cores).

    Examples
    --------
    >>> from digitlab.data.datasets import load_dataset
    >>> data = load_dataset("mnist-mini")
    >>> model = FastKNNClassifier().fit(data.X_train, data.y_train)
    >>> accuracy = model.score(data.X_test, data.y_test)
    """

    _parameter_constraints = {
        **_FastKNNBase._parameter_constraints,
        "deskew": ["boolean"],
        "rerank": [StrOptions({"auto", "idm"}), None],
        "rerank_window": [Interval(Integral, 1, None, closed="left"), None],
        "rerank_candidates": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, n_neighbors: int = 4, weights: str = "distance", n_components: int | None = 30,
                 deskew: bool = True, augment: str | None = None, rerank: str | None = "auto",
                 rerank_window: int | None = 6, rerank_candidates: int = 32, chunk_size: int = 512,
                 n_jobs: int | None = -1):
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.n_components = n_components
        self.deskew = deskew
        self.augment = augment
        self.rerank = rerank
        self.rerank_window = rerank_window
        self.rerank_candidates = rerank_candidates
        self.chunk_size = chunk_size
        self.n_jobs = n_jobs

    def __setstate__(self, state):
        # Files saved before re-ranking existed hold none of its parameters: they load without it and predict
        # what they predicted when saved.
        if "rerank" not in state:
            state = {**state, "rerank": None, "rerank_window": 6, "rerank_candidates": 32, "_images_": None}
        super().__setstate__(state)

    def _deskew(self) -> bool:
        return bool(self.deskew)

    def _reranks(self) -> bool:
        return self.rerank == "idm" or (self.rerank == "auto" and bool(self.deskew))

    def fit(self, X, y):
        """Store the training images in the feature space; ``X`` is (n, n_features) numeric, pixels 0..255."""
        self._validate_params()
        X, y = validate_data(self, X, y, dtype="numeric", y_numeric=False)
        self._check_rows(X)
        if self.deskew:
            self._needs_images(X, "deskew=True")
        if self._reranks():
            self._needs_images(X, "rerank='idm'")
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        self.classes_, y_codes = np.unique(y, return_inverse=True)
        base, _ = self._fit_features(X)
        # The (deskewed) training images, for the re-ranking; float16 halves their memory and, with the
        # queries rounded the same way, a training image is still at distance 0 from itself.
        self._images_ = _half(base) if self._reranks() else None
        reps = self.n_samples_fit_ // len(y)
        self._y_ = np.tile(y_codes.astype(np.intp), reps)
        return self

    def _search_width(self, k: int) -> int:
        return max(k, self.rerank_window or 0) if self._reranks() else k

    def _refine(self, base, Q, dist, ind, k: int, scratch: dict) -> tuple[np.ndarray, np.ndarray]:
        """Re-rank the queries in doubt (their ``rerank_window`` nearest carry more than one label): their
        ``rerank_candidates`` nearest in the search space, by the image distortion model's distance."""
        if not self._reranks():
            return dist[:, :k], ind[:, :k]
        if self.rerank_window is None:
            doubt = np.arange(len(ind))
        else:
            labels = self._y_[ind[:, :self.rerank_window]]
            doubt = np.flatnonzero((labels != labels[:, :1]).any(axis=1))
        dist, ind = dist[:, :k].copy(), ind[:, :k].copy()
        if len(doubt):
            m = min(max(self.rerank_candidates, k), self.n_samples_fit_)
            cand = _kneighbors(self._fit_matrix_, self.n_samples_fit_, Q[doubt], m, scratch)[1]
            queries = _half(base[doubt]).astype(np.float32)
            dist[doubt], ind[doubt] = distortion.rerank(queries, self._candidate_images(cand), cand, k)
        return dist, ind

    def _candidate_images(self, ind: np.ndarray) -> np.ndarray:
        """float32 images (..., 784) of stored rows ``ind``; a row of a shifted copy is its image shifted."""
        n = len(self._images_)
        flat = ind.ravel()
        images = self._images_[flat % n].astype(np.float32)
        if self.augment == "shift":
            copy = flat // n
            for c, (dx, dy) in enumerate(_SHIFTS):
                if c and (copy == c).any():
                    images[copy == c] = shift_image(images[copy == c], dx, dy)
        return images.reshape(*ind.shape, -1)

    def _votes(self, X) -> np.ndarray:
        X = self._validate_query(X)
        votes = np.zeros((len(X), len(self.classes_)))

        def count(rows, dist, ind):
            w = self._weights_for(dist)
            labels = self._y_[ind]
            part = votes[rows]
            at = np.arange(len(labels))
            for j in range(labels.shape[1]):  # k is small: one vectorised pass per neighbour rank
                part[at, labels[:, j]] += w[:, j]
        self._search(X, self.n_neighbors, count)
        return votes

    def predict(self, X):
        """Class of each row: the (weighted) majority of its neighbours, ties to the smallest class."""
        votes = self._votes(X)
        return self.classes_[np.argmax(votes, axis=1)]

    def predict_proba(self, X):
        """Share of the (weighted) vote each class gets, columns in the order of ``classes_``."""
        votes = self._votes(X)
        total = votes.sum(axis=1, keepdims=True)
        total[total == 0] = 1.0
        return votes / total


# --------------------------------------------------------------------------------------------------------------
# denoiser
# --------------------------------------------------------------------------------------------------------------

def _vote(values: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per-output (weighted) mode over axis 1 of ``values`` (n, k, p), ties to the smallest value.

    scikit-learn's multioutput ``KNeighborsClassifier`` takes, for each output, the most frequent value among
    the neighbours (weighted by ``w`` (n, k)), the smallest one on ties. Here every neighbour's value is
    compared with every other's (k^2 vectorised comparisons, no loop over the outputs).
    """
    n, k, p = values.shape
    score = np.zeros((n, k, p))
    for j in range(k):
        score[:, j] = np.einsum("nkp,nk->np", values == values[:, j:j + 1], w)
    best = score.max(axis=1, keepdims=True)
    if np.issubdtype(values.dtype, np.integer):
        big = np.iinfo(values.dtype).max
    else:
        big = np.inf
    return np.where(score == best, values, big).min(axis=1)


class FastKNNDenoiser(RegressorMixin, _FastKNNBase):
    """k-NN denoiser: each output pixel is the vote, or the mean, of the nearest training images' clean pixels.

    ``fit(X_noisy, Y_clean)`` stores noisy training images (any numeric dtype, e.g. int16 unclipped) and their
    clean versions ``Y`` (n, 784), usually uint8. ``predict`` returns ``Y``'s dtype: for integer ``Y`` the vote,
    or the mean rounded to the nearest integer; for float ``Y`` the vote or the plain mean.

    ``mode='vote', n_neighbors=5, weights='uniform', n_components=None`` is the notebooks' recipe (scikit-learn's
    multioutput ``KNeighborsClassifier``), with the same neighbours and the same tie-breaking. The defaults are
    the most accurate setting measured that is at least 20x faster than that recipe: the distance-weighted mean
    of 8 neighbours found among 40 principal components of the noisy images (on ``uniform:100`` noise, RMSE
    31.3 against the recipe's 46.8; 30-60 components and 5-10 neighbours all give 31-33, and 50 components
    (RMSE 30.9) measured between 18x and 21x faster, too close to the goal).
    ``benchmarks/RESULTS.md`` has the timings. No deskewing: the answer is made of the neighbours' clean
    images, which must be in the query's frame.

    Parameters
    ----------
    n_neighbors : int, default=8
    mode : {'vote', 'mean'}, default='mean'
        Per-pixel majority vote (ties to the smaller value) or mean of the neighbours' clean pixels. The mean
        has a much lower RMSE (31-33 against 47 for the vote on ``uniform:100``) but gives grey edges.
    weights : {'uniform', 'distance'}, default='distance'
        Weights of the neighbours in the vote or the mean, as in scikit-learn.
    n_components : int or None, default=40
        Search among this many principal components of the noisy training images (None: all pixels).
    augment : None or 'shift', default=None
        Also train on one-pixel shifts of the noisy and clean images (5x the rows).
    chunk_size : int, default=256
        Queries per chunk; peak extra memory as in ``FastKNNClassifier`` plus, per thread, about
        ``chunk_size * n_neighbors * n_outputs * 10`` bytes for the vote (about 15 MiB at 256 and 8 neighbours).
    n_jobs : int or None, default=-1
        Threads for the search (None: 1, -1: all cores).
    """

    _parameter_constraints = {**_FastKNNBase._parameter_constraints, "mode": [StrOptions({"vote", "mean"})]}

    def __init__(self, n_neighbors: int = 8, mode: str = "mean", weights: str = "distance",
                 n_components: int | None = 40, augment: str | None = None, chunk_size: int = 256,
                 n_jobs: int | None = -1):
        self.n_neighbors = n_neighbors
        self.mode = mode
        self.weights = weights
        self.n_components = n_components
        self.augment = augment
        self.chunk_size = chunk_size
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y):
        """Store noisy images ``X`` (n, n_features) and their clean versions ``y`` (n, n_outputs) or (n,)."""
        self._validate_params()
        X, y = validate_data(self, X, y, dtype="numeric", multi_output=True, y_numeric=True)
        self._check_rows(X)
        self._single_output_ = y.ndim == 1
        Y = y.reshape(len(y), -1) if not self._single_output_ else y[:, None]
        self._Y_ = self._fit_features(X, Y)[1]
        return self

    def predict(self, X):
        """Cleaned images, (n, n_outputs) in the dtype of the training targets."""
        X = self._validate_query(X)
        out = np.empty((len(X), self._Y_.shape[1]), dtype=self._Y_.dtype if self._integer_y() else np.float64)

        def clean(rows, dist, ind):
            out[rows] = self._combine(self._Y_[ind], self._weights_for(dist))
        self._search(X, self.n_neighbors, clean)
        return out[:, 0] if self._single_output_ else out

    def _integer_y(self) -> bool:
        return np.issubdtype(self._Y_.dtype, np.integer) or self._Y_.dtype == bool

    def _combine(self, values: np.ndarray, w: np.ndarray) -> np.ndarray:
        if self.mode == "vote":
            return _vote(values, w)
        if self.weights == "uniform":
            mean = values.sum(axis=1, dtype=np.float64) / values.shape[1]
        else:
            mean = np.einsum("nkp,nk->np", values.astype(np.float64), w) / w.sum(axis=1, keepdims=True)
        if self._integer_y():
            info = np.iinfo(self._Y_.dtype) if self._Y_.dtype != bool else None
            mean = np.rint(mean)
            if info is not None:
                mean = np.clip(mean, info.min, info.max)
        return mean
