"""`grade ci-template`: the workflow has what GitHub needs, and its own bash steps, run here in a
temporary submissions repository, grade the files, write JUnit XML and the job summary, hand
GitHub Classroom its points, and fail below --min-score.

GitHub Classroom's side is read from its reporter's source (classroom-resources/
autograding-grading-reporter): ``src/main.js`` takes the env var ``<RUNNER>_RESULTS`` of each
runner named in ``runners`` and decodes it as base64 JSON; ``src/notify-classroom.js`` adds up
each runner's ``max_score`` and its tests' ``score`` into the notice "Points X/Y" (titled
"Autograding complete"), which Classroom reads; ``src/console-results.js`` prints each test's
``name`` with ✅ for ``status`` "pass"; main.js fails the step when a runner's ``status`` is
"fail" or "error". The result's fields are those of classroom-resources/
autograding-command-grader's ``src/main.js`` (version, status, max_score, tests: name, status,
score, message, test_code, filename, line_no, duration).
"""

import base64
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from grader import registry
from grader.cli import main
from grader.sandbox.process import isolation

ROOT = Path(__file__).resolve().parents[1]
CHECKS_OF_EXERCISE03 = 12  # public checks: a student's run in CI never runs the hidden ones


def template(*args: str) -> dict:
    result = CliRunner().invoke(main, ["ci-template", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return yaml.safe_load(result.stdout)


def steps(workflow: dict) -> list[dict]:
    return workflow["jobs"]["grade"]["steps"]


# the workflow grades with --official: where the full sandbox is missing it refuses, as it should
# (test_without_the_full_sandbox_the_workflow_refuses_to_grade_and_fails)
official = pytest.mark.skipif(not isolation().real, reason=f"the workflow's official grading needs the full sandbox, "
                                                            f"missing here ({isolation().missing})")


def run_workflow(workflow: dict, repo: Path, summary: Path, **env_extra) -> subprocess.CompletedProcess:
    """Run the workflow's `run:` steps the way GitHub does (bash -eo pipefail, the workflow's env, a
    GITHUB_STEP_SUMMARY and a GITHUB_OUTPUT file), all but the install step: the grader is installed
    here already (and the package set, as the instructor must)."""
    env = {**os.environ, **workflow["env"], "GITHUB_STEP_SUMMARY": str(summary),
           "GITHUB_OUTPUT": str(summary.with_name("github_output")), "GRADER_PACKAGE": "dlcourse-grader",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **env_extra}
    assert workflow["jobs"]["grade"]["defaults"]["run"]["shell"] == "bash"
    proc = None
    for step in steps(workflow):
        if "run" not in step or step.get("id") == "install":
            continue
        assert "${{" not in step["run"]  # plain bash: what runs here is what runs on GitHub
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=repo,
                              env=env, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            break
    return proc


def submissions_repo(tmp_path: Path, text: str, name: str = "exercise03.py") -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / name).write_text(text, encoding="utf-8")
    (repo / "README.md").write_text("my submissions\n")
    return repo


def junit_suite(path: Path) -> ET.Element:
    suites = ET.parse(path).getroot()
    assert suites.tag == "testsuites"
    return suites.find("testsuite")


def classroom_output(summary: Path) -> dict:
    """What the reporter's main.js reads: the grading step's `result` output, base64 JSON."""
    lines = [line for line in summary.with_name("github_output").read_text().splitlines() if line.startswith("result=")]
    assert len(lines) == 1
    return json.loads(base64.b64decode(lines[0].removeprefix("result=")).decode("utf-8"))


def classroom_points(results: dict) -> str:
    """notify-classroom.js: totalPoints and maxPoints over the runners, as its "Points X/Y" notice."""
    if not results["max_score"]:
        return ""
    total = sum(t["score"] for t in results["tests"])
    return f"Points {total:g}/{results['max_score']:g}"


def test_the_workflow_grades_on_push_and_pull_request_and_uploads_the_reports_even_after_a_failure():
    workflow = template("--exercise", "convolution", "--exercise", "5", "--min-score", "80%", "--python", "3.12")
    assert {"push", "pull_request"} <= set(workflow[True])  # YAML 1.1 reads the key `on` as true
    assert workflow["env"]["EXERCISES"] == "exercise03 exercise05"
    assert workflow["env"]["MIN_SCORE"] == "80%"
    assert workflow["env"]["GRADER_PACKAGE"] == "SET-ME"  # a placeholder until the instructor sets it
    assert workflow["env"]["NEEDS_TORCH"] == "false"
    uses = [s.get("uses", "") for s in steps(workflow)]
    assert uses[:2] == ["actions/checkout@v7", "actions/setup-python@v7"]  # the current majors
    assert steps(workflow)[1]["with"]["python-version"] == "3.12"
    install = next(s for s in steps(workflow) if s.get("id") == "install")
    assert 'pip install "$GRADER_PACKAGE"' in install["run"]
    grading = next(s for s in steps(workflow) if "grade \"$ex\"" in s.get("run", ""))
    assert '>> "$GITHUB_STEP_SUMMARY"' in grading["run"] and '--min-score "$MIN_SCORE"' in grading["run"]
    assert "compgen" not in grading["run"]  # the file is found by grade's own rule, not a glob
    reporter = steps(workflow)[-2]
    assert reporter["uses"] == "classroom-resources/autograding-grading-reporter@v1"
    assert reporter["with"]["runners"] == grading["id"] == "grader"  # main.js: /^([a-zA-Z0-9]+,)*[a-zA-Z0-9]+$/
    assert reporter["env"] == {"GRADER_RESULTS": "${{ steps.grader.outputs.result }}"}
    assert reporter["if"].startswith("always()")  # points are posted for a failing submission too
    upload = steps(workflow)[-1]
    assert upload["uses"] == "actions/upload-artifact@v7" and upload["if"] == "always()"
    assert upload["with"]["path"] == "reports/"


def test_the_placeholder_package_stops_the_job_with_one_line_until_the_instructor_sets_it(tmp_path):
    workflow = template("-e", "exercise03")
    install = next(s for s in steps(workflow) if s.get("id") == "install")
    env = {**os.environ, **workflow["env"]}
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", install["run"]], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        "::error::GRADER_PACKAGE is not set: edit env.GRADER_PACKAGE in this workflow (e.g. dlcourse-grader==0.1.0)"]
    assert template("-e", "exercise03", "--package", "dlcourse-grader==0.1.0")["env"]["GRADER_PACKAGE"] == \
        "dlcourse-grader==0.1.0"


def test_the_workflow_grades_every_exercise_by_default_and_installs_torch_only_when_one_needs_it():
    workflow = template("--package", "dlcourse-grader @ git+https://example.org/course/grader@v1")
    assert workflow["env"]["EXERCISES"].split() == [info.id for info in registry.all_exercises()]
    assert workflow["env"]["GRADER_PACKAGE"] == "dlcourse-grader @ git+https://example.org/course/grader@v1"
    assert workflow["env"]["NEEDS_TORCH"] == "true"
    assert template("-e", "summary")["env"]["NEEDS_TORCH"] == "true"  # exercise04's checks build torch models
    assert template("-e", "softmax")["env"]["NEEDS_TORCH"] == "false"


@official
def test_the_workflows_steps_pass_a_correct_submission_with_junit_xml_and_the_score_in_the_summary(tmp_path):
    repo = submissions_repo(tmp_path, (ROOT / "solutions" / "exercise03.py").read_text(encoding="utf-8"))
    summary = tmp_path / "summary.md"
    proc = run_workflow(template("-e", "exercise03", "-e", "exercise05", "--min-score", "17"), repo, summary)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    suite = junit_suite(repo / "reports" / "exercise03.xml")
    assert (suite.get("tests"), suite.get("failures")) == (str(CHECKS_OF_EXERCISE03), "0")
    assert len(suite.findall("testcase")) == CHECKS_OF_EXERCISE03
    text = summary.read_text(encoding="utf-8")
    assert "### ✅ exercise03 — Convolution by hand: 17/17 points" in text
    assert "**all public checks passed: 17/17 points**" in text
    assert text == (repo / "reports" / "exercise03.md").read_text(encoding="utf-8")
    assert "all public checks passed: 17/17 points" in proc.stdout  # the rich report, in the job's log
    assert "exercise05: no file named like it (such as exercise05.py or exercise05.ipynb)" in proc.stdout
    assert sorted(p.name for p in (repo / "reports").iterdir()) == ["exercise03.json", "exercise03.md", "exercise03.xml"]
    results = classroom_output(summary)
    assert results["status"] == "fail"  # exercise05, listed in EXERCISES, has no file: 0 of its points
    assert classroom_points(results) == f"Points 17/{17 + registry.find_exercise('exercise05').points:g}"
    ours = [t for t in results["tests"] if t["name"].startswith("exercise03: ")]
    assert len(ours) == CHECKS_OF_EXERCISE03 and all(t["status"] == "pass" for t in ours)
    assert [t["name"] for t in results["tests"] if t["status"] != "pass"] == ["exercise05: not graded"]


@official
def test_the_workflows_steps_fail_a_buggy_submission_below_min_score_and_pass_it_above(
        tmp_path, solution_text, mutate):
    buggy = mutate(solution_text("exercise03"), "    stride = size\n", "    stride = 1\n")
    repo = submissions_repo(tmp_path, buggy)
    summary = tmp_path / "summary.md"
    proc = run_workflow(template("-e", "exercise03", "--min-score", "17"), repo, summary)
    assert proc.returncode == 1
    assert "::error::exercise03: below the required score" in proc.stdout
    suite = junit_suite(repo / "reports" / "exercise03.xml")
    failed = [case.get("name") for case in suite.findall("testcase") if case.find("failure") is not None]
    assert suite.get("tests") == str(CHECKS_OF_EXERCISE03) and suite.get("failures") == str(len(failed))
    assert "max_pool2d_matches_the_reference" in failed
    score = float(suite.find("properties/property[@name='score']").get("value"))
    assert 0 < score < 17
    text = summary.read_text(encoding="utf-8")
    assert f"**score: {score:g}/17 points**" in text
    assert "likely mistake: your max_pool2d moves the window by 1" in text

    results = classroom_output(summary)
    assert classroom_points(results) == f"Points {score:g}/17" and results["status"] == "fail"
    failing = [t for t in results["tests"] if t["status"] == "fail"]
    assert len(failing) == len(failed)  # one ❌ per check the JUnit XML says failed
    assert all(t["score"] < 2 and t["message"] for t in failing)  # what went wrong, as the log's ❌ lines

    summary.unlink()
    summary.with_name("github_output").unlink()
    proc = run_workflow(template("-e", "exercise03", "--min-score", f"{score:g}"), repo, summary)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"score: {score:g}/17 points" in summary.read_text(encoding="utf-8")
    results = classroom_output(summary)
    assert results["status"] == "pass" and classroom_points(results) == f"Points {score:g}/17"


@official
def test_the_workflow_finds_the_file_by_the_rule_grade_uses_not_by_a_glob(tmp_path):
    repo = submissions_repo(tmp_path, (ROOT / "solutions" / "exercise03.py").read_text(encoding="utf-8"), "ex3.py")
    summary = tmp_path / "summary.md"
    proc = run_workflow(template("-e", "exercise03"), repo, summary)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "graded `ex3.py`" in summary.read_text(encoding="utf-8")
    assert classroom_points(classroom_output(summary)) == "Points 17/17"


def test_two_candidate_files_are_a_file_problem_not_a_score_and_not_skipped(tmp_path):
    repo = submissions_repo(tmp_path, "x = 1\n", "ex3.py")
    (repo / "exercise_3.py").write_text("x = 2\n")
    summary = tmp_path / "summary.md"
    proc = run_workflow(template("-e", "exercise03"), repo, summary)
    assert proc.returncode == 1
    assert "several candidate files could be exercise03" in proc.stderr
    assert "::error::exercise03 could not be graded (a problem with the file or the setup, not a score)" in proc.stdout
    assert "below the required score" not in proc.stdout
    results = classroom_output(summary)
    assert results["status"] == "fail" and classroom_points(results) == "Points 0/17"


def test_without_the_full_sandbox_the_workflow_refuses_to_grade_and_fails(tmp_path):
    repo = submissions_repo(tmp_path, (ROOT / "solutions" / "exercise03.py").read_text(encoding="utf-8"))
    summary = tmp_path / "summary.md"
    proc = run_workflow(template("-e", "exercise03"), repo, summary, GRADER_NO_BWRAP="1")
    assert proc.returncode == 1
    assert "grade: official grading needs the full sandbox" in proc.stderr
    assert "::error::exercise03 could not be graded (a problem with the file or the setup, not a score)" in proc.stdout
    assert "below the required score" not in proc.stdout
    assert not (repo / "reports" / "exercise03.xml").exists()


def test_the_workflow_without_exercise_files_succeeds_and_says_so_in_the_summary(tmp_path):
    repo = tmp_path / "empty"
    repo.mkdir()
    summary = tmp_path / "summary.md"
    proc = run_workflow(template("-e", "exercise03"), repo, summary)
    assert proc.returncode == 0
    assert "No exercise file found" in summary.read_text(encoding="utf-8")


def test_ci_template_writes_the_file_refuses_to_overwrite_it_and_reports_bad_options_in_one_line(tmp_path):
    runner = CliRunner()
    target = tmp_path / ".github" / "workflows" / "grade.yml"
    result = runner.invoke(main, ["ci-template", "-o", str(target)])
    assert result.exit_code == 0 and target.is_file()
    assert yaml.safe_load(target.read_text())["name"] == "grade"
    assert runner.invoke(main, ["ci-template", "-o", str(target)]).exit_code == 2
    assert runner.invoke(main, ["ci-template", "-o", str(target), "--force", "--python", "3.12"]).exit_code == 0
    for args, words in ((["--exercise", "exercise99"], "unknown exercise"), (["--min-score", "lots"], "--min-score"),
                        (["--python", "2.7"], "--python"), (["--package", 'x"; rm -rf /'], "--package")):
        result = runner.invoke(main, ["ci-template", *args])
        assert result.exit_code == 2 and result.stderr.count("\n") == 1 and words in result.stderr
