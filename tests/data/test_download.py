"""Downloads against real HTTP servers on 127.0.0.1: good, failing and corrupt mirrors."""

import gzip
import socket
import time

import numpy as np
import pytest

from digitlab.data import datasets, fetch
from digitlab.data.datasets import download, load_dataset
from digitlab.errors import DownloadError

from .conftest import Drip, NoLength, Stall

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"


def _routes(fake, prefix="/"):
    return {prefix + name: body for name, body in fake.files.items()}


def _files_under(folder):
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_good_mirror_fills_the_cache_once(fake, isolated_data, http_mirror, monkeypatch):
    url, server = http_mirror(_routes(fake))
    monkeypatch.setenv("DIGITLAB_MIRRORS", url)
    seen = []
    ds = load_dataset("fake", progress=lambda name, done, total: seen.append((name, done, total)))
    cache = isolated_data / "cache" / "datasets" / "fake"
    assert ds.verified and ds.source == str(cache)
    np.testing.assert_array_equal(ds.X_train, fake.arrays["train_images"].reshape(12, 784))
    assert sorted(p.name for p in _files_under(cache)) == sorted(fake.files)
    assert len(server.requests) == 4
    size = len(fake.files[TRAIN_IMAGES])
    assert (TRAIN_IMAGES, 0, size) in seen and (TRAIN_IMAGES, size, size) in seen

    assert load_dataset("fake").source == str(cache)
    assert len(server.requests) == 4  # the second load is served by the cache


def test_name_placeholder_in_mirror_urls(fake, isolated_data, http_mirror, monkeypatch):
    url, _ = http_mirror(_routes(fake, "/sets/fake/"))
    monkeypatch.setenv("DIGITLAB_MIRRORS", url + "sets/{name}")
    assert load_dataset("fake").verified


@pytest.mark.parametrize("first", ["refused", "404"])
def test_first_mirror_down_second_used(fake, isolated_data, http_mirror, refused_url, first):
    down = refused_url if first == "refused" else http_mirror({})[0]
    good, server = http_mirror(_routes(fake))
    paths = download(fake.spec, isolated_data / "out", mirrors=[down, good], backoff=0)
    assert sorted(p.name for p in paths.values()) == sorted(fake.files)
    assert len(server.requests) == 4


def test_corrupt_file_is_rejected_and_the_cache_left_empty(fake, isolated_data, http_mirror, monkeypatch):
    routes = _routes(fake)
    routes["/" + TRAIN_IMAGES] = gzip.compress(b"\0\0\x08\x03 not the published content", mtime=0)
    url, _ = http_mirror(routes)
    monkeypatch.setenv("DIGITLAB_MIRRORS", url)
    with pytest.raises(DownloadError) as err:
        load_dataset("fake")
    assert str(err.value).startswith(f"Could not download {TRAIN_IMAGES} for fake: {url} "
                                     f"(content does not match the published checksum); to get fake by hand, ")
    assert [p.name for p in _files_under(isolated_data / "cache")] == [".unreachable"]  # only the marker


def test_corrupt_on_first_mirror_good_on_second(fake, isolated_data, http_mirror):
    bad = _routes(fake)
    bad["/" + TRAIN_IMAGES] = b"\x1f\x8b" + b"garbage"
    first, _ = http_mirror(bad)
    second, _ = http_mirror(_routes(fake))
    download(fake.spec, isolated_data / "out", mirrors=[first, second], backoff=0)
    assert len(_files_under(isolated_data / "out")) == 4


def test_connection_cut_short_leaves_nothing(fake, isolated_data, http_mirror):
    routes = _routes(fake)
    body = fake.files[TRAIN_IMAGES]
    routes["/" + TRAIN_IMAGES] = (body[:100], len(body))
    url, server = http_mirror(routes)
    with pytest.raises(DownloadError, match=rf"Could not download {TRAIN_IMAGES} for fake: {url} \("):
        download(fake.spec, isolated_data / "out", mirrors=[url], retries=2, backoff=0)
    assert server.requests.count("/" + TRAIN_IMAGES) == 2  # retried
    assert _files_under(isolated_data / "out") == []
    assert not (isolated_data / "out").exists()


def test_server_error_is_retried(fake, isolated_data, http_mirror):
    routes = _routes(fake)
    routes["/" + TRAIN_IMAGES] = [503, fake.files[TRAIN_IMAGES]]
    url, server = http_mirror(routes)
    download(fake.spec, isolated_data / "out", mirrors=[url], retries=2, backoff=0)
    assert server.requests.count("/" + TRAIN_IMAGES) == 2


def test_all_mirrors_failing_names_file_and_each_mirror(fake, isolated_data, http_mirror, refused_url, monkeypatch):
    missing, server = http_mirror({})
    monkeypatch.setenv("DIGITLAB_MIRRORS", f"{refused_url},{missing}")
    with pytest.raises(DownloadError) as err:
        load_dataset("fake")
    message = str(err.value)
    assert message.startswith(f"Could not download {TRAIN_IMAGES} for fake: {refused_url} (connection refused); ")
    assert f"{missing} (HTTP 404 Not Found); to get fake by hand" in message
    assert len(server.requests) == 1  # a 404 is not retried
    assert [p.name for p in _files_under(isolated_data / "cache")] == [".unreachable"]


def test_only_missing_files_are_fetched(fake, isolated_data, http_mirror):
    out = fake.write(isolated_data / "out")
    (out / TRAIN_IMAGES).unlink()
    url, server = http_mirror(_routes(fake))
    download(fake.spec, out, mirrors=[url])
    assert server.requests == ["/" + TRAIN_IMAGES]


def test_timeout_is_reported(fake, isolated_data):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # accepts connections but never answers
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    try:
        with pytest.raises(DownloadError, match=r"\(timed out\)"):
            download(fake.spec, isolated_data / "out", mirrors=[url], timeout=0.2, retries=1)
    finally:
        listener.close()
    assert not (isolated_data / "out").exists()


def test_table_mirrors_are_used_without_override(fake, monkeypatch):
    monkeypatch.delenv("DIGITLAB_MIRRORS")
    assert datasets._mirrors(fake.spec, None) == list(fake.spec.mirrors)


def test_refused_mirror_is_not_retried(fake, isolated_data, refused_url, http_mirror):
    good, _ = http_mirror(_routes(fake))
    start = time.perf_counter()
    download(fake.spec, isolated_data / "out", mirrors=[refused_url, good], retries=3, backoff=30)
    assert time.perf_counter() - start < 10  # a retry would have slept 30 s


@pytest.mark.parametrize("reason, transient", [
    (socket.gaierror(-2, "Name or service not known"), False),
    (ConnectionRefusedError(111, "Connection refused"), False),
    (TimeoutError("timed out"), False),
    (ConnectionResetError(104, "Connection reset by peer"), True),
])
def test_which_failures_are_retried(reason, transient):
    assert fetch.transient(reason) is transient


# ----------------------------------------------------------------------------- bounded in time and size


def test_dripping_mirror_is_abandoned_at_the_deadline_and_its_host_skipped(fake, isolated_data, http_mirror, fast_limits):
    drip_routes = {"/" + name: Drip(body, delay=0.05) for name, body in fake.files.items()}
    drip, drip_server = http_mirror(drip_routes)
    good, good_server = http_mirror(_routes(fake))
    start = time.perf_counter()
    download(fake.spec, isolated_data / "out", mirrors=[drip, good], backoff=0)
    assert time.perf_counter() - start < 3  # one deadline of 0.5 s, not one per file
    assert drip_server.requests == ["/" + TRAIN_IMAGES]  # given up for the other three files
    assert len(good_server.requests) == 4


def test_dripping_mirror_alone_is_reported_too_slow(fake, isolated_data, http_mirror, fast_limits):
    drip, _ = http_mirror({"/" + TRAIN_IMAGES: Drip(fake.files[TRAIN_IMAGES], delay=0.05)})
    with pytest.raises(DownloadError, match=rf"{drip} \(too slow: \d+ bytes in 0.5 s\)\.$"):
        download(fake.spec, isolated_data / "out", mirrors=[drip])
    assert not (isolated_data / "out").exists()


def test_silent_mirror_costs_one_timeout_per_download(fake, isolated_data, http_mirror, fast_limits):
    silent, silent_server = http_mirror({"/" + name: Stall(5) for name in fake.files})
    good, _ = http_mirror(_routes(fake))
    start = time.perf_counter()
    download(fake.spec, isolated_data / "out", mirrors=[silent, good], timeout=0.3)
    assert time.perf_counter() - start < 2
    assert len(silent_server.requests) == 1


def test_skipped_host_is_named_in_the_error(fake, isolated_data, http_mirror, fast_limits):
    routes = {"/" + name: Stall(5) for name in fake.files}
    silent, _ = http_mirror(routes)
    only_first, _ = http_mirror({"/" + TRAIN_IMAGES: fake.files[TRAIN_IMAGES]})
    with pytest.raises(DownloadError) as err:
        download(fake.spec, isolated_data / "out", mirrors=[silent, only_first], timeout=0.3)
    assert str(err.value) == (f"Could not download train-labels-idx1-ubyte.gz for fake: "
                              f"{silent} (skipped: timed out on an earlier file); {only_first} (HTTP 404 Not Found).")


def test_response_without_length_is_cut_at_the_size_bound(fake, isolated_data, http_mirror, fast_limits):
    body = fake.files[TRAIN_IMAGES]
    url, _ = http_mirror({"/" + TRAIN_IMAGES: NoLength(body, times=1000)})
    bound = 2 * len(body)
    with pytest.raises(DownloadError, match=rf"\(it sent more than the {bound:,} bytes expected\)"):
        download(fake.spec, isolated_data / "out", mirrors=[url])
    assert not (isolated_data / "out").exists()


def test_response_without_length_of_the_right_size_is_fine(fake, isolated_data, http_mirror, fast_limits):
    url, _ = http_mirror({"/" + name: NoLength(body) for name, body in fake.files.items()})
    assert len(download(fake.spec, isolated_data / "out", mirrors=[url])) == 4


def test_announced_length_over_the_bound_is_refused_at_once(fake, isolated_data, http_mirror, fast_limits):
    body = fake.files[TRAIN_IMAGES]
    url, _ = http_mirror({"/" + TRAIN_IMAGES: (body, 10**9)})
    with pytest.raises(DownloadError, match=rf"\(it announces 1,000,000,000 bytes, more than the {2 * len(body):,} expected\)"):
        download(fake.spec, isolated_data / "out", mirrors=[url])


def test_short_body_reports_the_real_count(fake, isolated_data, http_mirror):
    body = fake.files[TRAIN_IMAGES]
    url, _ = http_mirror({"/" + TRAIN_IMAGES: (body[:100], len(body))})
    with pytest.raises(DownloadError, match=rf"\(connection closed after 100 of {len(body):,} bytes\)"):
        download(fake.spec, isolated_data / "out", mirrors=[url], retries=1)


@pytest.mark.parametrize("size, seconds", [(None, 900.0), (1000, 30.0), (9912422, 9912422 / 25000), (10**12, 900.0)])
def test_deadline_from_size_between_floor_and_cap(size, seconds):
    assert fetch.deadline_for(size) == pytest.approx(seconds)


_DOWNLOAD_SCRIPT = """
import sys
from digitlab.data import datasets, fetch
fetch.DEADLINE_FLOOR = 60
file = datasets.FileSpec("train-images-idx3-ubyte.gz", "0" * 64, int(sys.argv[3]))
spec = datasets.DatasetSpec("fake", "", {"train_images": file})
datasets.download(spec, sys.argv[1], mirrors=[sys.argv[2]])
"""


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
def test_signal_mid_download_leaves_no_part_file(fake, tmp_path, http_mirror, signal_name):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    body = fake.files[TRAIN_IMAGES]
    url, server = http_mirror({"/" + TRAIN_IMAGES: Drip(body, delay=0.05, step=10)})
    out = tmp_path / "out"
    src = Path(datasets.__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.Popen([sys.executable, "-c", _DOWNLOAD_SCRIPT, str(out), url, str(len(body))], env=env)
    try:
        deadline = time.monotonic() + 20
        while not any(out.glob(".*.part")) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert any(out.glob(".*.part")), "the download never started"
        time.sleep(0.2)  # a few drips into the file
        proc.send_signal(getattr(signal, signal_name))
        status = proc.wait(timeout=10)
    finally:
        proc.kill()
        proc.wait()
    # SIGTERM: SystemExit(128 + 15); SIGINT: KeyboardInterrupt, after which Python ends by SIGINT itself
    assert status == (143 if signal_name == "SIGTERM" else -signal.SIGINT)
    assert _files_under(tmp_path) == [] and not out.exists()  # no .part file, and the folder it made is gone


def test_progress_lines_every_tenth_or_five_seconds():
    lines, now = [], [0.0]
    report = fetch.progress_lines(lines.append, clock=lambda: now[0])
    total = 1_000_000
    for done in range(0, total + 1, 10_000):  # 101 calls
        report("a.gz", done, total)
    assert len(lines) == 11  # the start, then every 10 % up to the end
    assert lines[0] == "downloading a.gz: 0.00 of 1.00 MB (0%)" and lines[-1] == "downloading a.gz: 1.00 of 1.00 MB (100%)"
    lines.clear()
    report("b.gz", 0, None)
    for second in range(1, 12):
        now[0] += 1
        report("b.gz", 1000 * second, None)
    assert lines == ["downloading b.gz: 0.00 MB", "downloading b.gz: 0.01 MB", "downloading b.gz: 0.01 MB"]
