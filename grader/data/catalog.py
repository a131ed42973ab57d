"""The course's datasets by name: where one lies in a data folder, and loading it, whatever its format.

Every function looks the dataset's spec up (:data:`grader.data.specs.DATASETS`) and asks it;
none knows a dataset by name, so a new dataset needs a new spec and nothing here.
"""

from __future__ import annotations

from pathlib import Path

from .loaders import DataError, Dataset, TrainTest
from .paths import default_data_dir
from .specs import DatasetSpec, spec_of

__all__ = ["locate", "load", "load_split"]


def locate(name: str, data_dir) -> Path | None:
    """Where dataset ``name`` is in ``data_dir``, or None (where depends on the dataset: its
    spec's ``find``)."""
    return spec_of(name).find(Path(data_dir))


def load(name: str, data_dir=None) -> TrainTest:
    """Dataset ``name`` (cifar10, mnist, fashion-mnist) from the cache folder: ``train, test = load("cifar10")``.

    ``data_dir`` defaults to :func:`grader.data.paths.default_data_dir` (env DLCOURSE_DATA,
    else the user cache folder).
    """
    spec = spec_of(name)
    if not {"train", "test"} <= set(spec.splits):
        raise DataError(f"{name} has no train and test splits (its splits: {', '.join(spec.splits)}) — "
                        f"use load_split")
    where = _find(spec, data_dir)
    if spec.read_both is not None:
        return spec.read_both(where, spec.classes)
    return TrainTest(spec.read(where, "train", spec.classes), spec.read(where, "test", spec.classes))


def load_split(name: str, split: str, data_dir=None) -> Dataset:
    """One split ("train" or "test") of dataset ``name``, reading only that split's files.

    Grading needs the test images alone: from the course's JPEG zip that is 10,000 images
    to decode (about 2 s) instead of 60,000.
    """
    spec = spec_of(name)
    if split not in spec.splits:
        raise ValueError(f"split must be {' or '.join(map(repr, spec.splits))}, got {split!r}")
    return spec.read(_find(spec, data_dir), split, spec.classes)


def _find(spec: DatasetSpec, data_dir) -> Path:
    """Where the dataset is in ``data_dir`` (default: the cache folder); DataError if absent."""
    if data_dir is None:
        data_dir = default_data_dir()
    where = spec.find(Path(data_dir))
    if where is None:
        raise DataError(f"{spec.name} not found in {data_dir} — run `grade data download {spec.name}`")
    return where
