"""Grades back into Canvas: ``canvas-grades.csv`` for the gradebook's "Import".

Canvas's importer (``app/models/gradebook_importer.rb``) wants a header whose first columns
are ``Student`` and ``ID`` and whose student columns end with ``Section`` (``SIS User ID``,
``SIS Login ID`` and ``Integration ID`` between them are recognised), then one column per
assignment titled ``Name (assignment id)``; a row whose first cell says ``Points Possible``
describes the assignments, and students are matched by ``ID`` (Canvas's user id), then by
SIS ids, then by name. A column whose title matches no assignment creates a new one; a
value equal to the current one is no change.

So without Canvas's own export the file has those five student columns and one column named
after the exercise (Canvas creates that assignment, or fills the one titled so); with the
export (``--canvas-gradebook``: Grades → Export → CSV) the file is that export's student
columns with the exercise's assignment column, every student of the course in the order
exported, the graded ones' points scaled to the assignment's points possible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..collect import SubmissionError, exercise_rank
from ..registry import ExerciseInfo
from . import sheets
from .gradebook import Row

STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_POSSIBLE = "Points Possible"
NOT_ASSIGNMENTS = ("Current Score", "Current Points", "Current Grade", "Final Score", "Final Points", "Final Grade",
                   "Override Score", "Override Grade", "Override Status")
ASSIGNMENT_ID = re.compile(r"^(?P<title>.*?)\s*\((?P<id>\d+)\)\s*$")


@dataclass
class Gradebook:
    """Canvas's exported gradebook: its rows, and how many leading columns describe the student."""

    path: Path
    rows: list[list[str]]
    student_columns: int

    @property
    def header(self) -> list[str]:
        return self.rows[0]

    def assignments(self) -> list[int]:
        """The columns that are assignments (not the student's, not the totals)."""
        return [i for i, h in enumerate(self.header) if i >= self.student_columns
                and not any(h.startswith(n) or h.startswith(f"Unposted {n}") for n in NOT_ASSIGNMENTS)]


def read_gradebook(path: Path) -> Gradebook:
    """Read Canvas's gradebook export; SubmissionError (a usage error) when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise SubmissionError(f"--canvas-gradebook {path}: no such file")
    rows, _ = sheets.read(path)
    header = rows[0] if rows else []
    if len(header) < 4 or "Student" not in header[0] or "ID" not in header[1]:
        raise SubmissionError(f"--canvas-gradebook {path.name}: no Student and ID columns — export the gradebook "
                              "from Canvas (Grades → Export → Export Entire Gradebook)")
    section = next((i for i, h in enumerate(header) if h.strip() == "Section"), None)
    if section is None:
        raise SubmissionError(f"--canvas-gradebook {path.name}: no Section column — export the gradebook from Canvas")
    return Gradebook(path, rows, section + 1)


def _title(header: str) -> str:
    m = ASSIGNMENT_ID.match(header)
    return m["title"] if m else header


def assignment_column(book: Gradebook, exercise: ExerciseInfo, wanted: str | None = None) -> int:
    """The column of the exercise's assignment: the one ``wanted`` names (its title, header or id),
    else the only one whose title names the exercise (``Exercise 3: Convolution (4567)``)."""
    columns = book.assignments()
    if wanted:
        found = [i for i in columns if wanted in (book.header[i], _title(book.header[i]))
                 or (m := ASSIGNMENT_ID.match(book.header[i])) and m["id"] == wanted]
    else:
        found = [i for i in columns if exercise_rank(Path(_title(book.header[i]).replace("/", " ") + ".py"), exercise) < 2]
    if len(found) == 1:
        return found[0]
    titles = ", ".join(repr(book.header[i]) for i in (found or columns)[:8]) or "none"
    what = f"no assignment column named {wanted!r}" if wanted and not found else \
        f"no assignment column named like {exercise.id}" if not found else "several assignment columns could be it"
    raise SubmissionError(f"--canvas-gradebook {book.path.name}: {what} (columns: {titles}) — "
                          "name one with --canvas-assignment")


def _points(value: float) -> str:
    return f"{round(value, 2):g}"


def _scaled(row: Row, possible: float) -> str:
    if row.status in ("problem", "error") or row.max_score <= 0:
        return ""
    return _points(min(max(row.score, 0.0), row.max_score) / row.max_score * possible)


def write_grades(rows: list[Row], exercise: ExerciseInfo, out: Path, *, book: Gradebook | None = None,
                 assignment: str | None = None, excel: bool = False) -> tuple[Path, list[str]]:
    """Write ``canvas-grades.csv``; return it and one note per graded student Canvas would not find."""
    notes: list[str] = []
    max_score = exercise.points + exercise.hidden_points
    if book is None:
        title = assignment or exercise.id
        lines = [list(STUDENT_COLUMNS) + [title], [POINTS_POSSIBLE, "", "", "", "", _points(max_score)]]
        for row in rows:
            if row.student.isdigit():
                lines.append([row.name, row.student, "", "", "", _scaled(row, max_score)])
            else:
                notes.append(f"{row.student}: no Canvas user id (anonymous or not from Canvas's download): "
                             "left out of canvas-grades.csv")
        return sheets.write(out, lines, excel=excel), notes
    column = assignment_column(book, exercise, assignment)
    keep = list(range(book.student_columns)) + [column]
    by_id = {row.student: row for row in rows}
    possible = max_score
    lines = [[book.header[i] for i in keep]]
    seen = set()
    for values in book.rows[1:]:
        values = values + [""] * (len(book.header) - len(values))
        if values[0].strip().startswith(POINTS_POSSIBLE):
            possible = float(values[column].replace(",", ".") or max_score) if _number(values[column]) else max_score
            lines.append([values[i] for i in keep])
            continue
        row = by_id.get(values[1].strip())
        if row is not None and (grade := _scaled(row, possible)):
            values[column] = grade
            seen.add(row.student)
        lines.append([values[i] for i in keep])
    notes += [f"{row.student} ({row.name or 'no name'}) is graded but not in {book.path.name}: left out"
              for row in rows if row.student not in seen and row.status not in ("problem", "error")]
    return sheets.write(out, lines, excel=excel), notes


def _number(text: str) -> bool:
    return bool(re.fullmatch(r"\s*\d+(?:[.,]\d+)?\s*", text or ""))
