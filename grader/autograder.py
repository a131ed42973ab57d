"""A Gradescope autograder bundle for one exercise: building it, and what runs inside it.

``grade release --gradescope exercise03 -o exercise03-gradescope.zip`` (``build``) writes a zip
laid out as Gradescope's autograder specification asks (``setup.sh`` and ``run_autograder`` at
its root; Gradescope unpacks it into ``/autograder/source``):

- ``setup.sh``: run once as root when Gradescope builds the image. It installs bubblewrap (the
  full sandbox) and the Python this bundle was built with, makes a venv in ``source/venv``,
  installs CPU torch where the exercise needs it, the pinned ``requirements.txt`` and the
  package's wheel (the instructor edition: references and hidden checks), deletes the wheel,
  and says in the build log whether the full sandbox works in Gradescope's container.
- ``run_autograder``: run once per submission. ``python -m grader.autograder`` (``run``) finds
  the student's file in ``/autograder/submission`` by ``grade``'s own rule, grades it as
  ``grade EXERCISE --instructor`` does and writes ``/autograder/results/results.json`` with
  ``grader.report.gradescope``. It always writes that file: when there is no file to grade,
  the file could not be run (a syntax error, a crash while loading) or the grader itself
  failed, a failed test named "autograder" says why; and should Python itself not start, the
  shell script writes one.
- ``settings.json``: the exercise and what ``run_autograder`` does without the full sandbox.
- ``private/secret``: the course's secret (``grader.secret``), so that the bundle grades on the
  same official examples as ``grade batch``; the worker never sees the folder.

Official grading needs the full sandbox. Where bubblewrap cannot create namespaces (a
container without the privileges for it), a reduced sandbox would leave the submission able to
forge its grade, so ``run_autograder`` then grades nothing and gives every submission a failed
"autograder" test saying so, unless the bundle was built with ``--allow-unsafe-sandbox``. That
is the instructor's call: Gradescope's container holds one submission and is thrown away, so
no other student's files are at stake, only this submission's own grade.

The paths are Gradescope's; ``AUTOGRADER_ROOT`` moves them (tests), ``AUTOGRADER_PYTHON``
chooses the interpreter ``run_autograder`` uses.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from . import __version__, registry

PACKAGE = "dlcourse-grader"
TORCH_INDEX_URL = "https://download.pytorch.org/whl/cpu"  # CPU wheels: Gradescope has no GPU
SKIPPED_FOLDERS = {"__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git"}
PRIVATE = "private"  # source/private: the course's secret (official examples), a folder the worker never sees
AUTOGRADER_TEST = "autograder"  # the test that says why nothing (or not everything) could be graded


class BundleError(Exception):
    """The bundle cannot be built (one line, with what to do)."""


# --------------------------------------------------------------------------- building the bundle


def wheel_requires(wheel: Path) -> list[str]:
    """The ``Requires-Dist`` lines of a wheel's METADATA (what the shipped package asks for)."""
    from email.parser import Parser

    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        return Parser().parsestr(z.read(name).decode("utf-8")).get_all("Requires-Dist") or []


def requirements(requires: list[str], extras: set[str]) -> list[str]:
    """``name==version`` for every distribution that ``requires`` (the package's Requires-Dist)
    needs with ``extras``, following their own requirements, at the versions installed here
    (``pip freeze``'s pins)."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins: dict[str, str] = {}
    todo = [(PACKAGE, frozenset(extras))]
    seen: set[tuple[str, frozenset]] = set()
    while todo:
        name, wanted = todo.pop()
        if (name, wanted) in seen:
            continue
        seen.add((name, wanted))
        for line in (requires if name == PACKAGE else metadata.requires(name) or ()):
            req = Requirement(line)
            if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in wanted or {""}):
                continue
            key = canonicalize_name(req.name)
            try:
                version = metadata.version(req.name)
            except metadata.PackageNotFoundError:
                raise BundleError(f"{req.name} (needed by {name}) is not installed here — install it "
                                  "so that the bundle can pin its version") from None
            pins[key] = version.split("+")[0]  # torch's "+cpu": setup.sh takes torch from the CPU index
            todo.append((req.name, frozenset(req.extras)))
    pins.pop(canonicalize_name(PACKAGE), None)
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def needed_extras(info: registry.ExerciseInfo) -> set[str]:
    """The package's extras the exercise needs (``torch``), from ``grader.extras``."""
    from .extras import EXTRAS, needed

    return {EXTRAS[name] for name in needed(info)}


def build_wheel(root: Path, out: Path) -> Path:
    """Build the package's wheel from the checkout ``root`` into ``out``; return it.

    The package's files are copied first, so that the build's own folders (``build/``, the
    egg-info) are never shared with another build running in the same checkout.
    """
    if not (root / "pyproject.toml").is_file():
        raise BundleError(f"no pyproject.toml in {root.resolve()} — run this in a checkout of the course package")
    with tempfile.TemporaryDirectory(prefix="grade-wheel-") as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(root, src, ignore=shutil.ignore_patterns(
            ".git", "build", "dist", "*.egg-info", "__pycache__", "tests", "notes", ".hypothesis", "*.pyc"))
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                               "--disable-pip-version-check", "-q", "-w", str(out), str(src)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise BundleError(f"building the wheel failed: {(proc.stderr or proc.stdout).strip().splitlines()[-1:]}")
    wheels = sorted(out.glob("*.whl"))
    if len(wheels) != 1:
        raise BundleError(f"expected one wheel from the build, got {[w.name for w in wheels]}")
    return wheels[0]


def setup_script(*, python: str, torch: str | None) -> str:
    """The text of ``setup.sh``."""
    return SETUP_SH.replace("@PYTHON@", python).replace("@TORCH@", torch or "").replace("@INDEX@", TORCH_INDEX_URL)


def build(exercise: str, output: Path, *, root: Path, allow_unsafe_sandbox: bool = False) -> dict:
    """Write the autograder zip for ``exercise`` to ``output``; return what it holds (for the
    command's summary): exercise, wheel, requirements, torch version, size."""
    info = registry.find_exercise(exercise)
    if info.datasets:
        raise BundleError(f"{info.id} grades on a dataset ({', '.join(info.datasets)}) that the Gradescope bundle "
                          f"does not carry — grade it with `grade batch {info.id}`")
    from importlib import metadata

    extras = needed_extras(info)
    torch = metadata.version("torch").split("+")[0] if "torch" in extras else None
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    from .secret import fingerprint, official_secret

    secret = official_secret()[0]  # the official examples: the bundle is the instructor's, like the secret
    settings = {"exercise": info.id, "allow_unsafe_sandbox": allow_unsafe_sandbox, "python": python,
                "torch": torch, "grader_version": __version__}
    with tempfile.TemporaryDirectory(prefix="grade-bundle-") as tmp:
        wheel = build_wheel(root, Path(tmp))
        pins = requirements(wheel_requires(wheel), extras)
        output.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as z:
            _add(z, "setup.sh", setup_script(python=python, torch=torch), executable=True)
            _add(z, "run_autograder", RUN_AUTOGRADER, executable=True)
            _add(z, "requirements.txt", "".join(f"{p}\n" for p in pins))
            _add(z, "settings.json", json.dumps(settings, indent=2) + "\n")
            _add(z, f"{PRIVATE}/secret", secret + "\n")  # hidden from the worker (run: hidden_paths)
            z.write(wheel, f"wheels/{wheel.name}")
    return {**settings, "secret": fingerprint(secret), "wheel": wheel.name, "requirements": pins,
            "bytes": output.stat().st_size}


def _add(z: zipfile.ZipFile, name: str, text: str, *, executable: bool = False) -> None:
    entry = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    z.writestr(entry, text)


SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder (written by `grade release --gradescope`).
set -euo pipefail
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON_VERSION=@PYTHON@
TORCH_VERSION=@TORCH@
TORCH_INDEX_URL="${TORCH_INDEX_URL-@INDEX@}"  # set it empty to take torch from pip's own index
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1

apt_updated=""
apt_install() {
    [ -n "$apt_updated" ] || { apt-get update; apt_updated=1; }
    apt-get install -y --no-install-recommends "$@"
}
# bubblewrap: the full sandbox for the student's code
command -v bwrap >/dev/null || apt_install bubblewrap
# the Python the bundle was built and pinned with (Ubuntu's own python3 may be older)
if ! command -v "python$PYTHON_VERSION" >/dev/null || ! "python$PYTHON_VERSION" -c "import ensurepip" 2>/dev/null; then
    apt_install software-properties-common gpg-agent
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update
    apt-get install -y --no-install-recommends "python$PYTHON_VERSION" "python$PYTHON_VERSION-venv"
fi

"python$PYTHON_VERSION" -m venv "$SOURCE/venv"
PIP=("$SOURCE/venv/bin/python" -m pip)
if [ -n "$TORCH_VERSION" ]; then
    # the CPU build, alone: pip must never resolve another torch (its dependencies come pinned below)
    "${PIP[@]}" install --no-deps "torch==$TORCH_VERSION" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
fi
"${PIP[@]}" install -r "$SOURCE/requirements.txt"
"${PIP[@]}" install --no-deps "$SOURCE"/wheels/*.whl
rm -rf "$SOURCE/wheels"  # the answer key now lives only in the venv, which the sandbox never shows a submission
"$SOURCE/venv/bin/python" -m grader.autograder --sandbox-report --settings "$SOURCE/settings.json"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission, from /autograder (written by `grade release --gradescope`).
# It always leaves results/results.json: should Python itself fail, this script writes one.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${AUTOGRADER_PYTHON:-$ROOT/source/venv/bin/python}"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
"$PYTHON" -m grader.autograder --root "$ROOT" --settings "$ROOT/source/settings.json"
status=$?
if [ ! -s "$RESULTS" ]; then
    why="the grader stopped (exit status $status) before it wrote a result: this is not about your code, tell your instructor"
    printf '{"score": 0, "output": "%s", "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden", "tests": [{"name": "autograder", "score": 0, "max_score": 0, "status": "failed", "output": "%s", "output_format": "text", "visibility": "visible"}]}\n' "$why" "$why" > "$RESULTS"
fi
exit 0
"""


# --------------------------------------------------------------------------- inside Gradescope's container


def find_file(info: registry.ExerciseInfo, folder: Path) -> Path:
    """The student's file in Gradescope's submission folder, by ``grade``'s own rule
    (``collect.best_candidates`` for a student's own folder: a file named like the exercise
    wins, else the only ``.py``/``.ipynb``), looking into subfolders too (an uploaded zip or
    repository). No file, or several equally good: SubmissionError saying which."""
    from .collect import SubmissionError, best_candidates

    files = []
    for top, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_FOLDERS and not d.startswith("."))
        files += [Path(top) / n for n in names if not n.startswith(".") and stat.S_ISREG(os.lstat(Path(top, n)).st_mode)]
    chosen = best_candidates(files, info)
    if not chosen:
        found = ", ".join(sorted(p.relative_to(folder).as_posix() for p in files)[:5]) or "nothing"
        raise SubmissionError(f"no .py or .ipynb file to grade was handed in (found: {found}) — "
                              f"upload {info.id}.py or {info.id}.ipynb")
    if len(chosen) > 1:
        names = ", ".join(p.relative_to(folder).as_posix() for p in chosen)
        raise SubmissionError(f"several files could be {info.id}: {names} — upload only one, or name it {info.id}.py")
    return chosen[0]


def failed(info: registry.ExerciseInfo | None, why: str, *, started: float, extra: dict | None = None) -> dict:
    """results.json when nothing could be graded: score 0 and one failed "autograder" test saying why."""
    points = info.points + info.hidden_points if info is not None else 0.0
    test = {"name": AUTOGRADER_TEST, "score": 0.0, "max_score": points, "status": "failed", "output": why,
            "output_format": "text", "visibility": "visible"}
    return {"score": 0.0, "execution_time": round(time.monotonic() - started, 3), "output": why,
            "output_format": "text", "test_output_format": "text", "test_name_format": "text",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": [test],
            "extra_data": {"exercise": info.id if info else None, "graded": False, "reason": why,
                           "grader_version": __version__, **(extra or {})}}


def _read_secret(private: Path) -> str:
    """The bundle's secret (the public examples for a bundle built without one)."""
    try:
        return (private / "secret").read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def unrunnable(result) -> str | None:
    """Why none of the submission could be run (a syntax error, a crash while loading), read
    from a result whose every check stopped on the same message; else None."""
    messages = {c.message for c in result.checks}
    if result.checks and len(messages) == 1 and all(c.outcome == "crash" for c in result.checks):
        return messages.pop()
    return None


def run(root: Path, settings: dict) -> dict:
    """Grade the submission in ``root/submission`` as the bundle's settings say; return results.json's object."""
    from .collect import SubmissionError
    from .report import gradescope
    from .sandbox import IsolationError
    from .sandbox.process import require_isolation

    started = time.monotonic()
    info = None
    try:
        info = registry.find_exercise(settings["exercise"])
        from . import extras

        extras.require(info)
        try:
            iso = require_isolation(True, allow_unsafe=bool(settings.get("allow_unsafe_sandbox")))
        except IsolationError as e:
            return failed(info, "the autograder could not start its sandbox, so nothing was graded: this is not about "
                                "your code, tell your instructor", started=started, extra={"sandbox": str(e)})
        try:
            path = find_file(info, root / "submission")
        except SubmissionError as e:
            return failed(info, str(e), started=started)
        from .engine import grade

        try:  # the venv in source/ is the worker's interpreter: only results/ is hidden besides the sandbox's own
            private = root / "source" / PRIVATE
            result = grade(info, path, instructor=True, sandbox=True, hidden_paths=(str(root / "results"), str(private)),
                           secret=_read_secret(private))
        except SubmissionError as e:  # unreadable: not UTF-8, a broken notebook, too large
            return failed(info, str(e), started=started)
    except Exception as e:  # the grader's own failure: still a results.json
        return failed(info, f"internal error in the grader ({type(e).__name__}: {str(e)[:300]}): this is not about "
                            "your code, tell your instructor", started=started)
    data = gradescope.to_json_dict(result)
    data["extra_data"].update(graded=True, sandbox_full=iso.real)
    if (why := unrunnable(result)) is not None:
        data["tests"].insert(0, {"name": AUTOGRADER_TEST, "score": 0.0, "max_score": 0.0, "status": "failed",
                                 "output": why, "output_format": "text", "visibility": "visible"})
        data["output"] = "\n".join(filter(None, [why, data["output"]]))
    return data


def write(path: Path, data: dict) -> None:
    """Write results.json whole or not at all (a temporary file renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def sandbox_report(settings: dict) -> str:
    """One line for setup.sh's build log: whether the full sandbox works here, and what follows."""
    from .sandbox.process import isolation

    iso = isolation(True)
    if iso.real:
        return f"grade: the full sandbox works here ({iso.describe()})"
    then = "submissions are graded in the reduced sandbox (built with --allow-unsafe-sandbox)" \
        if settings.get("allow_unsafe_sandbox") else \
        "every submission gets a failed 'autograder' test and no grade (rebuild with --allow-unsafe-sandbox to " \
        "grade in the reduced sandbox)"
    return f"grade: WARNING: no full sandbox here ({iso.missing}): {then}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.autograder", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path(os.environ.get("AUTOGRADER_ROOT", "/autograder")))
    parser.add_argument("--settings", type=Path, required=True)
    parser.add_argument("--sandbox-report", action="store_true", help="Say whether the full sandbox works here.")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        settings = json.loads(args.settings.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        settings, broken = {}, f"the autograder's settings are unreadable ({e}): tell your instructor"
    else:
        broken = None
    if args.sandbox_report:
        print(sandbox_report(settings))
        return 0
    data = failed(None, broken, started=started) if broken else run(args.root, settings)
    write(args.root / "results" / "results.json", data)
    print(f"grade: {data['score']:g} points; results.json written")  # Gradescope keeps stdout for instructors
    return 0


if __name__ == "__main__":
    sys.exit(main())
