"""The gradebook keeps whole results; summary and exports are computed from its rows alone."""

import csv
import json

from grader.batch import export
from grader.batch.gradebook import Gradebook, Row
from grader.results import ExerciseResult
from grader.batch.summary import markdown, summarize
from grader.results import CheckResult, Counterexample, Diagnosis, ExerciseResult


def _result(scores: dict[str, float], diagnosis: str | None = None) -> ExerciseResult:
    checks = []
    for name, score in scores.items():
        failed = score == 0
        checks.append(CheckResult(
            name=name, title=f"{name} works", score=score, max_score=2.0, outcome="failed" if failed else "passed",
            message="values differ" if failed else "", functions=("conv2d",),
            counterexample=Counterexample({"image": "[[0., 1.]]"}, "conv2d(image, kernel)", "[[1.]]", "[[0.]]",
                                          shrunk=True)
            if failed else None,
            diagnosis=Diagnosis(diagnosis, "your conv2d flips the kernel", "hint") if failed and diagnosis else None))
    return ExerciseResult(exercise="exercise03", title="Convolution by hand", submission="exercise03.py",
                          sha256="ab" * 32, checks=checks, instructor=True, grader_version="0.1.0")


def _row(student: str, result: ExerciseResult | None, status: str = "graded", message: str = "") -> Row:
    d = result.to_dict() if result else None
    return Row("exercise03", student, f"Name {student}", f"{student}/exercise03.py", "f" * 64, "0.1.0+abc", status,
               result.score if result else 0.0, result.max_score if result else 0.0, message, d)


def test_a_row_comes_back_from_the_gradebook_with_its_whole_result(tmp_path):
    result = _result({"a": 2.0, "b": 0.0}, diagnosis="flipped kernel")
    with Gradebook(tmp_path / "g.sqlite") as book:
        book.record(_row("alice", result))
        back = book.get("exercise03", "alice")
        checks = book.db.execute("SELECT name, score, outcome, diagnosis FROM checks ORDER BY position").fetchall()
    assert back.status == "graded" and back.score == 2.0 and back.max_score == 4.0
    assert back.exercise_result().to_dict() == result.to_dict()
    assert checks == [("a", 2.0, "passed", None), ("b", 0.0, "failed", "flipped kernel")]


def test_recording_a_student_again_replaces_the_row_and_its_checks(tmp_path):
    with Gradebook(tmp_path / "g.sqlite") as book:
        book.record(_row("alice", _result({"a": 0.0, "b": 0.0})))
        book.record(_row("alice", _result({"a": 2.0})))
        assert book.count("exercise03") == 1
        assert book.db.execute("SELECT COUNT(*) FROM checks").fetchone()[0] == 1


def test_results_rebuilt_from_json_ignore_keys_they_do_not_know():
    d = _result({"a": 0.0}, diagnosis="flipped kernel").to_dict()
    d["checks"][0]["something_new"] = 1
    d["added_later"] = True
    assert ExerciseResult.from_dict(d).checks[0].diagnosis.name == "flipped kernel"


def _class_rows():
    return [_row("alice", _result({"a": 2.0, "b": 2.0})),
            _row("bob", _result({"a": 2.0, "b": 0.0}, diagnosis="flipped kernel")),
            _row("carol", _result({"a": 0.0, "b": 0.0}, diagnosis="flipped kernel")),
            _row("dave", _result({"a": 0.0, "b": 2.0}), status="timeout", message="b: did not finish within 10 s"),
            _row("erin", None, status="problem", message="several files could be exercise03: a.py, b.py")]


def test_the_summary_counts_scores_pass_rates_and_the_most_common_mistake():
    summary = summarize(_class_rows(), "exercise03", "Convolution by hand")
    assert summary.students == 5 and summary.full_marks == 1
    assert summary.scores == {"alice": 4.0, "bob": 2.0, "carol": 0.0, "dave": 2.0}
    assert dict(summary.histogram()) == {"0": 1, "1": 0, "2": 2, "3": 0, "4": 1}
    a, b = summary.checks
    assert (a.passed, a.graded, b.passed, b.graded) == (2, 4, 2, 4)
    assert b.diagnosis == ("flipped kernel", 2)
    assert [(s, status) for s, _, status, _ in summary.incidents] == [("dave", "timeout"), ("erin", "problem")]
    text = markdown(summary)
    assert "| 50% (2/4) | b works | flipped kernel (2) |" in text
    assert "- **erin (Name erin)**: not graded — several files could be exercise03: a.py, b.py" in text


def test_the_csv_has_a_column_per_check_and_a_line_per_student(tmp_path):
    rows = _class_rows()
    with open(export.write_csv(rows, tmp_path / "grades.csv"), encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert list(table[0])[:7] == ["student", "name", "status", "score", "max_score", "a", "b"]
    assert [(r["student"], r["score"], r["a"], r["b"]) for r in table] == [
        ("alice", "4", "2", "2"), ("bob", "2", "2", "0"), ("carol", "0", "0", "0"), ("dave", "2", "0", "2"),
        ("erin", "0", "", "")]
    assert table[4]["message"].startswith("several files")


def test_feedback_shows_the_counterexample_and_the_diagnosis_in_markdown_and_html():
    row = _class_rows()[1]
    md, page = export.feedback_markdown(row), export.feedback_html(row)
    for text in (md, page):
        assert "smallest failing input" in text and "[[0., 1.]]" in text
        assert "your conv2d flips the kernel" in text
    assert page.startswith("<!DOCTYPE html>") and "<title>exercise03 — Name bob</title>" in page
    assert "Name bob (bob)" in page and md.startswith("# exercise03 — Convolution by hand: 2/4 points\n\nName bob (bob)")


def test_gradescope_files_are_valid_json_with_a_score_and_tests(tmp_path):
    for row in _class_rows():
        data = json.loads(export.gradescope_json(row))
        assert data["score"] == row.score
        assert isinstance(data["tests"], list)
    assert json.loads(export.gradescope_json(_class_rows()[4]))["output"].startswith("not graded: several files")


def test_every_export_is_written_for_every_student(tmp_path):
    rows = _class_rows()
    files = export.write_all(rows, summarize(rows, "exercise03"), tmp_path)
    names = {p.relative_to(tmp_path).as_posix() for p in files}
    assert {"grades.csv", "summary.md", "feedback/erin.md", "feedback/erin.html", "gradescope/erin/results.json"} <= names
    assert len(files) == 2 + 3 * len(rows)


def test_ids_that_sanitize_alike_or_differ_only_in_case_get_files_of_their_own(tmp_path):
    ids = ["anna maria", "anna_maria", "Anna", "anna", "Anna Schmidt_100001_assignsubmission_file_", "100001",
           "../etc", "x" * 300]
    rows = [_row(sid, _result({"a": float(i % 3)})) for i, sid in enumerate(ids)]
    export.write_all(rows, summarize(rows, "exercise03"), tmp_path)
    folders = sorted(p.name for p in (tmp_path / "gradescope").iterdir())
    assert len(folders) == len(ids) and len({f.casefold() for f in folders}) == len(ids)
    assert {"anna_maria", "100001", "anna_maria~dfa29cee", "Anna_Schmidt_100001_assignsubmission_file_~902b8706",
            "_etc~f7f9121f"} <= set(folders)
    assert all(len(f.encode()) <= 120 for f in folders)
    for row in rows:  # each folder holds its own student's result
        stem = export.file_stems(ids)[row.student]
        assert json.loads((tmp_path / "gradescope" / stem / "results.json").read_text())["score"] == row.score
        assert (tmp_path / "feedback" / f"{stem}.md").is_file()


def test_a_file_stem_is_the_id_itself_when_it_is_a_fine_file_name():
    assert [export.file_stem(s) for s in ("alice", "100001", "Zoë", "a.b@c+d-e")] == ["alice", "100001", "Zoë",
                                                                                         "a.b@c+d-e"]
