"""Download the course's datasets from their official hosts into a cache folder.

Each file is checked against its published MD5 and written atomically: it is streamed to a
temporary file in the destination folder and renamed into place only after the checksum
matches, so an interrupted or corrupt download (Ctrl-C, dropped connection, bad mirror)
never leaves a file that looks complete. Files already cached with the right checksum are
not fetched again.

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

import hashlib
import http.client
import os
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .loaders import NAMES

__all__ = ["DownloadError", "Remote", "SOURCES", "ENV_VAR", "default_data_dir", "download", "md5_of", "cache_status"]

ENV_VAR = "DLCOURSE_DATA"
CHUNK = 1 << 16


class DownloadError(Exception):
    """A download failed (network, HTTP status, checksum); the message names the URL."""


@dataclass(frozen=True)
class Remote:
    """One file of a dataset: its name, the base URLs to try in order, and its MD5."""

    filename: str
    mirrors: tuple[str, ...]
    md5: str

    def urls(self, base_url: str | None = None) -> list[str]:
        bases = (base_url,) if base_url else self.mirrors
        return [b.rstrip("/") + "/" + self.filename for b in bases]


_CIFAR = ("https://www.cs.toronto.edu/~kriz/",)
_MNIST = ("http://yann.lecun.com/exdb/mnist/", "https://ossci-datasets.s3.amazonaws.com/mnist/")
_FASHION = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/")

SOURCES: dict[str, tuple[Remote, ...]] = {
    "cifar10": (Remote("cifar-10-python.tar.gz", _CIFAR, "c58f30108f718f92721af3b95e74349a"),),
    "mnist": (
        Remote("train-images-idx3-ubyte.gz", _MNIST, "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        Remote("train-labels-idx1-ubyte.gz", _MNIST, "d53e105ee54ea40749a09fcbcd1e9432"),
        Remote("t10k-images-idx3-ubyte.gz", _MNIST, "9fb629c4189551a2d022fa330f9573f3"),
        Remote("t10k-labels-idx1-ubyte.gz", _MNIST, "ec29112dd5afa0611ce80d1b7f02629c"),
    ),
    "fashion-mnist": (
        Remote("train-images-idx3-ubyte.gz", _FASHION, "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        Remote("train-labels-idx1-ubyte.gz", _FASHION, "25c81989df183df01b3e8a0aad5dffbe"),
        Remote("t10k-images-idx3-ubyte.gz", _FASHION, "bef4ecab320f06d8554ea6380940ec79"),
        Remote("t10k-labels-idx1-ubyte.gz", _FASHION, "bb300cfdad3c16e7a12a480ee83cd310"),
    ),
}
assert set(SOURCES) == set(NAMES)


def default_data_dir(data_dir=None) -> Path:
    """The cache folder: ``data_dir`` (``--data-dir``) if given, else $DLCOURSE_DATA, else the
    platform's user cache folder (``~/.cache/dlcourse-grader`` on Linux)."""
    if data_dir:
        return Path(data_dir).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("dlcourse-grader", appauthor=False))


def dataset_folder(name: str, data_dir) -> Path:
    """Where ``download`` puts dataset ``name``: one subfolder per dataset."""
    return Path(data_dir) / name


def md5_of(path) -> str:
    """Hex MD5 of a file, read in chunks (CIFAR-10's archive is 163 MB)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_verified(path: Path, md5: str) -> bool:
    """Whether ``path`` exists with the right checksum (a file put there by hand may not)."""
    return path.is_file() and md5_of(path) == md5


def cache_status(data_dir) -> list[tuple[str, str]]:
    """(dataset, one line on what is cached) for each dataset, for ``grade data info``.

    Presence only (no checksums: that would read 200 MB); ``download`` verifies what it keeps.
    """
    from .loaders import locate

    rows = []
    for name in NAMES:
        folder = dataset_folder(name, data_dir)
        found = locate(name, data_dir)
        present = [r for r in SOURCES[name] if (folder / r.filename).is_file()]
        if found is not None:
            files = [found] if found.is_file() else [p for p in found.iterdir() if p.is_file()]
            size = sum(p.stat().st_size for p in files)
            status = f"cached: {found} ({size / 1e6:.1f} MB)"
        elif present:
            status = (f"incomplete: {len(present)} of {len(SOURCES[name])} files in {folder} — "
                      f"run `grade data download {name}`")
        else:
            status = f"not downloaded — run `grade data download {name}`"
        leftovers = list(folder.glob(".*.part")) if folder.is_dir() else []
        if leftovers:
            status += f"; {len(leftovers)} leftover partial download(s) (safe to delete): {leftovers[0]}"
        rows.append((name, status))
    return rows


def _progress_bar():
    from rich.console import Console
    from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                               TransferSpeedColumn)

    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                    TimeRemainingColumn(), console=Console(stderr=True), transient=False)


def _fetch(url: str, target: Path, md5: str, *, progress=None, timeout: float = 30.0) -> None:
    """Stream ``url`` into a temporary file beside ``target``; rename it to ``target`` only if
    its MD5 is ``md5``. The temporary file is removed on any failure, Ctrl-C included."""
    # Not tempfile.mkstemp: its files are private (0600); a cache folder shared by a course's
    # users needs the permissions of an ordinary file (the umask's).
    tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.part"
    try:
        out = open(tmp, "xb")
    except OSError as e:
        raise DownloadError(f"cannot write to {target.parent}: {e.strerror or e}") from None
    task = None
    try:
        digest = hashlib.md5(usedforsecurity=False)
        with out:
            try:
                response = urllib.request.urlopen(url, timeout=timeout)
            except urllib.error.HTTPError as e:
                raise DownloadError(f"{url}: HTTP {e.code} {e.reason}") from None
            except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as e:
                raise DownloadError(f"{url}: {getattr(e, 'reason', e)}") from None
            with response:
                total = int(response.headers.get("Content-Length") or 0) or None
                task = progress.add_task(target.name, total=total) if progress is not None else None
                received = 0
                try:
                    while block := response.read(CHUNK):
                        out.write(block)
                        digest.update(block)
                        received += len(block)
                        if task is not None:
                            progress.update(task, advance=len(block))
                except (OSError, http.client.HTTPException) as e:
                    raise DownloadError(f"{url}: connection lost after {received} bytes ({e})") from None
                if total is not None and received != total:
                    raise DownloadError(f"{url}: connection lost after {received} of {total} bytes")
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != md5:
            raise DownloadError(f"{url}: checksum mismatch (md5 {digest.hexdigest()}, expected {md5}); "
                                f"nothing was saved")
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        if task is not None:
            progress.remove_task(task)  # a failed attempt's bar would look like a finished file
        raise


def download(name: str, data_dir=None, *, base_url: str | None = None, progress: bool = True,
             timeout: float = 30.0) -> Path:
    """Download dataset ``name`` (cifar10, mnist, fashion-mnist) into ``data_dir``/``name``.

    Each file is tried at its official host, then its mirror (or only at ``base_url``, for
    tests and private mirrors). Files already there with the right checksum are kept, others
    are fetched again. Returns the dataset's folder.
    """
    if name not in SOURCES:
        raise DownloadError(f"unknown dataset {name!r} (known: {', '.join(SOURCES)})")
    folder = dataset_folder(name, default_data_dir(data_dir))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DownloadError(f"cannot create the data folder {folder}: {e.strerror or e}") from None
    missing = [r for r in SOURCES[name] if not _is_verified(folder / r.filename, r.md5)]
    if not missing:
        return folder
    bar = _progress_bar() if progress else None
    try:
        if bar is not None:
            bar.start()
        for remote in missing:
            _fetch_with_mirrors(remote, folder / remote.filename, base_url, bar, timeout)
    finally:
        if bar is not None:
            bar.stop()
    return folder


def _fetch_with_mirrors(remote: Remote, target: Path, base_url, bar, timeout) -> None:
    """Try each URL of ``remote`` in turn; the error names every URL tried if none worked."""
    errors = []
    for url in remote.urls(base_url):
        try:
            _fetch(url, target, remote.md5, progress=bar, timeout=timeout)
            return
        except DownloadError as e:
            errors.append(str(e))
    raise DownloadError(f"could not download {remote.filename}: " + "; ".join(errors))
