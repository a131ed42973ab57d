"""Find the students in a folder of submissions and, for each, the one file to grade.

Layouts (mixed freely, also inside a ``.zip``):

- one folder per student: the folder's name is the student id;
- one file per student (``alice.py``): the file's stem is the id;
- Moodle's "download all submissions": ``Firstname Lastname_12345_assignsubmission_file_/…``
  (or, without the folder option, ``Firstname Lastname_12345_assignsubmission_file_<name>``):
  the participant number is the id, the name is kept for the gradebook.

A student's folder may hold the exercise under any name ending ``.py`` or ``.ipynb``: a file
named like the exercise wins (``exercise03.py``, then ``Exercise 3 final.ipynb``, ``ex3.py``,
``convolution.py``), else the only candidate. No candidate, or several equally good ones,
is that student's problem (a row in the gradebook), never the whole run's. Every other file
stays next to the chosen one (exercise11 needs its weights file beside the ``.py``); a zip a
student handed in is unpacked when it is all there is.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..collect import SubmissionError
from ..registry import ExerciseInfo
from . import unzip

CODE_SUFFIXES = (".py", ".ipynb")
SKIPPED_FOLDERS = (".ipynb_checkpoints", "__pycache__", ".git", ".venv", "venv", "node_modules")
MOODLE_FOLDER = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_(?:assignsubmission|assignfeedback)_(?P<plugin>[a-z]+)_?$")
MOODLE_FILE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.+)$")
EXERCISE_WORDS = r"(?:exercises?|excercise|exercice|ex|exc|ue|uebung|übung|aufgabe|blatt|sheet|hw|homework|" \
                 r"assignment|lab|task|tp|a)"


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


@dataclass
class Discovery:
    """The students found, in order of id, and what was left aside (one line each)."""

    root: Path
    students: list[Student]
    notes: list[str] = field(default_factory=list)


def discover(submissions: Path, exercise: ExerciseInfo, workdir: Path) -> Discovery:
    """Return the students in ``submissions`` (a folder or a .zip); unpack into ``workdir``.

    Raises SubmissionError (a usage error) when ``submissions`` is neither.
    """
    notes: list[str] = []
    if submissions.is_file() and submissions.suffix.lower() == ".zip":
        target = workdir / "unpacked"
        target.mkdir(parents=True, exist_ok=True)
        try:
            notes += [f"left out of {submissions.name}: {line}" for line in unzip.extract(submissions, target)]
        except unzip.UnzipError as e:
            raise SubmissionError(str(e)) from None
        root = unzip.single_folder(target, stop=lambda p: bool(MOODLE_FOLDER.match(p.name)))
    elif submissions.is_dir():
        root = submissions
    else:
        raise SubmissionError(f"no folder or .zip of submissions at {submissions}")
    found: dict[str, Student] = {}
    staged: dict[str, list[tuple[str, Path]]] = {}  # Moodle's flat files, renamed back
    for entry in sorted(root.iterdir()):
        if unzip.is_junk(entry.name) or entry.name.startswith("."):
            continue
        if entry.is_dir():
            m = MOODLE_FOLDER.match(entry.name)
            sid, name = (m["id"], m["name"]) if m else (entry.name, "")
            if m and m["plugin"] != "file":
                found.setdefault(sid, Student(sid, name, source=entry.name))  # online text only: no file
                continue
            student = found.setdefault(sid, Student(sid, name, source=entry.name))
            student.files += _files_in(entry)
        elif m := MOODLE_FILE.match(entry.name):
            found.setdefault(m["id"], Student(m["id"], m["name"], source=entry.name))
            if m["plugin"] == "file":  # online text is no code
                staged.setdefault(m["id"], []).append((m["file"], entry))
        elif entry.suffix.lower() in CODE_SUFFIXES + (".zip",):
            found.setdefault(entry.stem, Student(entry.stem, source=entry.name)).files.append(entry)
        else:
            notes.append(f"not a submission, left aside: {entry.name}")
    for sid, pairs in staged.items():
        folder = _student_dir(workdir, sid)
        for original, path in pairs:
            shutil.copyfile(path, folder / original)
        found[sid].files += _files_in(folder)
    students = [found[sid] for sid in sorted(found, key=_natural)]
    for student in students:
        _unpack_handed_in_zips(student, workdir, notes)
        _choose(student, exercise, root)
    return Discovery(root, students, notes)


def _natural(text: str):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]


def _student_dir(workdir: Path, sid: str) -> Path:
    folder = workdir / "students" / re.sub(r"[^\w.-]", "_", sid)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _files_in(folder: Path) -> list[Path]:
    out = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).parts
        if any(p in SKIPPED_FOLDERS or unzip.is_junk(p) or p.startswith(".") for p in rel):
            continue
        if path.is_file() and not path.is_symlink():
            out.append(path)
    return out


def _unpack_handed_in_zips(student: Student, workdir: Path, notes: list[str]) -> None:
    """A student who zipped their work: unpack it when no code file lies outside the zip."""
    zips = [f for f in student.files if f.suffix.lower() == ".zip"]
    if not zips or any(f.suffix.lower() in CODE_SUFFIXES for f in student.files):
        return
    folder = _student_dir(workdir, student.id) / "unzipped"
    for z in zips:
        try:
            skipped = unzip.extract(z, folder / z.stem, max_bytes=unzip.MAX_BYTES // 8)
        except unzip.UnzipError as e:
            notes.append(f"{student.id}: {e}")
            continue
        notes += [f"{student.id}: left out of {z.name}: {line}" for line in skipped]
    student.files = [f for f in student.files if f not in zips] + _files_in(folder)


def exercise_rank(path: Path, exercise: ExerciseInfo) -> int:
    """0: named exactly like the exercise; 1: its id, number or an alias in the name; 2: other."""
    stem = path.stem.lower()
    if stem == exercise.id:
        return 0
    number = int(re.sub(r"\D", "", exercise.id) or -1)
    flat = re.sub(r"[\s_\-.()]+", " ", stem)
    if exercise.id in stem.replace(" ", "").replace("_", "") \
            or re.search(rf"(?:^|[^a-z]){EXERCISE_WORDS} ?0*{number}(?!\d)", flat) \
            or re.fullmatch(rf"0*{number}", flat.strip()) \
            or any(re.search(rf"(?:^|[^a-z]){re.escape(a)}", flat) for a in exercise.aliases):
        return 1
    return 2


def _choose(student: Student, exercise: ExerciseInfo, root: Path) -> None:
    student.sha256 = files_digest(student.files)
    candidates = [f for f in student.files if f.suffix.lower() in CODE_SUFFIXES]
    if not candidates:
        others = ", ".join(f.name for f in student.files[:5]) or "nothing"
        student.problem = f"no .py or .ipynb file handed in (found: {others})"
        return
    best = min(exercise_rank(f, exercise) for f in candidates)
    chosen = [f for f in candidates if exercise_rank(f, exercise) == best]
    if len(chosen) > 1:
        names = ", ".join(f.name for f in chosen)
        student.problem = f"several files could be {exercise.id}: {names} — keep one, or name it {exercise.id}.py"
        return
    student.file = chosen[0]
    student.source = _shown(chosen[0], root)


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:  # staged or unpacked into the work folder
        return path.name


def files_digest(files: list[Path]) -> str:
    """Return the sha256 over the names and contents of ``files``.

    Names without their folders: where a run unpacked or staged the files must not matter.
    """
    if not files:
        return ""
    entries = []
    for path in files:
        inner = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                inner.update(chunk)
        entries.append(f"{path.name}\0{inner.hexdigest()}\n")
    return hashlib.sha256("".join(sorted(entries)).encode()).hexdigest()
