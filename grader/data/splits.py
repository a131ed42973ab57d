"""The course's fixed splits: 10,000 training images, 10,000 validation images, the test set.

The course trains on a subset so that a CPU run finishes in a lesson, and every student must
get the same subset so that results are comparable: the draw is seeded, balanced per class
and disjoint between training and validation.
"""

from __future__ import annotations

import numpy as np

from .loaders import Dataset

__all__ = ["course_splits"]


def _quotas(n: int, n_classes: int) -> np.ndarray:
    """``n`` spread over the classes as evenly as possible (sizes differ by at most one)."""
    quotas = np.full(n_classes, n // n_classes, dtype=np.int64)
    quotas[: n % n_classes] += 1
    return quotas


def _balanced_draw(labels: np.ndarray, sizes: list[int], n_classes: int, rng: np.random.Generator,
                   what: str) -> list[np.ndarray]:
    """Disjoint index sets of the given sizes, each balanced per class, drawn per class from ``rng``.

    Returned sorted, so a split keeps the source's order (the draw decides which, not how).
    """
    quotas = [_quotas(n, n_classes) for n in sizes]
    picked = [[] for _ in sizes]
    for c in range(n_classes):
        members = np.flatnonzero(labels == c)
        need = sum(int(q[c]) for q in quotas)
        if len(members) < need:
            raise ValueError(f"{what} has {len(members)} examples of class {c}, the splits need {need}")
        order = rng.permutation(members)
        start = 0
        for i, q in enumerate(quotas):
            picked[i].append(order[start: start + q[c]])
            start += q[c]
    return [np.sort(np.concatenate(p)) for p in picked]


def course_splits(train: Dataset, test: Dataset, seed: int = 0, *, n_train: int = 10_000,
                  n_val: int = 10_000, n_test: int = 10_000) -> tuple[Dataset, Dataset, Dataset]:
    """(train, val, test): ``n_train`` and ``n_val`` disjoint examples of the training set, and
    the test set, each balanced per class and the same for the same seed on every machine.

    When ``n_test`` is the whole test set it is kept as it is (in order; MNIST's test set is
    not balanced and cannot be made so at full size); a smaller ``n_test`` is a balanced draw.
    """
    if train.classes != test.classes:
        raise ValueError(f"train and test have different classes: {train.classes} vs {test.classes}")
    if min(n_train, n_val, n_test) < 0:
        raise ValueError("split sizes must be non-negative")
    k = len(train.classes)
    rng = np.random.default_rng(seed)
    train_idx, val_idx = _balanced_draw(train.labels, [n_train, n_val], k, rng, "the training set")
    if n_test == len(test):
        test_idx = np.arange(len(test))
    elif n_test > len(test):
        raise ValueError(f"the test set has {len(test)} examples, n_test={n_test} asked for more")
    else:
        (test_idx,) = _balanced_draw(test.labels, [n_test], k, rng, "the test set")
    return train.subset(train_idx), train.subset(val_idx), test.subset(test_idx)
