"""digitlab's k-NN engine against scikit-learn, on mnist-mini (6,000 train / 1,000 test images).

Speed is measured in benchmarks/knn.py, never here.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from digitlab.models import registry
from digitlab.models.knn import FastKNNClassifier, FastKNNDenoiser

N_TRAIN, N_TEST = 3000, 300  # enough for agreement to mean something, small enough to stay fast


@pytest.fixture(scope="module")
def digits(mini):
    return mini.X_train[:N_TRAIN], mini.y_train[:N_TRAIN], mini.X_test[:N_TEST], mini.y_test[:N_TEST]


@pytest.fixture(scope="module")
def noisy(mini):
    """The seeds' denoising data: randint(0, 100) added, unclipped (int16), clean uint8 targets."""
    rng = np.random.default_rng(4)
    X, Xt = mini.X_train[:N_TRAIN], mini.X_test[:100]
    return (X.astype(np.int16) + rng.integers(0, 100, X.shape, dtype=np.int16), X,
            Xt.astype(np.int16) + rng.integers(0, 100, Xt.shape, dtype=np.int16), Xt)


# The estimator checks feed small random matrices (a few features), so the instances checked here work on any
# number of columns: deskewing and shift augmentation need 28x28 images and are tested on digits below. The
# denoiser's vote is checked with one neighbour: a per-output vote over continuous random targets (all values
# distinct) is the smallest value, which fails the checks' R^2 > 0.5 on training data by design of the vote.
@parametrize_with_checks([
    FastKNNClassifier(deskew=False, n_components=None),
    FastKNNClassifier(deskew=False, n_components=2, weights="uniform", chunk_size=3),
    FastKNNDenoiser(n_components=None),
    FastKNNDenoiser(mode="vote", n_neighbors=1, n_components=2),
])
def test_estimator_contract(estimator, check):
    check(estimator)


def _sk_float(X):
    return np.asarray(X, dtype=np.float64)  # scikit-learn's fastest path, and the seeds' dtype


@pytest.mark.parametrize("k,weights", [(4, "distance"), (5, "uniform"), (1, "uniform")])
def test_exact_mode_finds_scikit_learns_neighbours_and_predictions(digits, k, weights):
    X, y, Xt, _ = digits
    ref = KNeighborsClassifier(n_neighbors=k, weights=weights).fit(_sk_float(X), y)
    ours = FastKNNClassifier(n_neighbors=k, weights=weights, deskew=False, n_components=None).fit(X, y)
    ref_dist, ref_ind = ref.kneighbors(_sk_float(Xt))
    dist, ind = ours.kneighbors(Xt)
    np.testing.assert_array_equal(ind, ref_ind)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-12)
    np.testing.assert_array_equal(ours.predict(Xt), ref.predict(_sk_float(Xt)))
    np.testing.assert_allclose(ours.predict_proba(Xt), ref.predict_proba(_sk_float(Xt)), rtol=1e-12, atol=1e-15)


def test_distance_weights_give_the_whole_vote_to_neighbours_at_distance_zero(digits):
    X, y, _, _ = digits
    queries = X[:50]  # each is its own neighbour at distance 0; duplicates in the training set share the vote
    ref = KNeighborsClassifier(n_neighbors=4, weights="distance").fit(_sk_float(X), y)
    ours = FastKNNClassifier(deskew=False, n_components=None).fit(X, y)
    np.testing.assert_array_equal(ours.predict_proba(queries), ref.predict_proba(_sk_float(queries)))
    np.testing.assert_array_equal(ours.predict(queries), y[:50])


def test_any_numeric_input_dtype_gives_the_same_answer(digits):
    X, y, Xt, _ = digits
    model = FastKNNClassifier().fit(X, y)
    expected = model.predict(Xt)
    for dtype in (np.int16, np.float32, np.float64):
        np.testing.assert_array_equal(FastKNNClassifier().fit(X.astype(dtype), y).predict(Xt.astype(dtype)),
                                      expected)


def test_labels_keep_their_type(digits):
    X, y, Xt, _ = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    pred = FastKNNClassifier().fit(X, names[y]).predict(Xt)
    np.testing.assert_array_equal(pred, names[FastKNNClassifier().fit(X, y).predict(Xt)])


def test_chunks_and_threads_do_not_change_the_answer(digits):
    X, y, Xt, _ = digits
    base = FastKNNClassifier(chunk_size=1024, n_jobs=1).fit(X, y)
    dist, ind = base.kneighbors(Xt)
    for chunk_size, n_jobs in [(7, 1), (7, 2), (64, -1), (1, 2)]:
        other = FastKNNClassifier(chunk_size=chunk_size, n_jobs=n_jobs).fit(X, y)
        d2, i2 = other.kneighbors(Xt)
        np.testing.assert_array_equal(i2, ind)
        np.testing.assert_array_equal(d2, dist)


@pytest.mark.parametrize("torch_gemm", [False, True], ids=["numpy-gemm", "torch-gemm"])
def test_training_blocks_are_merged_exactly(digits, monkeypatch, torch_gemm):
    """The running top-k over training blocks (used above 65,536 rows) equals the one-block search."""
    from digitlab.models import knn

    X, y, Xt, _ = digits
    monkeypatch.setattr(knn, "_torch_multiplies", lambda columns: torch_gemm)
    model = FastKNNClassifier(deskew=False, n_components=None).fit(X, y)
    expected = model.kneighbors(Xt)
    monkeypatch.setattr(knn, "_BLOCK", 256)  # 12 blocks of 256 rows for 3,000 training images
    dist, ind = model.kneighbors(Xt)
    np.testing.assert_array_equal(ind, expected[1])
    np.testing.assert_array_equal(dist, expected[0])


@pytest.mark.parametrize("torch_gemm", [False, True], ids=["numpy-gemm", "torch-gemm"])
def test_either_gemm_finds_scikit_learns_neighbours(digits, monkeypatch, torch_gemm):
    """The scores come from NumPy's or PyTorch's GEMM depending on the CPU and the width; both give the exact
    neighbours, the ones scikit-learn finds."""
    from digitlab.models import knn

    X, y, Xt, _ = digits
    monkeypatch.setattr(knn, "_torch_multiplies", lambda columns: torch_gemm)
    dist, ind = FastKNNClassifier(deskew=False, n_components=None, n_neighbors=5).fit(X, y).kneighbors(Xt)
    ref_dist, ref_ind = KNeighborsClassifier(n_neighbors=5).fit(X, y).kneighbors(Xt)
    np.testing.assert_array_equal(ind, ref_ind)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-12)


def test_the_default_classifier_predicts_the_same_with_either_gemm(digits, monkeypatch):
    from digitlab.models import knn

    X, y, Xt, _ = digits
    predictions = []
    for torch_gemm in (False, True):
        monkeypatch.setattr(knn, "_torch_multiplies", lambda columns, use=torch_gemm: use)
        predictions.append(FastKNNClassifier().fit(X, y).predict(Xt))
    np.testing.assert_array_equal(*predictions)


def test_projected_search_finds_the_exact_nearest_in_the_projected_space(digits):
    """Narrow rows take the tiled path (group minima tile by tile, candidates' scores recomputed): its neighbours
    are the exact nearest of a float64 brute-force search over the same projected features."""
    from digitlab.models import knn

    X, y, Xt, _ = digits
    model = FastKNNClassifier(deskew=False, n_components=20, rerank=None, n_neighbors=6).fit(X, y)
    assert model._fit_matrix_.shape[1] <= knn._TILED_MAX_COLUMNS
    train = model._fit_matrix_[:len(X), :-1].astype(np.float64)
    queries = model._query_features(Xt).astype(np.float64)
    sq = ((queries[:, None, :] - train[None, :, :]) ** 2).sum(axis=2)
    ref_ind = np.argsort(sq, axis=1, kind="stable")[:, :6]
    dist, ind = model.kneighbors(Xt)
    np.testing.assert_array_equal(ind, ref_ind)
    np.testing.assert_allclose(dist, np.sqrt(np.take_along_axis(sq, ref_ind, axis=1)), rtol=1e-6)


@pytest.mark.parametrize("torch_gemm", [False, True], ids=["numpy-gemm", "torch-gemm"])
@pytest.mark.parametrize("block", [65536, 1024], ids=["one-block", "3-blocks"])
def test_tiles_and_whole_block_scores_find_the_same_neighbours(digits, monkeypatch, torch_gemm, block):
    from digitlab.models import knn

    X, y, Xt, _ = digits
    monkeypatch.setattr(knn, "_torch_multiplies", lambda columns: torch_gemm)
    monkeypatch.setattr(knn, "_BLOCK", block)
    model = FastKNNClassifier(n_neighbors=5).fit(X, y)
    tiled = model.kneighbors(Xt)
    calls = []
    whole = knn._candidates_by_scores
    monkeypatch.setattr(knn, "_candidates_by_scores", lambda *a: calls.append(1) or whole(*a))
    monkeypatch.setattr(knn, "_TILED_MAX_COLUMNS", 0)  # every width takes the whole block's scores
    dist, ind = model.kneighbors(Xt)
    assert calls  # the other path did run
    np.testing.assert_array_equal(ind, tiled[1])
    np.testing.assert_allclose(dist, tiled[0], rtol=1e-6)


def test_projection_and_deskewing_keep_accuracy_close_to_exact(digits):
    X, y, Xt, yt = digits
    exact = FastKNNClassifier(deskew=False, n_components=None).fit(X, y).score(Xt, yt)
    projected = FastKNNClassifier(deskew=False, n_components=50).fit(X, y).score(Xt, yt)
    defaults = FastKNNClassifier().fit(X, y).score(Xt, yt)
    assert projected >= exact - 0.01
    assert defaults >= exact  # deskewing helps k-NN: 98.5 % against 97.1 % on full MNIST


def test_shift_augmentation_stores_five_times_the_rows_in_order(digits):
    from digitlab.data.augment import ONE_PIXEL_SHIFTS, shift_image

    X, y, _, _ = digits
    X, y = X[:500], y[:500]
    model = FastKNNClassifier(deskew=False, n_components=None, augment="shift", n_neighbors=1).fit(X, y)
    assert model.n_samples_fit_ == 5 * len(X)
    for s, (dx, dy) in enumerate(ONE_PIXEL_SHIFTS, start=1):
        ind = model.kneighbors(shift_image(X[:20], dx, dy), return_distance=False)
        np.testing.assert_array_equal(ind[:, 0], s * len(X) + np.arange(20))


def _in_doubt(model, plain, X_query, y):
    """Rows whose ``rerank_window`` nearest (by ``plain``, the same search without re-ranking) disagree, and
    each row's ``rerank_candidates`` nearest."""
    near = plain.kneighbors(X_query, n_neighbors=model.rerank_candidates, return_distance=False)
    labels = y[near[:, :model.rerank_window]]
    return (labels != labels[:, :1]).any(axis=1), near


def test_rerank_changes_only_the_queries_in_doubt_and_only_among_their_candidates(digits):
    from digitlab.models.distortion import idm_distances
    from digitlab.models.features import deskew

    X, y, Xt, _ = digits
    plain = FastKNNClassifier(rerank=None).fit(X, y)
    model = FastKNNClassifier().fit(X, y)  # rerank='auto' with deskewing: the image distortion model
    doubt, near = _in_doubt(model, plain, Xt, y)
    assert 0 < doubt.sum() < len(Xt) // 4
    dist, ind = model.kneighbors(Xt)
    plain_dist, plain_ind = plain.kneighbors(Xt)
    np.testing.assert_array_equal(ind[~doubt], plain_ind[~doubt])
    np.testing.assert_array_equal(dist[~doubt], plain_dist[~doubt])
    np.testing.assert_array_equal(model.predict(Xt)[~doubt], plain.predict(Xt)[~doubt])
    for row in np.flatnonzero(doubt):
        assert set(ind[row]) <= set(near[row])
    # The re-ranked distances are the IDM distances between the deskewed images, both rounded to float16.
    row = np.flatnonzero(doubt)[0]
    half = lambda A: deskew(A).astype(np.float16).astype(np.float32)  # noqa: E731
    idm = np.sqrt(idm_distances(half(Xt[row:row + 1]), half(X[ind[row]])[None]))[0]
    np.testing.assert_array_equal(dist[row], idm)


def test_rerank_every_query_and_its_candidates_at_least_k(digits):
    X, y, Xt, yt = digits
    plain = FastKNNClassifier(rerank=None).fit(X, y)
    every = FastKNNClassifier(rerank_window=None).fit(X, y)
    near = plain.kneighbors(Xt, n_neighbors=every.rerank_candidates, return_distance=False)
    ind = every.kneighbors(Xt, return_distance=False)
    assert all(set(ind[r]) <= set(near[r]) for r in range(len(Xt)))
    assert (ind != plain.kneighbors(Xt, return_distance=False)).any(axis=1).mean() > 0.5
    few = FastKNNClassifier(rerank_window=None, rerank_candidates=2).fit(X, y)  # searches n_neighbors=4 anyway
    assert few.kneighbors(Xt[:5], return_distance=False).shape == (5, 4)
    assert every.score(Xt, yt) >= plain.score(Xt, yt)


def test_rerank_helps_on_the_mini_set(digits):
    X, y, Xt, yt = digits
    assert FastKNNClassifier().fit(X, y).score(Xt, yt) > FastKNNClassifier(rerank=None).fit(X, y).score(Xt, yt)


def test_rerank_auto_leaves_the_plain_search_alone_without_deskewing(digits):
    X, y, Xt, _ = digits
    auto = FastKNNClassifier(deskew=False).fit(X, y)
    assert auto._images_ is None
    np.testing.assert_array_equal(auto.kneighbors(Xt)[1], FastKNNClassifier(deskew=False, rerank=None).fit(X, y)
                                  .kneighbors(Xt)[1])
    idm = FastKNNClassifier(deskew=False, rerank="idm").fit(X, y)
    assert (idm.kneighbors(Xt)[1] != auto.kneighbors(Xt)[1]).any()


def test_rerank_compares_the_shifted_copies_as_shifted_images(digits):
    from digitlab.data.augment import ONE_PIXEL_SHIFTS, shift_image

    X, y, _, _ = digits
    X, y = X[:300], y[:300]
    model = FastKNNClassifier(deskew=False, n_components=None, augment="shift", rerank="idm", rerank_window=None,
                              n_neighbors=1).fit(X, y)
    images = X.reshape(-1, 28, 28)
    framed = np.flatnonzero(images[:, 2:-2, 2:-2].sum(axis=(1, 2)) == images.sum(axis=(1, 2)))[:10]
    for s, (dx, dy) in enumerate(ONE_PIXEL_SHIFTS, start=1):
        # Two pixels away: at IDM distance 0 from the copy shifted one pixel that way (the warp takes the rest),
        # not from the original.
        dist, ind = model.kneighbors(shift_image(X[framed], 2 * dx, 2 * dy))
        np.testing.assert_array_equal(ind[:, 0], s * len(X) + framed)
        np.testing.assert_array_equal(dist[:, 0], 0)


def test_deskew_shift_and_rerank_need_images():
    X = np.zeros((10, 20))
    y = np.arange(10) % 2
    with pytest.raises(ValueError, match="784 columns"):
        FastKNNClassifier(n_components=None).fit(X, y)
    with pytest.raises(ValueError, match="784 columns"):
        FastKNNClassifier(deskew=False, augment="shift").fit(X, y)
    with pytest.raises(ValueError, match="rerank='idm' works on 28x28 images"):
        FastKNNClassifier(deskew=False, rerank="idm").fit(X, y)
    with pytest.raises(ValueError, match="weights"):
        FastKNNClassifier(weights="inverse").fit(np.zeros((10, 784)), y)


def test_vote_denoising_equals_scikit_learns_multioutput_classifier(noisy):
    X, Y, Xt, _ = noisy
    ref = KNeighborsClassifier(n_neighbors=5).fit(_sk_float(X), Y).predict(_sk_float(Xt))
    ours = FastKNNDenoiser(mode="vote", n_neighbors=5, weights="uniform", n_components=None).fit(X, Y).predict(Xt)
    assert ours.dtype == np.uint8 and ours.shape == Y[:len(Xt)].shape
    np.testing.assert_array_equal(ours, ref)


def test_weighted_vote_denoising_equals_scikit_learns(noisy):
    X, Y, Xt, _ = noisy
    ref = KNeighborsClassifier(n_neighbors=4, weights="distance").fit(_sk_float(X), Y).predict(_sk_float(Xt[:40]))
    ours = FastKNNDenoiser(mode="vote", n_neighbors=4, weights="distance", n_components=None).fit(X, Y)
    np.testing.assert_array_equal(ours.predict(Xt[:40]), ref)


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_mean_denoising_equals_scikit_learns_regressor_rounded(noisy, weights):
    X, Y, Xt, _ = noisy
    ref = KNeighborsRegressor(n_neighbors=5, weights=weights).fit(_sk_float(X), Y).predict(_sk_float(Xt))
    ours = FastKNNDenoiser(mode="mean", n_neighbors=5, weights=weights, n_components=None).fit(X, Y).predict(Xt)
    assert ours.dtype == np.uint8
    np.testing.assert_array_equal(ours, np.rint(ref).astype(np.uint8))


def test_default_denoiser_beats_the_seed_recipe(noisy):
    X, Y, Xt, Yt = noisy
    rmse = lambda P: np.sqrt(np.mean((P.astype(float) - Yt) ** 2))  # noqa: E731
    seed = FastKNNDenoiser(mode="vote", n_neighbors=5, weights="uniform", n_components=None).fit(X, Y)
    assert rmse(FastKNNDenoiser().fit(X, Y).predict(Xt)) < rmse(seed.predict(Xt))


def test_denoiser_augmentation_shifts_noisy_and_clean_images_together(noisy):
    from digitlab.data.augment import shift_image

    X, Y, _, _ = noisy
    X, Y = X[:300], Y[:300]
    model = FastKNNDenoiser(mode="vote", n_neighbors=1, n_components=None, augment="shift").fit(X, Y)
    np.testing.assert_array_equal(model.predict(shift_image(X[:10], 1, 0)), shift_image(Y[:10], 1, 0))


def test_denoiser_augmentation_needs_image_targets(noisy):
    X, Y, _, _ = noisy
    with pytest.raises(ValueError, match="784 columns"):
        FastKNNDenoiser(augment="shift").fit(X[:50], Y[:50, 0])


def test_float_targets_give_float_means():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(40, 5)), rng.normal(size=(40, 3))
    pred = FastKNNDenoiser(n_components=None, weights="uniform", n_neighbors=3).fit(X, Y).predict(X[:4])
    ref = KNeighborsRegressor(n_neighbors=3).fit(X, Y).predict(X[:4])
    assert pred.dtype == np.float64
    np.testing.assert_allclose(pred, ref, rtol=1e-12)


@pytest.mark.parametrize("make", [
    lambda: FastKNNClassifier(augment="shift"),
    lambda: FastKNNDenoiser(mode="vote"),
])
def test_skops_round_trip_predicts_identically(tmp_path, digits, noisy, make):
    import skops.io as sio

    model = make()
    if isinstance(model, FastKNNClassifier):
        X, y, Xt, _ = digits
        X, y = X[:1000], y[:1000]
    else:
        X, y, Xt, _ = noisy
    model.fit(X, y)
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert set(untrusted) <= {"digitlab.models.knn.FastKNNClassifier", "digitlab.models.knn.FastKNNDenoiser"}
    loaded = sio.load(path, trusted=untrusted)
    np.testing.assert_array_equal(loaded.predict(Xt), model.predict(Xt))


@pytest.mark.parametrize("name,cls", [("knn-fast", FastKNNClassifier), ("knn-fast-denoise", FastKNNDenoiser)])
def test_registry_builds_the_engine_with_its_signature_defaults(name, cls):
    model = registry.make(name)
    assert type(model) is cls
    assert registry.parameters(name) == cls().get_params()
