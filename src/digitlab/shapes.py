"""The image geometry every part of digitlab shares: MNIST's 28x28 grey digits, stored as rows of 784 pixels."""

SIDE = 28  # images are SIDE x SIDE pixels
IMAGE_SHAPE = (SIDE, SIDE)
N_PIXELS = SIDE * SIDE  # 784: the length of one image row
BOX = 20  # MNIST fits each digit into a BOX x BOX square before centring it in the 28x28 field
PIXEL_MAX = 255  # pixels are uint8 0..255 on disk and in the API

__all__ = ["SIDE", "IMAGE_SHAPE", "N_PIXELS", "BOX", "PIXEL_MAX"]
