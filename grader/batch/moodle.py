"""Grades and feedback back into a Moodle assignment.

Two files, in the formats Moodle's own importers read (``mod/assign`` in Moodle's source):

- ``moodle-worksheet.csv``: the "offline grading worksheet" the instructor downloaded
  (Assignment → View all submissions → Grading action → Download grading worksheet), with
  ``Grade`` and ``Feedback comments`` filled in for every participant graded. Moodle's
  importer (``feedback/offline/importgradeslib.php``) finds its columns by their headers in
  the site's language, the participant by the number after ``Participant `` in
  ``Identifier``, and skips a row whose grade changed in Moodle after ``Last modified
  (grade)`` or lies outside 0…maximum grade. So: headers, row order and every other cell
  stay as downloaded, and the grade is scaled to the worksheet's ``Maximum grade`` and
  written with its decimal separator.
- ``moodle-feedback.zip``: one folder per participant, ``Full Name_<participant id>_assignfeedback_file/``,
  as "Upload multiple feedback files in a zip" reads it (``feedback/file/importziplib.php``
  splits each path part at ``_`` and takes the second piece as the participant id, the third
  and fourth as the plugin).
"""

from __future__ import annotations

import html
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..collect import SubmissionError
from . import sheets
from .gradebook import Row

# The headers Moodle writes, in the languages most courses use (lang/*/assign.php, moodle.php,
# assignfeedback_comments.php); a column not found by name is found by its place in the table
# (gradingtable.php: "Maximum grade" right after "Grade", the comments right after "Last modified (grade)").
IDENTIFIER = ("Identifier", "ID", "Identificador", "Identificativo", "Identifiant", "Número de identificação")
GRADE = ("Grade", "Bewertung", "Note", "Calificación", "Nota", "Valutazione", "Cijfer", "Beoordeling")
MODIFIED = ("Last modified (grade)", "Zuletzt geändert (Bewertung)", "Dernière modification (note)",
            "Última modificación (calificación)", "Ultima modifica (valutazione)", "Laatst gewijzigd (beoordeling)",
            "Última modificação (nota)")
MAX_GRADE = ("Maximum grade", "Maximum Grade", "Note maximale", "Calificación máxima", "Nota máxima",
             "Maximale Bewertung", "Bestwertung", "Valutazione massima", "Maximaal cijfer")
COMMENTS = ("Feedback comments", "Feedback als Kommentar", "Commentaires de feedback", "Comentarios de retroalimentación",
            "Commenti all'invio", "Feedback commentaar", "Comentários de feedback")
FULL_NAME = ("Full name", "Vollständiger Name", "Nom complet", "Nombre completo", "Nome completo", "Volledige naam")
PARTICIPANT = re.compile(r"(\d+)\s*$")
FEEDBACK_PLUGIN = "assignfeedback_file"


@dataclass
class Worksheet:
    """A downloaded grading worksheet: its rows as read, and where its columns are."""

    path: Path
    rows: list[list[str]]  # the header first
    delimiter: str
    bom: bool
    identifier: int
    grade: int
    max_grade: int
    modified: int
    comments: int | None
    full_name: int | None

    @property
    def header(self) -> list[str]:
        return self.rows[0]

    def participant(self, row: list[str]) -> str | None:
        """The participant id of a row (``Participant 123456`` → ``123456``)."""
        m = PARTICIPANT.search(row[self.identifier]) if len(row) > self.identifier else None
        return m[1] if m else None


def _find(header: list[str], names: tuple[str, ...]) -> int | None:
    folded = [h.strip().casefold() for h in header]
    for name in names:
        if name.casefold() in folded:
            return folded.index(name.casefold())
    return None


def read_worksheet(path: Path) -> Worksheet:
    """Read a worksheet as Moodle gives it; SubmissionError (a usage error) when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise SubmissionError(f"--moodle-worksheet {path}: no such file")
    rows, delimiter = sheets.read(path)
    if not rows:
        raise SubmissionError(f"--moodle-worksheet {path.name}: the file is empty — download the grading worksheet again")
    header = rows[0]
    identifier, grade, modified = _find(header, IDENTIFIER), _find(header, GRADE), _find(header, MODIFIED)
    if identifier is None or grade is None or modified is None:
        raise SubmissionError(f"--moodle-worksheet {path.name}: no Identifier, Grade and 'Last modified (grade)' columns — "
                              "download it from the assignment's 'Download grading worksheet'")
    max_grade = _find(header, MAX_GRADE)
    if max_grade is None:
        if grade + 1 >= len(header) or not _numbers(rows[1:], grade + 1):
            raise SubmissionError(f"--moodle-worksheet {path.name}: no 'Maximum grade' column — the assignment grades with "
                                  "a scale; set its grade type to Point to import points")
        max_grade = grade + 1
    comments = _find(header, COMMENTS)
    if comments is None and modified + 1 < len(header):
        comments = modified + 1
    return Worksheet(path, rows, delimiter, path.read_bytes().startswith(b"\xef\xbb\xbf"), identifier, grade,
                     max_grade, modified, comments, _find(header, FULL_NAME))


def _numbers(rows: list[list[str]], column: int) -> bool:
    values = [r[column] for r in rows if len(r) > column and r[column].strip()]
    return bool(values) and all(re.fullmatch(r"\d+(?:[.,]\d+)?", v.strip()) for v in values)


def _decimal_comma(sheet: Worksheet) -> bool:
    """Does the site write decimals with a comma (``10,00``)? Then the grade is written so."""
    return any("," in r[sheet.max_grade] for r in sheet.rows[1:] if len(r) > sheet.max_grade)


def scaled(score: float, max_score: float, worksheet_max: float) -> float:
    """Return ``score`` out of ``max_score`` as points out of the worksheet's maximum (2 decimals)."""
    assert max_score > 0, "an exercise has points to scale"
    return round(min(max(score, 0.0), max_score) / max_score * worksheet_max, 2)


def comment(row: Row, max_score: float) -> str:
    """A short feedback comment: the score and what cost points, one cause each (HTML: Moodle's
    comments are an editor field)."""
    from ..report.fmt import clip, failure_groups, not_implemented

    result = row.exercise_result()
    if result is None:
        return html.escape(f"Not graded: {' '.join(clip(row.message, 500).split())}")
    parts = [f"{result.exercise}: {result.score:g}/{result.max_score:g} points."]
    if todo := not_implemented(result):
        parts.append(f"Not implemented yet: {', '.join(todo)}.")
    causes = []
    for shown, others in failure_groups(result):
        why = shown.diagnosis.name if shown.diagnosis else shown.outcome.label
        causes.append(f"{shown.title} ({why}" + (f", and {len(others)} more check{'s' * (len(others) > 1)})"
                                                  if others else ")"))
    if causes:
        parts.append("Lost points: " + "; ".join(causes[:5]) + ("; …" if len(causes) > 5 else "") + ".")
    elif result.passed:
        parts.append("All checks passed.")
    parts.append("The feedback file shows each failing input, what was expected and what your code gave.")
    return html.escape(" ".join(parts))


def fill_worksheet(sheet: Worksheet, rows: list[Row], max_score: float, out: Path) -> tuple[Path, int, list[str]]:
    """Write ``sheet`` with the grades and comments of ``rows`` filled in; return the file, how
    many participants got a grade, and one note per graded student the worksheet lacks."""
    by_id = {row.student: row for row in rows}
    comma = _decimal_comma(sheet)
    filled, seen = 0, set()
    out_rows = [list(sheet.header)]
    for values in sheet.rows[1:]:
        values = list(values)
        pid = sheet.participant(values)
        row = by_id.get(pid) if pid else None
        if row is not None and row.status != "error":
            seen.add(pid)
            values += [""] * (len(sheet.header) - len(values))
            if row.status != "problem":
                top = float(values[sheet.max_grade].replace(",", ".") or 0) or max_score
                grade = f"{scaled(row.score, row.max_score or max_score, top):.2f}"
                values[sheet.grade] = grade.replace(".", ",") if comma else grade
                filled += 1
            if sheet.comments is not None:
                values[sheet.comments] = comment(row, max_score)
        out_rows.append(values)
    notes = [f"{row.student} ({row.name or 'no name'}) is graded but not in {sheet.path.name}: not in the worksheet"
             for row in rows if row.student not in seen and row.status != "error"]
    written = sheets.write(out, out_rows, excel=sheet.bom, safe=False, delimiter=sheet.delimiter)
    return written, filled, notes


def feedback_folder(name: str, participant: str) -> str:
    """``Full Name_123456_assignfeedback_file``: the importer splits at ``_``, so the name has none."""
    clean = re.sub(r"[_/\\:*?\"<>|\x00-\x1f]+", " ", name).strip() or "participant"
    return f"{clean}_{participant}_{FEEDBACK_PLUGIN}"


def feedback_zip(files: dict[str, dict[str, str]], names: dict[str, str], out: Path) -> Path:
    """Write the zip for "Upload multiple feedback files in a zip": ``files`` maps a participant
    id to {file name: text}. Only participants with a numeric id (Moodle's) get a folder."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for pid, texts in files.items():
            if not pid.isdigit():
                continue
            folder = feedback_folder(names.get(pid, ""), pid)
            for filename, text in texts.items():
                zf.writestr(f"{folder}/{filename}", text)
    return out
