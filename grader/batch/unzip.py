"""Unpack a zip of submissions without trusting it.

A class's zip comes from students and from a learning platform: names may try to climb out
of the target folder (``../../.bashrc``, ``/etc/passwd``), entries may be symlinks, and a
few kilobytes may inflate to terabytes. Every entry is checked before it is written, the
bytes actually written are counted as they are written (the sizes in the zip's directory can
lie), and only regular files and folders come out.

Three sizes are bounded: one entry (its unpacked size, and its ratio to its packed size), one
student's entries together, and the whole archive. An entry over the first two is left out
and reported in ``refused``, so that a zip bomb in one student's folder makes that student
"not graded" and the rest of the class is graded; only the whole archive's limit stops all.
"""

from __future__ import annotations

import os
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

from ..collect import MAX_FILE_BYTES, MAX_TOTAL_BYTES, size_text

MAX_BYTES = 4 << 30  # unpacked size of a whole class (exercise11 has weights files)
MAX_ENTRIES = 100_000
CHUNK = 1 << 20


@dataclass(frozen=True)
class Limits:
    """What one entry and one student's entries may unpack to (the archive's: ``extract``'s own)."""

    entry_bytes: int = MAX_FILE_BYTES
    ratio: float = 100.0  # unpacked / packed size: zeros pack 1000 to 1, code and notebooks 3 to 10
    ratio_from: int = 1 << 20  # entries up to this size are never too packed
    student_bytes: int = MAX_TOTAL_BYTES
JUNK = ("__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini")


class UnzipError(Exception):
    """The zip cannot be unpacked safely (unreadable, too large, too many entries)."""


def is_junk(name: str) -> bool:
    """Files that archivers and operating systems add, never a student's work."""
    return name in JUNK or name.startswith("._") or name.startswith(".~lock")


UTF8_FLAG = 0x800  # general purpose bit 11: the name is UTF-8 (APPNOTE 4.4.4)
UNICODE_PATH = 0x7075  # Info-ZIP's "Unicode Path Extra Field" (APPNOTE 4.6.9)


def entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's name as its maker meant it. Without the UTF-8 flag, Python reads the bytes as
    CP437 (the format's default), but most tools write UTF-8 without setting the flag (Canvas's
    rubyzip, macOS, Linux's zip): so the name is an Info-ZIP Unicode Path field when one matches
    the raw name's CRC, else the raw bytes as UTF-8 when they are valid UTF-8, else CP437."""
    if info.flag_bits & UTF8_FLAG:
        return info.filename
    try:
        raw = info.orig_filename.encode("cp437")
    except UnicodeEncodeError:  # decoded with another metadata_encoding already
        return info.filename
    extra = info.extra
    while len(extra) >= 4:
        kind, size = int.from_bytes(extra[:2], "little"), int.from_bytes(extra[2:4], "little")
        body = extra[4:4 + size]
        if kind == UNICODE_PATH and len(body) > 5 and body[0] == 1 and \
                int.from_bytes(body[1:5], "little") == zlib.crc32(raw):
            try:
                return body[5:].decode("utf-8")
            except UnicodeDecodeError:
                break
        extra = extra[4 + size:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return info.filename


def safe_parts(name: str) -> tuple[str, ...] | None:
    """Return the path parts of a zip entry name, or None if it must not be written."""
    if "\0" in name or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return None
    parts = tuple(p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", "."))
    if not parts or any(p == ".." for p in parts) or any(is_junk(p) for p in parts):
        return None
    return parts


def extract(zip_path: Path, target: Path, *, max_bytes: int = MAX_BYTES, max_entries: int = MAX_ENTRIES,
            limits: Limits = Limits(), group: Callable[[tuple[str, ...]], str] = lambda parts: parts[0],
            refused: dict[tuple[str, ...], str] | None = None) -> list[str]:
    """Unpack ``zip_path`` into ``target``; return one line per entry that was left out.

    Entries over ``limits`` are left out too: into ``refused`` (their path parts → why) when it
    is given, else into the lines returned. ``group`` names the student an entry belongs to,
    from its path parts below the folders all entries share. Raises UnzipError when the zip is
    unreadable, has more than ``max_entries`` entries, or unpacks to more than ``max_bytes``:
    never more is written.
    """
    skipped: list[str] = []
    root = target.resolve()
    try:
        with zipfile.ZipFile(zip_path) as zf:
            entries = zf.infolist()
            if len(entries) > max_entries:
                raise UnzipError(f"{zip_path.name} has {len(entries):,} entries (at most {max_entries:,} are unpacked)")
            common = _common_folders(entries)
            written: dict[str, int] = {}  # per student
            total = 0
            for info in entries:
                name = entry_name(info)
                parts = safe_parts(name)
                mode = info.external_attr >> 16
                if parts is None:
                    if not any(is_junk(p) for p in PurePosixPath(name).parts):
                        skipped.append(f"{name}: a path outside the folder")
                    continue
                if stat.S_ISLNK(mode):
                    skipped.append(f"{name}: a symbolic link")
                    continue
                dest = root.joinpath(*parts)
                if not dest.resolve().is_relative_to(root):
                    skipped.append(f"{name}: a path outside the folder")
                    continue
                if info.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                who = group(parts[len(common):]) if len(parts) > len(common) else ""
                budget = _Budget(zip_path, limits, info.compress_size, max_bytes, max_bytes - total,
                                 limits.student_bytes - written.get(who, 0))
                dest.parent.mkdir(parents=True, exist_ok=True)
                if why := _write(zf, info, dest, budget):
                    if refused is not None:
                        refused[parts] = why
                    else:
                        skipped.append(f"{name}: {why}")
                    continue
                written[who] = written.get(who, 0) + budget.used
                total += budget.used
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError,
            zlib.error) as e:
        raise UnzipError(f"{zip_path.name} cannot be unpacked: {e}") from None
    return skipped


def _common_folders(entries: list[zipfile.ZipInfo]) -> tuple[str, ...]:
    """The folders every entry lies in (``class/`` in ``class.zip``): below them, a student each."""
    folders = [parts if info.is_dir() else parts[:-1]
               for info in entries if (parts := safe_parts(entry_name(info))) is not None]
    return tuple(os.path.commonprefix(folders)) if folders else ()


@dataclass
class _Budget:
    """How many bytes one entry may write, and which limit says so."""

    zip_path: Path
    limits: Limits
    packed: int  # the entry's compressed size
    max_bytes: int  # the archive's limit
    archive_room: int
    student_room: int
    used: int = 0

    def refusal(self, more: int) -> str:
        """Why writing ``more`` bytes would break a limit ("" when it would not); raises for the archive's."""
        size = self.used + more
        if size > self.archive_room:
            raise UnzipError(f"{self.zip_path.name} unpacks to more than {size_text(self.max_bytes)} — "
                             "refusing to fill the disk")
        if size > self.limits.entry_bytes:
            return f"unpacks to more than {size_text(self.limits.entry_bytes)}, the most one file may have"
        if size > max(self.limits.ratio_from, self.limits.ratio * self.packed):
            return f"unpacks to more than {self.limits.ratio:g} times its packed size (a zip bomb?)"
        if size > self.student_room:
            return f"does not fit in the {size_text(self.limits.student_bytes)} one student's files may unpack to"
        return ""


def _write(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, budget: _Budget) -> str:
    """Stream one entry to ``dest`` within its budget; return why it was refused ("" if written).

    The sizes in the zip's directory are not believed: what counts is what the decompressor
    gives, chunk by chunk, before each chunk is written. A refused entry leaves no file.
    """
    why = ""
    with zf.open(info) as src, open(dest, "wb") as out:
        while chunk := src.read(CHUNK):
            if why := budget.refusal(len(chunk)):
                break
            out.write(chunk)
            budget.used += len(chunk)
    if why:
        dest.unlink()
    return why


def single_folder(root: Path, stop=lambda folder: False) -> Path:
    """Descend through folders that hold nothing but one folder (``class.zip`` → ``class/``),
    but not into a folder for which ``stop`` says it is a student's own."""
    while True:
        entries = [p for p in root.iterdir() if not is_junk(p.name)]
        if len(entries) != 1 or not entries[0].is_dir() or stop(entries[0]):
            return root
        root = entries[0]
