"""Where a trained denoiser's error lies at uniform:HIGH, and what cheap fixes after training give: the squared
error by clean grey level, a projection onto the values the noise allows, flipped views averaged, several
models averaged. Each model denoises the same noisy test arrays as ``neural.py denoise --seed SEED``.

    .venv/bin/python benchmarks/denoise_probe.py MODEL.safetensors [MODEL2.safetensors ...] [--noise uniform:100]

``uniform:HIGH`` adds 0..HIGH-1 to each clean pixel, so the clean value lies in [noisy - HIGH + 1, noisy]
(and in [0, 255]): a denoiser's output clipped into that interval is never further from the truth.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from neural import noisy_test_images  # noqa: E402  (beside this script)

import digitlab  # noqa: E402
from digitlab.data.datasets import load_dataset  # noqa: E402
from digitlab.data.noise import parse_noise  # noqa: E402
from digitlab.evaluation.metrics import denoise_scores  # noqa: E402

LEVELS = [("0 (background)", 0, 0), ("1-49", 1, 49), ("50-204", 50, 204), ("205-252", 205, 252), ("253-255", 253, 255)]
# name -> view of (n, 28, 28) arrays; each is its own inverse, so the same function turns the output back
FLIPS = {
    "as is": lambda a: a,
    "left-right": lambda a: a[:, :, ::-1],
    "up-down": lambda a: a[:, ::-1],
    "turned 180": lambda a: a[:, ::-1, ::-1],
    "transposed": lambda a: a.transpose(0, 2, 1),
}


def score(clean: np.ndarray, noisy: np.ndarray, out: np.ndarray) -> str:
    s = denoise_scores(clean, noisy, np.clip(np.rint(out), 0, 255).astype(np.uint8))
    return f"RMSE {s['rmse']:.3f}, PSNR {s['psnr']:.2f} dB"


def views(model, noisy: np.ndarray) -> dict[str, np.ndarray]:
    """The model's output for each flipped view of the noisy images, flipped back, as float rows."""
    images = noisy.reshape(-1, 28, 28).astype(np.float32)
    out = {}
    for name, flip in FLIPS.items():
        cleaned = model.predict(np.ascontiguousarray(flip(images)).reshape(len(images), -1))
        out[name] = flip(cleaned.reshape(-1, 28, 28).astype(np.float32)).reshape(len(images), -1)
    return out


def by_level(clean: np.ndarray, out: np.ndarray) -> None:
    err = (out - clean.astype(np.float32)) ** 2
    print("| clean grey level | share of pixels | share of squared error | RMSE |\n| --- | --- | --- | --- |")
    for name, low, high in LEVELS:
        mask = (clean >= low) & (clean <= high)
        print(f"| {name} | {mask.mean():.3f} | {err[mask].sum() / err.sum():.3f} | {np.sqrt(err[mask].mean()):.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--noise", default="uniform:100")
    ap.add_argument("--seed", type=int, default=0, help="neural.py denoise's --seed")
    ap.add_argument("--data", default=os.environ.get("DIGITLAB_DATA", "/work/shared/datasets"))
    args = ap.parse_args()
    noise = parse_noise(args.noise)
    clean = load_dataset("mnist", args.data, download=False).X_test
    noisy = noisy_test_images(noise, clean, args.seed)
    averaged = []
    for path in args.models:
        model = digitlab.load_model(path)
        model = getattr(model, "model", model)
        out = views(model, noisy)
        print(f"\n## {path}\n")
        by_level(clean, out["as is"])
        for name, cleaned in out.items():
            print(f"- {name}: {score(clean, noisy, cleaned)}")
        print(f"- the five views averaged: {score(clean, noisy, np.mean(list(out.values()), axis=0))}")
        if noise.kind == "uniform":
            v = noisy.astype(np.float32)
            projected = np.clip(out["as is"], np.clip(v - noise.amount + 1, 0, 255), np.clip(v, 0, 255))
            changed = np.mean(np.rint(projected) != np.rint(out["as is"]))
            print(f"- clipped into the interval the noise allows: {score(clean, noisy, projected)} "
                  f"({changed:.2%} of the pixels changed)")
        averaged.append(out["as is"])
    if len(averaged) > 1:
        print(f"\nthe {len(averaged)} models averaged: {score(clean, noisy, np.mean(averaged, axis=0))}")


if __name__ == "__main__":
    main()
