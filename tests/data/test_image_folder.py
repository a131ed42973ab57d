"""Image folders ROOT/<split>/<class>/*.png|jpg, on disk or in a zip."""

import zipfile

import numpy as np
import pytest

from grader.data import DataError, load_image_folder

rng = np.random.default_rng(0)
RGB = {name: rng.integers(0, 256, size=(8, 6, 3), dtype=np.uint8) for name in "abcdef"}


def tree():
    """Two splits, classes deliberately not created in sorted order."""
    return {
        "train/zebra/2.png": RGB["a"], "train/zebra/1.png": RGB["b"],
        "train/ant/x.png": RGB["c"],
        "test/ant/0.png": RGB["d"], "test/zebra/0.png": RGB["e"],
    }


@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_classes_are_the_sorted_folder_names_and_files_are_read_in_sorted_order(tmp_path, image_tree, kind):
    root = image_tree(tmp_path / ("data.zip" if kind == "zip" else "data"), tree())
    train = load_image_folder(root, "train")
    assert train.classes == ["ant", "zebra"]
    assert train.labels.tolist() == [0, 1, 1] and train.labels.dtype == np.int64
    assert train.images.dtype == np.uint8 and train.images.shape == (3, 3, 8, 6)
    expected = np.stack([RGB["c"], RGB["b"], RGB["a"]]).transpose(0, 3, 1, 2)  # ant/x, zebra/1, zebra/2
    np.testing.assert_array_equal(train.images, expected)
    test = load_image_folder(root, "test")
    assert test.labels.tolist() == [0, 1] and len(test) == 2


def test_a_zip_with_one_leading_folder_reads_the_same(tmp_path, image_tree):
    root = image_tree(tmp_path / "data.zip", {f"cifar10/{k}": v for k, v in tree().items()})
    assert load_image_folder(root, "train").labels.tolist() == [0, 1, 1]


def test_a_zip_with_two_candidate_folders_is_ambiguous(tmp_path, image_tree):
    files = {**{f"a/{k}": v for k, v in tree().items()}, **{f"b/{k}": v for k, v in tree().items()}}
    with pytest.raises(DataError, match=r"data\.zip: ambiguous layout"):
        load_image_folder(image_tree(tmp_path / "data.zip", files), "train")


def test_grayscale_images_give_one_channel(tmp_path, image_tree):
    gray = rng.integers(0, 256, size=(5, 7), dtype=np.uint8)
    root = image_tree(tmp_path / "g", {"train/a/0.png": gray, "train/b/0.png": gray[::-1]})
    data = load_image_folder(root, "train")
    assert data.images.shape == (2, 1, 5, 7)
    np.testing.assert_array_equal(data.images[0, 0], gray)


def test_a_grayscale_image_among_color_ones_is_repeated_to_three_channels(tmp_path, image_tree):
    gray = rng.integers(0, 256, size=(8, 6), dtype=np.uint8)
    root = image_tree(tmp_path / "m", {"train/a/0.png": RGB["a"], "train/a/1.png": gray})
    data = load_image_folder(root, "train")
    assert data.images.shape == (2, 3, 8, 6)
    assert all(np.array_equal(data.images[1, c], gray) for c in range(3))


def test_jpeg_files_decode_to_nearly_the_encoded_pixels(tmp_path, image_tree):
    smooth = np.broadcast_to(np.linspace(0, 255, 16, dtype=np.uint8)[None, :, None], (16, 16, 3)).copy()
    root = image_tree(tmp_path / "j.zip", {"train/a/0.jpg": smooth, "train/b/0.jpg": smooth})
    data = load_image_folder(root, "train")
    assert data.images.shape == (2, 3, 16, 16)
    assert np.abs(data.images[0].astype(int) - smooth.transpose(2, 0, 1)).mean() < 4


def test_split_none_reads_class_folders_directly_under_the_root(tmp_path, image_tree):
    root = image_tree(tmp_path / "faces.zip", {"lfw/alice/1.png": RGB["a"], "lfw/bob/1.png": RGB["b"]})
    data = load_image_folder(root, None)
    assert data.classes == ["alice", "bob"] and len(data) == 2


@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_a_corrupt_image_gives_an_error_naming_the_file(tmp_path, image_tree, kind):
    root = image_tree(tmp_path / ("d.zip" if kind == "zip" else "d"), tree())
    bad = b"\x89PNG\r\n\x1a\n" + b"garbage" * 10
    if kind == "zip":
        with zipfile.ZipFile(root, "a") as zf:
            zf.writestr("train/ant/y.png", bad)
    else:
        (root / "train/ant/y.png").write_bytes(bad)
    with pytest.raises(DataError, match=r"train/ant/y\.png"):
        load_image_folder(root, "train")


def test_a_truncated_image_gives_an_error_naming_the_file(tmp_path, image_tree):
    root = image_tree(tmp_path / "d", tree())
    path = root / "train/zebra/1.png"
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(DataError, match=r"train/zebra/1\.png: corrupt or truncated image"):
        load_image_folder(root, "train")


def test_images_of_different_sizes_are_an_error_naming_one(tmp_path, image_tree):
    root = image_tree(tmp_path / "d", {"train/a/0.png": RGB["a"], "train/a/1.png": RGB["b"][:4]})
    with pytest.raises(DataError, match=r"train/a/1\.png: image is 6x4, the others 6x8"):
        load_image_folder(root, "train")


def test_a_missing_split_says_where_it_looked(tmp_path, image_tree):
    folder = image_tree(tmp_path / "d", tree())
    with pytest.raises(DataError, match=r"d/val: not found"):
        load_image_folder(folder, "val")
    archive = image_tree(tmp_path / "d.zip", tree())
    with pytest.raises(DataError, match=r"d\.zip: no images at .*val/.*splits in the zip: test, train"):
        load_image_folder(archive, "val")


def test_a_file_that_is_not_a_zip_is_named(tmp_path):
    fake = tmp_path / "data.zip"
    fake.write_bytes(b"PK but not really")
    with pytest.raises(DataError, match=r"data\.zip: not a readable zip file"):
        load_image_folder(fake, "train")


def test_a_truncated_zip_is_named(tmp_path, image_tree):
    archive = image_tree(tmp_path / "d.zip", tree())
    archive.write_bytes(archive.read_bytes()[:-40])
    with pytest.raises(DataError, match=r"d\.zip"):
        load_image_folder(archive, "train")
