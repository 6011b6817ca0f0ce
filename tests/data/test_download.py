"""Downloads against real HTTP servers on 127.0.0.1: good, failing and corrupt mirrors."""

import gzip
import socket
import time

import numpy as np
import pytest

from digitlab.data import datasets
from digitlab.data.datasets import download, load_dataset
from digitlab.errors import DownloadError

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
    assert str(err.value) == (f"Could not download {TRAIN_IMAGES} for fake: {url} "
                              f"(content does not match the published checksum).")
    assert _files_under(isolated_data / "cache") == []


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
    assert message.endswith(f"{missing} (HTTP 404 Not Found).")
    assert len(server.requests) == 1  # a 404 is not retried
    assert _files_under(isolated_data / "cache") == []


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
    assert datasets._transient(reason) is transient
