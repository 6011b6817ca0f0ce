"""Ctrl-C on a real process: exit 130, the run marked interrupted, a model kept only once an epoch has ended."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

COMMAND = [sys.executable, "-c", "from digitlab.cli import run; run()", "train", "cnn", "--dataset", "mnist-mini",
           "--epochs", "3", "--set", "n_threads=1", "--quiet"]


def _start(runs: Path) -> subprocess.Popen:
    return subprocess.Popen([*COMMAND, "--runs", str(runs)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _wait_for(pattern: str, runs: Path, proc: subprocess.Popen, limit: float = 90.0) -> Path:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = list(runs.glob(pattern))
        if found:
            return found[0]
        if proc.poll() is not None:
            pytest.fail(f"the command ended before {pattern} appeared: {proc.stderr.read()}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"{pattern} did not appear within {limit} s")


def _interrupt(proc: subprocess.Popen) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def test_ctrl_c_before_the_first_epoch_ends_keeps_no_model(tmp_path):
    proc = _start(tmp_path)
    run = _wait_for("*/config.json", tmp_path, proc).parent
    time.sleep(0.5)  # training has started; one epoch of 6,000 images takes seconds
    code, err = _interrupt(proc)
    assert code == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert json.loads((run / "metrics.json").read_text())["status"] == "interrupted"
    assert not list(run.glob("model.*")) and not list(run.glob("*checkpoint*"))


def test_ctrl_c_after_an_epoch_keeps_the_model_so_far_and_its_checkpoint(tmp_path):
    proc = _start(tmp_path)
    run = _wait_for("*/checkpoint.safetensors", tmp_path, proc).parent
    code, err = _interrupt(proc)
    assert code == 130, err
    assert "the model so far" in err and "--resume" in err and "Traceback" not in err
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "interrupted" and metrics["test_accuracy"] > 0.5
    assert (run / "model.safetensors").is_file() and (run / "checkpoint.safetensors").is_file()
