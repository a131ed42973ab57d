"""The project against itself: every solution scores full marks, every released file zero.

Both graded as the instructor grades, hidden checks included. exercise11 grades trained
weights on test images: it gets the solution's weights trained on a learnable fixture
(``grading_needs`` in conftest.py).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader import registry

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = [info.id for info in registry.all_exercises()]
ORACLE = {"exercise11": "cifar10",  # reference/ file of an exercise not named after it: the CIFAR-10 ladder
          "exercise14": "faces"}  # the project: the faces ladder's models


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_solution_scores_full_marks(grade_text, grading_needs, exercise):
    result = grade_text(exercise, (ROOT / "solutions" / f"{exercise}.py").read_text(encoding="utf-8"), instructor=True,
                        **grading_needs(exercise))
    assert result.max_score > 0
    assert result.score == result.max_score, [(c.name, c.message) for c in result.checks if not c.passed]


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_released_exercise_file_scores_zero_with_every_check_not_implemented(grade_text, grading_needs, exercise):
    result = grade_text(exercise, (ROOT / "exercises" / f"{exercise}.py").read_text(encoding="utf-8"), instructor=True,
                        **grading_needs(exercise))
    assert result.score == 0
    assert {c.outcome for c in result.checks} == {"not_implemented"}, \
        [(c.name, c.outcome, c.message) for c in result.checks if c.outcome != "not_implemented"]


FRESH = """
import json, sys
from grader.engine import grade
from grader.report import gradescope
d = gradescope.to_json_dict(grade(sys.argv[1], sys.argv[2], **json.loads(sys.argv[3])))
d.pop("execution_time")
d["extra_data"].pop("duration")
for t in d["tests"]:
    t["extra_data"].pop("duration")
print(json.dumps(d, sort_keys=True))
"""


@pytest.mark.parametrize("exercise", EXERCISES)
def test_gradings_of_every_solution_give_identical_json_here_and_in_a_fresh_process(grade_text, canonical_json,
                                                                                     grading_needs, exercise, tmp_path):
    # here twice (the second replays the examples drawn by the first), and once in a new process, which
    # draws them again: what a student's run, a batch child and a CI job each do
    text = (ROOT / "solutions" / f"{exercise}.py").read_text(encoding="utf-8")
    needs = grading_needs(exercise)
    runs = {canonical_json(grade_text(exercise, text, **needs)) for _ in range(2)}
    folder = tmp_path / "fresh"
    folder.mkdir()
    (folder / f"{exercise}.py").write_text(text, encoding="utf-8")
    for name, data in needs.get("files", {}).items():
        (folder / name).write_bytes(data)
    options = {"data_dir": str(needs["data_dir"])} if "data_dir" in needs else {}
    fresh = subprocess.run([sys.executable, "-c", FRESH, exercise, str(folder / f"{exercise}.py"), json.dumps(options)],
                           capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert fresh.returncode == 0, fresh.stderr[-2000:]
    runs.add(fresh.stdout.strip())
    assert len(runs) == 1


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_exercise_has_its_four_parts(exercise):
    for folder in ("reference", "solutions", "exercises", "grader/checks"):
        name = ORACLE.get(exercise, exercise) if folder == "reference" else exercise
        assert (ROOT / folder / f"{name}.py").is_file(), f"{folder}/{name}.py is missing"
