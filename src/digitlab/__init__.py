"""digitlab: handwritten-digit recognition and denoising on MNIST-style data."""

__version__ = "0.1.0"
