"""Optional dependencies: an exercise that needs torch says so in one line when it is missing,
never "internal error" and never a failure of the student's file."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader import extras, registry

ROOT = Path(__file__).resolve().parents[1]
INSTALL = 'pip install "dlcourse-grader[torch]" (for the CPU build, first: pip install torch==2.13.0)'
# `python -m grader` on a machine without torch and safetensors: a module set to None in
# sys.modules cannot be imported, and importlib.util.find_spec says it is not there.
WITHOUT_TORCH = ("import runpy, sys; sys.modules.update(torch=None, safetensors=None); "
                 "runpy.run_module('grader', run_name='__main__')")


def grade(*args, code=WITHOUT_TORCH, cwd=ROOT, pythonpath=(ROOT,)):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(map(str, pythonpath)))
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def test_the_exercises_whose_checks_reference_or_worker_import_torch_need_the_torch_extra():
    needs = {info.id: extras.needed(info) for info in registry.all_exercises()}
    assert {ex: n for ex, n in needs.items() if n} == {
        "exercise02": {"torch": True}, "exercise04": {"torch": True},  # imported by the checks and the reference
        "exercise11": {"safetensors": False, "torch": False},  # by the worker only (PRELOAD)
        "exercise12": {"torch": False},  # its checks compute with numpy twins: the worker only
        "exercise13": {"torch": True},  # its checks build each model's float64 twin in the grader
        "exercise14": {"safetensors": False, "torch": False}}  # the project: the worker only, as exercise11
    assert all("torch" in needs[info.id] for info in registry.all_exercises() if "torch" in info.preload)


@pytest.mark.parametrize("exercise, missing", [("exercise02", "torch, which is"), ("exercise04", "torch, which is"),
                                               ("exercise11", "safetensors and torch, which are")])
def test_a_torch_exercise_without_torch_names_the_extra_to_install_in_one_line_and_exits_2(exercise, missing):
    result = grade(exercise, "--submission", f"solutions/{exercise}.py")
    assert result.stderr == f"grade: {exercise} needs {missing} not installed — {INSTALL}\n"
    assert (result.returncode, result.stdout) == (2, "")


def test_grade_batch_without_torch_says_so_before_grading_anyone(tmp_path):
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    (tmp_path / "subs" / "alice" / "exercise11.py").write_text((ROOT / "solutions" / "exercise11.py").read_text())
    result = grade("batch", "exercise11", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--no-progress")
    assert result.stderr == f"grade: exercise11 needs safetensors and torch, which are not installed — {INSTALL}\n"
    assert result.returncode == 2 and not (tmp_path / "out").exists()


def test_a_torch_that_fails_to_import_is_named_as_missing_too(tmp_path):
    for name in ("torch", "safetensors"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(f"raise ImportError(\"No module named '{name}'\")\n")
    result = grade("exercise04", "--submission", "solutions/exercise04.py", code="from grader.cli import main; main()",
                   pythonpath=(tmp_path, ROOT))
    assert result.stderr == f"grade: exercise04 needs torch, which is not installed — {INSTALL}\n"
    assert result.returncode == 2


def test_an_exercise_without_torch_is_graded_as_usual_when_torch_is_missing():
    result = grade("exercise03", "--submission", "solutions/exercise03.py", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert '"score": 17.0' in result.stdout
