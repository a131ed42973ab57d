"""Find the students in a folder of submissions and, for each, the one file to grade.

Layouts (mixed freely, also inside a ``.zip``):

- one folder per student: the folder's name is the student id;
- one file per student (``alice.py``): the file's stem is the id;
- Moodle's "download all submissions": ``Firstname Lastname_12345_assignsubmission_file_/…``
  (or, without the folder option, ``Firstname Lastname_12345_assignsubmission_file_<name>``):
  the participant number is the id, the name is kept for the gradebook;
- Canvas's "Download Submissions": flat files ``lastfirst_<user id>_<attachment id>_<name>``,
  ``lastfirst_LATE_<user id>_…`` for a late one, ``anon_<id>_…`` when the assignment is
  anonymous (``get_filename`` in Canvas's ``lib/content_zipper.rb``): the user id is the id,
  every file of one user is that student's, back under its own name, and "late" is kept.

A student's folder may hold the exercise under any name ending ``.py`` or ``.ipynb``: a file
named like the exercise wins (``exercise03.py``, then ``Exercise 3 final.ipynb``, ``ex3.py``,
``convolution.py``), else the only candidate (``collect.best_candidates``, the rule ``grade
EXERCISE`` applies to a working folder too, where a file must be named like it). No candidate, or several equally good ones,
is that student's problem (a row in the gradebook), never the whole run's. Every other file
stays next to the chosen one (exercise11 needs its weights file beside the ``.py``); a zip a
student handed in is unpacked when it is all there is.

Nothing is followed or opened on its name alone (``lstat``): a symbolic link, a FIFO, a socket
or a device is left aside with a note, or is the student's "not graded" reason when it was all
they handed in; so are files over ``collect.MAX_FILE_BYTES``. A student whose files add up to
more than ``collect.MAX_TOTAL_BYTES``, or whose zip entries were too large to unpack (a zip
bomb), is not graded, and the rest of the class is.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..collect import (CODE_SUFFIXES, MAX_FILE_BYTES, MAX_TOTAL_BYTES, SubmissionError, best_candidates, copy_regular,
                       kind_of, read_chunks, size_text)
from ..collect import exercise_rank  # noqa: F401  (the rule lives in collect, shared with `grade EXERCISE`)
from ..registry import ExerciseInfo
from . import unzip
from .export import file_stem

SKIPPED_FOLDERS = (".ipynb_checkpoints", "__pycache__", ".git", ".venv", "venv", "node_modules")
MOODLE_FOLDER = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_(?:assignsubmission|assignfeedback)_(?P<plugin>[a-z]+)_?$")
MOODLE_FILE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.+)$")
# Canvas ids are database ids: an attachment id has at least 4 digits (so "hw_1_2_final.py" is no Canvas file)
CANVAS_FILE = re.compile(r"^(?P<name>[^\W_][\w]*?)_(?P<late>LATE_)?(?P<id>\d+)_(?P<att>\d{4,})_(?P<file>.+)$")
CANVAS_ANONYMOUS = re.compile(r"^(?P<late>LATE_)?(?P<id>anon_[A-Za-z0-9]+)_(?P<att>\d{4,})_(?P<file>.+)$")


@dataclass
class Student:
    """One student's hand-in: the file chosen for grading, or the problem that stopped it."""

    id: str
    name: str = ""  # Moodle: "Firstname Lastname"
    file: Path | None = None
    files: list[Path] = field(default_factory=list)  # everything handed in, the chosen file included
    source: str = ""  # the chosen file (or the folder) relative to SUBMISSIONS, for reports
    problem: str = ""
    sha256: str = ""  # of all files handed in: a change anywhere means grading again
    left_aside: list[str] = field(default_factory=list)  # what is no regular file, or too large: one line each
    refused: list[str] = field(default_factory=list)  # why some of the files could not be taken: not graded
    late: bool = False  # Canvas marked the submission late


@dataclass
class Discovery:
    """The students found, in order of id, and what was left aside (one line each)."""

    root: Path
    students: list[Student]
    notes: list[str] = field(default_factory=list)
    platforms: set[str] = field(default_factory=set)  # "moodle", "canvas": whose download it was


def discover(submissions: Path, exercise: ExerciseInfo, workdir: Path, *,
             limits: unzip.Limits = unzip.Limits()) -> Discovery:
    """Return the students in ``submissions`` (a folder or a .zip); unpack into ``workdir``.

    ``limits`` bound what one zip entry and one student may unpack to. Raises SubmissionError
    (a usage error) when ``submissions`` is neither a folder nor a zip, or the zip as a whole
    cannot be unpacked.
    """
    notes: list[str] = []
    found: dict[str, Student] = {}
    if submissions.is_file() and submissions.suffix.lower() == ".zip":
        target = workdir / "unpacked"
        target.mkdir(parents=True, exist_ok=True)
        refused: dict[tuple[str, ...], str] = {}
        try:
            skipped = unzip.extract(submissions, target, limits=limits, group=_group, refused=refused)
        except unzip.UnzipError as e:
            raise SubmissionError(str(e)) from None
        root = unzip.single_folder(target, stop=lambda p: bool(MOODLE_FOLDER.match(p.name)))
        _refused_in_zip(refused, root.relative_to(target).parts, submissions.name, found, notes)
        notes += [f"left out of {submissions.name}: {line}" for line in skipped]
    elif submissions.is_dir():
        root = submissions
    else:
        raise SubmissionError(f"no folder or .zip of submissions at {submissions}")
    flat: dict[str, list[tuple[str, Path]]] = {}  # Moodle's and Canvas's flat files, renamed back
    platforms: set[str] = set()
    for entry in sorted(root.iterdir()):
        if unzip.is_junk(entry.name) or entry.name.startswith("."):
            continue
        mode = entry.lstat().st_mode
        key = student_key(entry.name, folder=stat.S_ISDIR(mode))
        odd = "" if stat.S_ISDIR(mode) or stat.S_ISREG(mode) else f"{entry.name} is {kind_of(mode)}, not a regular file"
        if key is None:
            notes.append(f"left aside: {odd}" if odd else f"not a submission, left aside: {entry.name}")
            continue
        student = found.setdefault(key[0], Student(key[0], key[1], source=entry.name))
        platforms |= {p for p, match in (("moodle", MOODLE_FOLDER.match(entry.name) or MOODLE_FILE.match(entry.name)),
                                         ("canvas", not stat.S_ISDIR(mode) and canvas_file(entry.name))) if match}
        if odd:
            student.left_aside.append(odd)
        elif stat.S_ISDIR(mode):
            if (m := MOODLE_FOLDER.match(entry.name)) and m["plugin"] != "file":
                continue  # online text only: no file
            _add_files(student, entry)
        elif m := MOODLE_FILE.match(entry.name):
            if m["plugin"] == "file":  # online text is no code
                flat.setdefault(student.id, []).append((m["file"], entry))
        elif m := canvas_file(entry.name):
            student.late = student.late or bool(m["late"])
            flat.setdefault(student.id, []).append((m["file"], entry))
        else:
            _add_files(student, entry)
    for sid, pairs in flat.items():
        _copy_renamed(found[sid], pairs, _student_dir(workdir, sid))
    students = [found[sid] for sid in sorted(found, key=_natural)]
    for student in students:
        _unpack_handed_in_zips(student, workdir, limits)
        _choose(student, exercise, root)
        notes += [f"{student.id}: left aside {line}" for line in student.left_aside if line not in student.problem]
    return Discovery(root, students, notes, platforms)


def student_key(name: str, *, folder: bool) -> tuple[str, str] | None:
    """The student id and name (Moodle's) that an entry of the submissions folder belongs to,
    or None when it is nobody's submission (a stray PDF beside the students)."""
    if folder and (m := MOODLE_FOLDER.match(name)):
        return m["id"], m["name"]
    if m := MOODLE_FILE.match(name):
        return m["id"], m["name"]
    if not folder and (m := canvas_file(name)):
        return m["id"], m["name"] if "name" in m.groupdict() else ""
    if folder or Path(name).suffix.lower() in CODE_SUFFIXES + (".zip",):
        return (name if folder else Path(name).stem), ""
    return None


def canvas_file(name: str) -> re.Match | None:
    """The parts of a file name from Canvas's submissions download, or None."""
    return CANVAS_FILE.match(name) or CANVAS_ANONYMOUS.match(name)


def _group(parts: tuple[str, ...]) -> str:
    """Whose a zip entry is (its path below the class's folder): one unpacking budget per student."""
    key = student_key(parts[0], folder=len(parts) > 1)
    return key[0] if key else parts[0]


def _refused_in_zip(refused: dict[tuple[str, ...], str], root: tuple[str, ...], archive: str,
                    found: dict[str, Student], notes: list[str]) -> None:
    """Make each student with a refused zip entry a student who is not graded, with the reason."""
    for parts, why in refused.items():
        rel = parts[len(root):] if parts[:len(root)] == root else ()
        key = student_key(rel[0], folder=len(rel) > 1) if rel else None
        if key is None:
            notes.append(f"left out of {archive}: {'/'.join(parts)}: {why}")
            continue
        student = found.setdefault(key[0], Student(key[0], key[1], source=rel[0]))
        student.refused.append(f"{'/'.join(rel[1:]) or rel[0]} in {archive} {why}")


def _natural(text: str):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]


def _student_dir(workdir: Path, sid: str) -> Path:
    folder = workdir / "students" / file_stem(sid)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _skipped(name: str) -> bool:
    return name in SKIPPED_FOLDERS or unzip.is_junk(name) or name.startswith(".")


def _add_files(student: Student, top: Path) -> None:
    """Add the regular files at or under ``top`` to ``student.files``, looking at each with
    ``lstat`` (no link is followed, no FIFO opened); everything else goes to ``left_aside``."""
    stack = [top]
    while stack:
        path = stack.pop()
        mode, size = (info := path.lstat()).st_mode, info.st_size
        shown = path.name if path == top else path.relative_to(top.parent).as_posix()
        if stat.S_ISDIR(mode):
            with os.scandir(path) as entries:
                stack += sorted((path / e.name for e in entries if not _skipped(e.name)), reverse=True)
        elif not stat.S_ISREG(mode):
            student.left_aside.append(f"{shown} is {kind_of(mode)}, not a regular file")
        elif size > MAX_FILE_BYTES:
            student.left_aside.append(f"{shown} is {size_text(size)}, more than the {size_text(MAX_FILE_BYTES)} "
                                      "a file may have")
        else:
            student.files.append(path)


def _copy_renamed(student: Student, pairs: list[tuple[str, Path]], folder: Path) -> None:
    """Copy Moodle's flat files (``…_assignsubmission_file_exercise03.py``) back to their own names."""
    for original, path in pairs:
        try:
            copy_regular(path, folder / original, MAX_FILE_BYTES)
        except SubmissionError as e:
            student.left_aside.append(str(e))
        except FileExistsError:
            student.left_aside.append(f"{original}: a second file of that name")
    _add_files(student, folder)


def _unpack_handed_in_zips(student: Student, workdir: Path, limits: unzip.Limits) -> None:
    """A student who zipped their work: unpack it when no code file lies outside the zip.

    The zips together may unpack to what one student may hand in; what is refused (a zip bomb)
    makes the student not graded.
    """
    zips = [f for f in student.files if f.suffix.lower() == ".zip"]
    if not zips or any(f.suffix.lower() in CODE_SUFFIXES for f in student.files):
        return
    folder = _student_dir(workdir, student.id) / "unzipped"
    for z in zips:
        refused: dict[tuple[str, ...], str] = {}
        room = limits.student_bytes - _tree_size(folder)
        try:
            skipped = unzip.extract(z, folder / z.stem, max_bytes=room, limits=limits, refused=refused)
        except unzip.UnzipError as e:
            student.refused.append(str(e))
            continue
        student.refused += [f"{'/'.join(parts)} in {z.name} {why}" for parts, why in refused.items()]
        student.left_aside += [f"{line} (left out of {z.name})" for line in skipped]
    student.files = [f for f in student.files if f not in zips]
    _add_files(student, folder)


def _tree_size(folder: Path) -> int:
    """The bytes of the regular files under ``folder`` (links not followed)."""
    return sum(os.lstat(os.path.join(top, name)).st_size for top, _, names in os.walk(folder) for name in names)


def _choose(student: Student, exercise: ExerciseInfo, root: Path) -> None:
    total = sum(f.lstat().st_size for f in student.files)
    if total > MAX_TOTAL_BYTES:
        student.refused.append(f"the files handed in add up to {size_text(total)}, more than the "
                               f"{size_text(MAX_TOTAL_BYTES)} one student may hand in")
    try:
        student.sha256 = files_digest(student.files) if not student.refused else ""
    except SubmissionError as e:  # a file was swapped for a link or a FIFO since it was looked at
        student.refused.append(str(e))
    candidates = best_candidates(student.files, exercise)
    if student.refused:
        more = f" (and {len(student.refused) - 1} more)" if len(student.refused) > 1 else ""
        student.problem = student.refused[0] + more
        return
    if not candidates:
        others = ", ".join(f.name for f in student.files[:5]) or "nothing"
        student.problem = "; ".join(student.left_aside) if student.left_aside and not student.files else \
            f"no .py or .ipynb file handed in (found: {others})"
        return
    if len(candidates) > 1:
        names = ", ".join(f.name for f in candidates)
        student.problem = f"several files could be {exercise.id}: {names} — keep one, or name it {exercise.id}.py"
        return
    student.file = candidates[0]
    student.source = _shown(candidates[0], root)


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:  # staged or unpacked into the work folder
        return path.name


def files_digest(files: list[Path]) -> str:
    """Return the sha256 over the names and contents of ``files``.

    Names without their folders: where a run unpacked or staged the files must not matter.
    Each is read as a regular file of at most MAX_FILE_BYTES (SubmissionError otherwise).
    """
    if not files:
        return ""
    entries = []
    for path in files:
        inner = hashlib.sha256()
        for chunk in read_chunks(path, MAX_FILE_BYTES):
            inner.update(chunk)
        entries.append(f"{path.name}\0{inner.hexdigest()}\n")
    return hashlib.sha256("".join(sorted(entries)).encode()).hexdigest()
