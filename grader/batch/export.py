"""Files for the instructor and for each student, written from gradebook rows.

- ``grades.csv``: student, name, status, score, max score, one column per check (points);
- ``feedback/<student>.md`` and ``.html``: the terminal report's content (counterexamples,
  expected vs got, likely mistakes), Markdown from ``grader.report.markdown``, HTML recorded
  from the rich report itself;
- ``gradescope/<student>/results.json``: Gradescope's format (``grader.report.gradescope``);
- ``summary.md``: the class summary.

Only the gradebook is read, never the submissions: after a change to the reports, running
``grade batch`` again rewrites every file without grading anything.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import multiprocessing
import re
import threading
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.text import Text

from ..report import console as console_report
from ..report import render_text
from ..report.fmt import clip, points
from .gradebook import Row
from .summary import LABELS, ClassSummary, markdown

MAX_STEM_BYTES = 100  # of a student's file name before its hash (file systems allow 255)
HTML_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<title>{title}</title>
<style>
{stylesheet}
body {{ color: {foreground}; background-color: {background}; }}
</style>
</head>
<body>
<pre style="font-family: Menlo, 'DejaVu Sans Mono', consolas, 'Courier New', monospace"><code>{code}</code></pre>
</body>
</html>
"""


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


def write_all(rows: list[Row], summary: ClassSummary, folder: Path, *, workers: int = 1) -> list[Path]:
    """Write every export of ``rows`` into ``folder``; return the files written.

    Rendering a class's feedback takes a few seconds (rich lays out every report), so with
    ``workers`` > 1 the students are split among that many forked processes.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = [write_csv(rows, folder / "grades.csv")]
    stems = file_stems([row.student for row in rows])
    parts = min(workers, len(rows) // 20) if threading.active_count() == 1 else 1  # fork only a lone thread
    if parts > 1:
        size = -(-len(rows) // parts)
        chunks = [rows[i:i + size] for i in range(0, len(rows), size)]
        with ProcessPoolExecutor(len(chunks), mp_context=multiprocessing.get_context("fork")) as pool:
            for files in pool.map(write_feedback, chunks, [folder] * len(chunks), [stems] * len(chunks)):
                written += files
    else:
        written += write_feedback(rows, folder, stems)
    written.append(_write(folder / "summary.md", markdown(summary)))
    return written


def write_feedback(rows: list[Row], folder: Path, stems: dict[str, str] | None = None) -> list[Path]:
    """Write each student's Markdown and HTML feedback and Gradescope results; return the files.

    ``stems`` names each student's files (``file_stems`` of the whole class: made from ``rows`` if not given).
    """
    stems = stems or file_stems([row.student for row in rows])
    written = []
    for row in rows:
        stem = stems[row.student]
        written += [_write(folder / "feedback" / f"{stem}.md", feedback_markdown(row)),
                    _write(folder / "feedback" / f"{stem}.html", feedback_html(row)),
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


def write_csv(rows: list[Row], path: Path) -> Path:
    """One line per student: points per check, empty where nothing was graded."""
    columns = check_columns(rows)
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["student", "name", "status", "score", "max_score", *columns, "file", "message"])
        for row in rows:
            got = {c["name"]: c["score"] for c in (row.result or {}).get("checks", [])}
            out.writerow([row.student, row.name, row.status, points(row.score), points(row.max_score),
                          *[points(got[c]) if c in got else "" for c in columns], row.file,
                          " ".join(clip(row.message).split())])
    return path


def feedback_markdown(row: Row) -> str:
    result = row.exercise_result()
    if result is None:
        return f"### ❌ {row.exercise}: not graded\n\n{_not_graded(row)}\n"
    return render_text(result, "markdown")


def feedback_html(row: Row) -> str:
    """The rich report, recorded as HTML (the same panels and colours as in the terminal)."""
    console = Console(record=True, file=io.StringIO(), width=100, color_system="truecolor", highlight=False)
    result = row.exercise_result()
    if result is None:
        console.print(Text(f"{row.exercise}: not graded", style="bold red"))
        console.print(_not_graded(row))
    else:
        console_report.render(result, console)
    title = html.escape(f"{row.exercise} — {row.student}").replace("{", "{{").replace("}", "}}")
    return console.export_html(code_format=HTML_PAGE.replace("{title}", title), inline_styles=False)


def gradescope_json(row: Row) -> str:
    result = row.exercise_result()
    if result is None:
        return json.dumps({"score": 0.0, "output": _not_graded(row), "tests": [], "visibility": "visible"},
                          indent=2, ensure_ascii=False) + "\n"
    return render_text(result, "json")


def _not_graded(row: Row) -> str:
    return f"{LABELS.get(row.status, row.status)}: {clip(row.message)}"
