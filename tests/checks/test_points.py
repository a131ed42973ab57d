"""The "Points:" line of every solution's docstring agrees with the registered checks.

``Points: softmax 4 · cross_entropy 3 · nll_from_logits 4 (total 11)`` in
``solutions/exerciseNN.py`` must equal, per function, the sum of the points of the public
checks in ``grader/checks/exerciseNN.py`` whose first function it is (a check's points count
for the first function of its ``functions``), and the total must be their sum.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

from grader import registry

ROOT = Path(__file__).resolve().parents[2]
CHECKED = sorted(p.stem for p in (ROOT / "grader" / "checks").glob("exercise[0-9]*.py")
                 if (ROOT / "solutions" / p.name).exists())
POINTS_LINE = re.compile(r"^Points:\s*(?P<items>.+?)\s*\(total\s+(?P<total>\d+(?:\.\d+)?)\)\s*$", re.MULTILINE)


def parse_points(docstring: str) -> tuple[dict[str, float], float]:
    """Return ({function: points}, total) from the docstring's "Points: a N · b M (total T)" line."""
    m = POINTS_LINE.search(docstring)
    assert m, "the module docstring has no line 'Points: name N · name M (total T)'"
    points = {}
    for item in m.group("items").split("·"):
        name, value = item.split()
        assert name not in points, f"{name} appears twice in the Points line"
        points[name] = float(value)
    return points, float(m.group("total"))


def test_the_points_line_parser():
    assert parse_points("x\nPoints: a 4 · b_c 3 · d 1.5 (total 8.5)\n") == ({"a": 4.0, "b_c": 3.0, "d": 1.5}, 8.5)


@pytest.mark.parametrize("exercise", CHECKED)
def test_the_points_line_of_the_solution_matches_the_checks(exercise):
    source = (ROOT / "solutions" / f"{exercise}.py").read_text(encoding="utf-8")
    stated, total = parse_points(ast.get_docstring(ast.parse(source)) or "")
    assert sum(stated.values()) == total, f"the Points line's items add up to {sum(stated.values())}, not {total}"

    ex = registry.load(registry.find_exercise(exercise))
    registered: dict[str, float] = defaultdict(float)
    for spec in ex.checks:
        assert spec.functions, f"check {spec.name} names no function"
        if not spec.hidden:
            registered[spec.functions[0]] += spec.points
    assert dict(registered) == stated
    # `grade list` reads the points without importing the module: it must agree too
    assert registry.find_exercise(exercise).points == total
