"""The loaders and splits on the real datasets in ../shared/data (skipped when it is absent).

Timing on the 2-core dev machine: CIFAR-10 JPEG zip test split ~1.5 s, train split ~7 s.
"""

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from grader.data import course_splits, load, load_idx, load_image_folder
from grader.data.cli import data as data_group

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CIFAR_ZIP = SHARED_DATA / "cifar10-jpg.zip"
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

pytestmark = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"needs the course data in {SHARED_DATA} (not present)")


@pytest.fixture(scope="module")
def cifar():
    """Both CIFAR-10 splits from the JPEG zip, found by load() in the shared folder (decoded once)."""
    return load("cifar10", SHARED_DATA)


def test_the_cifar_zip_test_split_is_10000_rgb_images_1000_per_class():
    test = load_image_folder(CIFAR_ZIP, "test")
    assert test.images.shape == (10_000, 3, 32, 32) and test.images.dtype == np.uint8
    assert test.classes == CIFAR_CLASSES  # sorted folder names = the official label order
    assert test.counts().tolist() == [1000] * 10
    assert 100 < test.images.mean() < 140  # real photos, not a blank decode


def test_load_finds_the_cifar_zip_and_gives_50000_training_images(cifar):
    assert cifar.train.images.shape == (50_000, 3, 32, 32)
    assert cifar.train.counts().tolist() == [5000] * 10
    assert len(cifar.test) == 10_000


def test_the_course_splits_on_real_cifar_are_balanced_and_disjoint(cifar):
    train, val, test = course_splits(*cifar)
    for split in (train, val, test):
        assert split.images.shape == (10_000, 3, 32, 32) and split.counts().tolist() == [1000] * 10
    train_rows = {row.tobytes() for row in train.images}
    assert sum(row.tobytes() in train_rows for row in val.images) <= 5  # at most a few duplicate photos
    again = course_splits(*cifar)[0]
    np.testing.assert_array_equal(again.images, train.images)


def test_the_mnist_t10k_idx_files_load_as_10000_one_channel_digits():
    folder = SHARED_DATA / "mnist"
    test = load_idx(folder / "t10k-images-idx3-ubyte.gz", folder / "t10k-labels-idx1-ubyte.gz")
    assert test.images.shape == (10_000, 1, 28, 28) and test.images.dtype == np.uint8
    assert test.counts().tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_the_grayscale_faces_load_with_one_channel():
    faces = load_image_folder(SHARED_DATA / "lfw8-gray.zip", None)
    assert faces.images.shape == (1348, 1, 250, 250)
    assert dict(zip(faces.classes, faces.counts().tolist()))["George_W_Bush"] == 530


def test_grade_data_info_sees_the_cifar_zip():
    result = CliRunner().invoke(data_group, ["info", "--data-dir", str(SHARED_DATA)], catch_exceptions=False)
    assert f"cifar10: cached: {CIFAR_ZIP}" in result.stdout
