"""The feedback page a student reads (HTML from a jinja2 template, and the same in Markdown):
score and summary first, each cause once with the checks it cost, counterexamples as tables,
hidden checks counted but named only when the instructor publishes them."""

import json
from markupsafe import escape
import subprocess
import sys
from pathlib import Path

import pytest

from grader.report import gradescope, page
from grader.results import CheckResult, Counterexample, Diagnosis, ExerciseResult

ROOT = Path(__file__).resolve().parents[2]


def graded(tmp_path: Path, text: str, *args: str) -> ExerciseResult:
    """Grade ``text`` as exercise03 with the instructor's settings; the result from its JSON report."""
    path = tmp_path / "exercise03.py"
    path.write_text(text, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "grader", "exercise03", "--submission", str(path), "--instructor",
                           "--format", "json", *args], capture_output=True, text=True, timeout=300)
    return gradescope.from_json_dict(json.loads(proc.stdout))


@pytest.fixture(scope="module")
def syntax_error(tmp_path_factory, official_args_module):
    text = (ROOT / "solutions" / "exercise03.py").read_text(encoding="utf-8").replace("def relu(x):", "def relu(x)")
    return graded(tmp_path_factory.mktemp("syntax"), text, *official_args_module)


@pytest.fixture(scope="module")
def official_args_module():
    from grader.sandbox.process import isolation

    return [] if isolation().real else ["--allow-unsafe-sandbox"]


def context(result, **kw):
    return page.feedback_context(result, exercise=result.exercise, student="100008", name="Ben Okafor", **kw)


def test_a_syntax_error_is_explained_once_on_the_page_and_in_markdown(syntax_error):
    assert len(syntax_error.checks) > 10 and all(c.outcome == "crash" for c in syntax_error.checks)
    html = page.render_html(context(syntax_error))
    md = page.render_markdown(context(syntax_error))
    for text in (html, md):
        assert text.count("SyntaxError") == 1  # one cause, one explanation (was: once per check)
        assert text.count("def relu(x)") == 1  # the offending line, shown once
    assert "Your file has a syntax error, so nothing could be run" in html
    public = [c for c in syntax_error.checks if not c.hidden]
    assert f"This one cause cost {len(public)} checks, all marked ✘ above" in html


def test_the_score_and_a_summary_come_first_and_name_the_student(syntax_error):
    html = page.render_html(context(syntax_error))
    assert html.index("Ben Okafor (100008)") < html.index(f"0 / {syntax_error.max_score:g}") < html.index("Checks")
    assert html.index("You lost") < html.index("<table class=\"checks\">")
    md = page.render_markdown(context(syntax_error))
    assert md.startswith(f"# exercise03 — Convolution by hand: 0/{syntax_error.max_score:g} points\n\nBen Okafor (100008)")


def test_hidden_checks_count_but_are_named_only_when_published(syntax_error):
    hidden = [c for c in syntax_error.checks if c.hidden]
    assert hidden, "exercise03 has a hidden check"
    quiet = page.render_html(context(syntax_error))
    published = page.render_html(context(syntax_error, publish_hidden=True))
    for c in hidden:
        title = str(escape(c.title))
        assert title not in quiet and title in published
    assert f"{len(hidden)} hidden check" in quiet and "shown when your instructor publishes them" in quiet
    assert f"0 / {syntax_error.max_score:g}" in quiet  # the score is the whole score either way


def _flipped(name: str, size: int) -> CheckResult:
    return CheckResult(name=name, title=f"conv2d {name}", score=0.0, max_score=2.0, outcome="failed",
                       message="conv2d(image, kernel): values differ", functions=("conv2d",),
                       counterexample=Counterexample({"image": "[[0., 1.]]" * size, "kernel": "[[0., 1.]]"},
                                                     "conv2d(np.array([[0.0, 1.0]]), np.array([[0.0, 1.0]]))",
                                                     "[[1.]]", "[[0.]]", shrunk=True),
                       diagnosis=Diagnosis("flipped kernel", "your conv2d flips the kernel", "use kernel[i, j] as it is"))


def test_a_mistake_shows_its_smallest_counterexample_as_a_table_expected_beside_got():
    result = ExerciseResult("exercise03", "Convolution by hand", "exercise03.py", "ab" * 32,
                            [_flipped("big", 3), _flipped("small", 1),
                             CheckResult("relu", "relu works", 1.0, 1.0, "passed")], grader_version="0.1.0")
    html = page.render_html(context(result))
    assert html.count("your conv2d flips the kernel") == 1
    assert "<tr><th>image</th><td><pre>[[0., 1.]]</pre></td></tr>" in html  # the smaller input of the two
    assert html.index('class="expected"') < html.index('class="got"')
    assert "conv2d: flipped kernel (2 checks, 4 points)" in html
    md = page.render_markdown(context(result))
    assert "  expected: [[1.]]\n  got: [[0.]]" in md and md.count("flips the kernel") == 1


def test_student_values_cannot_inject_html():
    bad = _flipped("x", 1)
    bad.counterexample.got = "<script>alert(1)</script>"
    result = ExerciseResult("exercise03", "Convolution by hand", "<b>x</b>.py", "", [bad])
    html = page.render_html(context(result))
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>x</b>" not in html


def test_a_student_not_graded_gets_a_page_saying_why():
    ctx = page.feedback_context(None, exercise="exercise03", student="100022", name="David Nguyen", max_score=18,
                                not_graded="not graded: no .py or .ipynb file handed in")
    html, md = page.render_html(ctx), page.render_markdown(ctx)
    assert "0 / 18" in html and "Not graded: no .py or .ipynb file handed in" in html
    assert "**Not graded: no .py or .ipynb file handed in**" in md
