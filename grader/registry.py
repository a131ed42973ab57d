"""Which exercises exist: read from the checks modules in ``grader/checks/``.

Adding an exercise means adding ``grader/checks/exerciseNN.py`` (plus its reference,
solution and exercise file); nothing else in the engine changes. Listing exercises parses
those modules instead of importing them, so ``grade list`` stays fast even when an exercise
needs torch; ``load`` imports one module to grade with it.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .kit.check import CheckSpec, Exercise

CHECKS_DIR = Path(__file__).resolve().parent / "checks"


class UnknownExercise(LookupError):
    """No exercise of that id or name (a usage error)."""


@dataclass(frozen=True)
class ExerciseInfo:
    id: str
    title: str
    aliases: tuple[str, ...]
    points: float  # public checks
    hidden_points: float  # checks run only with --instructor
    preload: tuple[str, ...]
    forbidden: tuple[str, ...] = ()  # libraries its RULES forbid: unusable in the worker from the start
    limits: tuple[tuple[str, float], ...] = ()  # its LIMITS, known before the worker starts
    datasets: tuple[str, ...] = ()  # the datasets its TrainedModel declarations grade on

    def exercise_file(self) -> str:
        """Return the text of the student's starting file, from the installed package."""
        return (resources.files("grader.exercise_files") / f"{self.id}.py").read_text(encoding="utf-8")


def _literal(tree: ast.Module, name: str, default):
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            try:
                return ast.literal_eval(node.value)
            except ValueError:
                return default
    return default


def _datasets(tree: ast.Module) -> tuple[str, ...]:
    """The ``dataset=`` of every ``TrainedModel(...)`` the module declares at its top level."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "TrainedModel":
            for kw in node.keywords:
                if kw.arg == "dataset" and isinstance(kw.value, ast.Constant) and kw.value.value not in found:
                    found.append(kw.value.value)
    return tuple(found)


def _points(tree: ast.Module) -> tuple[float, float]:
    public = hidden = 0.0
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for dec in node.decorator_list:
            if isinstance(dec, ast.Call) and getattr(dec.func, "id", None) == "check":
                kw = {k.arg: k.value for k in dec.keywords}
                pts = float(ast.literal_eval(kw["points"])) if "points" in kw else 0.0
                is_hidden = "hidden" in kw and ast.literal_eval(kw["hidden"]) is True
                if is_hidden:
                    hidden += pts
                else:
                    public += pts
    return public, hidden


@lru_cache(maxsize=None)
def all_exercises() -> tuple[ExerciseInfo, ...]:
    """Return every exercise, in order of id."""
    out = []
    for path in sorted(CHECKS_DIR.glob("exercise[0-9]*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        public, hidden = _points(tree)
        out.append(ExerciseInfo(
            id=path.stem, title=str(_literal(tree, "TITLE", path.stem)),
            aliases=tuple(_literal(tree, "ALIASES", ())), points=public, hidden_points=hidden,
            preload=tuple(_literal(tree, "PRELOAD", ())),
            forbidden=tuple(sorted({m for mods in _literal(tree, "RULES", {}).values() for m in mods})),
            limits=tuple(sorted(_literal(tree, "LIMITS", {}).items())), datasets=_datasets(tree),
        ))
    return tuple(out)


def find_exercise(name: str) -> ExerciseInfo:
    """Return the exercise called ``name``: its id, a number ("3", "03") or an alias."""
    key = name.strip().lower().removesuffix(".py")
    if re.fullmatch(r"\d{1,2}", key):
        key = f"exercise{int(key):02d}"
    if m := re.fullmatch(r"(?:exercise|ex)[-_ ]?(\d{1,2})", key):
        key = f"exercise{int(m.group(1)):02d}"
    for info in all_exercises():
        if key == info.id or key in info.aliases:
            return info
    import difflib  # a typo ("exercize03"): the exercises whose id, title or an alias is most like it

    ratios = [(difflib.SequenceMatcher(None, key, word).ratio(), info)
              for info in all_exercises() for word in (info.id, info.title.lower(), *info.aliases)]
    best = max((r for r, _ in ratios), default=0.0)
    if best >= 0.75:
        meant = " or ".join(dict.fromkeys(f"{info.id} ({info.title})" for r, info in ratios if r >= best - 1e-9))
        raise UnknownExercise(f"unknown exercise '{name}' — did you mean {meant}? `grade list` shows them all")
    known = ", ".join(e.id for e in all_exercises())
    raise UnknownExercise(f"unknown exercise '{name}' (known: {known}) — `grade list` shows them all")


def defined_in(obj, module) -> bool:
    """Is ``obj`` defined in ``module`` (not imported from another checks module, whose checks
    would otherwise silently count twice)?"""
    fn = getattr(obj, "__grader_check__").fn
    inner = getattr(getattr(fn, "hypothesis", None), "inner_test", fn)
    return getattr(inner, "__module__", None) == module.__name__


def load(info: ExerciseInfo) -> Exercise:
    """Import the exercise's checks module and return its ``Exercise``."""
    module = importlib.import_module(f"grader.checks.{info.id}")
    checks: list[CheckSpec] = [obj.__grader_check__ for obj in vars(module).values()
                               if hasattr(obj, "__grader_check__") and defined_in(obj, module)]
    return Exercise(
        id=info.id, title=getattr(module, "TITLE", info.id), checks=checks,
        mistakes=list(getattr(module, "MISTAKES", [])), rules=dict(getattr(module, "RULES", {})),
        preload=tuple(getattr(module, "PRELOAD", ())), max_examples=int(getattr(module, "MAX_EXAMPLES", 50)),
        limits=dict(getattr(module, "LIMITS", {})),
        shrink_calls=int(getattr(module, "SHRINK_CALLS", Exercise.shrink_calls)),
        shrink_calls_again=int(getattr(module, "SHRINK_CALLS_AGAIN", Exercise.shrink_calls_again)),
    )
