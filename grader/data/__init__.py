"""Datasets for the course: loaders for the formats users have, downloads, the course's splits.

    from grader.data import load, course_splits
    train, test = load("cifar10")                 # from the cache folder (grade data download cifar10)
    train, val, test = course_splits(train, test)  # 10,000 / 10,000 / 10,000, balanced, seed 0

Images are uint8 (N, C, H, W), labels int64, plus the class names (:class:`Dataset`).
Each dataset is one spec in :mod:`grader.data.specs`: adding a dataset is adding a spec there.
"""

from .catalog import load, load_split, locate
from .loaders import DataError, Dataset, TrainTest, load_cifar10_batches, load_idx, load_image_folder
from .specs import NAMES
from .splits import course_splits

__all__ = ["NAMES", "DataError", "Dataset", "TrainTest", "load", "load_cifar10_batches", "load_idx",
           "load_image_folder", "load_split", "locate", "course_splits"]
