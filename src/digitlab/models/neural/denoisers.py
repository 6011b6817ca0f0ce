"""The neural denoisers: the autoencoder notebook's 784-10-784 autoencoder and a small convolutional U-Net.

Each takes noisy (n, 784) rows on the 0..255 scale (any range: digitlab's noise is unclipped) and, to fit,
the clean (n, 784) uint8 rows as ``y``; ``predict`` returns clean uint8 rows.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import MultiOutputMixin
from sklearn.utils._param_validation import InvalidParameterError, StrOptions
from torch.nn import functional as F

from ...data.noise import parse_noise
from ...errors import UsageError
from ...shapes import N_PIXELS, SIDE
from . import networks, storage
from .augment import add_noise
from .base import NetEstimator
from .compute import PRECISIONS
from .networks import LIMITS
from .params import Param, count


class _DenoiserBase(MultiOutputMixin, NetEstimator):
    _output_activation = "Sigmoid"  # applied to the net's logits by the loss and by predict

    def fit(self, X, y):
        """Train on noisy rows X (0..255 scale, any range) and clean rows y (n, n_pixels) uint8; returns self."""
        self._validate_params()
        X, y = self._check_X(X, y, reset=True)
        if X.shape[0] < 2:
            raise InvalidParameterError(f"{type(self).__name__} needs at least 2 training images, got 1 sample.")
        Y = np.asarray(y, dtype=np.float32)
        if Y.ndim == 1:
            Y = Y[:, None]
        self.n_outputs_ = Y.shape[1]
        if self._image_input and self.n_outputs_ > N_PIXELS:
            raise ValueError(f"{type(self).__name__} outputs 28x28 images: y must have at most {N_PIXELS} columns.")
        self._fit_tensors(X, self._encode_targets(torch.tensor(np.clip(Y, 0, 255) / 255.0)))
        return self

    def _encode_targets(self, T: torch.Tensor) -> torch.Tensor:
        if self._image_input:
            T = F.pad(T, (0, N_PIXELS - T.shape[1])).reshape(-1, 1, SIDE, SIDE)
        return T

    def _loss(self, out, target):
        return F.mse_loss(torch.sigmoid(out), target)

    def _evaluate(self, net, X, T):
        mse = float(F.mse_loss(torch.sigmoid(self._forward(net, X)), T))
        return mse, -mse  # higher score is better

    def predict(self, X) -> np.ndarray:
        """Cleaned rows (n, n_outputs) uint8 on the 0..255 scale."""
        out = torch.sigmoid(self._predict_raw(X)).flatten(1)[:, :self.n_outputs_]
        return np.rint(out.numpy() * 255).astype(np.uint8)

    def _target_info(self) -> dict:
        return {"n_outputs": int(self.n_outputs_)}

    def _set_target_info(self, info: dict) -> None:
        self.n_outputs_ = storage.want(info, "n_outputs", int, lambda v: 1 <= v <= N_PIXELS,
                                       f"an integer from 1 to {N_PIXELS}")

    def _config_facts(self) -> dict:
        return {**super()._config_facts(), "n_outputs": self.n_outputs_}


class DAEMLPDenoiser(_DenoiserBase):
    """The autoencoder notebook's denoising autoencoder 784 -> 10 (ReLU) -> 784 (sigmoid), L2 loss, Adam."""

    _image_input = False
    _net_names = ("DAEMLP",)
    _own_params = {"n_latent": Param(10, "int", "Size of the code.", (count(*LIMITS["n_latent"]),))}
    _shared_defaults = dict(epochs=5, batch_size=64, schedule="constant", patience=3)

    def _net_spec(self):
        return "DAEMLP", networks.config_json("DAEMLP", n_inputs=self.n_features_in_, n_latent=self.n_latent,
                                              n_outputs=self.n_outputs_)


class ConvDenoiser(_DenoiserBase):
    """A small U-Net denoiser (28 -> 14 -> 7 and back, skip connections, batch norm) trained on L2 loss with
    AdamW and a one-cycle schedule. Inputs are centred on the noisy training set's mean, so it copes with
    heavy, unclipped noise. With its defaults (12 epochs) and fresh noise (``digitlab denoise dae-conv``) it
    measured 30.21 dB at uniform:100 in 7.2-7.5 minutes on 2 cores and 22.00 dB at uniform:500 (knn-denoise:
    11.97 dB), benchmarks/RESULTS.md; ``epochs=20, lr=3e-3`` gives 30.28 dB and 22.07 dB in 1.7x the epochs.
    """

    _net_names = ("ConvDenoiser",)
    _own_params = {
        "width": Param(16, "int", "Channels at full resolution (doubled at each of the two lower levels).",
                       (count(*LIMITS["width"]),)),
        "n_blocks": Param(2, "int", "conv3-BN-ReLU layers per level.", (count(*LIMITS["n_blocks"]),)),
        "precision": Param("auto", "{'auto', 'float32', 'bfloat16'}",
                           "Training arithmetic (see ``resolve_precision``).", (StrOptions(set(PRECISIONS)),)),
        "noise": Param(None, "str or None",
                       "A noise spec (``uniform:500``, see :mod:`digitlab.data.noise`): every training batch gets "
                       "fresh noise of that kind on its clean targets, so the net never sees the same noisy digit "
                       "twice (``digitlab denoise`` sets it to the task's noise). None trains on the noisy rows X "
                       "as given. The validation split always uses X as given.", (str, None)),
    }
    # 12 epochs at a peak rate of 6e-3 (benchmarks/RESULTS.md, "Seventh session" under dae-conv): 30.21 dB at
    # uniform:100 in 7.2-7.5 min on 2 cores, +10.03 dB over knn-denoise at uniform:500. The defaults before, 20 epochs
    # at 3e-3, gave 30.28 dB and +10.10 dB for 1.7x the epochs; 12 epochs at 3e-3 only 30.10 dB, 14 at 3e-3 +9.99 dB.
    _shared_defaults = dict(epochs=12, lr=6e-3, weight_decay=1e-4, validation_fraction=0.02, patience=3)

    def _net_spec(self):
        return "ConvDenoiser", networks.config_json("ConvDenoiser", width=self.width, n_blocks=self.n_blocks)

    def _noise_model(self):
        """The parsed ``noise`` parameter, or None."""
        if self.noise is None:
            return None
        try:
            return parse_noise(str(self.noise))
        except UsageError as exc:
            raise InvalidParameterError(str(exc)) from None

    def _check_params(self):
        self._noise_model()

    def _check_data(self):
        if self._noise_model() is not None and self.n_outputs_ != self.n_features_in_:
            raise InvalidParameterError(
                f"noise={self.noise!r} draws the inputs from the clean targets, so X and y need the same number of "
                f"columns; got {self.n_features_in_} and {self.n_outputs_}.")

    def _augment(self, xb, generator, target):
        noise = self._noise_model()
        if noise is None:
            return xb
        clean = torch.round(target.flatten(1)[:, :self.n_features_in_] * 255)
        if clean.device.type == "cpu":  # digitlab.data.noise's own draw: the numbers CPU training always had
            seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
            return self._to_tensor(noise.apply(clean.to(torch.uint8).numpy(), seed))
        return self._standardise(add_noise(clean, noise, generator))


__all__ = ["DAEMLPDenoiser", "ConvDenoiser"]
