"""The draw-a-digit web app and its JSON API (FastAPI + uvicorn): ``create_app`` builds the app around a model,
``run`` serves it (``digitlab serve``)."""

from .app import create_app
from .server import run

__all__ = ["create_app", "run"]
