"""IDX files (MNIST, Fashion-MNIST): gzipped or raw, with the header checked."""

import numpy as np
import pytest

from grader.data import DataError, load_idx

rng = np.random.default_rng(1)
IMAGES = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
LABELS = np.array([0, 9, 3, 3, 1, 2, 5], dtype=np.uint8)


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_images_and_labels_load_as_one_channel_uint8_and_int64(tmp_path, make_idx, gz):
    suffix = ".gz" if gz else ""
    images = make_idx(tmp_path / f"imgs{suffix}", IMAGES, gz=gz)
    labels = make_idx(tmp_path / f"lbls{suffix}", LABELS, gz=gz)
    data = load_idx(images, labels)
    assert data.images.shape == (7, 1, 28, 28) and data.images.dtype == np.uint8
    np.testing.assert_array_equal(data.images[:, 0], IMAGES)
    assert data.labels.dtype == np.int64 and data.labels.tolist() == LABELS.tolist()
    assert data.classes == [str(i) for i in range(10)]
    assert data.images.flags.writeable


def test_gzip_is_told_by_its_bytes_not_by_the_file_name(tmp_path, make_idx):
    images = make_idx(tmp_path / "images-idx3-ubyte", IMAGES, gz=True)  # gzipped, no .gz
    labels = make_idx(tmp_path / "labels.gz", LABELS, gz=False)  # raw, named .gz
    assert len(load_idx(images, labels)) == 7


def test_class_names_can_be_given(tmp_path, make_idx):
    names = [f"c{i}" for i in range(10)]
    data = load_idx(make_idx(tmp_path / "i", IMAGES, gz=False), make_idx(tmp_path / "l", LABELS, gz=False), names)
    assert data.classes == names
    with pytest.raises(DataError, match=r"l: label 9 is out of range for 3 classes"):
        load_idx(tmp_path / "i", tmp_path / "l", ["a", "b", "c"])


def test_a_bad_magic_number_is_named(tmp_path, make_idx):
    labels = make_idx(tmp_path / "l.gz", LABELS, gz=True)
    bad = tmp_path / "i"
    bad.write_bytes(b"\x08\x03\x00\x00" + IMAGES.tobytes())
    with pytest.raises(DataError, match=r"i: not an IDX file \(bad magic number 08030000\)"):
        load_idx(bad, labels)


def test_swapped_images_and_labels_files_say_which_is_which(tmp_path, make_idx):
    images = make_idx(tmp_path / "i.gz", IMAGES, gz=True)
    labels = make_idx(tmp_path / "l.gz", LABELS, gz=True)
    with pytest.raises(DataError, match=r"l\.gz: has 1 dimensions, expected an images file"):
        load_idx(labels, images)


def test_a_non_byte_data_type_is_refused(tmp_path):
    path = tmp_path / "floats"
    path.write_bytes(bytes([0, 0, 0x0D, 1]) + (1).to_bytes(4, "big") + b"\x00" * 4)
    with pytest.raises(DataError, match=r"floats: IDX data type 0x0d is not supported"):
        load_idx(path, path)


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_a_truncated_file_says_how_much_data_is_missing(tmp_path, make_idx, gz):
    images = make_idx(tmp_path / "i", IMAGES, gz=False)
    images.write_bytes(images.read_bytes()[:-100])
    if gz:
        import gzip

        images.write_bytes(gzip.compress(images.read_bytes()))
    labels = make_idx(tmp_path / "l", LABELS, gz=False)
    with pytest.raises(DataError, match=r"i: file is truncated: dimensions \(7, 28, 28\) need 5488 bytes of data, found 5388"):
        load_idx(images, labels)


def test_a_truncated_gzip_stream_is_named(tmp_path, make_idx):
    images = make_idx(tmp_path / "t10k-images-idx3-ubyte.gz", IMAGES, gz=True)
    images.write_bytes(images.read_bytes()[:-30])
    labels = make_idx(tmp_path / "l.gz", LABELS, gz=True)
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: gzip file is truncated"):
        load_idx(images, labels)


def test_a_corrupt_gzip_stream_is_named(tmp_path, make_idx):
    images = make_idx(tmp_path / "i.gz", IMAGES, gz=True)
    data = bytearray(images.read_bytes())
    data[20:40] = b"\xff" * 20
    images.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"i\.gz: corrupt gzip file"):
        load_idx(images, make_idx(tmp_path / "l.gz", LABELS, gz=True))


def test_trailing_bytes_are_an_error(tmp_path, make_idx):
    labels = make_idx(tmp_path / "l", LABELS, gz=False)
    labels.write_bytes(labels.read_bytes() + b"\x00\x00")
    with pytest.raises(DataError, match=r"l: 2 bytes after the data"):
        load_idx(make_idx(tmp_path / "i", IMAGES, gz=False), labels)


def test_different_counts_of_images_and_labels_are_an_error(tmp_path, make_idx):
    images = make_idx(tmp_path / "i", IMAGES, gz=False)
    labels = make_idx(tmp_path / "l", LABELS[:5], gz=False)
    with pytest.raises(DataError, match=r"l: has 5 labels but .*i has 7 images"):
        load_idx(images, labels)


def test_a_missing_file_is_named(tmp_path, make_idx):
    with pytest.raises(DataError, match=r"nothere\.gz: not found"):
        load_idx(tmp_path / "nothere.gz", make_idx(tmp_path / "l", LABELS, gz=False))
