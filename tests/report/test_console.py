"""The human report says each cause once: a syntax error, an endless loop or a flipped kernel reads
in one screen (at most 40 lines at 100 columns), while the JSON keeps one entry per check."""

import io
import sys
from pathlib import Path

import pytest
from rich.console import Console

from grader.report import console
from grader.sandbox.process import Limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "batch"))
import make_submissions  # noqa: E402

EX = "exercise03"


def _lines(result) -> list[str]:
    out = io.StringIO()
    console.render(result, Console(file=out, width=100, highlight=False, color_system=None))
    return out.getvalue().rstrip("\n").splitlines()


@pytest.mark.parametrize("broken", ["syntax error", "endless loop", "flipped kernel"])
def test_one_cause_is_explained_once_and_the_report_fits_in_40_lines(grade_text, solution_text, broken):
    text = solution_text(EX)
    if broken == "syntax error":
        text = text.replace("def relu(x):", "def relu(x)")
    elif broken == "endless loop":
        text += "\n\ndef conv2d(image, kernel, bias=0.0, stride=1, padding=0):\n    while True:\n        pass\n"
    else:
        text = make_submissions._edit(text, make_submissions.KERNEL_FLIPPED)
    result = grade_text(EX, text, limits=Limits(call_timeout=0.5))
    lines = _lines(result)
    failed = [c for c in result.checks if not c.passed]
    assert len(failed) >= 6 and len(result.to_dict()["checks"]) == len(result.checks)  # the JSON: one per check
    assert len(lines) <= 40, "\n".join(lines)
    assert sum(line.startswith("╭─ ✘") for line in lines) == 1  # one explanation
    assert any(f"also costs the {len(failed) - 1} other checks marked ✘ above" in line for line in lines)


def test_different_mistakes_are_explained_each(grade_text, solution_text):
    text = make_submissions._edit(solution_text(EX), make_submissions.KERNEL_FLIPPED, make_submissions.POOL_STRIDE_ONE)
    lines = _lines(grade_text(EX, text))
    assert sum(line.startswith("╭─ ✘") for line in lines) == 2
