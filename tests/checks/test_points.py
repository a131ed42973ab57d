"""The "Points:" line of every solution's docstring agrees with the registered checks.

``Points: softmax 4 · cross_entropy 3 · nll_from_logits 4 (total 11)`` in
``solutions/exerciseNN.py`` must equal, per function, the sum of the points of the public
checks in ``grader/checks/exerciseNN.py`` whose first function it is (a check's points count
for the first function of its ``functions``; a check naming none, for ``submission``: the
project's checks judge a model or a predictions CSV), and the total must be their sum. Hidden checks
are not in that line: ``Hidden checks: 2 more points, …`` on the next line states their sum
(no such line: no hidden checks), without naming them.
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
HIDDEN_LINE = re.compile(r"^Hidden checks:\s*(?P<points>\d+(?:\.\d+)?) more points?\b", re.MULTILINE)


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


def parse_hidden_points(docstring: str) -> float:
    """Return the points of the "Hidden checks: N more points, …" line (0 without one)."""
    m = HIDDEN_LINE.search(docstring)
    return float(m.group("points")) if m else 0.0


def test_the_points_line_parser():
    assert parse_points("x\nPoints: a 4 · b_c 3 · d 1.5 (total 8.5)\n") == ({"a": 4.0, "b_c": 3.0, "d": 1.5}, 8.5)


def test_the_hidden_checks_line_parser():
    assert parse_hidden_points("Points: a 4 (total 4)\nHidden checks: 1 more point, when …\n") == 1.0
    assert parse_hidden_points("Points: a 4 (total 4)\nHidden checks: 2.5 more points, when …\n") == 2.5
    assert parse_hidden_points("Points: a 4 (total 4)\n") == 0.0


@pytest.mark.parametrize("exercise", CHECKED)
def test_the_points_line_of_the_solution_matches_the_checks(exercise):
    source = (ROOT / "solutions" / f"{exercise}.py").read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(source)) or ""
    stated, total = parse_points(docstring)
    assert sum(stated.values()) == total, f"the Points line's items add up to {sum(stated.values())}, not {total}"

    ex = registry.load(registry.find_exercise(exercise))
    registered: dict[str, float] = defaultdict(float)
    hidden = 0.0
    for spec in ex.checks:
        if spec.hidden:
            hidden += spec.points
        else:  # a check of the whole hand-in names no function (the project: a model or a predictions CSV)
            registered[spec.functions[0] if spec.functions else "submission"] += spec.points
    assert dict(registered) == stated
    assert hidden == parse_hidden_points(docstring)
    # `grade list` reads the points without importing the module: it must agree too
    assert registry.find_exercise(exercise).points == total
    assert registry.find_exercise(exercise).hidden_points == hidden
