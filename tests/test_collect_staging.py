"""The grader reads only regular files it copied itself: links, FIFOs, sockets, devices and
oversized files a student hands in are left aside, never followed or opened."""

import os
import socket
import stat
import tracemalloc
from pathlib import Path

import pytest

from grader.collect import SubmissionError, read_submission, stage, staged
from grader.engine import grade
from grader.report import render_text

ROOT = Path(__file__).resolve().parents[1]
SECRET = "a classmate's secret: 7d1f0c9e"


@pytest.fixture
def hand_in(tmp_path):
    """A student's folder holding exercise11.py, and a file outside it that must stay unread."""
    folder = tmp_path / "alice"
    folder.mkdir()
    (folder / "exercise11.py").write_text("x = 1\n")
    (tmp_path / "secret.txt").write_text(SECRET)
    return folder


def test_stage_copies_regular_files_and_leaves_links_fifos_sockets_and_devices_aside(hand_in, tmp_path, within):
    os.symlink(tmp_path / "secret.txt", hand_in / "exercise11.safetensors")
    os.mkfifo(hand_in / "exercise11.pt")
    os.symlink("/dev/zero", hand_in / "exercise11.npy")
    os.symlink(tmp_path, hand_in / "exercise11.d")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(hand_in / "exercise11.sock"))
    notes: list[str] = []
    into = tmp_path / "staging"
    with within(10):  # opening the FIFO, or reading /dev/zero, would never end
        copies = stage(sorted(hand_in.iterdir()), into, notes=notes)
    server.close()
    assert copies == [into / "exercise11.py"] and copies[0].read_text() == "x = 1\n"
    assert stat.S_ISREG(copies[0].lstat().st_mode) and stat.S_IMODE(into.stat().st_mode) == 0o700
    assert notes == ["exercise11.d is a symbolic link, not a regular file: not read",
                     "exercise11.npy is a symbolic link, not a regular file: not read",
                     "exercise11.pt is a named pipe (FIFO), not a regular file: not read",
                     "exercise11.safetensors is a symbolic link, not a regular file: not read",
                     "exercise11.sock is a socket, not a regular file: not read"]


def test_a_file_over_the_cap_and_what_no_longer_fits_the_total_are_left_aside(tmp_path):
    sizes = {"a.bin": 10, "b.bin": 2000, "c.bin": 500, "d.bin": 600}
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"w" * size)
    notes: list[str] = []
    copies = stage([tmp_path / n for n in sizes], tmp_path / "staging", max_file_bytes=1000, max_total_bytes=1100,
                   notes=notes)
    assert [(p.name, p.stat().st_size) for p in copies] == [("a.bin", 10), ("c.bin", 500)]
    assert notes == ["b.bin is 2,000 bytes, more than the 1,000 bytes a file may have: not read",
                     "d.bin (600 bytes) does not fit in the 1,100 bytes all files together may have: not read"]
    assert sorted(p.name for p in (tmp_path / "staging").iterdir()) == ["a.bin", "c.bin"]  # nothing half-written


@pytest.mark.parametrize("name, target", [
    ("exercise11.safetensors", ROOT / "solutions" / "exercise11.safetensors"),  # a classmate's trained weights
    ("exercise11.pt", "secret.txt"),
], ids=["link to someone's weights", "link to a secret file"])
def test_symlinked_weights_beside_an_exercise11_submission_are_not_read(hand_in, tmp_path, name, target):
    (hand_in / "exercise11.py").write_text((ROOT / "solutions" / "exercise11.py").read_text())
    os.symlink(tmp_path / target, hand_in / name)
    result = grade("exercise11", hand_in / "exercise11.py",
                   only=lambda spec: spec.name == "the_weights_file_loads_into_the_model")
    (check,) = result.checks
    assert check.score == 0 and check.message.startswith("no weights file (exercise11.safetensors or exercise11.pt) "
                                                         "beside your exercise file")
    assert result.notes == [f"{name} is a symbolic link, not a regular file: not read"]
    assert result.submission == "exercise11.py"  # the report names the student's file, not the copy
    assert SECRET not in render_text(result, "json") and "secret" not in render_text(result, "json")


def test_the_checks_see_a_private_copy_named_like_the_students_file_removed_afterwards(hand_in):
    (hand_in / "exercise11.safetensors").write_bytes(b"weights")
    (hand_in / "notes.txt").write_text("not named like the exercise: not copied")
    with staged(hand_in / "exercise11.py", stems=("exercise11",)) as source:
        copy = source.path
        assert copy != hand_in / "exercise11.py" and copy.name == "exercise11.py"
        assert sorted(p.name for p in copy.parent.iterdir()) == ["exercise11.py", "exercise11.safetensors"]
        assert (copy.parent / "exercise11.safetensors").read_bytes() == b"weights"
    assert not copy.parent.exists()


@pytest.mark.parametrize("make, says", [
    (lambda p: os.mkfifo(p), "exercise03.py is a named pipe (FIFO), not a regular file"),
    (lambda p: os.symlink("/dev/zero", p), "exercise03.py is a symbolic link, not a regular file"),
], ids=["fifo", "link to /dev/zero"])
def test_a_submission_that_is_a_fifo_or_a_link_is_refused_at_once(tmp_path, within, make, says):
    make(tmp_path / "exercise03.py")
    with within(10), pytest.raises(SubmissionError) as error:
        grade("exercise03", tmp_path / "exercise03.py")
    assert str(error.value) == says


def test_a_300_mb_notebook_is_refused_by_its_size_before_it_is_read(tmp_path):
    path = tmp_path / "exercise03.ipynb"
    with open(path, "wb") as f:
        f.truncate(300 << 20)  # sparse: 300 MB that take no disk
    tracemalloc.start()
    try:
        with pytest.raises(SubmissionError) as error:
            read_submission(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(error.value) == ("exercise03.ipynb is 300 MB, more than the 20 MB a submission file may have — clear "
                                "the notebook's outputs, save it and hand it in again")
    assert peak < 1 << 20


def test_grading_a_300_mb_notebook_says_so_in_one_line(tmp_path):
    path = tmp_path / "exercise03.ipynb"
    with open(path, "wb") as f:
        f.truncate(300 << 20)
    with pytest.raises(SubmissionError, match=r"^exercise03\.ipynb is 300 MB, more than the 20 MB a submission "):
        grade("exercise03", path)
