"""Metric definitions, in one place: classification scores and denoising quality."""

from __future__ import annotations

import numpy as np

from ..shapes import IMAGE_SHAPE, PIXEL_MAX


def accuracy(y_true, y_pred) -> float:
    """Fraction of predictions equal to the truth."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return float(np.mean(y_true == y_pred)) if len(y_true) else float("nan")


def rmse(clean, cleaned) -> float:
    """Root mean squared error over all pixels, on the 0..255 scale (seed 000's score)."""
    diff = np.asarray(clean, dtype=np.float64) - np.asarray(cleaned, dtype=np.float64)
    return float(np.sqrt(np.mean(diff * diff)))


def psnr(clean, cleaned) -> float:
    """Peak signal-to-noise ratio in dB: 20 log10(255 / RMSE); infinite for a perfect copy."""
    error = rmse(clean, cleaned)
    return float("inf") if error == 0 else float(20.0 * np.log10(PIXEL_MAX / error))


def ssim(clean, cleaned) -> float:
    """Mean structural similarity over the images (scikit-image, 28x28, data range 255)."""
    from skimage.metrics import structural_similarity

    clean = np.asarray(clean, dtype=np.float64).reshape(-1, *IMAGE_SHAPE)
    cleaned = np.asarray(cleaned, dtype=np.float64).reshape(-1, *IMAGE_SHAPE)
    return float(np.mean([structural_similarity(a, b, data_range=PIXEL_MAX) for a, b in zip(clean, cleaned)]))


def denoise_scores(clean, noisy, cleaned) -> dict[str, float]:
    """RMSE, PSNR and SSIM of the cleaned images, and RMSE of the noisy input clipped to 0..255."""
    noisy_clipped = np.clip(np.asarray(noisy, dtype=np.float64), 0, PIXEL_MAX)
    return {
        "rmse": rmse(clean, cleaned),
        "psnr": psnr(clean, cleaned),
        "ssim": ssim(clean, cleaned),
        "noisy_rmse": rmse(clean, noisy_clipped),
        "noisy_psnr": psnr(clean, noisy_clipped),
    }


# ----------------------------------------------------------------------------- classification


def binary_scores(y_true, y_pred) -> dict:
    """Confusion matrix (rows: actual negative/positive), precision, recall and F1 of a binary prediction."""
    from sklearn.metrics import confusion_matrix, f1_score, precision_score, recall_score

    y_true, y_pred = np.asarray(y_true, dtype=bool), np.asarray(y_pred, dtype=bool)
    return {
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=[False, True]).tolist(),
        "precision": float(precision_score(y_true, y_pred, zero_division=0)),
        "recall": float(recall_score(y_true, y_pred, zero_division=0)),
        "f1": float(f1_score(y_true, y_pred, zero_division=0)),
    }


def threshold_for_precision(y_true, scores, target: float) -> dict:
    """The lowest decision threshold whose precision reaches ``target``, with the precision and recall there.

    Predicting positive means ``score >= threshold``. All three values are None when no threshold
    reaches the target.
    """
    from sklearn.metrics import precision_recall_curve

    precisions, recalls, thresholds = precision_recall_curve(np.asarray(y_true, dtype=bool), scores)
    # The curve's last point (precision 1, recall 0) has no threshold.
    reached = np.flatnonzero(precisions[:-1] >= target)
    if len(reached) == 0:
        return {"threshold": None, "precision_at_threshold": None, "recall_at_threshold": None}
    i = int(reached[0])
    return {"threshold": float(thresholds[i]), "precision_at_threshold": float(precisions[i]),
            "recall_at_threshold": float(recalls[i])}


def roc_auc(y_true, scores) -> float:
    """Area under the ROC curve of binary scores (probabilities or decision values)."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(np.asarray(y_true, dtype=bool), scores))


def error_matrix(confusion) -> np.ndarray:
    """Confusion matrix divided by each row's total (rate of each error per actual class), diagonal zeroed."""
    confusion = np.asarray(confusion, dtype=np.float64)
    totals = confusion.sum(axis=1, keepdims=True)
    rates = np.divide(confusion, totals, out=np.zeros_like(confusion), where=totals > 0)
    np.fill_diagonal(rates, 0.0)
    return rates


def per_class_scores(y_true, y_pred, labels) -> list[dict]:
    """Precision, recall, F1 and support of each class, in the order of ``labels``."""
    from sklearn.metrics import precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return [{"label": int(label), "precision": float(pi), "recall": float(ri), "f1": float(fi), "support": int(si)}
            for label, pi, ri, fi, si in zip(labels, p, r, f, s)]


def multilabel_scores(Y_true, Y_pred, names) -> dict:
    """F1 averaged over labels (macro) and by support (weighted), exact-match accuracy, and each label's scores."""
    from sklearn.metrics import f1_score, precision_recall_fscore_support

    Y_true, Y_pred = np.asarray(Y_true, dtype=bool), np.asarray(Y_pred, dtype=bool)
    p, r, f, s = precision_recall_fscore_support(Y_true, Y_pred, zero_division=0)
    return {
        "f1_macro": float(f1_score(Y_true, Y_pred, average="macro", zero_division=0)),
        "f1_weighted": float(f1_score(Y_true, Y_pred, average="weighted", zero_division=0)),
        "exact_match": float(np.mean(np.all(Y_true == Y_pred, axis=1))),
        "labels": [{"label": name, "precision": float(pi), "recall": float(ri), "f1": float(fi), "support": int(si)}
                   for name, pi, ri, fi, si in zip(names, p, r, f, s)],
    }


def confusion_matrix(y_true, y_pred, labels) -> np.ndarray:
    """Counts of (actual row, predicted column) over ``labels``."""
    from sklearn.metrics import confusion_matrix as sk_confusion_matrix

    return sk_confusion_matrix(y_true, y_pred, labels=labels)


def most_confused(confusion, labels, n: int = 5) -> list[dict]:
    """The ``n`` most frequent errors as {actual, predicted, count}, largest first (off-diagonal cells > 0)."""
    confusion = np.asarray(confusion)
    cells = [(int(confusion[i, j]), i, j) for i in range(len(labels)) for j in range(len(labels))
             if i != j and confusion[i, j] > 0]
    cells.sort(key=lambda cell: (-cell[0], cell[1], cell[2]))
    return [{"actual": labels[i], "predicted": labels[j], "count": count} for count, i, j in cells[:n]]


def classification_report(y_true, y_pred, labels) -> dict:
    """What a classifier got right and wrong on labelled images: per-class precision, recall, F1 and support,
    F1 macro and weighted, the confusion matrix (rows actual, columns predicted) and the most confused pairs."""
    from sklearn.metrics import f1_score

    confusion = confusion_matrix(y_true, y_pred, labels)
    return {
        "labels": list(labels),
        "per_class": per_class_scores(y_true, y_pred, labels),
        "f1_macro": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "f1_weighted": float(f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0)),
        "confusion_matrix": confusion.tolist(),
        "most_confused": most_confused(confusion, labels),
    }
