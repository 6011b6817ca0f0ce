"""Load on ``digitlab serve``: how fast it starts, and how it answers many clients at once.

    .venv/bin/python benchmarks/serve.py                               # 5,000 requests, 16 clients, PNG drawings
    .venv/bin/python benchmarks/serve.py --payload pixels --requests 2000 --clients 4
    .venv/bin/python benchmarks/serve.py --startups 5 --requests 0     # startup time only
    .venv/bin/python benchmarks/serve.py --serve-args "--workers 2"   # two server processes

The server is the real command (``digitlab serve --port 0`` in its own process, the shipped CNN, 127.0.0.1); the
clients are ``--clients`` asyncio tasks sharing one httpx connection pool in this process, each sending its next
request as soon as its last was answered, until ``--requests`` were sent or ``--max-seconds`` passed (the loop is
bounded in count and time). Payloads are MNIST test digits (mnist-mini's, the shipped subset) made to look like
what the page sends:

  png     the digit dark on a white 64 x 64 square, a PNG as the request body (image/png): what the page sends
  png280  the same on a 280 x 280 square: the page's pad at full size
  form    the 64 x 64 PNG as a multipart upload (a form, ``curl -F file=@digit.png``)
  png28   the 28 x 28 MNIST image itself as a PNG body
  pixels  ``{"pixels": [784 values]}`` as JSON

Reported: throughput (answers per second over the whole loop), latency percentiles (p50, p90, p99, max: from
sending a request to having its whole answer), errors (transport failures and any status but 200), how many labels
were right, the server's CPU per request (its processes' user + system time over the loop, from /proc) and the
client's, and the load average before and after. Startup: wall seconds from launching the command to the first
``/api/health`` answer, for ``--startups`` launches. ``calibration_s``: a fixed pure-Python loop timed at the start,
because this shared machine's speed varies by a third from minute to minute: compare runs at similar values.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SRC = Path(__file__).resolve().parent.parent / "src"
SERVE = [sys.executable, "-c", "from digitlab.cli import run; run()", "serve", "--port", "0"]
PAYLOADS = {"png": 64, "png280": 280, "form": 64, "png28": None, "pixels": None}  # name -> side drawn on


def launch(extra: list[str], timeout: float = 60.0) -> tuple[subprocess.Popen, str, float]:
    """Start ``digitlab serve``; return the process, its URL and the seconds until /api/health answered."""
    import httpx

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    started = time.perf_counter()
    process = subprocess.Popen(SERVE + extra, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = process.stdout.readline()  # "digitlab serve: http://127.0.0.1:PORT/ ..." once the port is open
    if not line.startswith("digitlab serve: "):
        process.kill()
        raise SystemExit(f"the server did not start: {line!r} {process.stderr.read()[-2000:]}")
    url = line.split()[2].rstrip("/")
    while time.perf_counter() - started < timeout:
        try:
            httpx.get(f"{url}/api/health", timeout=1.0).raise_for_status()
            return process, url, time.perf_counter() - started
        except httpx.TransportError:
            time.sleep(0.01)
    process.kill()
    raise SystemExit(f"/api/health did not answer within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def payloads(kind: str, n: int = 200) -> list[tuple[dict, int]]:
    """(httpx request arguments, expected label) for the first ``n`` mini test digits."""
    from PIL import Image

    from digitlab.data.datasets import load_dataset

    mini = load_dataset("mnist-mini")
    made = []
    for pixels, label in zip(mini.X_test[:n], mini.y_test[:n]):
        if kind == "pixels":
            made.append((dict(json={"pixels": pixels.tolist()}), int(label)))
            continue
        image = Image.fromarray(pixels.reshape(28, 28))
        if PAYLOADS[kind]:  # dark ink on a white square, as drawn on the page
            side = PAYLOADS[kind]
            image = Image.fromarray(255 - np.asarray(image.resize((side, side), Image.Resampling.BILINEAR)))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        if kind == "form":
            made.append((dict(files={"file": ("drawing.png", buffer.getvalue(), "image/png")}), int(label)))
        else:
            made.append((dict(content=buffer.getvalue(), headers={"content-type": "image/png"}), int(label)))
    return made


def encode(url: str, kwargs: dict) -> bytes:
    """The bytes of one keep-alive HTTP/1.1 POST /api/predict, built once by httpx and replayed."""
    import httpx

    request = httpx.Request("POST", f"{url}/api/predict", **kwargs)
    head = ["POST /api/predict HTTP/1.1", f"Host: {request.url.netloc.decode()}"]
    head += [f"{k}: {v}" for k, v in request.headers.items() if k.lower() != "host"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + request.read()


async def exchange(reader, writer, raw: bytes) -> tuple[int, bytes]:
    """Send one request on an open connection and read its answer: (status, body)."""
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    return status, await reader.readexactly(length)


async def hammer(url: str, bodies: list[tuple[dict, int]], n: int, clients: int, max_seconds: float) -> dict:
    """``clients`` connections sending ``n`` requests in all (at most ``max_seconds``); latencies, outcomes.

    Each client is one keep-alive connection replaying prepared request bytes: a load generator as light as
    wrk's, so that on a 2-core machine the clients take little of the CPU the server needs (httpx took about
    1 ms of CPU per request, as much as the server's own work)."""
    host, port = url.split("//")[1].split(":")
    raws = [(encode(url, kwargs), label) for kwargs, label in bodies]
    latencies: list[float] = []
    errors: dict[str, int] = {}
    right = issued = 0
    start = time.perf_counter()
    deadline = start + max_seconds

    async def one_client() -> None:
        nonlocal issued, right
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while issued < n and time.perf_counter() < deadline:
                raw, label = raws[issued % len(raws)]
                issued += 1
                t0 = time.perf_counter()
                try:
                    status, body = await exchange(reader, writer, raw)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, int(port))
                    continue
                latencies.append(time.perf_counter() - t0)
                if status != 200:
                    errors[str(status)] = errors.get(str(status), 0) + 1
                elif json.loads(body)["label"] == label:
                    right += 1
        finally:
            writer.close()

    await asyncio.gather(*(one_client() for _ in range(clients)))
    wall = time.perf_counter() - start
    ms = np.asarray(latencies) * 1e3
    return {"requests": issued, "answered": len(latencies), "errors": errors, "right": right, "wall_s": wall,
            "throughput": len(latencies) / wall,
            **{f"p{q}_ms": float(np.percentile(ms, q)) if len(ms) else None for q in (50, 90, 99)},
            "max_ms": float(ms.max()) if len(ms) else None}


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by a process and its children (``--workers``), from Linux's /proc."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def calibration() -> float:
    """Seconds of a fixed pure-Python loop (10 million additions): how fast this machine runs Python just now."""
    start = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return round(time.perf_counter() - start, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="requests in all (0: startup only)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument("--payload", choices=list(PAYLOADS), default="png", help="what each request sends")
    parser.add_argument("--warmup", type=int, default=200, help="requests sent first, not counted")
    parser.add_argument("--startups", type=int, default=3, help="launches timed to /api/health")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="stop sending after this long")
    parser.add_argument("--serve-args", default="", help="extra arguments for digitlab serve")
    args = parser.parse_args()
    extra = args.serve_args.split()
    report = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
                         f"Python {platform.python_version()}", "load_before": os.getloadavg()[:3],
              "payload": args.payload, "clients": args.clients}
    report["calibration_s"] = calibration()
    startups = []
    for _ in range(args.startups):
        process, url, seconds = launch(extra)
        startups.append(round(seconds, 2))
        stop(process)
    report["startup_s"] = startups
    if args.requests:
        bodies = payloads(args.payload)
        process, url, _ = launch(extra)
        try:
            asyncio.run(hammer(url, bodies, args.warmup, args.clients, args.max_seconds))
            cpu_before, client_before = cpu_seconds(process.pid), time.process_time()
            report.update(asyncio.run(hammer(url, bodies, args.requests, args.clients, args.max_seconds)))
            report["server_cpu_ms_per_request"] = (cpu_seconds(process.pid) - cpu_before) / report["answered"] * 1e3
            report["client_cpu_ms_per_request"] = (time.process_time() - client_before) / report["answered"] * 1e3
        finally:
            stop(process)
    report["load_after"] = os.getloadavg()[:3]
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
