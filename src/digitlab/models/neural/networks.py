"""The PyTorch networks behind digitlab's neural models: small, one class per net, each built from a config.

Every net reads a batch of images shaped (n, 1, 28, 28) — or (n, 784) for the fully connected ones —
already scaled and centred by its estimator (:mod:`digitlab.models.neural.base`), and returns logits
(classifiers) or pixel logits on the [0, 1] scale (denoisers). The configs are plain dataclasses so
that a saved model can be rebuilt from JSON without running any code; every number in a config is checked
against ``LIMITS`` when the config is made, so a model file cannot ask for a net of absurd size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ...shapes import N_PIXELS

# The range of every number a config holds (inclusive). The parameters that feed them take their valid
# ranges from here (digitlab.models.neural.params). The largest allowed nets are far beyond any use on
# 28x28 digits yet small enough to build: e.g. 4,096 channels in every CNN stage.
LIMITS: dict[str, tuple[float, float]] = {
    "n_inputs": (1, N_PIXELS), "n_outputs": (1, N_PIXELS), "n_classes": (2, 65_536),
    "n_hidden": (1, 65_536), "n_latent": (1, 65_536), "hidden": (1, 65_536),
    "channels": (1, 4_096), "widths": (1, 4_096), "width": (1, 1_024), "n_blocks": (1, 16),
    "dropout": (0.0, 1.0), "negative_slope": (0.0, 1.0),
}


class _Checked:
    """Base of the configs: every field is checked against ``LIMITS`` when a config is made."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(f.default, tuple):
                if not isinstance(value, (tuple, list)) or len(value) != len(f.default):
                    raise ValueError(f"{f.name} must be {len(f.default)} numbers, got {value!r}")
                for item in value:
                    _check_number(f.name, item, isinstance(f.default[0], int))
            else:
                _check_number(f.name, value, isinstance(f.default, int))


def _check_number(name: str, value: Any, integer: bool) -> None:
    low, high = LIMITS[name]
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        raise ValueError(f"{name} must be {'an integer' if integer else 'a number'} from {low:g} to {high:g}, "
                         f"got {value!r}")


@dataclass
class MLPConfig(_Checked):
    n_inputs: int = 784  # pixels in
    n_hidden: int = 400  # about half the inputs, as in the Kaggle post
    n_classes: int = 10  # digits
    negative_slope: float = 0.2  # leaky-ReLU slope: tf.nn.leaky_relu's default, as the seed used


class MLP(nn.Module):
    """The Kaggle post's shallow net: one hidden layer of leaky-ReLU units."""

    def __init__(self, config: MLPConfig):
        super().__init__()
        self.config = config
        self.hidden = nn.Linear(config.n_inputs, config.n_hidden)
        self.act = nn.LeakyReLU(config.negative_slope)
        self.out = nn.Linear(config.n_hidden, config.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.act(self.hidden(x.flatten(1))))


@dataclass
class LeNet5Config(_Checked):
    n_classes: int = 10  # digits
    channels: tuple[int, int] = (6, 16)  # filters of the two 5x5 'valid' convolutions
    hidden: tuple[int, int] = (120, 84)  # the two dense layers before the output
    negative_slope: float = 0.2  # leaky-ReLU slope, as the Kaggle post (tf.nn.leaky_relu)


class LeNet5(nn.Module):
    """The Kaggle post's LeNet-5-like CNN: conv5-pool-conv5-pool, then dense 120-84-10, leaky ReLU throughout."""

    def __init__(self, config: LeNet5Config):
        super().__init__()
        self.config = config
        c1, c2 = config.channels
        h1, h2 = config.hidden
        slope = config.negative_slope
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 5), nn.LeakyReLU(slope), nn.MaxPool2d(2),  # 28 -> 24 -> 12
            nn.Conv2d(c1, c2, 5), nn.LeakyReLU(slope), nn.MaxPool2d(2),  # 12 -> 8 -> 4
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c2 * 4 * 4, h1), nn.LeakyReLU(slope),
            nn.Linear(h1, h2), nn.LeakyReLU(slope),
            nn.Linear(h2, config.n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def _conv_bn(c_in: int, c_out: int, kernel: int, stride: int = 1, padding: int = 0) -> list[nn.Module]:
    """Convolution (no bias: batch norm has one), batch norm, ReLU."""
    return [nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


@dataclass
class CNNConfig(_Checked):
    n_classes: int = 10  # digits
    widths: tuple[int, int, int] = (32, 64, 128)  # channels of stage 1, stage 2 and the final 4x4 convolution
    dropout: float = 0.4  # after each stage and before the output layer


class CNN(nn.Module):
    """A modern small CNN: two stages of conv3-conv3-conv5/2 with batch norm, a 4x4 conv to a vector, dropout.

    28 -> 26 -> 24 -> 12 (stage 1), 12 -> 10 -> 8 -> 4 (stage 2), 4 -> 1 (a 4x4 convolution), then a linear
    layer. Strided 5x5 convolutions downsample instead of pooling, so the net learns how to.
    """

    def __init__(self, config: CNNConfig):
        super().__init__()
        self.config = config
        c1, c2, c3 = config.widths
        p = config.dropout
        self.features = nn.Sequential(
            *_conv_bn(1, c1, 3), *_conv_bn(c1, c1, 3), *_conv_bn(c1, c1, 5, 2, 2), nn.Dropout(p),
            *_conv_bn(c1, c2, 3), *_conv_bn(c2, c2, 3), *_conv_bn(c2, c2, 5, 2, 2), nn.Dropout(p),
            *_conv_bn(c2, c3, 4), nn.Flatten(), nn.Dropout(p),
        )
        self.out = nn.Linear(c3, config.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x))


@dataclass
class FastCNNConfig(_Checked):
    n_classes: int = 10  # digits
    widths: tuple[int, int, int] = (16, 32, 64)  # channels at 28x28, 14x14 and 7x7
    dropout: float = 0.1  # before the output layer


class FastCNN(nn.Module):
    """A tiny CNN for the fast preset: three conv3-BN-ReLU-maxpool blocks and a linear layer (about 29k weights)."""

    def __init__(self, config: FastCNNConfig):
        super().__init__()
        self.config = config
        c1, c2, c3 = config.widths
        self.features = nn.Sequential(
            *self._block(1, c1), *self._block(c1, c2), *self._block(c2, c3),  # 28 -> 14 -> 7 -> 3
            nn.Flatten(), nn.Dropout(config.dropout),
        )
        self.out = nn.Linear(c3 * 3 * 3, config.n_classes)

    @staticmethod
    def _block(c_in: int, c_out: int) -> list[nn.Module]:
        """Padded 3x3 convolution, batch norm, ReLU, 2x2 max-pool."""
        return [*_conv_bn(c_in, c_out, 3, 1, 1), nn.MaxPool2d(2)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x))


class PoolFirstCNN(FastCNN):
    """The fast preset's net: FastCNN with each block reordered conv3 -> max-pool -> BN -> ReLU.

    Pooling first (max and ReLU commute; batch norm then learns the pooled maps' statistics) leaves batch norm,
    ReLU and their backward passes a quarter of the values. On this project's 2-core CPU those kernels, not the
    convolutions, were more than half of FastCNN's training step: one epoch of full MNIST took a median of 4.34 s
    instead of 5.51 s, and reached 0.9921 on average over seeds 0-2 instead of 0.9910 (benchmarks/RESULTS.md,
    the fast preset). Same config and number of weights as FastCNN; the layers sit at other places of the state
    dict, so the weights of one never load into the other.
    """

    @staticmethod
    def _block(c_in: int, c_out: int) -> list[nn.Module]:
        """Padded 3x3 convolution, 2x2 max-pool, batch norm, ReLU."""
        conv, norm, relu = _conv_bn(c_in, c_out, 3, 1, 1)
        return [conv, nn.MaxPool2d(2), norm, relu]


@dataclass
class DAEMLPConfig(_Checked):
    n_inputs: int = 784  # noisy pixels in
    n_latent: int = 10  # the code: an 80-fold reduction, as in the autoencoder notebook
    n_outputs: int = 784  # clean pixels out


class DAEMLP(nn.Module):
    """The autoencoder notebook's denoising autoencoder: dense 784 -> 10 (ReLU), dense 10 -> 784 (sigmoid, applied by the loss)."""

    def __init__(self, config: DAEMLPConfig):
        super().__init__()
        self.config = config
        self.encoder = nn.Linear(config.n_inputs, config.n_latent)
        self.act = nn.ReLU()
        self.decoder = nn.Linear(config.n_latent, config.n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.act(self.encoder(x.flatten(1))))  # logits; sigmoid gives the pixels


@dataclass
class ConvDenoiserConfig(_Checked):
    width: int = 32  # channels at full resolution; doubled at 14x14 and at 7x7
    n_blocks: int = 2  # conv3-BN-ReLU layers per level


class ConvDenoiser(nn.Module):
    """A small U-Net: 28 -> 14 -> 7 and back, with skip connections; returns pixel logits (sigmoid gives [0, 1]).

    Batch norm on centred inputs keeps it from collapsing to blank images under heavy noise.
    """

    def __init__(self, config: ConvDenoiserConfig):
        super().__init__()
        self.config = config
        w, k = config.width, config.n_blocks

        def level(c_in: int, c_out: int) -> nn.Sequential:
            layers = _conv_bn(c_in, c_out, 3, 1, 1)
            for _ in range(k - 1):
                layers += _conv_bn(c_out, c_out, 3, 1, 1)
            return nn.Sequential(*layers)

        self.enc1 = level(1, w)  # 28x28
        self.enc2 = level(w, 2 * w)  # 14x14
        self.mid = level(2 * w, 4 * w)  # 7x7
        self.up2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2)  # 7 -> 14
        self.dec2 = level(4 * w, 2 * w)
        self.up1 = nn.ConvTranspose2d(2 * w, w, 2, stride=2)  # 14 -> 28
        self.dec1 = level(2 * w, w)
        self.out = nn.Conv2d(w, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        m = self.mid(F.max_pool2d(e2, 2))
        d2 = self.dec2(torch.cat([self.up2(m), e2], dim=1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
        return self.out(d1)


# Every net digitlab can rebuild from a saved file, by name: the allow-list load_net uses.
NETS: dict[str, tuple[type[nn.Module], type]] = {
    "MLP": (MLP, MLPConfig),
    "LeNet5": (LeNet5, LeNet5Config),
    "CNN": (CNN, CNNConfig),
    "FastCNN": (FastCNN, FastCNNConfig),
    "PoolFirstCNN": (PoolFirstCNN, FastCNNConfig),
    "DAEMLP": (DAEMLP, DAEMLPConfig),
    "ConvDenoiser": (ConvDenoiser, ConvDenoiserConfig),
}


def config_json(name: str, **fields: Any) -> dict[str, Any]:
    """The named net's whole config as plain JSON values (tuples become lists), defaults filled in."""
    return {k: _plain(v) for k, v in asdict(NETS[name][1](**fields)).items()}


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value.item() if hasattr(value, "item") else value  # NumPy scalars


def build(name: str, config: dict) -> nn.Module:
    """Build the named net from a plain config dict (lists become tuples); unknown names raise KeyError,
    unknown fields TypeError, numbers out of ``LIMITS`` ValueError."""
    net_cls, config_cls = NETS[name]
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}
    return net_cls(config_cls(**values))


def expected_state(name: str, config: dict) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    """Name -> (shape, dtype) of the named net's state dict, from a net built on the meta device: the
    shapes a file's tensors must have, known without allocating the net."""
    with torch.device("meta"):
        net = build(name, config)
    return {k: (tuple(v.shape), v.dtype) for k, v in net.state_dict().items()}
