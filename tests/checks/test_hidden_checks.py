"""Hidden checks: left out of a student's run (counted, never named), run when the instructor
grades, and able to catch a submission that passes every public check."""

import io
import json

import pytest
from rich.console import Console

from grader import registry
from grader.report import console, render_text

# (exercise, one-line edits of the solution that pass every public check, the hidden check it fails)
SLIPS = [
    ("exercise03", [("    image = np.asarray(image, dtype=np.float64)\n    kernel = np.asarray(kernel, dtype=np.float64)\n",
                     "    kernel = np.asarray(kernel, dtype=np.float64)\n")],
     "conv2d_and_max_pool2d_take_nested_lists_and_uint8_images"),
    ("exercise03", [("    image = np.asarray(image, dtype=np.float64)\n    kernel = np.asarray(kernel, dtype=np.float64)\n",
                     "    image = np.asarray(image)\n    kernel = np.asarray(kernel)\n")],
     "conv2d_and_max_pool2d_take_nested_lists_and_uint8_images"),
    ("exercise04", [("assert (sh, sw) == (1, 1), \"padding='same' needs stride 1\"", "pass")],
     "summary_refuses_windows_that_do_not_fit_and_same_padding_with_a_stride"),
    ("exercise04", [('        assert size >= 1, f"a window', '        # f"a window')],
     "summary_refuses_windows_that_do_not_fit_and_same_padding_with_a_stride"),
]
SLIP_IDS = ["ex03: image used as given (a list has no .ndim)", "ex03: sums in uint8", "ex04: 'same' with a stride",
            "ex04: sizes ≤ 0 returned"]
EXERCISES = sorted({ex for ex, _, _ in SLIPS})


def rich_text(result) -> str:
    buffer = io.StringIO()
    console.render(result, Console(file=buffer, width=200, color_system=None))
    return buffer.getvalue()


def hidden_specs(exercise):
    return [spec for spec in registry.load(registry.find_exercise(exercise)).checks if spec.hidden]


@pytest.mark.parametrize("exercise", EXERCISES)
def test_a_students_run_of_the_solution_says_all_public_checks_passed_without_the_hidden_points(
        grade_text, solution_text, exercise):
    info = registry.find_exercise(exercise)
    result = grade_text(exercise, solution_text(exercise))
    assert not any(c.hidden for c in result.checks)
    assert result.score == result.max_score == info.points
    assert (result.hidden_skipped, result.hidden_points_skipped) == (len(hidden_specs(exercise)), info.hidden_points)
    text = rich_text(result)
    assert f"all public checks passed: {info.points:g}/{info.points:g} points" in text
    assert "1 hidden check (1 point) is run when your instructor grades" in text
    assert "all checks passed" not in text


@pytest.mark.parametrize("exercise", EXERCISES)
def test_the_instructor_run_of_the_solution_passes_the_hidden_checks_with_full_marks(grade_text, solution_text, exercise):
    info = registry.find_exercise(exercise)
    result = grade_text(exercise, solution_text(exercise), instructor=True)
    hidden = [c for c in result.checks if c.hidden]
    assert [c.name for c in hidden] == [spec.name for spec in hidden_specs(exercise)]
    assert all(c.passed for c in hidden)
    assert result.score == result.max_score == info.points + info.hidden_points
    assert result.hidden_skipped == 0
    text = rich_text(result)
    assert f"all checks passed: {result.max_score:g}/{result.max_score:g} points" in text
    assert "(hidden)" in text and "hidden check (" not in text


@pytest.mark.parametrize("exercise, edits, hidden_check", SLIPS, ids=SLIP_IDS)
def test_a_submission_passing_every_public_check_loses_only_the_hidden_points_when_the_instructor_grades(
        grade_text, solution_text, mutate, exercise, edits, hidden_check):
    text = solution_text(exercise)
    for old, new in edits:
        text = mutate(text, old, new)
    info = registry.find_exercise(exercise)
    student = grade_text(exercise, text)
    assert student.passed and student.score == student.max_score == info.points
    assert "all public checks passed" in rich_text(student)
    instructor = grade_text(exercise, text, instructor=True)
    assert [c.name for c in instructor.checks if not c.passed] == [hidden_check]
    assert instructor.score == info.points
    assert instructor.max_score == info.points + info.hidden_points
    assert "score: " in rich_text(instructor)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_gradescope_json_shows_hidden_checks_after_the_grades_are_published_and_the_others_always(
        grade_text, solution_text, exercise):
    data = json.loads(render_text(grade_text(exercise, solution_text(exercise), instructor=True), "json"))
    hidden = {spec.name for spec in hidden_specs(exercise)}
    visibility = {t["extra_data"]["check"]: t["visibility"] for t in data["tests"]}
    assert {name: v for name, v in visibility.items() if name in hidden} == dict.fromkeys(hidden, "after_published")
    assert {v for name, v in visibility.items() if name not in hidden} == {"visible"}
    assert data["score"] == data["extra_data"]["max_score"] and data["output"] == "all checks passed"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_a_students_reports_never_name_a_hidden_check(grade_text, solution_text, exercise_text, exercise):
    secrets = [s for spec in hidden_specs(exercise) for s in (spec.name, spec.title)]
    for text in (solution_text(exercise), exercise_text(exercise)):
        result = grade_text(exercise, text)
        reports = [rich_text(result)] + [render_text(result, fmt) for fmt in ("json", "junit", "markdown")]
        for report in reports:
            assert not [s for s in secrets if s in report]
    data = json.loads(render_text(grade_text(exercise, solution_text(exercise)), "json"))
    assert data["output"] == "all public checks passed\n1 hidden check (1 point) is run when your instructor grades"
