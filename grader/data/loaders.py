"""Load image datasets in the formats course users really have, as plain uint8 arrays.

Three formats, each read straight from what users download or are given:

- CIFAR-10's official python batches (``cifar-10-batches-py/``, or the ``.tar.gz`` itself),
- image folders ``ROOT/<split>/<class>/*.png|jpg`` (or the same inside a ``.zip``),
- IDX files (MNIST, Fashion-MNIST), gzipped or raw.

Everything comes back as a :class:`Dataset`: images uint8 ``(N, C, H, W)``, labels int64,
class names. A file that is corrupt, truncated or not in the expected format raises
:class:`DataError` naming the file, never a bare traceback from pickle, zlib or Pillow.

Which dataset comes in which format, and where it lies in a data folder, is said by its spec
(:mod:`grader.data.specs`); loading by name is :mod:`grader.data.catalog`.
"""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

import numpy as np

__all__ = ["DataError", "Dataset", "TrainTest", "load_cifar10_batches", "load_image_folder", "load_idx"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


class DataError(Exception):
    """A data file is missing, corrupt, truncated or not in the format expected; the message names it."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images uint8 ``(N, C, H, W)``, labels int64 ``(N,)`` indexing ``classes``.

    One layout for every format, so that splits, training code and checks never ask where
    the data came from. Checked on construction: a wrong dtype or shape found here is a
    loader bug, found later it is a mysterious training failure.
    """

    images: np.ndarray
    labels: np.ndarray
    classes: list[str]

    def __post_init__(self):
        images, labels = self.images, self.labels
        if not (isinstance(images, np.ndarray) and images.dtype == np.uint8 and images.ndim == 4):
            raise ValueError(f"images must be a uint8 array (N, C, H, W), got {_describe(images)}")
        if not (isinstance(labels, np.ndarray) and labels.dtype == np.int64 and labels.shape == images.shape[:1]):
            raise ValueError(f"labels must be an int64 array of shape ({len(images)},), got {_describe(labels)}")
        if labels.size and (labels.min() < 0 or labels.max() >= len(self.classes)):
            raise ValueError(f"labels must lie in [0, {len(self.classes)}), got {labels.min()}..{labels.max()}")

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices) -> "Dataset":
        """The examples at ``indices`` (copied), with the same class names."""
        indices = np.asarray(indices, dtype=np.int64)
        return Dataset(self.images[indices], self.labels[indices], list(self.classes))

    def counts(self) -> np.ndarray:
        """How many examples each class has (index = label)."""
        return np.bincount(self.labels, minlength=len(self.classes))


class TrainTest(NamedTuple):
    """A dataset's official training and test sets: ``train, test = load("cifar10")``."""

    train: Dataset
    test: Dataset


def _describe(x) -> str:
    if isinstance(x, np.ndarray):
        return f"{x.dtype} array of shape {x.shape}"
    return type(x).__name__


# --------------------------------------------------------------------------- CIFAR-10 batches

CIFAR_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_TEST_BATCH = "test_batch"
CIFAR_META = "batches.meta"
CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_ARCHIVE = "cifar-10-python.tar.gz"


def _refuse_object_dtype(*args):
    """``numpy.dtype`` for the unpickler, minus object dtypes: an object array's pickled state
    is a list of arbitrary Python objects, which a data file never needs."""
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise pickle.UnpicklingError(f"object dtype {dtype} is not allowed in a data file")
    return dtype


def _latin1_encode(text, encoding="utf-8"):
    """``_codecs.encode`` for the unpickler, limited to latin-1: Python 3 writes ``bytes``
    at pickle protocol 2 as ``_codecs.encode(str, "latin1")``; no other codec is needed."""
    if encoding.replace("-", "").replace("_", "").lower() not in ("latin1", "iso88591") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"_codecs.encode with {encoding!r} is not allowed in a data file")
    return text.encode("latin-1")


# ndarray.__reduce__ names numpy's private _reconstruct; its module moved in numpy 2
# (numpy.core -> numpy._core), so take the function itself from a reduce rather than import it.
_RECONSTRUCT = np.ndarray((0,), np.uint8).__reduce__()[0]

# The complete list of globals an official CIFAR-10 batch (written by Python 2's cPickle,
# protocol 2) or one written the same way by Python 3 refers to: found by disassembling such
# files with pickletools. Anything else (os.system, builtins.eval, ...) is refused.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _refuse_object_dtype,
    ("_codecs", "encode"): _latin1_encode,
}


class _RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that can build only dicts, lists, str/bytes, numbers and plain numpy arrays.

    CIFAR-10's batches are pickles, and ``pickle.load`` on a file someone sent you runs any
    code the file names. This one resolves only the globals in ``_ALLOWED_GLOBALS``.
    """

    def find_class(self, module, name):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: a data file has no need of it") from None


def _unpickle(data: bytes, where: str):
    """Unpickle a CIFAR batch with the restricted unpickler; any failure names the file."""
    try:
        # encoding="bytes": Python 2 str (the official files' keys and strings) stays bytes,
        # so numpy's raw array data is not mangled by decoding it as text.
        return _RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except pickle.UnpicklingError as e:
        raise DataError(f"{where}: not a CIFAR-10 batch ({e})") from None
    except EOFError:
        raise DataError(f"{where}: file is truncated (the pickle ends early)") from None
    except Exception as e:  # a malformed stream raises almost anything from inside pickle/numpy
        raise DataError(f"{where}: not a CIFAR-10 batch, or corrupt ({type(e).__name__}: {e})") from None


def _text(value) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _as_str_keys(obj, where: str) -> dict:
    """The batch dict with str keys: the official files have bytes keys, a re-pickled one may not."""
    if not isinstance(obj, dict):
        raise DataError(f"{where}: not a CIFAR-10 batch (holds a {type(obj).__name__}, expected a dict)")
    return {_text(k): v for k, v in obj.items()}


def _cifar_batch(data: bytes, where: str, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """One batch file → images (N, 3, 32, 32) uint8 and labels int64, checked against the format."""
    batch = _as_str_keys(_unpickle(data, where), where)
    missing = {"data", "labels"} - set(batch)
    if missing:
        raise DataError(f"{where}: not a CIFAR-10 batch (no {', '.join(sorted(missing))} entry)")
    pixels, labels = batch["data"], batch["labels"]
    if not (isinstance(pixels, np.ndarray) and pixels.dtype == np.uint8 and pixels.ndim == 2 and pixels.shape[1] == 3072):
        raise DataError(f"{where}: 'data' must be a uint8 array (N, 3072), got {_describe(pixels)}")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"{where}: 'labels' must be a list of integers") from None
    if labels.shape != (len(pixels),):
        raise DataError(f"{where}: {len(pixels)} images but 'labels' has shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise DataError(f"{where}: labels must lie in [0, {n_classes}), got {labels.min()}..{labels.max()}")
    # The official row layout is 1024 red, 1024 green, 1024 blue values, each row-major 32x32.
    return pixels.reshape(-1, 3, 32, 32), labels


def _cifar_classes(data: bytes, where: str) -> list[str]:
    meta = _as_str_keys(_unpickle(data, where), where)
    names = meta.get("label_names")
    if not isinstance(names, list) or not names:
        raise DataError(f"{where}: not CIFAR-10's batches.meta (no 'label_names' list)")
    return [_text(n) for n in names]


CIFAR_FILES = (CIFAR_META, *CIFAR_TRAIN_BATCHES, CIFAR_TEST_BATCH)


def _read_cifar_files(folder_or_tar: Path, names: tuple[str, ...] = CIFAR_FILES) -> dict[str, tuple[bytes, str]]:
    """{file name: (bytes, where)} for ``names`` (default: batches.meta and the six batches),
    from a batches folder or the official tar.gz. The archive is read in one pass, stopping
    once every name is found: its members are in no useful order, and seeking back in a gzip
    stream decompresses it again from the start."""
    path = Path(folder_or_tar)
    if path.is_dir():
        folder = path / CIFAR_FOLDER if (path / CIFAR_FOLDER).is_dir() else path
        found = {}
        for name in names:
            file = folder / name
            if not file.is_file():
                raise DataError(f"{file}: not found (expected CIFAR-10's {', '.join(CIFAR_FILES)} in {folder})")
            found[name] = (file.read_bytes(), str(file))
        return found
    if not path.is_file():
        raise DataError(f"{path}: not found")
    found = {}
    try:
        with tarfile.open(path, "r|*") as tar:  # a stream: gzip or plain tar, told by the bytes
            for member in tar:
                name = member.name.rsplit("/", 1)[-1]
                if member.isfile() and name in names:
                    found[name] = (tar.extractfile(member).read(), f"{path}:{member.name}")
                    if len(found) == len(names):
                        break
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        what = "archive is truncated or corrupt" if found else "not a readable tar archive"
        raise DataError(f"{path}: {what} ({e})") from None
    missing = [name for name in names if name not in found]
    if missing:
        raise DataError(f"{path}: has no {', '.join(missing)} (not CIFAR-10's python version, or truncated)")
    return found


def load_cifar10_batches(folder_or_tar) -> TrainTest:
    """CIFAR-10 from its official python batches: a folder (``cifar-10-batches-py`` or its
    parent) or the downloaded ``cifar-10-python.tar.gz``, read without extracting it.

    Returns train (data_batch_1..5 in order) and test (test_batch), class names from batches.meta.
    """
    files = _read_cifar_files(Path(folder_or_tar))
    classes = _cifar_classes(*files[CIFAR_META])
    parts = [_cifar_batch(*files[name], len(classes)) for name in CIFAR_TRAIN_BATCHES]
    test_images, test_labels = _cifar_batch(*files[CIFAR_TEST_BATCH], len(classes))
    train = Dataset(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), classes)
    return TrainTest(train, Dataset(test_images, test_labels, list(classes)))


def _cifar10_test_batch(folder_or_tar) -> Dataset:
    """CIFAR-10's test set alone (test_batch and batches.meta): what grading needs."""
    files = _read_cifar_files(Path(folder_or_tar), (CIFAR_META, CIFAR_TEST_BATCH))
    classes = _cifar_classes(*files[CIFAR_META])
    return Dataset(*_cifar_batch(*files[CIFAR_TEST_BATCH], len(classes)), classes)


# --------------------------------------------------------------------------- image folders

def _image_files_in_folder(root: Path, split: str | None) -> Iterator[tuple[str, str, Callable[[], bytes]]]:
    """(class, where, read) for every image under ROOT/<split>/<class>/."""
    base = root / split if split else root
    if not base.is_dir():
        raise DataError(f"{base}: not found (expected class folders in ROOT/{split or ''})")
    for class_dir in base.iterdir():
        if class_dir.is_dir():
            for file in class_dir.iterdir():
                if file.suffix.lower() in IMAGE_SUFFIXES and not file.name.startswith(".") and file.is_file():
                    yield class_dir.name, str(file), file.read_bytes


def _image_files_in_zip(zf: zipfile.ZipFile, zip_path: Path, split: str | None):
    """(class, where, read) for every image at ``[PREFIX/]<split>/<class>/file`` in a zip.

    A single leading folder (``cifar10/train/...``) is allowed, since zipping a folder
    usually adds one; several different ones make the layout ambiguous.
    """
    depth = 3 if split else 2
    found, prefixes = [], set()
    for info in zf.infolist():
        parts = info.filename.split("/")
        if info.is_dir() or len(parts) < depth or Path(parts[-1]).suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if parts[-1].startswith(".") or "__MACOSX" in parts:  # macOS resource forks, not images
            continue
        if split and parts[-3] != split:
            continue
        prefixes.add("/".join(parts[:-depth]))
        found.append((parts[-2], f"{zip_path}:{info.filename}", (lambda i=info: zf.read(i))))
    if len(prefixes) > 1:
        shown = ", ".join(repr(p + "/") if p else "the top level" for p in sorted(prefixes)[:3])
        raise DataError(f"{zip_path}: ambiguous layout, '{split or '<class>'}' folders under {shown}")
    if not found:
        where = f"[FOLDER/]{split}/<class>/" if split else "[FOLDER/]<class>/"
        raise DataError(f"{zip_path}: no images at {where} (splits in the zip: {_zip_top_folders(zf)})")
    return found


def _zip_top_folders(zf: zipfile.ZipFile) -> str:
    tops = sorted({n.split("/")[0] for n in zf.namelist() if "/" in n})
    return ", ".join(tops[:10]) or "none"


def _decode_image(data: bytes, where: str) -> np.ndarray:
    """One image file → uint8 (C, H, W): C=1 for grayscale, C=3 for color (alpha dropped)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            gray = img.mode in ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F") or (
                img.mode == "P" and _palette_is_gray(img))
            mode = "L" if gray else "RGB"
            array = np.asarray(img if img.mode == mode else img.convert(mode))
    except UnidentifiedImageError:
        raise DataError(f"{where}: not an image file Pillow can read") from None
    except (OSError, SyntaxError, ValueError, zlib.error) as e:  # Pillow's ways of saying truncated/corrupt
        raise DataError(f"{where}: corrupt or truncated image ({e})") from None
    return array[None] if gray else array.transpose(2, 0, 1)


def _palette_is_gray(img) -> bool:
    palette = img.getpalette() or []
    return all(palette[i] == palette[i + 1] == palette[i + 2] for i in range(0, len(palette) - 2, 3))


def _stack_images(arrays: list[np.ndarray], wheres: list[str]) -> np.ndarray:
    """Stack (C, H, W) images; a grayscale image among color ones is repeated to 3 channels
    (real folders have a few), different sizes are an error (the loader does not resize)."""
    size = arrays[0].shape[1:]
    for array, where in zip(arrays, wheres):
        if array.shape[1:] != size:
            raise DataError(f"{where}: image is {array.shape[2]}x{array.shape[1]}, the others "
                            f"{size[1]}x{size[0]} ({wheres[0]}); resize the folder's images to one size")
    if any(a.shape[0] == 3 for a in arrays):
        arrays = [np.repeat(a, 3, axis=0) if a.shape[0] == 1 else a for a in arrays]
    return np.stack(arrays)


def load_image_folder(root_or_zip, split: str | None = "train") -> Dataset:
    """Images from ``ROOT/<split>/<class>/*.png|jpg`` in a folder or a .zip (read without extracting).

    Classes are the sorted folder names and files are read in sorted order, so labels and
    order are the same on every machine. ``split=None`` reads ``ROOT/<class>/`` directly.
    """
    path = Path(root_or_zip)
    zf = None
    if path.is_dir():
        files = list(_image_files_in_folder(path, split))
        if not files:
            raise DataError(f"{path / (split or '')}: no image files in its class folders")
    elif path.is_file():
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as e:
            raise DataError(f"{path}: not a readable zip file ({e})") from None
        files = _image_files_in_zip(zf, path, split)
    else:
        raise DataError(f"{path}: not found")
    try:
        files.sort(key=lambda f: (f[0], f[1]))
        classes = sorted({f[0] for f in files})
        index = {name: i for i, name in enumerate(classes)}
        arrays = [_decode_image(_read_member(read, where), where) for _, where, read in files]
    finally:
        if zf is not None:
            zf.close()
    labels = np.array([index[f[0]] for f in files], dtype=np.int64)
    return Dataset(_stack_images(arrays, [f[1] for f in files]), labels, classes)


def _read_member(read, where: str) -> bytes:
    try:
        return read()
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as e:
        raise DataError(f"{where}: cannot read it from the archive ({e})") from None


# --------------------------------------------------------------------------- IDX (MNIST)

_IDX_UBYTE = 0x08


def _read_maybe_gzip(path: Path) -> bytes:
    """The file's bytes, gunzipped if it is gzip (told by its magic bytes, not its name)."""
    if not path.is_file():
        raise DataError(f"{path}: not found")
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise DataError(f"{path}: gzip file is truncated") from None
    except (OSError, zlib.error) as e:
        raise DataError(f"{path}: corrupt gzip file ({e})") from None


def _parse_idx(path: Path, ndim: int) -> np.ndarray:
    """An IDX file of unsigned bytes with ``ndim`` dimensions, header and size checked.

    Format (yann.lecun.com/exdb/mnist): 0x00 0x00, type byte (0x08 = ubyte), number of
    dimensions, one big-endian uint32 per dimension, then the data.
    """
    data = _read_maybe_gzip(path)
    if len(data) < 4 or data[:2] != b"\x00\x00":
        raise DataError(f"{path}: not an IDX file (bad magic number {data[:4].hex() or 'empty file'})")
    dtype_code, got_ndim = data[2], data[3]
    if dtype_code != _IDX_UBYTE:
        raise DataError(f"{path}: IDX data type 0x{dtype_code:02x} is not supported (expected 0x08, unsigned bytes)")
    if got_ndim != ndim:
        kind = "an images file (3 dimensions)" if ndim == 3 else "a labels file (1 dimension)"
        raise DataError(f"{path}: has {got_ndim} dimensions, expected {kind}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: file is truncated (header incomplete)")
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(data) < expected:
        raise DataError(f"{path}: file is truncated: dimensions {dims} need {expected - header} bytes "
                        f"of data, found {len(data) - header}")
    if len(data) > expected:
        raise DataError(f"{path}: {len(data) - expected} bytes after the data of dimensions {dims} (corrupt file?)")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def load_idx(images_path, labels_path, classes: list[str] | None = None) -> Dataset:
    """Images and labels from a pair of IDX files (MNIST, Fashion-MNIST), .gz or raw.

    ``classes`` defaults to the label values as text ("0".."9" for MNIST).
    """
    images_path, labels_path = Path(images_path), Path(labels_path)
    images = _parse_idx(images_path, 3)
    labels = _parse_idx(labels_path, 1).astype(np.int64)
    if len(images) != len(labels):
        raise DataError(f"{labels_path}: has {len(labels)} labels but {images_path} has {len(images)} images")
    if classes is None:
        classes = [str(i) for i in range(int(labels.max()) + 1 if labels.size else 0)]
    elif labels.size and labels.max() >= len(classes):
        raise DataError(f"{labels_path}: label {labels.max()} is out of range for {len(classes)} classes")
    return Dataset(images[:, None].copy(), labels, list(classes))
