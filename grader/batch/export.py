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
import html
import io
import json
import multiprocessing
import re
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.text import Text

from ..report import console as console_report
from ..report import render_text
from ..report.fmt import points
from .gradebook import Row
from .summary import LABELS, ClassSummary, markdown

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


def file_stem(student: str) -> str:
    """A student id as a file name (ids come from folder names: keep them readable)."""
    return re.sub(r"[^\w.@+-]", "_", student).strip(".") or "_"


def write_all(rows: list[Row], summary: ClassSummary, folder: Path, *, workers: int = 1) -> list[Path]:
    """Write every export of ``rows`` into ``folder``; return the files written.

    Rendering a class's feedback takes a few seconds (rich lays out every report), so with
    ``workers`` > 1 the students are split among that many forked processes.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = [write_csv(rows, folder / "grades.csv")]
    parts = min(workers, len(rows) // 20) if threading.active_count() == 1 else 1  # fork only a lone thread
    if parts > 1:
        size = -(-len(rows) // parts)
        chunks = [rows[i:i + size] for i in range(0, len(rows), size)]
        with ProcessPoolExecutor(len(chunks), mp_context=multiprocessing.get_context("fork")) as pool:
            for files in pool.map(write_feedback, chunks, [folder] * len(chunks)):
                written += files
    else:
        written += write_feedback(rows, folder)
    written.append(_write(folder / "summary.md", markdown(summary)))
    return written


def write_feedback(rows: list[Row], folder: Path) -> list[Path]:
    """Write each student's Markdown and HTML feedback and Gradescope results; return the files."""
    written = []
    for row in rows:
        stem = file_stem(row.student)
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
                          " ".join(row.message.split())])
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
    return f"{LABELS.get(row.status, row.status)}: {row.message}"
