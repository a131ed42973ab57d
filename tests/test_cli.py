"""The `grade` command through click's CliRunner: formats, exit codes, one-line usage errors."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from grader.cli import main

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = str(ROOT / "solutions" / "exercise03.py")
EXERCISE = str(ROOT / "exercises" / "exercise03.py")


def run(*args, cwd=None):
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(main, list(args), catch_exceptions=False)
    with runner.isolated_filesystem(temp_dir=cwd):
        return runner.invoke(main, list(args), catch_exceptions=False)


def test_json_on_the_solution_gives_full_marks_and_exit_0():
    result = run("exercise03", "--submission", SOLUTION, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["score"] == data["extra_data"]["max_score"] == 17
    assert {t["status"] for t in data["tests"]} == {"passed"}
    assert all({"name", "score", "max_score", "status", "output"} <= set(t) for t in data["tests"])


def test_the_exercise_file_scores_zero_exit_1_and_the_report_has_no_traceback():
    result = run("exercise03", "--submission", EXERCISE)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "not implemented yet: conv2d, conv_output_size, max_pool2d, relu" in result.output
    assert "0/17" in result.output
    data = json.loads(run("exercise03", "--submission", EXERCISE, "--format", "json").stdout)
    assert data["score"] == 0


def test_what_the_submission_prints_never_reaches_stdout_in_json(tmp_path):
    noisy = tmp_path / "exercise03.py"
    noisy.write_text(Path(SOLUTION).read_text() + "\nprint('NOISE ' * 1000)\nimport sys\nsys.stdout.write('NOISE')\n")
    result = run("exercise03", "--submission", str(noisy), "--format", "json")
    data = json.loads(result.stdout)
    assert data["score"] == 17 and "NOISE" in data["extra_data"]["student_output"]


def test_junit_output_is_valid_xml_with_one_testcase_per_check():
    result = run("exercise03", "--submission", EXERCISE, "--format", "junit")
    assert result.exit_code == 1
    suite = ET.fromstring(result.stdout).find("testsuite")
    assert int(suite.get("tests")) == len(suite.findall("testcase")) == int(suite.get("failures"))


def test_unknown_exercise_and_missing_file_are_one_line_usage_errors(tmp_path):
    result = run("exercise99")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "unknown exercise 'exercise99'" in result.stderr
    result = run("exercise03", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "grade start exercise03" in result.stderr
    result = run("exercise03", "--submission", str(tmp_path / "nope.py"))
    assert result.exit_code == 2 and "not found" in result.stderr


def test_start_writes_the_exercise_file_and_grading_it_finds_it_by_name(tmp_path):
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=tmp_path):
        result = runner.invoke(main, ["start", "convolution"])
        assert result.exit_code == 0
        assert Path("exercise03.py").read_text() == Path(EXERCISE).read_text()
        assert runner.invoke(main, ["start", "exercise03"]).exit_code == 2  # no overwrite without --force
        listing = runner.invoke(main, ["list"]).output
        assert "exercise03" in listing and "exercise03.py" in listing
        graded = runner.invoke(main, ["3", "--format", "json"])
        assert graded.exit_code == 1 and json.loads(graded.stdout)["score"] == 0


def test_release_check_passes_on_this_checkout():
    result = run("release", "--check", "--root", str(ROOT))
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


def test_min_score_sets_the_exit_status_by_points(tmp_path, solution_text, mutate):
    buggy = tmp_path / "exercise03.py"
    buggy.write_text(mutate(solution_text("exercise03"), "    stride = size\n", "    stride = 1\n"))
    data = json.loads(run("exercise03", "--submission", str(buggy), "--format", "json").stdout)
    assert 0 < data["score"] < 17
    assert run("exercise03", "--submission", str(buggy), "--format", "json",
               "--min-score", str(data["score"])).exit_code == 0
    assert run("exercise03", "--submission", str(buggy), "--format", "json",
               "--min-score", str(data["score"] + 0.5)).exit_code == 1


def test_a_students_run_leaves_the_hidden_check_out_and_the_instructors_run_counts_it(official_args):
    student = run("exercise03", "--submission", SOLUTION)
    assert student.exit_code == 0
    assert "all public checks passed: 17/17 points" in student.output
    assert "1 hidden check (1 point) is run when your instructor grades" in student.output
    assert "(hidden)" not in student.output
    instructor = run("exercise03", "--submission", SOLUTION, "--instructor", *official_args)
    assert instructor.exit_code == 0
    assert "all checks passed: 18/18 points" in instructor.output and "(hidden)" in instructor.output
    data = json.loads(run("exercise03", "--submission", SOLUTION, "--instructor", "--format", "json",
                          *official_args).stdout)
    assert data["score"] == data["extra_data"]["max_score"] == 18
    assert sorted(t["visibility"] for t in data["tests"]) == ["after_published"] + ["visible"] * 12


def test_output_writes_each_file_in_the_format_of_its_suffix_and_the_terminal_gets_the_rich_report(tmp_path):
    files = [tmp_path / "out" / name for name in ("report.xml", "report.md", "report.json", "report.txt")]
    result = run("exercise03", "--submission", EXERCISE, "--format", "junit", *(a for f in files for a in ("-o", str(f))))
    assert result.exit_code == 1
    assert "not implemented yet: conv2d, conv_output_size, max_pool2d, relu" in result.stdout  # rich, not XML
    suite = ET.parse(files[0]).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("12", "12")
    assert files[1].read_text().startswith("### ❌ exercise03 — Convolution by hand: 0/17 points\n")
    assert json.loads(files[2].read_text())["score"] == 0
    assert "score: 0/17 points" in files[3].read_text() and "\x1b[" not in files[3].read_text()


def test_markdown_format_prints_the_report_for_a_job_summary():
    result = run("exercise03", "--submission", EXERCISE, "--format", "markdown")
    assert result.exit_code == 1
    assert result.stdout.startswith("### ❌ exercise03 — Convolution by hand: 0/17 points\n")
    assert "| ⏳ | conv2d reproduces the lecture's three worked examples — not implemented yet | 0/2 |" in result.stdout
    assert "**not implemented yet:** `conv2d`, `conv_output_size`, `max_pool2d`, `relu`" in result.stdout


def test_min_score_takes_points_or_a_share_of_the_points(tmp_path, solution_text, mutate):
    buggy = tmp_path / "exercise03.py"
    buggy.write_text(mutate(solution_text("exercise03"), "    stride = size\n", "    stride = 1\n"))
    score = json.loads(run("exercise03", "--submission", str(buggy), "--format", "json").stdout)["score"]
    share = 100 * score / 17
    assert run("exercise03", "--submission", str(buggy), "--min-score", f"{share - 1:.1f}%").exit_code == 0
    assert run("exercise03", "--submission", str(buggy), "--min-score", f"{share + 1:.1f}%").exit_code == 1
    result = run("exercise03", "--submission", str(buggy), "--min-score", "120%")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "--min-score '120%'" in result.stderr


def test_a_typo_in_the_exercise_suggests_the_exercise_in_one_line():
    for typed in ("exercize03", "convolutoin"):
        result = run(typed)
        assert result.exit_code == 2
        assert result.stderr == (f"grade: unknown exercise '{typed}' — did you mean exercise03 (Convolution by hand)? "
                                 "`grade list` shows them all\n")
    assert run("exercize03", "--help").stderr.startswith("grade: unknown exercise 'exercize03' — did you mean exercise03")


def test_help_after_an_exercise_shows_the_command_typed_and_the_grading_options():
    def help_of(*args):
        return CliRunner().invoke(main, [*args, "--help"], prog_name="grade", catch_exceptions=False)

    result = help_of("exercise03")
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: grade exercise03 [OPTIONS]\n\n  Grade your submission of exercise03 "
                                    "(Convolution by hand)")
    assert all(option in result.stdout for option in ("--submission", "--format", "--instructor", "--min-score"))
    assert help_of("3").stdout.startswith("Usage: grade 3 [OPTIONS]\n")
    assert help_of("check").stdout.startswith("Usage: grade check [OPTIONS] EXERCISE\n")


def test_grade_finds_a_notebook_named_like_the_exercise_and_every_report_names_the_file_it_graded(tmp_path):
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=tmp_path):
        cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                  "source": Path(SOLUTION).read_text()}]
        Path("Exercise 3.ipynb").write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                                        "nbformat_minor": 4}))
        Path("exercise04.py").write_text("")  # another exercise's file: not a candidate
        rich = runner.invoke(main, ["exercise03"])
        assert rich.exit_code == 0, rich.output
        assert "graded Exercise 3.ipynb\nall public checks passed: 17/17 points\n" in rich.stdout
        markdown = runner.invoke(main, ["exercise03", "--format", "markdown"]).stdout
        assert "graded `Exercise 3.ipynb`\n\n**all public checks passed: 17/17 points**" in markdown
        junit = ET.fromstring(runner.invoke(main, ["exercise03", "--format", "junit"]).stdout)
        assert junit.find("testsuite/properties/property[@name='submission']").get("value") == "Exercise 3.ipynb"
        assert json.loads(runner.invoke(main, ["exercise03", "--format", "json"]).stdout)["extra_data"]["submission"] == \
            "Exercise 3.ipynb"


def test_several_files_named_like_the_exercise_are_one_line_listing_them(tmp_path):
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=tmp_path):
        Path("ex3.py").write_text("")
        Path("Exercise 3.ipynb").write_text("{}")
        result = runner.invoke(main, ["exercise03"])
    assert result.exit_code == 2
    assert result.stderr == ("grade: several candidate files could be exercise03: Exercise 3.ipynb, ex3.py — "
                             "pick one with --submission PATH\n")


def test_a_file_in_utf16_without_a_mark_is_one_line_not_a_syntax_error_per_check(tmp_path):
    path = tmp_path / "exercise03.py"
    path.write_bytes(Path(SOLUTION).read_text().encode("utf-16-le"))
    result = run("exercise03", "--submission", str(path))
    assert result.exit_code == 2
    assert result.stderr == "grade: exercise03.py is not UTF-8 text: save it as UTF-8\n"
