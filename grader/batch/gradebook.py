"""The gradebook: one SQLite file that a batch run fills and every export is made from.

``submissions`` has a row per exercise and student (the hash of the files graded, the
grader version, status, score, and the whole result as JSON, so feedback can be written
again without grading again); ``checks`` has a row per student and check. Each student is
committed in one transaction as soon as their grading ends, in WAL mode: a run killed at
any moment (SIGKILL included) keeps every student it finished, and the next run grades
only the rest.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from ..results import ExerciseResult

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    exercise TEXT NOT NULL,
    student TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    file TEXT NOT NULL DEFAULT '',
    sha256 TEXT NOT NULL DEFAULT '',
    grader_version TEXT NOT NULL,
    status TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    result TEXT,
    graded_at TEXT NOT NULL,
    duration REAL NOT NULL DEFAULT 0,
    late INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (exercise, student)
);
CREATE TABLE IF NOT EXISTS checks (
    exercise TEXT NOT NULL,
    student TEXT NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    outcome TEXT NOT NULL,
    hidden INTEGER NOT NULL,
    diagnosis TEXT,
    message TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (exercise, student, name)
);
"""

# what a row's status says, worst first: "problem" nothing could be graded (no file, several
# candidates); "error" the grader itself failed; "timeout" a check or the whole submission ran
# out of time; "crash" the submission's process died or could not load; "graded" otherwise
STATUSES = ("problem", "error", "timeout", "crash", "graded")


@dataclass
class Row:
    """One student's entry for one exercise."""

    exercise: str
    student: str
    name: str
    file: str
    sha256: str
    grader_version: str
    status: str
    score: float
    max_score: float
    message: str = ""
    result: dict | None = None  # ExerciseResult.to_dict()
    graded_at: str = ""
    duration: float = 0.0
    late: bool = False  # the platform marked the hand-in late (Canvas)

    def exercise_result(self) -> ExerciseResult | None:
        return None if self.result is None else ExerciseResult.from_dict(self.result)


class Gradebook:
    """``Gradebook(path)``: read and write rows; one connection, used by one process."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # durable against a killed process, fast per commit
        self.db.executescript(SCHEMA)
        columns = {r[1] for r in self.db.execute("PRAGMA table_info(submissions)")}
        if "late" not in columns:  # a gradebook written before the column existed
            self.db.execute("ALTER TABLE submissions ADD COLUMN late INTEGER NOT NULL DEFAULT 0")

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def get(self, exercise: str, student: str) -> Row | None:
        cur = self.db.execute("SELECT * FROM submissions WHERE exercise = ? AND student = ?", (exercise, student))
        found = cur.fetchone()
        return None if found is None else _row(cur, found)

    def rows(self, exercise: str, students: list[str] | None = None) -> list[Row]:
        """Return the rows of ``exercise`` (of these students, in this order, when given)."""
        cur = self.db.execute("SELECT * FROM submissions WHERE exercise = ?", (exercise,))
        rows = {r.student: r for r in (_row(cur, t) for t in cur.fetchall())}
        if students is None:
            return [rows[k] for k in sorted(rows)]
        return [rows[s] for s in students if s in rows]

    def count(self, exercise: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM submissions WHERE exercise = ?", (exercise,)).fetchone()[0]

    def record(self, row: Row) -> None:
        """Store ``row`` and its checks in one transaction (replacing what was there)."""
        row.graded_at = row.graded_at or time.strftime("%Y-%m-%dT%H:%M:%S")
        checks = (row.result or {}).get("checks", [])
        with self.db:  # commits, or rolls back on an exception
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM checks WHERE exercise = ? AND student = ?", (row.exercise, row.student))
            self.db.execute(
                "INSERT OR REPLACE INTO submissions (exercise, student, name, file, sha256, grader_version, status, "
                "score, max_score, message, result, graded_at, duration, late) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (row.exercise, row.student, row.name, row.file, row.sha256, row.grader_version, row.status,
                 row.score, row.max_score, row.message, None if row.result is None else json.dumps(row.result),
                 row.graded_at, row.duration, int(row.late)))
            self.db.executemany(
                "INSERT INTO checks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(row.exercise, row.student, i, c["name"], c["title"], c["score"], c["max_score"], c["outcome"],
                  int(bool(c.get("hidden"))), (c.get("diagnosis") or {}).get("name"), c.get("message", ""))
                 for i, c in enumerate(checks)])


def _row(cur: sqlite3.Cursor, values: tuple) -> Row:
    d = {col[0]: v for col, v in zip(cur.description, values)}
    d["result"] = None if d["result"] is None else json.loads(d["result"])
    d["late"] = bool(d.get("late"))
    return Row(**d)

