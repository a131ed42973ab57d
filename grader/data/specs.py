"""The course's datasets, one spec each: the files to download, where the data lies in a data
folder, and which reader of :mod:`grader.data.loaders` turns it into a :class:`Dataset`.

This is the one file to edit to add a dataset: ``locate``, ``load``, ``load_split``,
``download`` and ``grade data`` look the spec up by name and hold no per-dataset code.

Sources of the URLs and checksums:

- CIFAR-10: https://www.cs.toronto.edu/~kriz/cifar.html (the "CIFAR-10 python version",
  md5sum c58f30108f718f92721af3b95e74349a); same URL and md5 in torchvision's
  ``torchvision/datasets/cifar.py`` (github.com/pytorch/vision).
- MNIST: http://yann.lecun.com/exdb/mnist/ (canonical host, often refuses or times out)
  and the mirror https://ossci-datasets.s3.amazonaws.com/mnist/ with the md5s listed by
  torchvision's ``torchvision/datasets/mnist.py`` (``MNIST.mirrors`` / ``MNIST.resources``).
  The t10k images md5 matches the file in the course's ../shared/data/mnist.
- Fashion-MNIST: the table of files and md5s in github.com/zalandoresearch/fashion-mnist's
  README (host http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/), the same in
  torchvision's ``FashionMNIST.resources``; fallback: the same files in that repository's
  data/fashion/ folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from .loaders import (CIFAR_ARCHIVE, CIFAR_FOLDER, DataError, Dataset, TrainTest, _cifar10_test_batch,
                      load_cifar10_batches, load_idx, load_image_folder)

__all__ = ["Remote", "DatasetSpec", "DATASETS", "NAMES", "spec_of"]


@dataclass(frozen=True)
class Remote:
    """One file of a dataset: its name, the base URLs to try in order, and its MD5."""

    filename: str
    mirrors: tuple[str, ...]
    md5: str

    def urls(self, base_url: str | None = None) -> list[str]:
        bases = (base_url,) if base_url else self.mirrors
        return [b.rstrip("/") + "/" + self.filename for b in bases]


Classes = Optional[tuple[str, ...]]


@dataclass(frozen=True)
class DatasetSpec:
    """Everything the generic code needs to know of one dataset, so that it needs no ``if name == ...``.

    - ``name``: what users type (``grade data download NAME``), and the folder download fills.
    - ``remotes``: the files download fetches into that folder, with their MD5s and mirrors.
    - ``find(root)``: where the data lies in the data folder ``root``, or None: where
      download puts it and where users who fetched it by hand put it, in that order.
    - ``read(where, split, classes)``: one split of the data ``find`` found.
    - ``classes``: the class names, or None when the data names them (CIFAR-10's
      batches.meta, an image folder's class folders); passed to ``read`` and ``read_both``.
    - ``splits``: the splits ``read`` knows.
    - ``read_both(where, classes)``: the train and test splits in one pass, for formats where
      that is faster than two ``read`` calls (one archive holding both); None: two ``read`` calls.
    """

    name: str
    remotes: tuple[Remote, ...]
    find: Callable[[Path], Path | None]
    read: Callable[[Path, str, Classes], Dataset]
    classes: Classes = None
    splits: tuple[str, ...] = ("train", "test")
    read_both: Callable[[Path, Classes], TrainTest] | None = None


def _first_existing(*candidates: Path) -> Path | None:
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return None


# --------------------------------------------------------------------------- CIFAR-10

_CIFAR = ("https://www.cs.toronto.edu/~kriz/",)


def _find_cifar10(root: Path) -> Path | None:
    """Where ``grade data download`` puts it (``DIR/cifar10/cifar-10-python.tar.gz``), and where
    users who fetched it by hand put it: ``cifar-10-batches-py`` or the tar.gz in either folder,
    or ``DIR/cifar10-jpg.zip`` (the course's JPEG copy)."""
    return _first_existing(root / "cifar10" / CIFAR_FOLDER, root / CIFAR_FOLDER, root / "cifar10" / CIFAR_ARCHIVE,
                           root / CIFAR_ARCHIVE, root / "cifar10-jpg.zip")


def _read_cifar10(where: Path, split: str, classes: Classes) -> Dataset:
    """One split from the batches or the JPEG zip; the test split alone reads only test_batch and
    batches.meta (grading needs no more). The classes come from the data."""
    if where.suffix == ".zip":
        return load_image_folder(where, split)
    return _cifar10_test_batch(where) if split == "test" else load_cifar10_batches(where).train


def _read_cifar10_both(where: Path, classes: Classes) -> TrainTest:
    """Both splits in one pass over the batches (one read per split would decompress the archive twice)."""
    if where.suffix == ".zip":
        return TrainTest(load_image_folder(where, "train"), load_image_folder(where, "test"))
    return load_cifar10_batches(where)


CIFAR10 = DatasetSpec(
    name="cifar10",
    remotes=(Remote("cifar-10-python.tar.gz", _CIFAR, "c58f30108f718f92721af3b95e74349a"),),
    find=_find_cifar10,
    read=_read_cifar10,
    read_both=_read_cifar10_both,
)


# --------------------------------------------------------------------------- IDX datasets (MNIST, Fashion-MNIST)

_MNIST = ("http://yann.lecun.com/exdb/mnist/", "https://ossci-datasets.s3.amazonaws.com/mnist/")
_FASHION = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/")


# The four files of an IDX dataset, by role; downloads are gzipped (``<stem>.gz``), files
# unpacked by hand are read too.
_IDX_STEMS = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
              "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}


def _idx_file(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def _idx_files(folder: Path) -> dict[str, Path] | None:
    found = {key: _idx_file(folder, stem) for key, stem in _IDX_STEMS.items()}
    return found if all(found.values()) else None


def _find_idx(name: str) -> Callable[[Path], Path | None]:
    """``find`` of an IDX dataset: ``DIR/<name>`` with its four files (.gz or raw), as download leaves it."""
    def find(root: Path) -> Path | None:
        folder = root / name
        return folder if _idx_files(folder) else None
    return find


def _read_idx(where: Path, split: str, classes: Classes) -> Dataset:
    files = _idx_files(where)
    return load_idx(files[f"{split}_images"], files[f"{split}_labels"], classes)


def _idx_spec(name: str, mirrors: tuple[str, ...], md5s: dict[str, str], classes: tuple[str, ...]) -> DatasetSpec:
    """An IDX dataset as MNIST's hosts publish it: the four gzipped files, ``md5s`` by role."""
    remotes = tuple(Remote(f"{stem}.gz", mirrors, md5s[role]) for role, stem in _IDX_STEMS.items())
    return DatasetSpec(name=name, remotes=remotes, find=_find_idx(name), read=_read_idx, classes=classes)


MNIST = _idx_spec(
    "mnist", _MNIST,
    md5s={"train_images": "f68b3c2dcbeaaa9fbdd348bbdeb94873", "train_labels": "d53e105ee54ea40749a09fcbcd1e9432",
          "test_images": "9fb629c4189551a2d022fa330f9573f3", "test_labels": "ec29112dd5afa0611ce80d1b7f02629c"},
    classes=tuple(str(d) for d in range(10)),
)

FASHION_MNIST = _idx_spec(
    "fashion-mnist", _FASHION,
    md5s={"train_images": "8d4fb7e6c68d591d4c3dfef9ec88bf0d", "train_labels": "25c81989df183df01b3e8a0aad5dffbe",
          "test_images": "bef4ecab320f06d8554ea6380940ec79", "test_labels": "bb300cfdad3c16e7a12a480ee83cd310"},
    classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
)


# --------------------------------------------------------------------------- LFW-8 (the project's faces)


def _find_lfw8(root: Path) -> Path | None:
    """``DIR/lfw8-gray.zip`` (the course's copy), ``DIR/lfw8.zip``, or a folder ``DIR/lfw8/``
    holding one folder of images per person (an instructor's own faces: the same layout)."""
    return _first_existing(root / "lfw8-gray.zip", root / "lfw8.zip", root / "lfw8")


def _read_lfw8(where: Path, split: str, classes: Classes) -> Dataset:
    """One split of the fixed stratified train / val / test split (grader.data.faces)."""
    from .faces import faces_split, read_faces

    return faces_split(read_faces(where), split)


# No download: LFW's host serves the whole 173 MB archive, not these 8 people's aligned grey faces;
# the project's data comes with the course (../shared/data/lfw8-gray.zip) or from the instructor.
LFW8 = DatasetSpec(name="lfw8", remotes=(), find=_find_lfw8, read=_read_lfw8, splits=("train", "val", "test"))


# --------------------------------------------------------------------------- the registry

DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (CIFAR10, MNIST, FASHION_MNIST, LFW8)}
NAMES = tuple(DATASETS)


def spec_of(name: str) -> DatasetSpec:
    """The spec of dataset ``name``; for an unknown name, a DataError that lists the known ones
    (the likeliest fix of a typo)."""
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r} (known: {', '.join(DATASETS)})") from None
