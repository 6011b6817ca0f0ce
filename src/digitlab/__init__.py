"""digitlab: handwritten-digit recognition and denoising on MNIST-style data."""

from ._version import __version__
