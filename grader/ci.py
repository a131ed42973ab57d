"""``grade ci-template``: a GitHub Actions workflow for a repository of students' submissions.

Students push their exercise files; on every push and pull request the workflow grades each
exercise file it finds, uploads the JUnit and Markdown reports as an artifact, writes the
Markdown to the run's summary page, and fails below ``--min-score``. The job's steps are
plain bash reading the workflow's ``env``, with no ``${{ }}`` expressions, so that the
project's tests can run them as they are in a temporary folder.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from . import __version__, registry
from .registry import CHECKS_DIR, ExerciseInfo
from .results import min_points

TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
REPORTS = "reports"  # where the grading step writes exerciseNN.xml and exerciseNN.md

PLACEHOLDER = "SET-ME"  # GRADER_PACKAGE until the instructor names what pip installs
ACTIONS = {  # the current major versions
    "checkout": "actions/checkout@v7", "setup-python": "actions/setup-python@v7",
    "upload-artifact": "actions/upload-artifact@v7", "reporter": "classroom-resources/autograding-grading-reporter@v1",
}
RUNNER = "grader"  # the grading step's id: the reporter reads GRADER_RESULTS

TEMPLATE = """\
# Grades the students' exercise files on every push and pull request.
#
# Written by `grade ci-template` (dlcourse-grader @VERSION@); save it as
# .github/workflows/grade.yml in the submissions repository (GitHub Classroom: in the
# assignment's template repository). For every exercise in EXERCISES the "Grade" step finds
# the student's file in the repository's top folder by the rule `grade EXERCISE` uses
# (exercise03.py, Exercise 3.ipynb, ex3.py, convolution.py, ...) and
#   - prints the full report (counterexamples, likely mistakes) in the job's log,
#   - writes it as JUnit XML, Markdown and JSON to @REPORTS@/ (uploaded as the artifact
#     "grade-reports") and adds the Markdown to the run's summary page,
#   - hands the points to GitHub Classroom: the "Autograding Reporter" step posts
#     "Points X/Y" (every public check with its points; an exercise without a file scores 0),
# and the job fails when an exercise scores below MIN_SCORE: points ("12") or a share of the
# exercise's points ("80%"); left empty, when any check fails. Hidden checks do not run here:
# they run when the instructor grades. For Classroom, list in EXERCISES only the
# assignment's exercises: each one's points count towards the total.
name: grade

on:
  push:
  pull_request:
  workflow_dispatch:

permissions:
  contents: read
  actions: read

env:
  # >>> INSTRUCTOR, set this: what pip installs. The PyPI name, best with the version you
  # >>> grade with ("dlcourse-grader==@VERSION@"), or a git URL such as
  # >>> "dlcourse-grader @ git+https://github.com/YOUR-COURSE/dlcourse-grader@main".
  GRADER_PACKAGE: "@PACKAGE@"
  # the exercises to grade
  EXERCISES: "@EXERCISES@"
  # points ("12") or a share of each exercise's points ("80%"); empty: every check must pass
  MIN_SCORE: "@MIN_SCORE@"
  # "true" when one of the exercises needs PyTorch: its CPU build is installed first
  NEEDS_TORCH: "@NEEDS_TORCH@"

jobs:
  grade:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    defaults:
      run:
        shell: bash
    steps:
      - uses: @CHECKOUT@

      - uses: @SETUP_PYTHON@
        with:
          python-version: "@PYTHON@"

      - name: Install the grader
        id: install
        run: |
          if [ -z "$GRADER_PACKAGE" ] || [ "$GRADER_PACKAGE" = "@PLACEHOLDER@" ]; then
            echo "::error::GRADER_PACKAGE is not set: edit env.GRADER_PACKAGE in this workflow (e.g. dlcourse-grader==@VERSION@)"
            exit 1
          fi
          # bubblewrap gives the student's code its full sandbox (an allow-list view of the
          # machine, own namespaces, a seccomp filter); Ubuntu 24.04 only lets it create
          # namespaces with the sysctl below. These grades are official: `grade --official`
          # refuses to grade without it rather than hand out a grade a submission could forge.
          if sudo apt-get update -qq && sudo apt-get install -y -qq bubblewrap libseccomp2; then
            sudo sysctl -e -q -w kernel.apparmor_restrict_unprivileged_userns=0 || true
          else
            echo "::error::bubblewrap could not be installed: the exercises cannot be graded officially"
          fi
          if [ "$NEEDS_TORCH" = true ]; then
            python -m pip install torch --index-url @TORCH_INDEX@
          fi
          python -m pip install "$GRADER_PACKAGE"

      - name: Grade
        id: @RUNNER@
        run: |
          mkdir -p @REPORTS@
          status=0
          graded=0
          for ex in $EXERCISES; do
            # the file `grade $ex` would grade (one named like the exercise), or none
            if ! python -m grader.ci find "$ex" > /dev/null; then
              echo "$ex: no file named like it (such as $ex.py or $ex.ipynb) in the repository, not graded"
              continue
            fi
            graded=$((graded + 1))
            code=0
            grade "$ex" --official --output "@REPORTS@/$ex.xml" --output "@REPORTS@/$ex.md" \\
              --output "@REPORTS@/$ex.json" ${MIN_SCORE:+--min-score "$MIN_SCORE"} || code=$?
            if [ -f "@REPORTS@/$ex.md" ]; then
              cat "@REPORTS@/$ex.md" >> "$GITHUB_STEP_SUMMARY"
            else
              echo "**$ex** could not be graded: see the job's log." >> "$GITHUB_STEP_SUMMARY"
            fi
            case "$code" in
              0) ;;
              1) status=1
                 echo "::error::$ex: below the required score (${MIN_SCORE:-every check must pass})" ;;
              2) status=1
                 echo "::error::$ex could not be graded (a problem with the file or the setup, not a score): see the message above" ;;
              *) status=1
                 echo "::error::$ex: the grader itself failed (exit $code): see the log above" ;;
            esac
          done
          if [ "$graded" -eq 0 ]; then
            echo "No exercise file found: expected files such as exercise03.py in the repository's top folder." \\
              >> "$GITHUB_STEP_SUMMARY"
            echo "::warning::no exercise file to grade"
          fi
          # GitHub Classroom: the points of every check, base64 JSON as its reporter reads it
          echo "result=$(python -m grader.ci classroom @REPORTS@ $EXERCISES)" >> "$GITHUB_OUTPUT"
          exit "$status"

      - name: Autograding Reporter
        if: always() && steps.@RUNNER@.outputs.result != ''
        uses: @REPORTER@
        env:
          @RUNNER_ENV@_RESULTS: "${{ steps.@RUNNER@.outputs.result }}"
        with:
          runners: @RUNNER@

      - name: Upload the reports
        if: always()
        uses: @UPLOAD_ARTIFACT@
        with:
          name: grade-reports
          path: @REPORTS@/
          if-no-files-found: ignore
"""


class TemplateError(ValueError):
    """An option that would not give a working workflow (a usage error)."""


def workflow(exercises: list[ExerciseInfo], *, min_score: str | None = None, python: str = "3.11",
             package: str | None = None) -> str:
    """Return the workflow's YAML for these exercises (all of them when the list is empty).

    Raises ValueError (``TemplateError`` for the Python version and the package) on options
    that would give a broken job.
    """
    if min_score is not None:
        min_points(min_score, 1.0)
    if not re.fullmatch(r"3\.\d{1,2}", python):
        raise TemplateError(f"--python {python!r}: give a Python 3 version such as 3.11")
    if package is not None and (not package or re.search(r"[\s\"'\\$`]", package.replace(" @ ", "@"))):
        raise TemplateError(f"--package {package!r}: give a pip requirement without quotes or spaces "
                            "(dlcourse-grader==0.1.0, or dlcourse-grader @ git+https://…)")
    chosen = list(exercises) or list(registry.all_exercises())
    values = {
        "VERSION": __version__, "REPORTS": REPORTS, "PACKAGE": package or PLACEHOLDER, "PYTHON": python,
        "EXERCISES": " ".join(info.id for info in chosen), "MIN_SCORE": min_score or "",
        "NEEDS_TORCH": "true" if any(needs_torch(info) for info in chosen) else "false",
        "TORCH_INDEX": TORCH_CPU_INDEX, "PLACEHOLDER": PLACEHOLDER, "RUNNER": RUNNER, "RUNNER_ENV": RUNNER.upper(),
        "CHECKOUT": ACTIONS["checkout"], "SETUP_PYTHON": ACTIONS["setup-python"],
        "UPLOAD_ARTIFACT": ACTIONS["upload-artifact"], "REPORTER": ACTIONS["reporter"],
    }
    text = TEMPLATE
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text


def needs_torch(info: ExerciseInfo) -> bool:
    """Whether grading ``info`` imports torch: in the worker (PRELOAD) or in its checks or oracle.

    Read from the sources, not imported, so that writing the template stays fast; the
    torch-free exercises then get a CI job without the large install.
    """
    if "torch" in info.preload:
        return True
    sources = [CHECKS_DIR / f"{info.id}.py", CHECKS_DIR.parent / "reference" / f"{info.id}.py",  # installed
               CHECKS_DIR.parent.parent / "reference" / f"{info.id}.py"]  # a checkout
    return any(_imports_torch(path.read_text(encoding="utf-8")) for path in sources if path.is_file())


def _imports_torch(source: str) -> bool:
    for node in ast.walk(ast.parse(source)):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        if any(name == "torch" or name.startswith("torch.") for name in names):
            return True
    return False


# --------------------------------------------------------------------------- the job's helpers: python -m grader.ci

def has_file(exercise: str, folder: Path = Path(".")) -> bool:
    """Is there a file in ``folder`` that ``grade EXERCISE`` would take for it (one or several
    candidates: several make ``grade`` say so, which the job should show, not skip)?"""
    from .collect import best_candidates

    info = registry.find_exercise(exercise)
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    return bool(best_candidates(files, info, named=True))


def classroom_result(reports: Path, exercises: list[str], min_score: str = "") -> dict:
    """The result GitHub Classroom's reporter reads from a runner step (``autograding-grading-reporter``:
    ``src/main.js`` decodes the base64 JSON; ``src/notify-classroom.js`` adds up ``max_score`` and
    the tests' ``score`` into the "Points X/Y" notice): one test per public check, with its points;
    an exercise without a report (no file, or not gradable) is one failed test worth its points.
    ``status`` is "pass" when every exercise reached ``min_score`` (every check passed, when empty)."""
    from .report.gradescope import check_output, from_json_dict

    tests, max_score, passed = [], 0.0, True
    for name in exercises:
        info = registry.find_exercise(name)
        path = reports / f"{info.id}.json"
        data = _read_json(path)
        if data is None:
            tests.append({"name": f"{info.id}: not graded", "status": "fail", "score": 0, "line_no": 0, "filename": "",
                          "message": f"no gradable file for {info.id} (see the job's log)", "test_code": f"grade {info.id}",
                          "duration": 0})
            max_score += info.points
            passed = False
            continue
        result = from_json_dict(data)
        for c in result.checks:
            tests.append({"name": f"{info.id}: {c.title}", "status": "pass" if c.passed else
                          "error" if c.outcome == "error" else "fail", "score": c.score, "line_no": 0,
                          "message": None if c.passed else check_output(c)[:2000], "test_code": f"grade {info.id}",
                          "filename": result.submission, "duration": round(c.duration * 1000)})
        max_score += result.max_score
        needed = min_points(min_score, result.max_score) if min_score else result.max_score
        passed = passed and result.score >= needed - 1e-9
    return {"version": 1, "status": "pass" if passed else "fail", "max_score": max_score, "tests": tests}


def _read_json(path: Path) -> dict | None:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("tests"), list) else None


def main(argv: list[str] | None = None) -> int:
    """``python -m grader.ci find EXERCISE`` (exit 0: a file is there, 1: none) and
    ``python -m grader.ci classroom REPORTS EXERCISE…`` (print the reporter's base64 JSON;
    MIN_SCORE is read from the environment, as the workflow sets it)."""
    import base64
    import json
    import os
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if len(args) == 2 and args[0] == "find":
            return 0 if has_file(args[1]) else 1
        if len(args) >= 2 and args[0] == "classroom":
            result = classroom_result(Path(args[1]), args[2:], os.environ.get("MIN_SCORE", ""))
            print(base64.b64encode(json.dumps(result).encode()).decode())
            return 0
    except (registry.UnknownExercise, ValueError) as e:
        print(f"grader.ci: {e}", file=sys.stderr)
        return 2
    print("usage: python -m grader.ci find EXERCISE | classroom REPORTS EXERCISE...", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
