"""The grading results: small dataclasses, from one check up to one exercise.

Rendering is separate (``grader.report``): these hold plain, JSON-ready data, already
formatted for reading where they show student values, so that two runs on the same
submission compare equal (timings aside).
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from enum import Enum


class Outcome(str, Enum):
    """What happened in a check, beyond passed/failed: one value, its label and its icons.

    A ``str`` enum: it compares equal to its value ("passed") and is written as it in JSON.
    """

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    NOT_IMPLEMENTED = "not_implemented"
    MISSING = "missing"
    TIMEOUT = "timeout"
    CRASH = "crash"
    RULE = "rule"
    SKIPPED = "skipped"
    DATA_MISSING = "data_missing"

    def __str__(self) -> str:
        return self.value

    @property
    def label(self) -> str:
        """How reports name it ("not implemented yet")."""
        return _LABELS[self]

    @property
    def icon(self) -> tuple[str, str]:
        """The terminal's icon and its style."""
        return _ICONS.get(self, ("✘", "red"))

    @property
    def markdown_icon(self) -> str:
        return _MARKDOWN_ICONS.get(self, "❌")

    @property
    def students_fault(self) -> bool:
        """False when the grader, not the submission, lacks something (the dataset)."""
        return self is not Outcome.DATA_MISSING


_LABELS = {
    Outcome.PASSED: "passed", Outcome.FAILED: "failed", Outcome.ERROR: "grader error",
    Outcome.NOT_IMPLEMENTED: "not implemented yet", Outcome.MISSING: "missing", Outcome.TIMEOUT: "timed out",
    Outcome.CRASH: "crashed", Outcome.RULE: "rule broken", Outcome.SKIPPED: "skipped",
    Outcome.DATA_MISSING: "data missing",
}
_ICONS = {Outcome.PASSED: ("✔", "green"), Outcome.NOT_IMPLEMENTED: ("…", "yellow"), Outcome.SKIPPED: ("-", "dim"),
          Outcome.DATA_MISSING: ("?", "yellow")}
_MARKDOWN_ICONS = {Outcome.PASSED: "✅", Outcome.NOT_IMPLEMENTED: "⏳"}
OUTCOMES = tuple(o.value for o in Outcome)


@dataclass
class Diagnosis:
    """A typical mistake the failing output matches."""

    name: str
    message: str
    hint: str = ""
    also: tuple[str, ...] = ()  # other mistakes that give the same result on the evidence (messages)

    def __post_init__(self):
        self.also = tuple(self.also)  # a list, when read back from JSON


@dataclass
class Counterexample:
    """A failing input (the smallest hypothesis found, when it shrank it), and what came back for it."""

    inputs: dict[str, str]  # argument name -> readable value
    call: str | None = None  # e.g. "conv2d(image, kernel, stride=2)"
    expected: str | None = None
    got: str | None = None
    shrunk: bool = False  # hypothesis shrank it; else a fixed input, or the first failing one as drawn

    @property
    def heading(self) -> str:
        if not self.inputs:
            return "input"
        return "smallest failing input" if self.shrunk else "failing input"


@dataclass
class CheckResult:
    name: str
    title: str
    score: float
    max_score: float
    outcome: Outcome  # a plain string is turned into one
    message: str = ""
    functions: tuple[str, ...] = ()
    counterexample: Counterexample | None = None
    diagnosis: Diagnosis | None = None
    frames: list[list] = field(default_factory=list)  # the student's own traceback frames
    hidden: bool = False
    examples: int = 0  # calls into the submission
    duration: float = 0.0
    details: dict = field(default_factory=dict)  # JSON-ready data the check measured (exercise11: confusion matrix)

    def __post_init__(self):
        self.outcome = Outcome(self.outcome)

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED

    def to_dict(self) -> dict:
        d = asdict(self)
        d["outcome"] = self.outcome.value
        d["status"] = "passed" if self.passed else "failed"
        d["functions"] = list(self.functions)
        if not d["details"]:  # most checks measure nothing beyond pass or fail
            del d["details"]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "CheckResult":
        """Rebuild a result from ``to_dict()``'s JSON (derived keys such as ``status`` are ignored)."""
        c = _known(cls, d)
        c["functions"] = tuple(c.get("functions", ()))
        if c.get("counterexample") is not None:
            c["counterexample"] = Counterexample(**_known(Counterexample, c["counterexample"]))
        if c.get("diagnosis") is not None:
            c["diagnosis"] = Diagnosis(**_known(Diagnosis, c["diagnosis"]))
        return cls(**c)

    @classmethod
    def not_run(cls, name: str, title: str, points: float, functions: tuple[str, ...], outcome: str, why: str, *,
                hidden: bool = False) -> "CheckResult":
        """A check the grading never reached (its process was stopped): no points, and why."""
        return cls(name=name, title=title, score=0.0, max_score=points, outcome=outcome, message=f"not run: {why}",
                   functions=tuple(functions), hidden=hidden)


@dataclass
class ExerciseResult:
    exercise: str
    title: str
    submission: str
    sha256: str
    checks: list[CheckResult]
    notes: list[str] = field(default_factory=list)  # load errors, skipped cells, rule findings
    output: str = ""  # what the submission printed (bounded)
    sandbox: str = ""  # how the worker was isolated (process.Isolation.describe())
    instructor: bool = False
    hidden_skipped: int = 0  # hidden checks left out of a student's run (counted, never named)
    hidden_points_skipped: float = 0.0
    grader_version: str = ""
    duration: float = 0.0

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 6)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks), 6)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def to_dict(self) -> dict:
        return {
            "exercise": self.exercise, "title": self.title, "submission": self.submission, "sha256": self.sha256,
            "score": self.score, "max_score": self.max_score, "passed": self.passed,
            "checks": [c.to_dict() for c in self.checks], "notes": list(self.notes), "output": self.output,
            "sandbox": self.sandbox, "instructor": self.instructor, "hidden_skipped": self.hidden_skipped,
            "hidden_points_skipped": self.hidden_points_skipped, "grader_version": self.grader_version,
            "duration": self.duration,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "ExerciseResult":
        """Rebuild a result from ``to_dict()``'s JSON (score, max_score and passed are derived again)."""
        fields = _known(cls, d)
        fields["checks"] = [CheckResult.from_dict(c) for c in d.get("checks", [])]
        return cls(**fields)


def _known(cls, d: dict) -> dict:
    """The keys of ``d`` that are fields of the dataclass ``cls``."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in d.items() if k in names}


def min_points(min_score: str | float, max_score: float) -> float:
    """Return the points ``--min-score`` asks for: points ("12") or a share of ``max_score`` ("80%").

    A share lets one threshold serve exercises of different sizes (a CI job grading several).
    Raises ValueError for anything else.
    """
    text = str(min_score).strip()
    share = text.endswith("%")
    try:
        value = float(text.removesuffix("%"))
    except ValueError:
        raise ValueError(f"--min-score {text!r}: give points (12) or a share of the points (80%)") from None
    if not value >= 0 or (share and value > 100):
        raise ValueError(f"--min-score {text!r}: points must be ≥ 0 and a share between 0% and 100%")
    return round(max_score * value / 100, 6) if share else value
