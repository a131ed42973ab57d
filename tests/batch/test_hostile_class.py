"""A class folder that fights back: FIFOs, links to /dev/zero, a zip bomb, a broken notebook and
two ids that make the same file name. The run finishes, each of those students is one "not
graded" row with the reason, and everybody else is graded and gets their own feedback."""

import json
import os
import zipfile

import pytest

from grader.batch import run_batch
from grader.batch.gradebook import Gradebook
from grader.batch.runner import Job, Pool, Settings


@pytest.fixture
def hostile_class(tmp_path, solution_text, exercise_text):
    subs = tmp_path / "class"
    for who, text in {"alice": solution_text("exercise03"), "anna maria": solution_text("exercise03"),
                      "anna_maria": exercise_text("exercise03")}.items():
        (subs / who).mkdir(parents=True)
        (subs / who / "exercise03.py").write_text(text)
    os.mkfifo(subs / "bob.py")
    os.symlink("/dev/zero", subs / "carol.py")
    (subs / "erin").mkdir()
    with zipfile.ZipFile(subs / "erin" / "abgabe.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("exercise03.py", solution_text("exercise03"))
        zf.writestr("weights.pt", bytes(50 << 20))  # 50 MB of zeros pack to 50 KB
    (subs / "frank.ipynb").write_text('{"cells": null}')
    return subs


def test_fifos_dev_zero_a_zip_bomb_and_a_broken_notebook_are_not_graded_rows_and_the_run_finishes(
        hostile_class, within, official):
    with within(180):  # a FIFO or /dev/zero used to hang the whole run
        report = run_batch("exercise03", hostile_class, workers=2, progress=False, **official)
    with Gradebook(report.gradebook) as book:
        rows = {r.student: (r.status, r.score, r.message) for r in book.rows("exercise03")}
    assert rows == {
        "alice": ("graded", 18.0, ""), "anna maria": ("graded", 18.0, ""), "anna_maria": ("graded", 0.0, ""),
        "bob": ("problem", 0.0, "bob.py is a named pipe (FIFO), not a regular file"),
        "carol": ("problem", 0.0, "carol.py is a symbolic link, not a regular file"),
        "erin": ("problem", 0.0, "weights.pt in abgabe.zip unpacks to more than 100 times its packed size "
                                 "(a zip bomb?)"),
        "frank": ("problem", 0.0, "frank.ipynb is not a valid Jupyter notebook (could not read its cells)")}


def test_two_ids_that_sanitize_alike_get_a_feedback_file_and_a_gradescope_folder_each(hostile_class, official):
    report = run_batch("exercise03", hostile_class, workers=2, progress=False, **official)
    out = report.out / "exercise03"
    feedback = {p.name for p in (out / "feedback").glob("anna*.md")}
    assert feedback == {"anna_maria.md", "anna_maria~dfa29cee.md"}
    scores = {p.parent.name: json.loads(p.read_text())["score"] for p in (out / "gradescope").glob("anna*/results.json")}
    assert scores == {"anna_maria": 0.0, "anna_maria~dfa29cee": 18.0}
    assert "18/18 points" in (out / "feedback" / "anna_maria~dfa29cee.md").read_text()


def test_a_malformed_notebook_is_a_problem_row_with_one_line_not_an_internal_error(tmp_path, exercise03):
    path = tmp_path / "exercise03.ipynb"
    path.write_text('{"cells": [{"cell_type": "code", "source": ["x = 1", null]}]}')
    outcomes = []
    Pool(Settings(exercise03, workers=1), warm_up=False).run([Job("frank", path)], outcomes.append)
    (out,) = outcomes
    assert (out.status, out.message) == ("problem", "exercise03.ipynb, cell 1: its source is a list with null in it, "
                                                    "not text — hand in the .ipynb file as Jupyter saves it")
