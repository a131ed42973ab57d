"""Download the course's datasets from their official hosts into a cache folder.

Each file is checked against its published MD5 and written atomically: it is streamed to a
temporary file in the destination folder and renamed into place only after the checksum
matches, so an interrupted or corrupt download (Ctrl-C, dropped connection, bad mirror)
never leaves a file that looks complete. Files already cached with the right checksum are
not fetched again.

The files, their URLs and checksums are in each dataset's spec (:mod:`grader.data.specs`).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import secrets
import urllib.error
import urllib.request
from collections.abc import MutableMapping
from dataclasses import replace
from pathlib import Path

from .catalog import locate
from .loaders import DataError
from .paths import ENV_VAR, dataset_folder, default_data_dir
from .specs import DATASETS, DatasetSpec, Remote, spec_of

__all__ = ["DownloadError", "Remote", "SOURCES", "ENV_VAR", "default_data_dir", "download", "md5_of", "cache_status"]

CHUNK = 1 << 16


class DownloadError(Exception):
    """A download failed (network, HTTP status, checksum); the message names the URL."""


class _Sources(MutableMapping):
    """``SOURCES[name]``, a dataset's remote files, as a window on its spec rather than a second
    list that could disagree with it: setting one (tests, a private mirror) replaces the spec's
    ``remotes``, so that download and ``grade data info`` use it."""

    def __getitem__(self, name: str) -> tuple[Remote, ...]:
        return DATASETS[name].remotes

    def __setitem__(self, name: str, remotes) -> None:
        DATASETS[name] = replace(DATASETS[name], remotes=tuple(remotes))

    def __delitem__(self, name: str) -> None:
        raise TypeError("a dataset is removed from grader.data.specs.DATASETS, not from SOURCES")

    def __iter__(self):
        return iter(DATASETS)

    def __len__(self) -> int:
        return len(DATASETS)


SOURCES = _Sources()


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


# Datasets with no download (spec.remotes empty): where users get them instead.
NOT_DOWNLOADED = {"lfw8": "lfw8-gray.zip (the project's faces) from the course, or your own faces as "
                          "lfw8/<Person>/*.jpg"}


def cache_status(data_dir) -> list[tuple[str, str]]:
    """(dataset, one line on what is cached) for each dataset, for ``grade data info``.

    Presence only (no checksums: that would read 200 MB); ``download`` verifies what it keeps.
    """
    return [(spec.name, _status(spec, data_dir)) for spec in DATASETS.values()]


def _status(spec: DatasetSpec, data_dir) -> str:
    """Cached (where, how large), partly downloaded, or absent; and any leftover partial downloads."""
    name = spec.name
    folder = dataset_folder(name, data_dir)
    found = locate(name, data_dir)
    present = [r for r in spec.remotes if (folder / r.filename).is_file()]
    if found is not None:
        files = [found] if found.is_file() else [p for p in found.iterdir() if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        status = f"cached: {found} ({size / 1e6:.1f} MB)"
    elif not spec.remotes:
        status = f"not here — {NOT_DOWNLOADED.get(name, 'handed out by the course')}"
    elif present:
        status = (f"incomplete: {len(present)} of {len(spec.remotes)} files in {folder} — "
                  f"run `grade data download {name}`")
    else:
        status = f"not downloaded — run `grade data download {name}`"
    leftovers = list(folder.glob(".*.part")) if folder.is_dir() else []
    if leftovers:
        status += f"; {len(leftovers)} leftover partial download(s) (safe to delete): {leftovers[0]}"
    return status


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
    try:
        spec = spec_of(name)
    except DataError as e:
        raise DownloadError(str(e)) from None
    if not spec.remotes:
        raise DownloadError(f"{name} is not downloaded but handed out by the course: put it into "
                            f"{default_data_dir(data_dir)} ({NOT_DOWNLOADED.get(name, 'see grade data info')})")
    folder = dataset_folder(name, default_data_dir(data_dir))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DownloadError(f"cannot create the data folder {folder}: {e.strerror or e}") from None
    missing = [r for r in spec.remotes if not _is_verified(folder / r.filename, r.md5)]
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
