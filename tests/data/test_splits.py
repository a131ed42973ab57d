"""The course's splits: sizes, balance per class, disjointness, determinism."""

import numpy as np
import pytest

from grader.data import Dataset, course_splits


def synthetic(n_per_class, n_classes=10, seed=0):
    """A dataset whose image i holds its own index (in the first 4 bytes), to trace examples."""
    counts = [n_per_class] * n_classes if np.isscalar(n_per_class) else list(n_per_class)
    labels = np.concatenate([np.full(c, k) for k, c in enumerate(counts)]).astype(np.int64)
    labels = np.random.default_rng(seed).permutation(labels)
    ids = np.arange(len(labels), dtype=np.uint32)
    images = np.zeros((len(labels), 1, 2, 2), np.uint8)
    images.reshape(len(labels), 4)[:] = ids.view(np.uint8).reshape(-1, 4)
    return Dataset(images, labels, [f"c{k}" for k in range(n_classes)])


def ids(data):
    return data.images.reshape(len(data), 4).copy().view(np.uint32).ravel()


TRAIN, TEST = synthetic(5000), synthetic(1000, seed=1)  # CIFAR-10's sizes


def test_cifar_sized_sets_give_10000_each_with_1000_per_class():
    train, val, test = course_splits(TRAIN, TEST)
    for split in (train, val, test):
        assert len(split) == 10_000
        assert split.counts().tolist() == [1000] * 10
        assert split.images.dtype == np.uint8 and split.labels.dtype == np.int64
        assert split.classes == TRAIN.classes


def test_train_and_validation_are_disjoint_and_labels_travel_with_their_images():
    train, val, _ = course_splits(TRAIN, TEST)
    assert not set(ids(train)) & set(ids(val))
    np.testing.assert_array_equal(TRAIN.labels[ids(train)], train.labels)
    np.testing.assert_array_equal(TRAIN.labels[ids(val)], val.labels)


def test_the_full_test_set_is_kept_as_it_is():
    _, _, test = course_splits(TRAIN, TEST)
    np.testing.assert_array_equal(test.images, TEST.images)
    np.testing.assert_array_equal(test.labels, TEST.labels)


def test_the_same_seed_gives_the_same_splits_and_another_seed_others():
    first = course_splits(TRAIN, TEST, seed=0)
    again = course_splits(TRAIN, TEST, seed=0)
    other = course_splits(TRAIN, TEST, seed=1)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(ids(a), ids(b))
    assert not np.array_equal(ids(first[0]), ids(other[0]))


def test_sizes_are_parameters_and_uneven_sizes_spread_by_at_most_one():
    train, val, test = course_splits(TRAIN, TEST, n_train=105, n_val=30, n_test=20)
    assert (len(train), len(val), len(test)) == (105, 30, 20)
    assert train.counts().max() - train.counts().min() <= 1
    assert val.counts().tolist() == [3] * 10 and test.counts().tolist() == [2] * 10


def test_an_unbalanced_test_set_like_mnists_is_kept_whole():
    test = synthetic([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])  # MNIST's t10k counts
    _, _, kept = course_splits(synthetic(6000), test)
    assert len(kept) == 10_000 and kept.counts().tolist() == test.counts().tolist()


def test_too_few_examples_of_a_class_is_a_clear_error():
    small = synthetic([2000] * 9 + [1500])
    with pytest.raises(ValueError, match="the training set has 1500 examples of class 9, the splits need 2000"):
        course_splits(small, TEST)


def test_train_and_test_with_different_classes_are_refused():
    other = Dataset(TEST.images, TEST.labels, [f"x{k}" for k in range(10)])
    with pytest.raises(ValueError, match="different classes"):
        course_splits(TRAIN, other)
