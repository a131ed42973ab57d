"""Markdown: the terminal report's content for web pages — GitHub's job summary
(``$GITHUB_STEP_SUMMARY``), pull-request comments, feedback files.

The same parts as ``console``: a table of checks, notes, the functions not implemented yet,
then each failed check with its counterexample and diagnosis (``gradescope.check_output``'s
text, in a code block so that arrays keep their layout), and the closing lines.
"""

from __future__ import annotations

import re

from ..results import CheckResult, ExerciseResult
from .confusion import has_classes, headline
from .fmt import also_costs, clip, failure_groups, hidden_line, not_implemented, points, verdict
from .gradescope import check_output



def render(result: ExerciseResult) -> str:
    """Return the report for one exercise as a Markdown section."""
    icon = "✅" if result.passed else "❌"
    blocks = [f"### {icon} {_inline(result.exercise)} — {_inline(result.title)}: "
              f"{points(result.score)}/{points(result.max_score)} points",
              "\n".join(["| | check | points |", "| --- | --- | ---: |", *map(_row, result.checks)])]
    blocks += [f"> **note:** {_inline(clip(note))}" for note in result.notes]
    if todo := not_implemented(result):
        blocks.append(f"**not implemented yet:** {', '.join(f'`{f}`' for f in todo)}")
    blocks += [_confusion(c.details) for c in result.checks if has_classes(c.details)]
    for c, others in failure_groups(result):
        blocks += [f"#### ❌ {_inline(c.title)}", _code_block(check_output(c))]
        if others:
            blocks.append(f"*{_inline(also_costs(c, others)).replace('✘', '❌')}*")
    blocks.append(f"graded {_code_span(result.submission)}")
    blocks.append(f"**{verdict(result)}**")
    if hidden := hidden_line(result):
        blocks.append(f"*{hidden}*")
    return "\n\n".join(blocks) + "\n"


def _row(c: CheckResult) -> str:
    title = _inline(c.title) + (" *(hidden)*" if c.hidden else "")
    if not c.passed:
        title += f" — {c.outcome.label}"
    return f"| {c.outcome.markdown_icon} | {title} | {points(c.score)}/{points(c.max_score)} |"


def _confusion(details: dict) -> str:
    """A classifier's confusion matrix as a table (rows: true class, columns: predicted), as in the terminal."""
    names = [_inline(n) for n in details["classes"]]
    lines = [f"**{headline(details)} on {details['n_images']:,} images** "
             "(rows: true class, columns: predicted)", "",
             "| | " + " | ".join(names) + " | accuracy |", "| --- |" + " ---: |" * (len(names) + 1)]
    for name, row, acc in zip(names, details["confusion_matrix"], details["per_class_accuracy"]):
        lines.append(f"| {name} | " + " | ".join(str(n) for n in row) + f" | {acc:.3f} |")
    return "\n".join(lines)


def _inline(text: str) -> str:
    """Text safe in a table cell or heading: one line, pipes escaped, no HTML from the submission."""
    text = " ".join(str(text).split())
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _fence(text: str, shortest: int) -> str:
    """Backticks enough to fence ``text`` (more than any run inside: student values may contain some)."""
    return "`" * max(shortest, 1 + max((len(m) for m in re.findall(r"`+", text)), default=0))


def _code_block(text: str) -> str:
    fence = _fence(text, 3)
    return f"{fence}text\n{text}\n{fence}"


def _code_span(text: str) -> str:
    """One line as inline code (a file name: ``exercise_03.py`` keeps its underscores)."""
    text = " ".join(str(text).split())
    fence = _fence(text, 1)
    return f"{fence} {text} {fence}" if text.startswith("`") or text.endswith("`") else f"{fence}{text}{fence}"
