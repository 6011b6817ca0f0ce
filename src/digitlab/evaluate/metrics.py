"""Metric definitions, in one place: classification scores and denoising quality."""

from __future__ import annotations

import numpy as np

PIXEL_MAX = 255.0


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

    clean = np.asarray(clean, dtype=np.float64).reshape(-1, 28, 28)
    cleaned = np.asarray(cleaned, dtype=np.float64).reshape(-1, 28, 28)
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
