"""The project's faces: LFW-8 (or an instructor's own folder of the same layout), cut into a
fixed stratified train / validation / test split, and the students' hand-out.

The data is one image folder per person, ``[lfw8/]<Person_Name>/*.jpg``, in a zip or a folder
(``lfw8-gray.zip``: the 8 people of Labeled Faces in the Wild with at least 60 images, 1,348
aligned 250×250 grey images). Every image becomes one grey 64×64 face: the centre square of
an LFW-sized (250×250) image is its face (140 px, what the aligned images hold between
the hair and the chin), any other image is cut to its own centre square first (a folder of
already-cropped faces, e.g. the course's VGG-Face images), then resized with Pillow's box filter.

The split is per person (stratified) and fixed by a seed: 60 % train, 20 % validation, 20 %
test, so every machine draws the same faces. The test split is the instructor's: students get
train and validation (``grade data handout``), and for a predictions CSV the test images
without names, under ids that a seeded shuffle assigns (``face_ids``). Kaggle-style, the test
split is cut once more into a public half (shown during the project) and a private half
(the final ranking), also per person (``public_private``).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from .loaders import DataError, Dataset, _decode_image, _image_files_in_folder, _image_files_in_zip

__all__ = ["SIDE", "FRACTIONS", "SPLIT_SEED", "read_faces", "stratified_split", "faces_split", "face_ids",
           "id_order", "public_private", "write_handout"]

SIDE = 64                         # the faces' side in pixels: (1, 64, 64) uint8 images
LFW_SIZE, LFW_FACE = 250, 140     # LFW's aligned images and the centre square holding the face
FRACTIONS = (0.6, 0.2, 0.2)       # train, validation, test, per person
SPLIT_SEED = 15                   # the course's fixed draw
SPLITS = ("train", "val", "test")


def face(image: np.ndarray) -> np.ndarray:
    """One decoded image (C, H, W) uint8 -> its grey face (1, SIDE, SIDE): grey by the channels'
    mean, the centre square (LFW's face box for a 250×250 image), box-resized."""
    from PIL import Image

    grey = image[0] if image.shape[0] == 1 else np.round(image.mean(axis=0)).astype(np.uint8)  # (H, W)
    h, w = grey.shape
    side = LFW_FACE if (h, w) == (LFW_SIZE, LFW_SIZE) else min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = Image.fromarray(grey[top: top + side, left: left + side])
    return np.asarray(crop.resize((SIDE, SIDE), Image.BOX), dtype=np.uint8)[None]        # (1, SIDE, SIDE)


_READ: dict = {}  # {(where, size, mtime): Dataset}: the three splits are cut from one read


def read_faces(where) -> Dataset:
    """Every face in ``where`` (a zip or a folder holding ``[FOLDER/]<Person>/*.jpg``), people
    sorted by name and files by name within a person, so the order is the same everywhere."""
    where = Path(where)
    key = (str(where), where.stat().st_size, where.stat().st_mtime_ns) if where.exists() else None
    if key in _READ:
        return _READ[key]
    zf = None
    try:
        if where.is_dir():
            base = where / "lfw8" if (where / "lfw8").is_dir() and not any(
                f.is_file() for f in where.glob("*/*.jpg")) else where
            files = list(_image_files_in_folder(base, None))
        else:
            try:
                zf = zipfile.ZipFile(where)
            except (zipfile.BadZipFile, OSError) as e:
                raise DataError(f"{where}: not a readable zip file ({e})") from None
            files = _image_files_in_zip(zf, where, None)
        if not files:
            raise DataError(f"{where}: no images in <Person>/ folders")
        files.sort(key=lambda f: (f[0], f[1]))
        classes = sorted({f[0] for f in files})
        index = {name: i for i, name in enumerate(classes)}
        images = np.stack([face(_decode_image(read(), at)) for _, at, read in files])      # (N, 1, SIDE, SIDE)
    finally:
        if zf is not None:
            zf.close()
    labels = np.array([index[f[0]] for f in files], dtype=np.int64)
    _READ.clear()
    _READ[key] = Dataset(images, labels, classes)
    return _READ[key]


def stratified_split(labels: np.ndarray, fractions=FRACTIONS, seed: int = SPLIT_SEED) -> list[np.ndarray]:
    """Disjoint sorted index sets, one per fraction, drawn per class: class c's n_c examples are
    shuffled by a seeded generator and cut at round(n_c * cumulative fraction)."""
    assert abs(sum(fractions) - 1) < 1e-9, f"fractions must add up to 1, got {fractions}"
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[] for _ in fractions]
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))                        # (n_c,)
        cuts = np.round(np.cumsum(fractions)[:-1] * len(members)).astype(int)
        for i, chunk in enumerate(np.split(members, cuts)):
            parts[i].append(chunk)
    return [np.sort(np.concatenate(p)).astype(np.int64) for p in parts]


def faces_split(data: Dataset, split: str, seed: int = SPLIT_SEED) -> Dataset:
    """The ``split`` ("train", "val" or "test") of the faces, the same on every machine."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    return data.subset(stratified_split(data.labels, FRACTIONS, seed)[SPLITS.index(split)])


def id_order(n: int, seed: int = SPLIT_SEED) -> np.ndarray:
    """The test split's indices in the order of their ids: ``id_order(n)[r]`` is the image
    called ``face-{r + 1}``. Anything per test image kept where a student may see it (a model's
    probabilities in the grading's details) is kept in this order, never the split's, which
    is sorted by person."""
    return np.random.default_rng([seed, 1]).permutation(n)                            # (n,)


def face_ids(n: int, seed: int = SPLIT_SEED) -> list[str]:
    """The id of each test image (in the test split's order): ``face-001``… handed out in a
    seeded shuffled order (``id_order``), so an id says nothing about the person (the split is
    sorted by person)."""
    order = id_order(n, seed)                                                         # (n,)
    width = max(3, len(str(n)))
    ids = [""] * n
    for rank, i in enumerate(order):
        ids[i] = f"face-{rank + 1:0{width}d}"
    return ids


def public_private(labels: np.ndarray, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """The test split's public half (the leaderboard during the project) and private half (the
    final ranking): indices into the test split, per person, the odd one of a person to private."""
    private, public = stratified_split(labels, (0.5, 0.5), seed + 1)
    return public, private


def write_handout(data: Dataset, out: Path, *, unlabelled_test: bool = False, seed: int = SPLIT_SEED) -> dict:
    """Write what students get into ``out``: ``train/<Person>/NNNN.png`` and ``val/<Person>/NNNN.png``
    (the faces as the grader sees them), and with ``unlabelled_test`` ``test/<id>.png`` with no
    person (for a predictions CSV). Returns the counts written."""
    from PIL import Image

    out = Path(out)
    counts = {}
    for split in ("train", "val"):
        part = faces_split(data, split, seed)
        for i, (image, label) in enumerate(zip(part.images, part.labels)):
            folder = out / split / part.classes[label]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image[0]).save(folder / f"{i:04d}.png")
        counts[split] = len(part)
    if unlabelled_test:
        test = faces_split(data, "test", seed)
        (out / "test").mkdir(parents=True, exist_ok=True)
        for name, image in zip(face_ids(len(test), seed), test.images):
            buffer = io.BytesIO()
            Image.fromarray(image[0]).save(buffer, format="PNG")
            (out / "test" / f"{name}.png").write_bytes(buffer.getvalue())
        counts["test (unlabelled)"] = len(test)
    return counts
