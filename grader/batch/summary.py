"""The class at a glance: score histogram, pass rate per check, what went wrong where.

Computed from gradebook rows only, so the summary of a resumed run is the summary of the
whole class. Rendered twice: rich for the terminal, Markdown for ``summary.md``.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from ..report.fmt import clip, points
from .gradebook import Row

INCIDENTS = ("problem", "error", "timeout", "crash")
LABELS = {"problem": "not graded", "error": "grader error", "timeout": "timed out", "crash": "crashed"}


@dataclass
class CheckStats:
    """How the class did on one check; ``diagnosis`` is the most common likely mistake."""

    name: str
    title: str
    max_score: float
    passed: int = 0
    graded: int = 0
    hidden: bool = False
    diagnosis: tuple[str, int] | None = None  # (name, how many students)
    outcome: tuple[str, int] | None = None  # the most common way of failing it

    @property
    def rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0


@dataclass
class ClassSummary:
    exercise: str
    title: str
    max_score: float
    scores: dict[str, float]  # student -> score, for every student with a result
    statuses: Counter
    checks: list[CheckStats]
    incidents: list[tuple[str, str, str, str]] = field(default_factory=list)  # student, name, status, message
    similar: list = field(default_factory=list)  # similarity.Pair, most similar first (when computed)

    @property
    def students(self) -> int:
        return sum(self.statuses.values())

    @property
    def full_marks(self) -> int:
        return sum(1 for s in self.scores.values() if s >= self.max_score > 0)

    def histogram(self) -> list[tuple[str, int]]:
        """Return (bin label, students) pairs: one bin per point up to 20 points, else ten."""
        top = self.max_score
        width = 1.0 if top <= 20 else top / 10
        bins = max(1, math.floor(top / width) + 1 if width == 1.0 else 10)
        counts = [0] * bins
        for s in self.scores.values():
            counts[min(bins - 1, int(s // width))] += 1
        if width == 1.0:
            return [(f"{i:g}", n) for i, n in enumerate(counts)]
        return [(f"{i * width:.3g}–{(i + 1) * width:.3g}", n) for i, n in enumerate(counts)]


def summarize(rows: list[Row], exercise: str, title: str = "") -> ClassSummary:
    """Return the class summary of ``rows`` (one per student)."""
    stats: dict[str, CheckStats] = {}
    diagnoses: dict[str, Counter] = {}
    failures: dict[str, Counter] = {}
    scores, statuses, incidents, max_score = {}, Counter(), [], 0.0
    for row in rows:
        statuses[row.status] += 1
        if row.status in INCIDENTS:
            incidents.append((row.student, row.name, row.status, clip(row.message)))
        if row.result is None:
            continue
        title = title or row.result.get("title", "")
        scores[row.student] = row.score
        max_score = max(max_score, row.max_score)
        for c in row.result["checks"]:
            s = stats.setdefault(c["name"], CheckStats(c["name"], c["title"], c["max_score"], hidden=c.get("hidden", False)))
            s.graded += 1
            if c["outcome"] == "passed":
                s.passed += 1
                continue
            failures.setdefault(c["name"], Counter())[c["outcome"]] += 1
            if c.get("diagnosis"):
                diagnoses.setdefault(c["name"], Counter())[c["diagnosis"]["name"]] += 1
    for name, s in stats.items():
        s.diagnosis = diagnoses[name].most_common(1)[0] if name in diagnoses else None
        s.outcome = failures[name].most_common(1)[0] if name in failures else None
    return ClassSummary(exercise, title, max_score, scores, statuses, list(stats.values()), incidents)


def _counts_line(summary: ClassSummary) -> str:
    parts = [f"{summary.students} students", f"{summary.full_marks} with full marks"]
    parts += [f"{summary.statuses[s]} {LABELS[s]}" for s in INCIDENTS if summary.statuses[s]]
    if summary.scores:
        values = sorted(summary.scores.values())
        mean = sum(values) / len(values)
        median = values[len(values) // 2] if len(values) % 2 else (values[len(values) // 2 - 1] + values[len(values) // 2]) / 2
        parts.append(f"mean {mean:.1f}, median {points(median)} of {points(summary.max_score)} points")
    return " · ".join(parts)


def _failed_first(summary: ClassSummary) -> list[CheckStats]:
    return sorted(summary.checks, key=lambda s: (s.rate, s.name))


def _mistake(s: CheckStats) -> str:
    if s.diagnosis:
        return f"{s.diagnosis[0]} ({s.diagnosis[1]})"
    if s.outcome and s.outcome[0] != "failed":
        return f"{s.outcome[0].replace('_', ' ')} ({s.outcome[1]})"
    return ""


def render(summary: ClassSummary, console: Console) -> None:
    """Print the summary: counts, a histogram of scores, pass rates (most failed first), incidents."""
    console.print(Text(f"{summary.exercise} — {summary.title}", style="bold"))
    console.print(_counts_line(summary))
    hist = summary.histogram()
    most = max((n for _, n in hist), default=0) or 1
    chart = Table(box=None, show_header=False, pad_edge=False, title="scores", title_justify="left")
    chart.add_column(justify="right", style="dim")
    chart.add_column()
    chart.add_column(justify="right")
    for label, n in hist:
        chart.add_row(label, Text("█" * round(30 * n / most), style="cyan"), str(n) if n else "")
    rates = Table(title="checks, most failed first", title_justify="left", box=None, pad_edge=False)
    for col, kw in (("passed", {"justify": "right"}), ("check", {"ratio": 1}), ("most common mistake", {})):
        rates.add_column(col, **kw)
    for s in _failed_first(summary):
        style = "green" if s.rate == 1 else "red" if s.rate < 0.5 else "yellow"
        title = s.title + (" (hidden)" if s.hidden else "")
        rates.add_row(Text(f"{100 * s.rate:.0f}%", style=style), title, _mistake(s))
    console.print(Group(Text(""), chart, Text(""), rates))
    if summary.incidents:
        console.print(Text("\ncrashed, timed out or not graded:", style="bold"))
        for student, name, status, message in summary.incidents:
            who = f"{student} ({name})" if name else student
            console.print(Text.assemble((f"  {who}: ", "bold"), (LABELS[status], "magenta"), f" — {message}"))
    if summary.similar:
        console.print(Text(f"\n{len(summary.similar)} pair{'s' * (len(summary.similar) != 1)} of submissions share "
                           "most of their code — to look at, in summary.md", style="bold"))


def markdown(summary: ClassSummary) -> str:
    """Return the summary as Markdown (``summary.md``)."""
    lines = [f"# {summary.exercise} — {summary.title}", "", _counts_line(summary), "", "## Scores", "",
             "| points | students | |", "| ---: | ---: | --- |"]
    hist = summary.histogram()
    most = max((n for _, n in hist), default=0) or 1
    lines += [f"| {label} | {n} | {'█' * round(30 * n / most)} |" for label, n in hist]
    lines += ["", "## Checks, most failed first", "", "| passed | check | most common mistake |", "| ---: | --- | --- |"]
    for s in _failed_first(summary):
        title = s.title.replace("|", "\\|") + (" *(hidden)*" if s.hidden else "")
        lines.append(f"| {100 * s.rate:.0f}% ({s.passed}/{s.graded}) | {title} | {_mistake(s)} |")
    if summary.incidents:
        lines += ["", "## Crashed, timed out or not graded", ""]
        for student, name, status, message in summary.incidents:
            who = f"{student} ({name})" if name else student
            lines.append(f"- **{who}**: {LABELS[status]} — {' '.join(message.split())}")
    if summary.similar:
        lines += ["", "## Similar submissions", "",
                  "Pairs whose own code (the released exercise file not counted) is mostly the same, most similar "
                  "first. Shared code has innocent causes too (a lecture example, allowed pair work): read the pair "
                  "side by side before drawing any conclusion.", "",
                  "| similarity | student | student | side by side |", "| ---: | --- | --- | --- |"]
        for p in summary.similar:
            a = f"{p.a} ({p.name_a})" if p.name_a else p.a
            b = f"{p.b} ({p.name_b})" if p.name_b else p.b
            link = f"[compare]({p.page})" if p.page else ""
            lines.append(f"| {100 * p.similarity:.0f}% | {a.replace('|', '/')} | {b.replace('|', '/')} | {link} |")
    return "\n".join(lines) + "\n"
