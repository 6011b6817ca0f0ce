"""``digitlab serve`` as a user runs it: it starts with the shipped model and answers within a bounded time,
Ctrl-C stops it, and a busy port or a wrong model file is one sentence."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

STARTUP_LIMIT = 15.0  # seconds; measured 1.x-3 s (benchmarks/RESULTS.md), generous for a loaded CI machine
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "models"
SRC = Path(__file__).resolve().parent.parent.parent / "src"


def _first_line(process: subprocess.Popen, timeout: float) -> str:
    """The first line the process prints, read in a thread so that the wait is bounded."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return lines[0] if lines else ""


def test_serve_starts_with_the_shipped_model_answers_and_stops_on_ctrl_c():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-c", "from digitlab.cli import run; run()", "serve", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = _first_line(process, STARTUP_LIMIT)
        assert line.startswith("digitlab serve: http://127.0.0.1:"), (line, process.poll())
        url = line.split()[2].rstrip("/")
        while time.monotonic() - started < STARTUP_LIMIT:
            try:
                health = httpx.get(f"{url}/api/health", timeout=1.0)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert health.json() == {"status": "ok"}
        assert httpx.get(f"{url}/api/model").json()["model"]["source"] == "pretrained"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 130
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()


def test_a_busy_port_is_one_sentence(cli, assert_clean_error):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = cli("serve", "--port", port)
    assert result.code == 2
    assert_clean_error(result, f"Port {port}", "in use", "--port")


def test_a_denoiser_given_as_the_model_is_one_sentence(cli, assert_clean_error):
    result = cli("serve", "--model", FIXTURES / "dae-mlp.safetensors", "--port", "0", "--workers", "1")  # no fork here
    assert_clean_error(result, "dae-mlp.safetensors", "denoiser")
    assert_clean_error(cli("serve", "--model", FIXTURES / "missing.safetensors"), "missing.safetensors")


def _serve(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-c", "from digitlab.cli import run; run()", "serve", "--port", "0",
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_two_workers_share_the_port_and_stop_together():
    process = _serve("--workers", "2")
    try:
        line = _first_line(process, STARTUP_LIMIT * 2)
        assert line.startswith("digitlab serve: http://127.0.0.1:"), (line, process.poll())
        url = line.split()[2].rstrip("/")
        assert all(httpx.get(f"{url}/api/health", timeout=5).status_code == 200 for _ in range(10))
        workers = _children(process.pid)
        assert len(workers) == 2
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def _established(pid: int, port: int) -> int:
    """How many TCP connections to ``port`` the process ``pid`` holds open, from Linux's /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01" and fields[9] in inodes:
                count += 1
    return count


def test_connections_are_spread_over_the_workers():
    """16 clients connecting at once: every server process takes some (from one shared socket, one took all)."""
    process = _serve("--workers", "2")
    try:
        line = _first_line(process, STARTUP_LIMIT * 2)
        url = line.split()[2].rstrip("/")
        port = int(url.rsplit(":", 1)[1])
        clients = [httpx.Client(base_url=url, timeout=10) for _ in range(16)]
        answers: list[int] = []
        threads = [threading.Thread(target=lambda c=client: answers.append(c.get("/api/health").status_code))
                   for client in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        held = {pid: _established(pid, port) for pid in _children(process.pid)}
        for client in clients:
            client.close()
        assert answers == [200] * 16
        # by the kernel's hash of each connection's addresses: all 16 on one process has odds of 2 in 65,536
        assert len(held) == 2 and sum(held.values()) == 16 and min(held.values()) >= 1, held
    finally:
        process.terminate()  # the parent stops its workers (SIGKILL would leave them running)
        process.communicate(timeout=20)


def test_a_port_held_by_another_server_with_workers_is_refused(cli, assert_clean_error):
    first = _serve("--workers", "2")
    try:
        port = int(_first_line(first, STARTUP_LIMIT * 2).split()[2].rstrip("/").rsplit(":", 1)[1])
        result = cli("serve", "--port", port, "--workers", "2")  # refused before anything is forked
        assert result.code == 2
        assert_clean_error(result, f"Port {port}", "in use")
    finally:
        first.terminate()
        first.communicate(timeout=20)


def test_the_default_is_one_worker_per_core_up_to_four(monkeypatch):
    from digitlab.serve import workers

    monkeypatch.setattr(workers.os, "sched_getaffinity", lambda pid: set(range(2)), raising=False)
    assert workers.default_workers() == (2 if sys.platform.startswith("linux") else 1)
    monkeypatch.setattr(workers.os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    monkeypatch.setattr(workers.sys, "platform", "linux")
    assert workers.default_workers() == workers.AUTO_MAX == 4
    monkeypatch.setattr(workers.sys, "platform", "darwin")
    assert workers.default_workers() == 1


def _running(pid: int) -> bool:
    """Whether a process exists and has not ended (an ended one waits as a zombie until init reaps it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False


def test_workers_end_when_their_parent_is_killed():
    process = _serve("--workers", "2")
    try:
        assert _first_line(process, STARTUP_LIMIT * 2).startswith("digitlab serve: ")
        workers = _children(process.pid)
        assert len(workers) == 2
        process.kill()  # SIGKILL: the parent cannot stop them itself
        process.wait(timeout=10)
        deadline = time.monotonic() + 20
        while any(map(_running, workers)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(map(_running, workers))
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=20)


def test_a_worker_that_cannot_load_its_model_is_one_sentence():
    process = _serve("--workers", "2", "--model", str(FIXTURES / "dae-mlp.safetensors"))
    out, err = process.communicate(timeout=STARTUP_LIMIT * 2)
    assert process.returncode == 1 and out == ""
    assert "error:" in err and "dae-mlp.safetensors" in err and "denoiser" in err and "Traceback" not in err
