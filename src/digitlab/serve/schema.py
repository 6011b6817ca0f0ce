"""The JSON the API speaks, as pydantic models and OpenAPI fragments: they document ``/docs``; requests are
checked by hand in ``app`` (faster, and each problem gets its own sentence)."""

from __future__ import annotations

from typing import Optional, Union

from pydantic import BaseModel, Field

from ..shapes import N_PIXELS

Label = Union[int, str]


class Top(BaseModel):
    label: Label
    probability: float


class Prediction(BaseModel):
    """One digit read: what the model saw and what it answered."""

    label: Label = Field(description="The predicted digit.")
    classes: Optional[list[Label]] = Field(description="The labels, in the order of `probabilities`.")
    probabilities: Optional[list[float]] = Field(description="One probability per class (null when the model "
                                                             "gives none).")
    top: list[Top] = Field(description="The three most probable labels, best first.")
    pixels: list[int] = Field(description=f"The {N_PIXELS} pixels (28 x 28 rows, 0..255, white on black) the "
                                          f"model saw: the image cropped, fitted into 20 x 20 and centred.")
    warnings: list[str] = Field(description="What was noticed while reading the image (two digits, noise...).")
    low_confidence: bool = Field(description="True when the image raised a warning or the top probability is low.")
    cleaned: Optional[list[int]] = Field(None, description="The denoiser's output for `pixels`, when one is loaded.")


class Problem(BaseModel):
    """Why a request got no prediction, in one sentence."""

    detail: str


class Health(BaseModel):
    status: str


class ModelFacts(BaseModel):
    kind: str = Field(description="The estimator's class.")
    model: Optional[str] = Field(description="The registry name it was trained as (cnn, knn-fast, ...).")
    task: Optional[str]
    dataset: Optional[str] = Field(description="The data it was trained on.")
    n_train: Optional[int]
    test_accuracy: Optional[float] = Field(description="Test accuracy recorded in the model file.")
    noise: Optional[str] = None
    psnr: Optional[float] = None
    source: Optional[str] = Field(description="The model file's name, or `pretrained` for the shipped model.")


class Loaded(BaseModel):
    model: ModelFacts
    denoiser: Optional[ModelFacts]
    low_confidence_below: float


PROBLEMS = {status: {"model": Problem, "description": text} for status, text in (
    (400, "Not an image, a blank drawing, an image too large in pixels, or a body that is not JSON."),
    (413, "The request body is larger than the server accepts."),
    (415, "A content type other than JSON, multipart/form-data or an image."),
    (422, "JSON of the wrong shape: pixels missing, not 784 of them, or outside 0..255."),
)}

PIXELS_BODY = {
    "type": "object", "required": ["pixels"],
    "properties": {
        "pixels": {"type": "array", "minItems": N_PIXELS, "maxItems": N_PIXELS,
                   "items": {"type": "number", "minimum": 0, "maximum": 255},
                   "description": "28 x 28 grey pixels, row by row; either dark on light or light on dark."},
        "preprocess": {"type": "boolean", "default": True,
                       "description": "Make the pixels MNIST-like first (crop, fit into 20 x 20, centre); false "
                                      "for pixels that already are, such as a row of MNIST."},
    },
}

PREDICT_BODY = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "A PNG or JPEG image of one digit."}}}},
    "application/json": {"schema": PIXELS_BODY},
    "image/png": {"schema": {"type": "string", "format": "binary"}},
    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
}}}
