"""Whole batch runs of exercise03 classes: grading once, resuming, regrading, the command line.

The classes are small and made of variants that grade in about a second (no long shrinking),
so that the default suite stays fast; ``measure_throughput.py`` runs the 200-student class.
"""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.batch import run_batch
from grader.batch.gradebook import Gradebook
from grader.cli import main
from grader.engine import grade



def canonical(result: dict) -> str:
    """A result's JSON without its timings (what must be the same however it was graded)."""
    d = json.loads(json.dumps(result))
    d.pop("duration")
    for c in d["checks"]:
        c.pop("duration")
    return json.dumps(d, sort_keys=True)


@pytest.fixture(scope="module")
def graded(tmp_path_factory, generator, official):
    """A class of six, graded once: (report, submissions folder, {student: variant})."""
    variants = generator.CHEAP + ["two candidate files"]
    folder, students = generator.write_variants(tmp_path_factory.mktemp("batch") / "class", variants)
    report = run_batch("exercise03", folder, workers=2, progress=False, **official)
    return report, folder, students


def test_every_student_gets_a_row_and_a_problem_is_a_row_not_a_crash(graded):
    report, folder, students = graded
    assert (report.students, report.graded, report.kept) == (6, 5, 0)
    with Gradebook(report.gradebook) as book:
        rows = {r.student: r for r in book.rows("exercise03")}
    assert set(rows) == set(students)
    by_variant = {students[s]: r for s, r in rows.items()}
    assert (by_variant["solution"].status, by_variant["solution"].score) == ("graded", 18.0)
    assert (by_variant["not implemented"].score, by_variant["half done"].score) == (0.0, 2.0)
    assert by_variant["two candidate files"].status == "problem"
    assert by_variant["two candidate files"].message.startswith("several files could be exercise03")


def test_a_batch_result_is_exactly_what_grade_gives_for_the_same_file(graded):
    report, folder, students = graded
    with Gradebook(report.gradebook) as book:
        for row in book.rows("exercise03"):
            if row.status == "problem":
                continue
            path = folder / row.file
            alone = grade("exercise03", path, instructor=True, secret=os.environ["GRADER_SECRET"]).to_dict()
            assert canonical(row.result) == canonical(alone), row.student
            # the student's own run has the same public checks, on the public examples (grader.secret)
            public = grade("exercise03", path).to_dict()
            names = lambda checks: [(c["name"], c["max_score"]) for c in checks if not c["hidden"]]
            assert names(public["checks"]) == names(row.result["checks"])
            break  # one full comparison here; every variant is compared in measure_throughput.py


def test_the_exports_are_written_from_the_gradebook(graded):
    report, folder, students = graded
    out = report.out / "exercise03"
    pooling = next(s for s, v in students.items() if v == "pooling stride 1")
    assert (out / "grades.csv").read_text().splitlines()[0].startswith("student,name,status,score,max_score,")
    md = (out / "feedback" / f"{pooling}.md").read_text()
    mistake = "your max_pool2d moves the window by 1"
    assert "smallest failing input:\n  x = [[0., 0., 0.]," in md and "got: [[0., 0.]]" in md and mistake in md
    page = (out / "feedback" / f"{pooling}.html").read_text()
    assert "smallest failing input" in page and mistake in page
    assert json.loads((out / "gradescope" / pooling / "results.json").read_text())["score"] == 13.0
    assert "## Checks, most failed first" in (out / "summary.md").read_text()


def test_running_again_grades_nothing_and_rewrites_the_exports(graded, official):
    report, folder, students = graded
    (report.out / "exercise03" / "grades.csv").unlink()
    again = run_batch("exercise03", folder, workers=2, progress=False, **official)
    assert (again.graded, again.kept) == (0, 6)
    assert (again.out / "exercise03" / "grades.csv").exists()
    assert again.summary.scores == report.summary.scores


def test_a_changed_file_and_regrade_requests_are_graded_again(graded, tmp_path, official):
    report, folder, students = graded
    copy = tmp_path / "class"
    shutil.copytree(folder, copy)
    shutil.copy(report.gradebook, tmp_path / "gradebook.sqlite")
    book = tmp_path / "gradebook.sqlite"
    solution = next(s for s, v in students.items() if v == "solution")
    stub = next(s for s, v in students.items() if v == "not implemented")
    (path,) = (copy / p for p in os.listdir(copy) if solution in p)
    (path / "exercise03.py").write_text((path / "exercise03.py").read_text() + "\n# changed\n")
    run = run_batch("exercise03", copy, out=tmp_path / "out", gradebook=book, workers=2, progress=False, **official)
    assert run.graded == 1
    with Gradebook(book) as b:
        other = next(r.name for r in b.rows("exercise03") if r.student not in (stub, solution) and r.file)
    run = run_batch("exercise03", copy, out=tmp_path / "out", gradebook=book, regrade=[stub, other.upper()],
                    workers=2, progress=False, **official)
    assert run.graded == 2
    assert run_batch("exercise03", copy, out=tmp_path / "out", gradebook=book, regrade_all=True, workers=2,
                     progress=False, **official).graded == 5


def test_a_run_killed_with_sigkill_resumes_and_ends_with_every_student_graded_once(tmp_path, generator,
                                                                                   orphan_workers, alive_check,
                                                                                   official_args):
    folder, students = generator.write_variants(tmp_path / "class", generator.CHEAP * 4)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "grader", "batch", "exercise03", str(folder), "--out", str(out), "--workers", "2",
           "--no-progress", *official_args]
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    done = _wait_for_rows(out / "gradebook.sqlite", 8, first)
    children = _session_members(first.pid)
    first.send_signal(signal.SIGKILL)
    first.wait()
    time.sleep(1.0)
    assert not any(alive_check(pid) for pid in children), "a grading child outlived the killed run"
    assert not orphan_workers(), "a sandbox worker outlived its grading child"
    before = _rows(out / "gradebook.sqlite")
    assert done <= len(before) < 20
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    assert f"graded {20 - len(before)} of 20 students" in second.stdout
    after = _rows(out / "gradebook.sqlite")
    assert len(after) == 20 and {s: after[s] for s in before} == before  # nothing finished was graded again
    expected = {"solution": 18.0, "not implemented": 0.0, "half done": 2.0, "pooling stride 1": 13.0,
                "output size off by one": 16.0}
    assert {s: score for s, (score, _) in after.items()} == {s: expected[v] for s, v in students.items()}


def _rows(book: Path) -> dict[str, tuple[float, str]]:
    with sqlite3.connect(book) as db:
        return {s: (score, at) for s, score, at in db.execute("SELECT student, score, graded_at FROM submissions")}


def _wait_for_rows(book: Path, n: int, proc: subprocess.Popen, limit: float = 300) -> int:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before it could be killed"
        if book.exists():
            try:
                count = len(_rows(book))
            except sqlite3.OperationalError:  # the schema is being created
                count = 0
            if count >= n:
                return count
        time.sleep(0.1)
    raise AssertionError(f"fewer than {n} rows after {limit} s")


def _session_members(sid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != sid:
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid:  # field 6 of stat: the session id
                out.append(int(entry))
    return out


def test_usage_errors_are_one_line_and_exit_2(tmp_path, graded, official_args):
    report, folder, students = graded
    runner = CliRunner()
    for args, message in (
        (["batch", "exercise99", str(folder)], "grade: unknown exercise 'exercise99'"),
        (["batch", "exercise03", str(tmp_path / "missing")], "grade: no folder or .zip of submissions at"),
        (["batch", "exercise03", str(folder), "--regrade", "nobody"], "grade: --regrade nobody: no such student"),
    ):
        result = runner.invoke(main, [*args, *official_args])
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
