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

from . import __version__, registry
from .registry import CHECKS_DIR, ExerciseInfo
from .results import min_points

TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
REPORTS = "reports"  # where the grading step writes exerciseNN.xml and exerciseNN.md

TEMPLATE = """\
# Grades the students' exercise files on every push and pull request.
#
# Written by `grade ci-template` (dlcourse-grader @VERSION@); save it as
# .github/workflows/grade.yml in the submissions repository. For every exercise in EXERCISES
# whose file is in the repository's top folder (exercise03.py, exercise03_ana.ipynb, ... as
# `grade start exercise03` writes them) the "Grade" step
#   - prints the full report (counterexamples, likely mistakes) in the job's log,
#   - writes it as JUnit XML and as Markdown to @REPORTS@/ (uploaded as the artifact
#     "grade-reports") and adds the Markdown to the run's summary page,
# and the job fails when an exercise scores below MIN_SCORE: points ("12") or a share of the
# exercise's points ("80%"); left empty, when any check fails. Hidden checks do not run here:
# they run when the instructor grades.
name: grade

on:
  push:
  pull_request:
  workflow_dispatch:

permissions:
  contents: read

env:
  # >>> INSTRUCTOR, set this: what pip installs. The PyPI name, best with the version you
  # >>> grade with ("dlcourse-grader==@VERSION@"), or a git URL such as
  # >>> "dlcourse-grader @ git+https://github.com/YOUR-COURSE/dlcourse-grader@main".
  GRADER_PACKAGE: "@PACKAGE@"
  # the exercises to grade, where a file for them exists
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
      - uses: actions/checkout@v4

      - uses: actions/setup-python@v5
        with:
          python-version: "@PYTHON@"

      - name: Install the grader
        id: install
        run: |
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
        run: |
          mkdir -p @REPORTS@
          status=0
          graded=0
          for ex in $EXERCISES; do
            if ! compgen -G "$ex*.py" > /dev/null && ! compgen -G "$ex*.ipynb" > /dev/null; then
              echo "$ex: no $ex*.py or $ex*.ipynb in the repository, not graded"
              continue
            fi
            graded=$((graded + 1))
            code=0
            grade "$ex" --official --output "@REPORTS@/$ex.xml" --output "@REPORTS@/$ex.md" \\
              ${MIN_SCORE:+--min-score "$MIN_SCORE"} || code=$?
            if [ -f "@REPORTS@/$ex.md" ]; then
              cat "@REPORTS@/$ex.md" >> "$GITHUB_STEP_SUMMARY"
            else
              echo "**$ex** could not be graded: see the job's log." >> "$GITHUB_STEP_SUMMARY"
            fi
            if [ "$code" -ne 0 ]; then
              status=1
              echo "::error::$ex: below the required score (grade exited with $code)"
            fi
          done
          if [ "$graded" -eq 0 ]; then
            echo "No exercise file found: expected files such as exercise03.py in the repository's top folder." \\
              >> "$GITHUB_STEP_SUMMARY"
            echo "::warning::no exercise file to grade"
          fi
          exit "$status"

      - name: Upload the reports
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: grade-reports
          path: @REPORTS@/
          if-no-files-found: ignore
"""


class TemplateError(ValueError):
    """An option that would not give a working workflow (a usage error)."""


def workflow(exercises: list[ExerciseInfo], *, min_score: str | None = None, python: str = "3.11",
             package: str = "dlcourse-grader") -> str:
    """Return the workflow's YAML for these exercises (all of them when the list is empty).

    Raises ValueError (``TemplateError`` for the Python version and the package) on options
    that would give a broken job.
    """
    if min_score is not None:
        min_points(min_score, 1.0)
    if not re.fullmatch(r"3\.\d{1,2}", python):
        raise TemplateError(f"--python {python!r}: give a Python 3 version such as 3.11")
    if not package or re.search(r"[\s\"'\\$`]", package.replace(" @ ", "@")):
        raise TemplateError(f"--package {package!r}: give a pip requirement without quotes or spaces "
                            "(dlcourse-grader==0.1.0, or dlcourse-grader @ git+https://…)")
    chosen = list(exercises) or list(registry.all_exercises())
    values = {
        "VERSION": __version__, "REPORTS": REPORTS, "PACKAGE": package, "PYTHON": python,
        "EXERCISES": " ".join(info.id for info in chosen), "MIN_SCORE": min_score or "",
        "NEEDS_TORCH": "true" if any(needs_torch(info) for info in chosen) else "false",
        "TORCH_INDEX": TORCH_CPU_INDEX,
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
    sources = [CHECKS_DIR / f"{info.id}.py", CHECKS_DIR.parent.parent / "reference" / f"{info.id}.py"]
    return any(_imports_torch(path.read_text(encoding="utf-8")) for path in sources if path.is_file())


def _imports_torch(source: str) -> bool:
    for node in ast.walk(ast.parse(source)):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        if any(name == "torch" or name.startswith("torch.") for name in names):
            return True
    return False
