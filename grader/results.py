"""The grading results: small dataclasses, from one check up to one exercise.

Rendering is separate (``grader.report``): these hold plain, JSON-ready data, already
formatted for reading where they show student values, so that two runs on the same
submission compare equal (timings aside).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# what happened in a check, beyond passed/failed
OUTCOMES = ("passed", "failed", "error", "not_implemented", "missing", "timeout", "crash", "rule", "skipped",
            "data_missing")


@dataclass
class Diagnosis:
    """A typical mistake the failing output matches."""

    name: str
    message: str
    hint: str = ""


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
    outcome: str  # one of OUTCOMES
    message: str = ""
    functions: tuple[str, ...] = ()
    counterexample: Counterexample | None = None
    diagnosis: Diagnosis | None = None
    frames: list[list] = field(default_factory=list)  # the student's own traceback frames
    hidden: bool = False
    examples: int = 0  # calls into the submission
    duration: float = 0.0
    details: dict = field(default_factory=dict)  # JSON-ready data the check measured (exercise11: confusion matrix)

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["status"] = "passed" if self.passed else "failed"
        d["functions"] = list(self.functions)
        if not d["details"]:  # most checks measure nothing beyond pass or fail
            del d["details"]
        return d


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
