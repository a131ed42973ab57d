"""The Gradescope autograder bundle (grade release --gradescope): unpacked into a folder laid out
like Gradescope's (source/, submission/, results/), its run_autograder always writes a
results.json that follows Gradescope's specification, whatever was handed in."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = (ROOT / "solutions" / "exercise03.py").read_text(encoding="utf-8")
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}  # as on Gradescope
HIDDEN_CHECK = "conv2d and max_pool2d take nes"  # the start of exercise03's hidden check's title

# Gradescope's autograder specification (docs/specs.md of gradescope/autograder_samples): the fields
# of results.json and of each test, with their types
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
NUMBER = (int, float)
TOP = {"score": NUMBER, "execution_time": NUMBER, "output": str, "output_format": str, "test_output_format": str,
       "test_name_format": str, "visibility": str, "stdout_visibility": str, "extra_data": dict, "tests": list,
       "leaderboard": list}
TEST = {"score": NUMBER, "max_score": NUMBER, "status": str, "name": str, "name_format": str, "number": str,
        "output": str, "output_format": str, "tags": list, "visibility": str, "extra_data": dict}


def assert_valid_results(data: dict) -> None:
    """Fail unless ``data`` is a results.json by Gradescope's specification, with every text as plain text."""
    assert set(data) <= set(TOP), set(data) - set(TOP)
    for key, value in data.items():
        assert isinstance(value, TOP[key]) and not isinstance(value, bool), (key, value)
    assert "score" in data or all("score" in t for t in data["tests"])
    assert data["output_format"] == "text" and data.get("test_output_format", "text") == "text"
    assert {data.get("visibility", "visible"), data.get("stdout_visibility", "hidden")} <= VISIBILITY
    for test in data["tests"]:
        assert set(test) <= set(TEST), set(test) - set(TEST)
        for key, value in test.items():
            assert isinstance(value, TEST[key]) and not isinstance(value, bool), (key, value)
        assert test.get("visibility", "visible") in VISIBILITY and test.get("output_format", "text") in FORMATS
        assert test.get("status", "passed") in {"passed", "failed"}
        assert 0 <= test["score"] <= test["max_score"]
    if data["tests"]:
        assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))


BUNDLE_SECRET = "gradescope-term-secret"


@pytest.fixture(scope="module")
def official_bundle(tmp_path_factory) -> dict:
    """The settings to build with here: the full sandbox where it works, else the explicit override."""
    from grader.sandbox.process import isolation

    return [] if isolation().real else ["--allow-unsafe-sandbox"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, official_bundle) -> Path:
    """exercise03's autograder zip, built by the command an instructor types."""
    out = tmp_path_factory.mktemp("bundle") / "exercise03-gradescope.zip"
    result = CliRunner().invoke(main, ["release", "--root", str(ROOT), "--gradescope", "exercise03", "-o", str(out),
                                       *official_bundle], env={"GRADER_SECRET": BUNDLE_SECRET})
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"wrote {out} (")
    return out


def unpack(bundle: Path, root: Path, files: dict[str, str | bytes]) -> Path:
    """Lay out ``root`` as Gradescope does: the bundle in source/, the student's ``files`` in submission/."""
    with zipfile.ZipFile(bundle) as z:
        z.extractall(root / "source")
        for entry in z.infolist():  # zipfile leaves the modes behind; Gradescope keeps them
            os.chmod(root / "source" / entry.filename, (entry.external_attr >> 16) & 0o777)
    (root / "submission").mkdir()
    for name, content in files.items():
        path = root / "submission" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return root


def run_autograder(root: Path, *, python: str = sys.executable, env: dict | None = None) -> dict:
    """Run source/run_autograder as Gradescope does (from the root folder); return results.json."""
    environ = {**CLEAN_ENV, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": python, **(env or {})}
    proc = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=environ, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert_valid_results(data)
    return data


def autograder_test(data: dict) -> dict:
    (test,) = [t for t in data["tests"] if t["name"] == "autograder"]
    assert test["status"] == "failed" and test["score"] == 0 and test["visibility"] == "visible"
    return test


def test_the_bundle_holds_setup_run_autograder_pinned_requirements_and_the_package_wheel(bundle):
    with zipfile.ZipFile(bundle) as z:
        names = set(z.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in z.infolist()}
        pins = z.read("requirements.txt").decode().split()
        settings = json.loads(z.read("settings.json"))
        setup = z.read("setup.sh").decode()
    wheel = {n for n in names if n.startswith("wheels/")}
    assert names == {"setup.sh", "run_autograder", "requirements.txt", "settings.json", "private/secret"} | wheel
    assert len(wheel) == 1
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    versions = dict(p.split("==") for p in pins)
    assert {"numpy", "hypothesis", "click", "rich", "ipython", "nbformat", "jinja2"} <= set(versions)
    assert all(versions[name] == metadata.version(name) for name in ("numpy", "hypothesis", "rich"))
    assert "torch" not in versions and "TORCH_VERSION=\n" in setup  # exercise03 needs no torch
    assert "apt-get install" in setup and "bubblewrap" in setup
    assert settings["exercise"] == "exercise03" and settings["python"] == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert BUNDLE_SECRET not in json.dumps(settings)


def test_the_bundle_grades_on_the_courses_secret_examples_which_the_submission_cannot_read(bundle, tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("_test_secret", Path(__file__).parent / "test_secret.py")
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    secret_file = tmp_path / "source" / "private" / "secret"
    snoop = (f"try:\n    SEEN = open({str(secret_file)!r}).read()\nexcept OSError as e:\n    SEEN = repr(e)\n"
             "\ndef relu(x):\n    raise RuntimeError('secret: ' + SEEN)\n")
    data = run_autograder(unpack(bundle, tmp_path, {"exercise03.py": table.lookup_table_submission() + snoop}))
    assert secret_file.read_text().strip() == BUNDLE_SECRET
    assert BUNDLE_SECRET not in json.dumps(data)
    relu = next(t for t in data["tests"] if t["name"].startswith("relu"))
    assert "secret: " in relu["output"]  # the submission ran, and did not find the secret
    # the lookup table of the public examples keeps only the slides' worked examples (2 + 1 + 1)
    assert data["score"] == 4, [(t["name"], t["score"]) for t in data["tests"]]


def test_an_exercise_needing_torch_pins_the_cpu_build_and_installs_it_alone(tmp_path):
    out = tmp_path / "exercise02.zip"
    result = CliRunner().invoke(main, ["release", "--root", str(ROOT), "--gradescope", "exercise02", "-o", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as z:
        pins = z.read("requirements.txt").decode().split()
        setup = z.read("setup.sh").decode()
    torch = metadata.version("torch").split("+")[0]
    assert f"torch=={torch}" in pins and any(p.startswith("safetensors==") for p in pins)
    assert f"TORCH_VERSION={torch}\n" in setup and "https://download.pytorch.org/whl/cpu" in setup
    assert '--no-deps "torch==$TORCH_VERSION"' in setup


def test_an_unknown_exercise_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["release", "--gradescope", "exercise99", "-o", str(tmp_path / "x.zip")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "x.zip").exists()


def test_the_solution_scores_full_marks_and_the_hidden_check_shows_once_grades_are_published(bundle, tmp_path):
    data = run_autograder(unpack(bundle, tmp_path, {"exercise03.py": SOLUTION}))
    assert data["score"] == 18 and data["output"] == "all checks passed"
    assert {t["status"] for t in data["tests"]} == {"passed"} and len(data["tests"]) == 13
    hidden = [t for t in data["tests"] if t["visibility"] == "after_published"]
    assert [t["name"][:len(HIDDEN_CHECK)] for t in hidden] == [HIDDEN_CHECK]
    assert data["extra_data"]["instructor"] is True and data["extra_data"]["submission"] == "exercise03.py"
    assert data["stdout_visibility"] == "hidden"


def test_a_buggy_file_loses_the_points_of_its_mistake_with_the_diagnosis_in_the_tests_output(bundle, tmp_path):
    buggy = SOLUTION + "\n\ndef relu(x):\n    return x\n"
    data = run_autograder(unpack(bundle, tmp_path, {"exercise03.py": buggy}))
    failed = [t for t in data["tests"] if t["status"] == "failed"]
    assert failed and all("relu" in t["name"] for t in failed) and 0 < data["score"] < 18
    assert all(t["score"] < t["max_score"] and "expected:" in t["output"] for t in failed)
    assert "autograder" not in {t["name"] for t in data["tests"]}


def test_a_file_named_otherwise_is_graded_when_it_is_the_only_one(bundle, tmp_path):
    data = run_autograder(unpack(bundle, tmp_path, {"my work/conv final.py": SOLUTION, "notes.txt": "hi"}))
    assert data["score"] == 18 and data["extra_data"]["submission"] == "conv final.py"


@pytest.mark.parametrize("files, why", [
    ({}, "no .py or .ipynb file to grade was handed in (found: nothing)"),
    ({"README.md": "my solution"}, "no .py or .ipynb file to grade was handed in (found: README.md)"),
    ({"a.py": SOLUTION, "b.py": SOLUTION}, "several files could be exercise03: a.py, b.py"),
    ({"exercise03.ipynb": "{not json"}, "exercise03.ipynb is not a valid Jupyter notebook"),
], ids=["nothing", "no code file", "two candidates", "broken notebook"])
def test_without_a_file_to_grade_a_failed_autograder_test_says_why_and_the_score_is_zero(bundle, tmp_path, files, why):
    data = run_autograder(unpack(bundle, tmp_path, files))
    assert data["score"] == 0 and len(data["tests"]) == 1
    assert autograder_test(data)["output"].startswith(why) and data["output"].startswith(why)
    assert autograder_test(data)["max_score"] == 18
    assert data["extra_data"]["graded"] is False


@pytest.mark.parametrize("text, why", [
    (SOLUTION + "\ndef broken(:\n", "your file has a syntax error, so nothing could be run"),
    ("import os\nos._exit(3)\n" + SOLUTION, "exited with status 3"),
    ("import ctypes\nctypes.string_at(0)\n" + SOLUTION, "SIGSEGV: a segmentation fault"),
], ids=["syntax error", "os._exit at import", "segfault at import"])
def test_a_file_that_cannot_run_fails_every_check_and_the_autograder_test_says_why(bundle, tmp_path, text, why):
    data = run_autograder(unpack(bundle, tmp_path, {"exercise03.py": text}))
    assert data["score"] == 0 and len(data["tests"]) == 14
    test = autograder_test(data)
    assert data["tests"][0] is test  # first, where the student looks
    assert why in test["output"] and test["output"] == data["tests"][1]["extra_data"]["message"]
    assert data["output"].startswith(test["output"])
    assert all(t["status"] == "failed" and t["score"] == 0 for t in data["tests"])


def test_a_crash_inside_one_function_costs_its_checks_and_the_rest_is_graded(bundle, tmp_path):
    crashing = SOLUTION + "\n\ndef relu(x):\n    import ctypes\n    return ctypes.string_at(0)\n"
    data = run_autograder(unpack(bundle, tmp_path, {"exercise03.py": crashing}))
    failed = [t for t in data["tests"] if t["status"] == "failed"]
    assert failed and all("relu" in t["name"] and t["extra_data"]["outcome"] == "crash" for t in failed)
    assert data["score"] == 18 - sum(t["max_score"] for t in failed) > 0
    assert "autograder" not in {t["name"] for t in data["tests"]}


def test_a_notebook_is_graded_like_a_py_file(bundle, tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Exercise 3"),
                                         nbformat.v4.new_code_cell(SOLUTION)])
    data = run_autograder(unpack(bundle, tmp_path, {"Exercise 3.ipynb": nbformat.writes(nb)}))
    assert data["score"] == 18 and data["extra_data"]["submission"] == "Exercise 3.ipynb"


def test_without_the_full_sandbox_nothing_is_graded_unless_the_bundle_allows_it(bundle, tmp_path):
    data = run_autograder(unpack(bundle, tmp_path / "refused", {"exercise03.py": SOLUTION}),
                          env={"GRADER_NO_BWRAP": "1"})
    with zipfile.ZipFile(bundle) as z:
        allowed = json.loads(z.read("settings.json"))["allow_unsafe_sandbox"]
    if allowed:  # a machine without bubblewrap: the tests' bundle was built with --allow-unsafe-sandbox
        assert data["score"] == 18 and data["extra_data"]["sandbox_full"] is False
        return
    assert data["score"] == 0 and "could not start its sandbox" in autograder_test(data)["output"]
    assert "bubblewrap" in data["extra_data"]["sandbox"]  # for the instructor, not in the student's text


def test_when_python_itself_fails_run_autograder_still_writes_a_results_json(bundle, tmp_path):
    data = run_autograder(unpack(bundle, tmp_path, {"exercise03.py": SOLUTION}), python="/bin/false")
    assert data["score"] == 0 and "exit status 1" in autograder_test(data)["output"]


def test_a_crashing_grader_is_a_failed_autograder_test_not_a_missing_file(bundle, tmp_path):
    root = unpack(bundle, tmp_path, {"exercise03.py": SOLUTION})
    (root / "source" / "settings.json").write_text(json.dumps({"exercise": "exercise99"}))
    data = run_autograder(root)
    assert data["score"] == 0 and "internal error in the grader" in autograder_test(data)["output"]


def test_the_torch_bundle_sets_up_in_a_fresh_venv_and_grades_there(tmp_path, official_bundle):
    """exercise02 end to end as on Gradescope: setup.sh makes a clean venv (no system site-packages),
    installs torch (here pip finds the local CPU build: TORCH_INDEX_URL empty), the pins and the
    wheel; run_autograder then grades with the venv's Python. About 30 s here (setup.sh 28 s, from
    pip's local wheels), so it stays in the default suite."""
    bundle = tmp_path / "exercise02.zip"
    result = CliRunner().invoke(main, ["release", "--root", str(ROOT), "--gradescope", "exercise02", "-o", str(bundle),
                                       *official_bundle])
    assert result.exit_code == 0, result.output
    solution = (ROOT / "solutions" / "exercise02.py").read_text(encoding="utf-8")
    root = unpack(bundle, tmp_path / "ag", {"exercise02.py": solution})
    started = time.monotonic()
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], cwd=root / "source", capture_output=True,
                           text=True, env={**CLEAN_ENV, "TORCH_INDEX_URL": ""}, timeout=1800)
    print(f"setup.sh took {time.monotonic() - started:.0f} s")
    assert setup.returncode == 0, setup.stdout[-2000:] + setup.stderr[-2000:]
    assert "grade: the full sandbox works here" in setup.stdout or "no full sandbox here" in setup.stdout
    assert not (root / "source" / "wheels").exists()  # the answer key only in the venv
    python = root / "source" / "venv" / "bin" / "python"
    where, torch = subprocess.run([str(python), "-c", "import grader, torch; print(grader.__file__, torch.__version__)"],
                                  capture_output=True, text=True, check=True, cwd=root).stdout.split()
    assert where.startswith(str(root / "source" / "venv")) and torch.split("+")[0] == metadata.version("torch").split("+")[0]
    data = run_autograder(root, python=str(python))
    info_points = data["extra_data"]["max_score"]
    assert data["score"] == info_points and {t["status"] for t in data["tests"]} == {"passed"}
    (root / "submission" / "exercise02.py").unlink()
    assert run_autograder(root, python=str(python))["score"] == 0
    (root / "submission" / "exercise02.py").write_text("import os\nos._exit(3)\n")
    data = run_autograder(root, python=str(python))
    assert data["score"] == 0 and autograder_test(data)
