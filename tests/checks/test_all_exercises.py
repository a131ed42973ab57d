"""The project against itself: every solution scores full marks, every released file zero.

Both graded as the instructor grades, hidden checks included. exercise11 grades trained
weights on test images: it gets the solution's weights trained on a learnable fixture
(``grading_needs`` in conftest.py).
"""

from pathlib import Path

import pytest

from grader import registry

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = [info.id for info in registry.all_exercises()]
ORACLE = {"exercise11": "cifar10"}  # reference/ file of an exercise not named after it: the CIFAR-10 ladder


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


@pytest.mark.parametrize("exercise", EXERCISES)
def test_ten_gradings_of_every_solution_give_identical_json(grade_text, canonical_json, grading_needs, exercise):
    text = (ROOT / "solutions" / f"{exercise}.py").read_text(encoding="utf-8")
    runs = {canonical_json(grade_text(exercise, text, **grading_needs(exercise))) for _ in range(10)}
    assert len(runs) == 1


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_exercise_has_its_four_parts(exercise):
    for folder in ("reference", "solutions", "exercises", "grader/checks"):
        name = ORACLE.get(exercise, exercise) if folder == "reference" else exercise
        assert (ROOT / folder / f"{name}.py").is_file(), f"{folder}/{name}.py is missing"
