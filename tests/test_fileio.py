"""Safe writes: atomic over regular files, direct into devices and pipes, links followed, modes kept, one-sentence
errors (a folder, a full disk, a read-only file system) and nothing left behind."""

import json
import os
import socket
import stat
import subprocess
import threading
from pathlib import Path

import pytest

from digitlab.errors import DigitlabError, OutputError
from digitlab.fileio import atomic_open, atomic_path, refuse_overwriting, write_json


def test_atomic_open_replaces_only_on_success(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_open(target) as fh:
            fh.write("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temporary left behind
    with atomic_open(target) as fh:
        fh.write("new")
    assert target.read_text() == "new"


def test_write_json_handles_numpy_values(tmp_path):
    import numpy as np

    write_json(tmp_path / "m.json", {"acc": np.float32(0.5), "counts": np.arange(3)})
    assert json.loads((tmp_path / "m.json").read_text()) == {"acc": 0.5, "counts": [0, 1, 2]}


def test_unwritable_folder_is_one_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match=r"^not a directory while writing .*file/sub/m.json\.$"):
        write_json(blocker / "sub" / "m.json", {})


def test_folder_as_output_is_one_sentence(tmp_path):
    with pytest.raises(OutputError) as err:
        with atomic_open(tmp_path) as fh:
            fh.write("x")
    assert str(err.value) == f"{tmp_path} is a folder; give a file name."
    assert isinstance(err.value, DigitlabError)


def test_existing_mode_is_kept_and_new_files_follow_the_umask(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    target.chmod(0o640)
    with atomic_open(target) as fh:
        fh.write("new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640 and target.read_text() == "new"
    old_mask = os.umask(0o027)
    try:
        with atomic_open(tmp_path / "fresh.csv") as fh:
            fh.write("x")
    finally:
        os.umask(old_mask)
    assert stat.S_IMODE((tmp_path / "fresh.csv").stat().st_mode) == 0o640  # 0666 & ~027


def test_symlink_is_followed_and_stays_a_link(tmp_path):
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "data.csv"
    real.write_text("old")
    real.chmod(0o600)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    with atomic_open(link) as fh:
        fh.write("new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new" and stat.S_IMODE(real.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "real"]

    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "real" / "later.csv")
    with atomic_open(dangling) as fh:
        fh.write("made")
    assert dangling.is_symlink() and (tmp_path / "real" / "later.csv").read_text() == "made"


def test_named_pipe_is_written_into_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []

    def read():
        with open(fifo) as fh:
            received.append(fh.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    with atomic_open(fifo) as fh:
        fh.write("ImageId,Label\n1,7\n")
    reader.join(timeout=5)
    assert received == ["ImageId,Label\n1,7\n"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


def _device(tmp_path, name, minor):
    """A private copy of /dev/null (minor 3) or /dev/full (minor 7), so a bug cannot replace the real one."""
    path = tmp_path / name
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
        with open(path, "wb"):
            pass
    except OSError as exc:
        pytest.skip(f"cannot make a character device here ({exc.strerror})")
    return path


def test_character_device_stays_a_device(tmp_path):
    null = _device(tmp_path, "null", 3)
    with atomic_open(null) as fh:
        fh.write("x" * 10_000)
    with atomic_path(null) as path:
        assert path == null  # no temporary for a device
        path.write_bytes(b"y")
    assert stat.S_ISCHR(null.lstat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["null"]


def test_full_device_is_one_sentence(tmp_path):
    full = _device(tmp_path, "full", 7)
    with pytest.raises(OutputError) as err:
        with atomic_open(full) as fh:
            fh.write("x" * 10_000)
    assert str(err.value) == f"no space left on device while writing {full}."
    assert stat.S_ISCHR(full.lstat().st_mode)


def test_socket_is_refused(tmp_path):
    path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        with pytest.raises(OutputError, match=r"sock is a socket, not a file digitlab can write; give a file name\.$"):
            write_json(path, {})


def test_disk_full_is_one_sentence_and_leaves_nothing(tmpfs):
    target = tmpfs / "big.csv"
    with pytest.raises(OutputError) as err:
        with atomic_open(target, "wb") as fh:
            for _ in range(100):
                fh.write(b"0" * 4096)
    assert str(err.value) == f"no space left on device while writing {target}."
    assert list(tmpfs.iterdir()) == []


def test_disk_full_keeps_the_old_file(tmpfs):
    target = tmpfs / "out.csv"
    target.write_text("old")
    with pytest.raises(OutputError, match="no space left on device"):
        with atomic_path(target) as tmp:
            Path(tmp).write_bytes(b"0" * 200_000)
    assert target.read_text() == "old" and [p.name for p in tmpfs.iterdir()] == ["out.csv"]


def test_read_only_file_system(tmpfs):
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    with pytest.raises(OutputError, match=rf"^read-only file system while writing {tmpfs}/x.json\.$"):
        write_json(tmpfs / "x.json", {})


def test_other_oserrors_in_the_block_pass_through(tmp_path):
    with pytest.raises(FileNotFoundError):
        with atomic_open(tmp_path / "out.txt") as fh:
            fh.write(open(tmp_path / "missing-input.txt").read())
    assert list(tmp_path.iterdir()) == []


def test_refuse_overwriting_the_input(tmp_path):
    data = tmp_path / "test.csv"
    data.write_text("pixel0\n0\n")
    with pytest.raises(OutputError) as err:
        refuse_overwriting(data, tmp_path / "model.skops", data)
    assert str(err.value) == (f"{data} is the same file as the input {data}; "
                              f"choose another output file so the input is not overwritten.")
    os.link(data, tmp_path / "hard.csv")
    (tmp_path / "soft.csv").symlink_to(data)
    for other in ("hard.csv", "soft.csv"):
        with pytest.raises(OutputError, match="is the same file as the input"):
            refuse_overwriting(tmp_path / other, data)
    refuse_overwriting(tmp_path / "new.csv", data)  # does not exist yet: fine
    (tmp_path / "other.csv").write_text("pixel0\n0\n")
    refuse_overwriting(tmp_path / "other.csv", data, None)
