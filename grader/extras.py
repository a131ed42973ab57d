"""The optional dependencies (the package's extras) an exercise needs, asked before grading.

Without torch, exercise02's checks cannot even be imported and exercise11's worker cannot
load the student's model: graded anyway, that reads as "internal error" or as "your file
does not define build_model", blaming the student for the machine. ``require`` says instead,
in one line, what is missing and how to install it; ``grade EXERCISE`` and ``grade batch``
call it before they start a worker.

What an exercise needs is read from its files without importing them: the ``PRELOAD`` of its
checks module (imported by the worker) and the imports of its checks module and of the
reference modules it imports (imported by the grader).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

from .registry import CHECKS_DIR, ExerciseInfo

EXTRAS = {"torch": "torch", "safetensors": "torch"}  # a top-level module: the extra in pyproject.toml that installs it
INSTALL = {"torch": 'pip install "dlcourse-grader[torch]" (for the CPU build, first: pip install torch==2.13.0)'}


class MissingDependency(Exception):
    """An optional library the exercise needs is not installed (a usage error: exit status 2)."""


def needed(info: ExerciseInfo) -> dict[str, bool]:
    """The optional modules ``info`` needs, each with whether the grader itself imports it (else
    only the worker does), in order of name."""
    grader = _imports(CHECKS_DIR / f"{info.id}.py", follow=True)
    worker = {name.split(".")[0] for name in info.preload}
    return {name: name in grader for name in sorted((grader | worker) & EXTRAS.keys())}


def missing(info: ExerciseInfo) -> list[str]:
    """The modules of ``needed`` that cannot be used here. One the grader imports anyway is
    imported (a broken install fails as it would in a moment); one only the worker imports is
    looked up (importing torch would cost the grader a second)."""
    out = []
    for name, in_grader in needed(info).items():
        try:
            found = importlib.import_module(name) if in_grader else importlib.util.find_spec(name)
        except ImportError:
            found = None
        if found is None:
            out.append(name)
    return out


def require(info: ExerciseInfo) -> None:
    """Raise MissingDependency naming what ``info`` needs and this machine lacks, and the install command."""
    absent = missing(info)
    if not absent:
        return
    what = " and ".join(absent)
    extras = sorted({EXTRAS[name] for name in absent})
    how = "; ".join(INSTALL.get(e, f'pip install "dlcourse-grader[{e}]"') for e in extras)
    verb = "is" if len(absent) == 1 else "are"
    raise MissingDependency(f"{info.id} needs {what}, which {verb} not installed — {how}")


def _imports(path: Path, *, follow: bool) -> set[str]:
    """The top-level modules ``path`` imports anywhere in it; with ``follow``, also those of the
    ``reference`` modules it imports (``from grader.reference import exercise04 as ref``)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return set()
    names, references = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
            references |= {a.name.split(".")[2] for a in node.names if a.name.startswith("grader.reference.")}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
            if node.module == "grader.reference":
                references |= {a.name for a in node.names}
            elif node.module.startswith("grader.reference."):
                references.add(node.module.split(".")[2])
    if follow and references:
        spec = _find_spec("grader.reference")
        for folder in (spec.submodule_search_locations or []) if spec else []:
            for name in references:
                names |= _imports(Path(folder) / f"{name}.py", follow=False)
    return names


def _find_spec(name: str):
    """The module's spec, or None where it is not installed (the student edition has no references)."""
    try:
        return importlib.util.find_spec(name)
    except ImportError:
        return None
