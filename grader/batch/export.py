"""Files for the instructor and for each student, written from gradebook rows.

- ``grades.csv``: student, name, status, score, max score, one column per check (points),
  late, file, message; cells neutralised against spreadsheet formulas (``sheets``), UTF-8
  with a BOM for Excel when asked;
- ``feedback/<student>.html`` and ``.md``: the page a student reads (``grader.report.page``):
  score and summary first, each cause of lost points once with its counterexample;
- ``gradescope/<student>/results.json``: Gradescope's format (``grader.report.gradescope``);
- ``summary.md``: the class summary;
- for the learning platforms (``write_platforms``): ``moodle-worksheet.csv`` and
  ``moodle-feedback.zip`` (``moodle``), ``canvas-grades.csv`` (``canvas``).

Only the gradebook is read, never the submissions: after a change to the reports, running
``grade batch`` again rewrites every file without grading anything.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import re
import threading
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..registry import ExerciseInfo
from ..report import page, render_text
from ..report.fmt import clip, points
from . import sheets
from .gradebook import Row
from .summary import LABELS, ClassSummary, markdown

MAX_STEM_BYTES = 100  # of a student's file name before its hash (file systems allow 255)


@dataclass(frozen=True)
class Options:
    """How the exports are written (``grade batch``'s options)."""

    excel: bool = False  # CSVs with a UTF-8 byte-order mark, for Excel
    publish_hidden: bool = False  # hidden checks named and explained in the students' feedback
    moodle: bool = False  # write moodle-feedback.zip (a Moodle download was graded)
    moodle_worksheet: Path | None = None  # fill in this grading worksheet
    canvas: bool = False  # write canvas-grades.csv (a Canvas download was graded)
    canvas_gradebook: Path | None = None  # fill in this gradebook export
    canvas_assignment: str | None = None  # its column (default: the one named like the exercise)


def file_stem(student: str, *, hashed: bool = False) -> str:
    """A student id as a file name, one per id: "anna maria" and "anna_maria" get a file each.

    Ids come from folder names: an id that is a fine, short file name already is kept as it
    is (unless ``hashed``); any other is made one (``anna_maria``) and followed by ``~`` and a
    short hash of the exact id (``anna_maria~dfa29cee``). No kept id has a ``~``, so no two ids
    share a file name.
    """
    stem = re.sub(r"[^\w.@+-]", "_", student).strip(".")
    if stem and stem == student and len(stem.encode()) <= MAX_STEM_BYTES and not hashed:
        return stem
    short = stem.encode()[:MAX_STEM_BYTES].decode("utf-8", "ignore") or "_"
    return f"{short}~{hashlib.sha256(student.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def file_stems(students: list[str]) -> dict[str, str]:
    """``file_stem`` of each id, where ids that differ only in case (``Anna``, ``anna``: one file
    on macOS and Windows) are all hashed."""
    plain = {student: file_stem(student) for student in students}
    folded = Counter(stem.casefold() for stem in plain.values())
    return {s: file_stem(s, hashed=True) if folded[stem.casefold()] > 1 else stem for s, stem in plain.items()}


def write_all(rows: list[Row], summary: ClassSummary, folder: Path, *, workers: int = 1,
              options: Options = Options()) -> list[Path]:
    """Write every export of ``rows`` into ``folder``; return the files written.

    Rendering a large class's feedback takes seconds, so with ``workers`` > 1 the students
    are split among that many forked processes.
    """
    folder.mkdir(parents=True, exist_ok=True)
    top = max([summary.max_score, *(row.max_score for row in rows)])  # the exercise's, for rows not graded
    written = [write_csv(rows, folder / "grades.csv", excel=options.excel, max_score=top)]
    stems = file_stems([row.student for row in rows])
    parts = min(workers, len(rows) // 20) if threading.active_count() == 1 else 1  # fork only a lone thread
    if parts > 1:
        size = -(-len(rows) // parts)
        chunks = [rows[i:i + size] for i in range(0, len(rows), size)]
        with ProcessPoolExecutor(len(chunks), mp_context=multiprocessing.get_context("fork")) as pool:
            for files in pool.map(write_feedback, chunks, [folder] * len(chunks), [stems] * len(chunks),
                                  [options.publish_hidden] * len(chunks)):
                written += files
    else:
        written += write_feedback(rows, folder, stems, options.publish_hidden)
    written.append(_write(folder / "summary.md", markdown(summary)))
    return written


def write_feedback(rows: list[Row], folder: Path, stems: dict[str, str] | None = None,
                   publish_hidden: bool = False) -> list[Path]:
    """Write each student's Markdown and HTML feedback and Gradescope results; return the files.

    ``stems`` names each student's files (``file_stems`` of the whole class: made from ``rows`` if not given).
    """
    stems = stems or file_stems([row.student for row in rows])
    written = []
    for row in rows:
        stem = stems[row.student]
        written += [_write(folder / "feedback" / f"{stem}.md", feedback_markdown(row, publish_hidden)),
                    _write(folder / "feedback" / f"{stem}.html", feedback_html(row, publish_hidden)),
                    _write(folder / "gradescope" / stem / "results.json", gradescope_json(row))]
    return written


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def check_columns(rows: list[Row]) -> list[str]:
    """The checks in the order the exercise runs them (a union: timeouts may lack some)."""
    names: list[str] = []
    for row in rows:
        for c in (row.result or {}).get("checks", []):
            if c["name"] not in names:
                names.append(c["name"])
    return names


def write_csv(rows: list[Row], path: Path, *, excel: bool = False, max_score: float = 0.0) -> Path:
    """One line per student: points per check, empty where nothing was graded. A student not
    graded has the exercise's max score (``max_score``, the class's) beside their 0, so that
    every line reads as points out of the same total."""
    columns = check_columns(rows)
    lines = [["student", "name", "status", "score", "max_score", *columns, "late", "file", "message"]]
    for row in rows:
        got = {c["name"]: c["score"] for c in (row.result or {}).get("checks", [])}
        lines.append([row.student, row.name, row.status, points(row.score), points(row.max_score or max_score),
                      *[points(got[c]) if c in got else "" for c in columns], "late" if row.late else "", row.file,
                      " ".join(clip(row.message).split())])
    return sheets.write(path, lines, excel=excel)


def _page_context(row: Row, publish_hidden: bool) -> dict:
    result = row.exercise_result()
    return page.feedback_context(result, exercise=row.exercise, student=row.student, name=row.name, late=row.late,
                                 publish_hidden=publish_hidden, max_score=row.max_score,
                                 not_graded="" if result is not None else _not_graded(row))


def feedback_markdown(row: Row, publish_hidden: bool = False) -> str:
    """The student's feedback as Markdown: the same content as the HTML page."""
    return page.render_markdown(_page_context(row, publish_hidden))


def feedback_html(row: Row, publish_hidden: bool = False) -> str:
    """The student's feedback page (``grader.report.page``): self-contained HTML, printable."""
    return page.render_html(_page_context(row, publish_hidden))


def write_platforms(rows: list[Row], info: ExerciseInfo, folder: Path, options: Options) -> tuple[list[Path], list[str]]:
    """Write the files for the learning platforms that ``options`` asks for; return them and notes
    (graded students a platform's file does not list, and so will not get their grade)."""
    from . import canvas, moodle

    written, notes = [], []
    max_score = info.points + info.hidden_points
    if options.moodle_worksheet is not None:
        sheet = moodle.read_worksheet(options.moodle_worksheet)
        path, _, missing = moodle.fill_worksheet(sheet, rows, max_score, folder / "moodle-worksheet.csv")
        written.append(path)
        notes += missing
    if options.moodle or options.moodle_worksheet is not None:
        files = {row.student: {"feedback.html": feedback_html(row, options.publish_hidden)} for row in rows}
        written.append(moodle.feedback_zip(files, {row.student: row.name for row in rows},
                                           folder / "moodle-feedback.zip"))
    if options.canvas or options.canvas_gradebook is not None:
        book = canvas.read_gradebook(options.canvas_gradebook) if options.canvas_gradebook else None
        path, missing = canvas.write_grades(rows, info, folder / "canvas-grades.csv", book=book,
                                            assignment=options.canvas_assignment, excel=options.excel)
        written.append(path)
        notes += missing
    return written, notes


def gradescope_json(row: Row) -> str:
    result = row.exercise_result()
    if result is None:
        return json.dumps({"score": 0.0, "output": _not_graded(row), "output_format": "text", "tests": [],
                           "visibility": "visible"}, indent=2, ensure_ascii=False) + "\n"
    return render_text(result, "json")


def _not_graded(row: Row) -> str:
    return f"{LABELS.get(row.status, row.status)}: {clip(row.message)}"
