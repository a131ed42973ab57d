"""CIFAR-10's official python batches: folder and tar.gz, format checks, and a restricted unpickler."""

import os
import pickle
import pickletools

import numpy as np
import pytest

from grader.data import DataError, load_cifar10_batches
from grader.data.loaders import _ALLOWED_GLOBALS

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def expected(written, names):
    images = np.concatenate([written[n][0] for n in names]).reshape(-1, 3, 32, 32)
    labels = np.concatenate([np.array(written[n][1]) for n in names])
    return images, labels


TRAIN = [f"data_batch_{i}" for i in range(1, 6)]


def assert_matches(data, written):
    images, labels = expected(written, TRAIN)
    assert data.train.images.dtype == np.uint8 and data.train.images.shape == (100, 3, 32, 32)
    assert data.train.labels.dtype == np.int64
    np.testing.assert_array_equal(data.train.images, images)
    np.testing.assert_array_equal(data.train.labels, labels)
    images, labels = expected(written, ["test_batch"])
    np.testing.assert_array_equal(data.test.images, images)
    np.testing.assert_array_equal(data.test.labels, labels)
    assert data.train.classes == data.test.classes == CLASSES


def test_the_batches_folder_loads_as_train_and_test_in_channel_first_layout(cifar_folder):
    parent, written = cifar_folder
    assert_matches(load_cifar10_batches(parent / "cifar-10-batches-py"), written)


def test_the_parent_of_the_batches_folder_works_too(cifar_folder):
    parent, written = cifar_folder
    assert_matches(load_cifar10_batches(parent), written)


def test_the_downloaded_tar_gz_loads_without_extracting_it(cifar_archive):
    archive, written = cifar_archive
    assert_matches(load_cifar10_batches(archive), written)
    assert sorted(p.name for p in archive.parent.iterdir()) == ["cifar-10-python.tar.gz", "src"]


def test_batches_pickled_by_python3_at_protocol_2_load_too(tmp_path, make_cifar):
    write, _ = make_cifar
    written = write(tmp_path, style="py3")
    assert_matches(load_cifar10_batches(tmp_path), written)


def test_the_row_layout_is_red_then_green_then_blue_planes(tmp_path, make_cifar, dump_py2):
    write, _ = make_cifar
    write(tmp_path, per_batch=1)
    row = np.zeros((1, 3072), np.uint8)
    row[0, :1024], row[0, 1024:2048], row[0, 2048:] = 10, 20, 30
    row[0, 1] = 99  # red, y=0, x=1
    batch = {b"batch_label": b"x", b"labels": [3], b"data": row, b"filenames": [b"a.png"]}
    (tmp_path / "cifar-10-batches-py" / "test_batch").write_bytes(dump_py2(batch, "py2"))
    test = load_cifar10_batches(tmp_path).test
    assert test.images[0, :, 0, 0].tolist() == [10, 20, 30]
    assert test.images[0, 0, 0, 1] == 99 and test.labels.tolist() == [3]


def globals_used(data: bytes) -> set[tuple[str, str]]:
    found = set()
    for op, arg, _ in pickletools.genops(data):
        if op.name == "GLOBAL":
            found.add(tuple(arg.split(" ", 1)))
    return found


def test_the_unpickler_allows_exactly_the_globals_the_official_format_uses(tmp_path, make_cifar):
    """Both writers (Python 2 style, as the official files; Python 3 at protocol 2) together use
    every allowed global, and nothing more is allowed."""
    write, _ = make_cifar
    write(tmp_path / "py2", per_batch=2, style="py2")
    write(tmp_path / "py3", per_batch=2, style="py3")
    used = set()
    for style in ("py2", "py3"):
        for file in (tmp_path / style / "cifar-10-batches-py").iterdir():
            used |= globals_used(file.read_bytes())
    assert used == set(_ALLOWED_GLOBALS)


class RunsACommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def replace_batch(parent, name, data: bytes):
    (parent / "cifar-10-batches-py" / name).write_bytes(data)


def test_a_malicious_pickle_is_refused_and_runs_nothing(cifar_folder, tmp_path):
    parent, _ = cifar_folder
    marker = tmp_path / "pwned"
    replace_batch(parent, "data_batch_3", pickle.dumps({b"data": RunsACommand(marker)}, protocol=2))
    with pytest.raises(DataError, match=r"data_batch_3.*refusing to load (posix|os)\.system"):
        load_cifar10_batches(parent)
    assert not marker.exists()


@pytest.mark.parametrize("payload", [
    pickle.dumps(eval, protocol=2),  # a bare global: builtins.eval
    pickle.dumps(np.array([None, 1], dtype=object), protocol=2),  # object array: arbitrary objects
    b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x04\x00\x00\x00zlib\x86R.",  # a codec other than latin1
], ids=["builtins-eval", "object-array", "other-codec"])
def test_anything_beyond_plain_containers_and_uint8_arrays_is_refused(cifar_folder, payload):
    parent, _ = cifar_folder
    replace_batch(parent, "test_batch", payload)
    with pytest.raises(DataError, match="test_batch"):
        load_cifar10_batches(parent)


def test_a_truncated_batch_gives_an_error_naming_the_file(cifar_folder):
    parent, _ = cifar_folder
    path = parent / "cifar-10-batches-py" / "data_batch_2"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(DataError, match=r"data_batch_2: .*truncated"):
        load_cifar10_batches(parent)


def test_a_batch_that_is_not_a_pickle_gives_an_error_naming_the_file(cifar_folder):
    parent, _ = cifar_folder
    replace_batch(parent, "data_batch_1", b"<html>404 Not Found</html>")
    with pytest.raises(DataError, match="data_batch_1: not a CIFAR-10 batch"):
        load_cifar10_batches(parent)


@pytest.mark.parametrize("batch, message", [
    ({b"labels": [1]}, "no data entry"),
    ({b"data": np.zeros((2, 3072), np.float32), b"labels": [1, 2]}, r"uint8 array \(N, 3072\)"),
    ({b"data": np.zeros((2, 1024), np.uint8), b"labels": [1, 2]}, r"uint8 array \(N, 3072\)"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1]}, "2 images but 'labels'"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1, 10]}, r"labels must lie in \[0, 10\)"),
    ([1, 2, 3], "holds a list"),
])
def test_a_batch_with_the_wrong_contents_says_what_is_wrong(cifar_folder, dump_py2, batch, message):
    parent, _ = cifar_folder
    replace_batch(parent, "data_batch_4", dump_py2(batch, "py2"))
    with pytest.raises(DataError, match=f"data_batch_4: .*{message}"):
        load_cifar10_batches(parent)


def test_a_missing_batch_is_named(cifar_folder):
    parent, _ = cifar_folder
    (parent / "cifar-10-batches-py" / "data_batch_5").unlink()
    with pytest.raises(DataError, match=r"data_batch_5: not found"):
        load_cifar10_batches(parent)


def test_a_truncated_archive_gives_an_error_naming_it(cifar_archive, tmp_path):
    archive, _ = cifar_archive
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(DataError, match=r"cut\.tar\.gz: (archive is truncated|has no .*truncated)"):
        load_cifar10_batches(cut)


def test_a_file_that_is_no_archive_gives_an_error_naming_it(tmp_path):
    bogus = tmp_path / "cifar-10-python.tar.gz"
    bogus.write_bytes(b"not a tar file at all" * 100)
    with pytest.raises(DataError, match=r"cifar-10-python\.tar\.gz: not a readable tar archive"):
        load_cifar10_batches(bogus)
