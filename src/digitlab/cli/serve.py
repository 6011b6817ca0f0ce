"""``digitlab serve``: the draw-a-digit page and its JSON API on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import Output, app


@app.command()
def serve(
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Classifier file written by digitlab "
                                         "(default: the CNN shipped with digitlab).", dir_okay=False),
    denoiser: Optional[Path] = typer.Option(None, "--denoiser", help="Denoiser file: the page also shows the "
                                            "cleaned digit.", dir_okay=False),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; the default answers this "
                             "machine only."),
    port: int = typer.Option(8000, "--port", "-p", help="Port to listen on (0: any free port)."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Server processes sharing the port, each "
                                          "with its own copy of the models (default: one per CPU core, at most "
                                          "4, on Linux; 1 elsewhere).", show_default=False),
) -> None:
    """Serve a page where you draw a digit and see the prediction (and the cleaned image with --denoiser),
    and its JSON API (POST /api/predict; docs at /docs). Ctrl-C stops it."""
    import gc

    # Startup imports PyTorch, scikit-learn and FastAPI: some 250,000 objects that live as long as the server.
    # The cyclic collector walked them again and again while they were created: with it off, the median start
    # fell from 2.51 s to 1.93 s (benchmarks/RESULTS.md, "Startup"). make_server freezes them and turns it on.
    gc.disable()
    try:
        _serve(model, denoiser, host, port, workers)
    finally:
        gc.enable()


def _serve(model: Optional[Path], denoiser: Optional[Path], host: str, port: int, workers: Optional[int]) -> None:
    from ..serve.server import is_loopback, run
    from ..serve.workers import default_workers

    out = Output()

    def ready(url: str) -> None:
        out.say(f"digitlab serve: {url}  (API docs at {url}docs; Ctrl-C stops)")
        if not is_loopback(host):
            out.warn(f"listening on {host}: anyone who can reach this machine can use the server.")

    run(model, denoiser, host, port, workers=default_workers() if workers is None else workers, on_ready=ready)
