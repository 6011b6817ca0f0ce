"""How fast FastCNN (the fast preset's net until PoolFirstCNN replaced it) can train on this CPU, whatever the data:
seconds per training step (forward, backward, AdamW) on random batches, for a few widths and both memory layouts,
and what that makes one epoch of 57,000 images (the preset's training split): the floor under the FastCNN times
of ``neural.py fast`` in RESULTS.md.

    .venv/bin/python benchmarks/fast_steps.py [--batch-size 256] [--steps 40]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from neural import seconds_per_step  # noqa: E402  (beside this script)

from digitlab.models.neural import networks  # noqa: E402

WIDTHS = [(16, 32, 64), (8, 32, 64), (8, 16, 32), (12, 32, 64)]
EPOCH_IMAGES = 57_000


def fast_cnn_step(widths, channels_last: bool, batch_size: int, steps: int) -> float:
    torch.manual_seed(0)
    net = networks.FastCNN(networks.FastCNNConfig(widths=tuple(widths)))
    x, y = torch.randn(batch_size, 1, 28, 28), torch.randint(0, 10, (batch_size,))
    if channels_last:
        net, x = net.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    return seconds_per_step(net, x, y, steps, warmup=5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=40)
    args = ap.parse_args()
    for widths in WIDTHS:
        for channels_last in (True, False):
            s = fast_cnn_step(widths, channels_last, args.batch_size, args.steps)
            layout = "channels-last" if channels_last else "NCHW"
            print(f"widths {widths} {layout}: {1000 * s:.1f} ms/step, "
                  f"{s * EPOCH_IMAGES / args.batch_size:.1f} s per epoch", flush=True)


if __name__ == "__main__":
    main()
