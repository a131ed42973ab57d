"""Unpack a zip of submissions without trusting it.

A class's zip comes from students and from a learning platform: names may try to climb out
of the target folder (``../../.bashrc``, ``/etc/passwd``), entries may be symlinks, and a
few kilobytes may inflate to terabytes. Every entry is checked before it is written, the
bytes actually written are counted (the sizes in the zip's directory can lie), and only
regular files and folders come out.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath

MAX_BYTES = 4 << 30  # unpacked size of a whole class (exercise11 has weights files)
MAX_ENTRIES = 100_000
JUNK = ("__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini")


class UnzipError(Exception):
    """The zip cannot be unpacked safely (unreadable, too large, too many entries)."""


def is_junk(name: str) -> bool:
    """Files that archivers and operating systems add, never a student's work."""
    return name in JUNK or name.startswith("._") or name.startswith(".~lock")


def safe_parts(name: str) -> tuple[str, ...] | None:
    """Return the path parts of a zip entry name, or None if it must not be written."""
    if "\0" in name or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return None
    parts = tuple(p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", "."))
    if not parts or any(p == ".." for p in parts) or any(is_junk(p) for p in parts):
        return None
    return parts


def extract(zip_path: Path, target: Path, *, max_bytes: int = MAX_BYTES, max_entries: int = MAX_ENTRIES) -> list[str]:
    """Unpack ``zip_path`` into ``target``; return one line per entry that was left out."""
    skipped: list[str] = []
    written = 0
    root = target.resolve()
    try:
        with zipfile.ZipFile(zip_path) as zf:
            entries = zf.infolist()
            if len(entries) > max_entries:
                raise UnzipError(f"{zip_path.name} has {len(entries):,} entries (at most {max_entries:,} are unpacked)")
            for info in entries:
                parts = safe_parts(info.filename)
                mode = info.external_attr >> 16
                if parts is None:
                    if not any(is_junk(p) for p in PurePosixPath(info.filename).parts):
                        skipped.append(f"{info.filename}: a path outside the folder")
                    continue
                if stat.S_ISLNK(mode):
                    skipped.append(f"{info.filename}: a symbolic link")
                    continue
                dest = root.joinpath(*parts)
                if not dest.resolve().is_relative_to(root):
                    skipped.append(f"{info.filename}: a path outside the folder")
                    continue
                if info.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(dest, "wb") as out:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > max_bytes:
                            raise UnzipError(f"{zip_path.name} unpacks to more than {max_bytes >> 20:,} MiB — "
                                             "refusing to fill the disk")
                        out.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError) as e:
        raise UnzipError(f"{zip_path.name} cannot be unpacked: {e}") from None
    return skipped


def single_folder(root: Path, stop=lambda folder: False) -> Path:
    """Descend through folders that hold nothing but one folder (``class.zip`` → ``class/``),
    but not into a folder for which ``stop`` says it is a student's own."""
    while True:
        entries = [p for p in root.iterdir() if not is_junk(p.name)]
        if len(entries) != 1 or not entries[0].is_dir() or stop(entries[0]):
            return root
        root = entries[0]
