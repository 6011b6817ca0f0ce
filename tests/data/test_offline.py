"""Offline: a failed download is remembered, the error says how to get the files by hand, and locate says where."""

import json
import time

import pytest

from digitlab.data import datasets
from digitlab.data.datasets import load_dataset, locate
from digitlab.errors import DatasetNotFound, DownloadError, UsageError

FILES = ("train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
         "t10k-labels-idx1-ubyte.gz")


def _advice(isolated_data):
    return (f"to get fake by hand, put {FILES} (gzip-compressed or not) into {isolated_data / 'cache' / 'datasets' / 'fake'}, "
            f"or into a fake/ folder inside a folder given as --data-dir or $DIGITLAB_DATA.")


@pytest.fixture
def dead_mirror(http_mirror, monkeypatch):
    """A mirror that answers 404 to everything, set as the only one; its server records the requests."""
    url, server = http_mirror({})
    monkeypatch.setenv("DIGITLAB_MIRRORS", url)
    return server


def test_download_error_ends_with_how_to_get_the_files_by_hand(fake, isolated_data, dead_mirror):
    with pytest.raises(DownloadError) as err:
        load_dataset("fake")
    assert str(err.value).endswith("(HTTP 404 Not Found); " + _advice(isolated_data))
    assert not isinstance(err.value, DatasetNotFound)


def test_failure_is_remembered_and_not_retried(fake, isolated_data, dead_mirror):
    with pytest.raises(DownloadError):
        load_dataset("fake")
    marker = isolated_data / "cache" / "datasets" / "fake" / ".unreachable"
    record = json.loads(marker.read_text())
    assert "HTTP 404" in record["reason"] and abs(record["timestamp"] - time.time()) < 60 and record["time"]
    asked = len(dead_mirror.requests)

    start = time.perf_counter()
    with pytest.raises(DownloadError) as err:
        load_dataset("fake")
    assert time.perf_counter() - start < 1
    assert len(dead_mirror.requests) == asked  # no mirror was asked again
    message = str(err.value)
    assert message.startswith("Dataset fake was not downloaded: the last attempt, less than a minute ago, failed (Could not download ")
    assert f"retried only after 10 min or once {marker} is deleted; " in message
    assert message.endswith(_advice(isolated_data))

    [loc] = locate("fake")
    assert "the last attempt, less than a minute ago, failed" in loc.detail and loc.download_to

    with pytest.raises(DownloadError):
        load_dataset("fake", download="force")
    assert len(dead_mirror.requests) > asked  # forced: the mirrors were asked again


def test_stale_marker_is_ignored(fake, isolated_data, dead_mirror, monkeypatch):
    with pytest.raises(DownloadError):
        load_dataset("fake")
    asked = len(dead_mirror.requests)
    monkeypatch.setattr(datasets, "RETRY_AFTER", 0.0)
    with pytest.raises(DownloadError, match="^Could not download"):
        load_dataset("fake")
    assert len(dead_mirror.requests) > asked


def test_successful_download_removes_the_marker(fake, isolated_data, dead_mirror, http_mirror, monkeypatch):
    with pytest.raises(DownloadError):
        load_dataset("fake")
    marker = isolated_data / "cache" / "datasets" / "fake" / ".unreachable"
    assert marker.exists()
    good, _ = http_mirror({"/" + name: body for name, body in fake.files.items()})
    monkeypatch.setenv("DIGITLAB_MIRRORS", good)
    assert load_dataset("fake", download="force").verified
    assert not marker.exists()


def test_finding_the_files_removes_the_marker(fake, isolated_data, dead_mirror, monkeypatch):
    with pytest.raises(DownloadError):
        load_dataset("fake")
    marker = isolated_data / "cache" / "datasets" / "fake" / ".unreachable"
    fake.write(isolated_data / "env" / "fake")
    monkeypatch.setenv("DIGITLAB_DATA", str(isolated_data / "env"))
    assert load_dataset("fake").verified
    assert not marker.exists()


def test_corrupt_marker_is_ignored(fake, isolated_data, dead_mirror):
    marker = isolated_data / "cache" / "datasets" / "fake" / ".unreachable"
    marker.parent.mkdir(parents=True)
    marker.write_text("{not json")
    with pytest.raises(DownloadError, match="^Could not download"):
        load_dataset("fake")
    assert dead_mirror.requests


def test_download_off_is_not_found_not_a_download_error(fake, isolated_data, dead_mirror):
    with pytest.raises(DatasetNotFound, match="downloading is turned off; to get fake by hand"):
        load_dataset("fake", download=False)
    assert dead_mirror.requests == []


def test_bad_download_value(fake):
    with pytest.raises(UsageError, match=r"download='yes' is not one of True, False or 'force'"):
        load_dataset("fake", download="yes")


def test_every_downloadable_file_has_a_published_size():
    for spec in datasets.DATASETS.values():
        if spec.mirrors:
            assert all(file.size and file.size > 1000 for file in spec.files.values()), spec.name
    assert datasets.DATASETS["mnist"].files["train_images"].size == 9912422


def test_other_mirrors_are_tried_despite_the_marker(fake, isolated_data, dead_mirror, http_mirror, monkeypatch):
    with pytest.raises(DownloadError):
        load_dataset("fake")
    good, server = http_mirror({"/" + name: body for name, body in fake.files.items()})
    monkeypatch.setenv("DIGITLAB_MIRRORS", good)  # the user points at a mirror that works
    assert load_dataset("fake").verified
    assert len(server.requests) == 4
