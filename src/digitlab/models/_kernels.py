"""digitlab's compiled loops (numba): the image distortion model's distance and the k-NN search's choice of
candidates. ``distortion.py`` and ``knn.py`` are their interfaces; numba is imported only here, on first use, so
importing digitlab does not import it.

They are our own loops, not a library's, where the same arithmetic as NumPy or PyTorch array operations was
measurably slower, because each operation makes a full pass over memory and these loops keep everything in the
CPU's cache (figures on the 2-core machine's Intel Xeon, one core):

* ``squared_distances`` (the IDM): 3.1 us per (query, candidate) pair, the candidates' gradients included, where
  PyTorch tensor operations (9 shifted slices of the candidates' gradients, each a subtraction, a square, a sum
  and a minimum over a batch of pairs) took 16-24 us here and 8-12 us on the machine's AMD EPYCs. Per pair it
  writes the two images' gradients into small zero-framed buffers and takes each query pixel's best match over
  the (2 warp + 1)^2 positions. Two threads calling the PyTorch version took longer than one; this loop releases
  the interpreter lock, so the search's two chunk threads run it side by side.
* ``nearest_group_members`` (the search's selection): ``torch.topk`` over the groups' minima, gathering the chosen
  groups' rows, scoring them and a second ``torch.topk`` took about 0.18 s of CPU per 10,000 queries against
  60,000 rows; this loop, which keeps the m best in a small sorted list as it goes, about half of that (the
  default classifier's prediction: 0.478 s instead of 0.511 s on both cores, medians of 7, same neighbours).

numba compiles each loop on its first call in a process: 1.4 s for the distance, 0.7 s for the selection. digitlab
writes nothing to disk unless asked, so numba keeps the machine code for later processes only where its own
setting ``NUMBA_CACHE_DIR`` names a folder for it; then a later process's first prediction waits 0.4-0.6 s,
numba's import included.
"""

from __future__ import annotations

import numba
import numpy as np

from ..shapes import SIDE


def _compiled(function=None, **options):
    """``numba.njit``, releasing the interpreter lock; cached on disk only where ``NUMBA_CACHE_DIR`` asks for it."""
    if function is None:
        return lambda f: _compiled(f, **options)
    if numba.config.CACHE_DIR:
        try:
            return numba.njit(nogil=True, cache=True, **options)(function)
        except RuntimeError:  # numba found no folder it could write its cache to: compile in each process
            pass
    return numba.njit(nogil=True, **options)(function)


@_compiled
def padded_gradients(image, pad, out):
    """Horizontal and vertical central differences of one image (784 float32 pixels, zero outside the image)
    written to ``out[0]`` and ``out[1]`` at rows and columns ``pad`` .. ``pad + 27``; the frame is left as is."""
    for y in range(SIDE):
        for x in range(SIDE):
            right = image[y * SIDE + x + 1] if x + 1 < SIDE else np.float32(0)
            left = image[y * SIDE + x - 1] if x > 0 else np.float32(0)
            below = image[(y + 1) * SIDE + x] if y + 1 < SIDE else np.float32(0)
            above = image[(y - 1) * SIDE + x] if y > 0 else np.float32(0)
            out[0, pad + y, pad + x] = right - left
            out[1, pad + y, pad + x] = below - above


_ROW = 32  # pixels per row of the distance's loops: 28 and 4 of zeros, so that a row is two whole AVX-512 vectors


@_compiled
def squared_distances(queries, candidates, warp):
    """float64 (c, m): for query i (``queries[i]``, 784 float32) and each of its candidates ``candidates[i, j]``,
    the sum over the query's pixels of the smallest squared gradient difference within ``warp`` pixels; each
    minimum in float32, summed in float64 column by column, then over the columns (the same order for every
    pair, so no distance depends on the batch; for integer pixels every step is exact)."""
    c, m = candidates.shape[0], candidates.shape[1]
    rows, width = SIDE + 2 * warp, _ROW + 2 * warp
    result = np.empty((c, m), dtype=np.float64)
    gq = np.zeros((2, rows, width), dtype=np.float32)
    gc = np.zeros((2, rows, width), dtype=np.float32)  # zero outside the image: a match there costs |query|^2
    best = np.empty(_ROW, dtype=np.float32)
    columns = np.empty(_ROW, dtype=np.float64)
    for i in range(c):
        padded_gradients(queries[i], warp, gq)
        for j in range(m):
            padded_gradients(candidates[i, j], warp, gc)
            columns[:] = 0.0
            for y in range(SIDE):
                q0, q1 = gq[0, warp + y, warp:warp + _ROW], gq[1, warp + y, warp:warp + _ROW]
                best[:] = np.inf
                for dy in range(2 * warp + 1):
                    for dx in range(2 * warp + 1):
                        c0, c1 = gc[0, y + dy, dx:dx + _ROW], gc[1, y + dy, dx:dx + _ROW]
                        for x in range(_ROW):
                            a, b = q0[x] - c0[x], q1[x] - c1[x]
                            best[x] = min(best[x], a * a + b * b)
                for x in range(_ROW):
                    columns[x] += best[x]
            total = 0.0
            for x in range(SIDE):  # the 4 columns past the image are not pixels
                total += columns[x]
            result[i, j] = total
    return result


@_compiled
def _insert(values, labels, value, label):
    """Put ``value`` (smaller than ``values[-1]``) and its ``label`` into the ascending ``values`` and their
    ``labels``, dropping the last; an equal value already there stays before it."""
    at = len(values) - 1
    while at > 0 and values[at - 1] > value:
        values[at], labels[at] = values[at - 1], labels[at - 1]
        at -= 1
    values[at], labels[at] = value, label


@_compiled(fastmath={"reassoc", "nsz"})  # the sum in any order: vectorised. The caller re-ranks in float64.
def _score(lift, row):
    total = np.float32(0)
    for t in range(len(row)):
        total += lift[t] * row[t]
    return total


@_compiled
def nearest_group_members(minima, rows, lift, m, group):
    """For each query i, the ``m`` smallest scores ``lift[i] . row`` among the rows of its ``m`` groups with the
    smallest ``minima[i]`` (all groups if there are no more), and those rows' indices, both (c, m), ascending (the
    first seen first on ties). Group g of ``rows`` is rows g, g + n_groups, ..., g + (group - 1) n_groups, with
    n_groups = minima.shape[1]; the chosen groups must hold at least ``m`` rows of finite score."""
    c, n_groups = minima.shape
    n_best = min(m, n_groups)
    scores, indices = np.empty((c, m), dtype=np.float32), np.empty((c, m), dtype=np.int64)
    best_minima, best_groups = np.empty(n_best, dtype=np.float32), np.empty(n_best, dtype=np.int64)
    for i in range(c):
        best_minima[:], best_groups[:] = np.inf, 0
        for g in range(n_groups):
            if minima[i, g] < best_minima[n_best - 1]:
                _insert(best_minima, best_groups, minima[i, g], g)
        scores[i], indices[i] = np.inf, 0
        for t in range(n_best):
            for r in range(group):
                row = best_groups[t] + r * n_groups
                score = _score(lift[i], rows[row])
                if score < scores[i, m - 1]:
                    _insert(scores[i], indices[i], score, row)
    return scores, indices
