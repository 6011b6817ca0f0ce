"""digitlab's PyTorch nets as scikit-learn estimators: training, model files and introspection.

Every estimator takes images as (n, 784) rows on the 0..255 scale and scales them inside. Classifiers predict
labels and probabilities; denoisers take noisy rows and the clean uint8 rows as ``y`` and predict clean rows.
Training (``fit``) is one loop for all: AdamW on seeded shuffled mini-batches, an optional one-cycle schedule,
an optional validation split with early stopping that keeps the best weights, a ``progress`` callback, a
checkpoint after every epoch and ``resume_from`` to continue from one; Ctrl-C keeps the best weights so far.
The same ``random_state`` on the same machine gives the same weights.

Modules: ``networks`` (the nn.Modules), ``params`` (the parameters, declared once), ``base`` (the estimator
base), ``training`` (the loop and its callbacks), ``augment``, ``compute`` (device, threads, precision),
``classifiers``, ``denoisers``, ``storage`` / ``files`` / ``checkpoints`` (the .safetensors files),
``describe`` (layers and training facts). ``device="auto"`` trains and predicts on a CUDA GPU when there is one.

Example::

    from digitlab.models.neural import CNNClassifier, save_net, load_net
    clf = CNNClassifier(preset="fast", random_state=0).fit(X_train, y_train)   # X_train (n, 784) uint8
    save_net(clf, "cnn.safetensors"); load_net("cnn.safetensors").score(X_test, y_test)
"""

import os

# Busy-waiting OpenMP threads starve everything else on a shared CPU: on 2 cores under load, a 2-thread run
# measured 4x slower than 1 thread with the default policy. This only takes effect if torch is not yet loaded.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .augment import random_affine, random_blur, random_elastic, random_stroke  # noqa: E402
from .base import NetEstimator, NeuralEstimator  # noqa: E402
from .classifiers import (CNN_PRESETS, OUTSIDE_AUGMENT, CNNClassifier, CNNEnsembleClassifier,  # noqa: E402
                          LeNet5Classifier, MLPClassifier)
from .compute import resolve_device, resolve_precision  # noqa: E402
from .denoisers import ConvDenoiser, DAEMLPDenoiser  # noqa: E402
from .describe import describe_net, training_facts  # noqa: E402
from .files import ESTIMATORS, load_net, load_net_with_header, read_header, save_net  # noqa: E402

__all__ = [
    "MLPClassifier", "LeNet5Classifier", "CNNClassifier", "CNNEnsembleClassifier", "DAEMLPDenoiser", "ConvDenoiser",
    "NeuralEstimator", "NetEstimator", "CNN_PRESETS", "OUTSIDE_AUGMENT", "ESTIMATORS",
    "save_net", "load_net", "load_net_with_header", "read_header", "describe_net", "training_facts",
    "random_affine", "random_elastic", "random_stroke", "random_blur", "resolve_precision", "resolve_device",
]
