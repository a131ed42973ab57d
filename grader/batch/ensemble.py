"""The teams' models together: a deep ensemble of a class's submissions on the hidden test split.

A check that grades a trained model on a hidden split may keep the model's log-probabilities
in its details (``log_probabilities``: one row per image, in the order its checks module's
``hidden_labels(data_dir)`` gives the labels in; exercise14 does, in the order of the test
faces' ids). ``grade batch`` then averages the predicted probabilities of every team's model
(a deep ensemble, the course's last week) and judges it against each member and the mean
member: accuracy, balanced accuracy, macro-F1, NLL and expected calibration error
(``reference.measures``, numpy only). The probabilities are plain numbers that each team's
worker sent back while it was graded, so nothing is graded twice and nothing of the teams' runs
here; the labels are read here and never left the grader.

Who takes part: every team whose model was scored and gave finite probabilities. Left out, and
named with the reason:

- a predictions CSV. It names one person per image and no probabilities; read as one-hot
  probabilities, each of its wrong answers would cost the NLL's clip (27.6 nats) and its
  confidence would always be 1, swamping the NLL and the ECE the ensemble is judged on. A
  hard vote would be another ensemble, without NLL or ECE. The CSV teams are ranked on the
  leaderboard as usual;
- a submission that could not be scored (the leaderboard's reason), or whose logits were not
  finite;
- probabilities for another number of images or classes than the test split has (a gradebook
  row graded on other data).

With fewer than two members there is no ensemble, and a note says why.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from grader.reference.measures import ensemble as judge_ensemble

from .gradebook import Row

FIGURES = ("balanced_accuracy", "accuracy", "macro_f1", "nll", "ece")
CSV_REASON = "a predictions CSV: one person per image, no probabilities"


@dataclass(frozen=True)
class Member:
    """One team's model in the ensemble and its own figures."""

    team: str
    name: str
    figures: dict  # FIGURES


@dataclass(frozen=True)
class LeftOut:
    team: str
    name: str
    reason: str


@dataclass(frozen=True)
class TeamEnsemble:
    """The ensemble of the teams' models, its members (best balanced accuracy first) and who is not in it."""

    exercise: str
    n_images: int
    classes: list[str]
    members: list[Member]
    mean_member: dict
    ensemble: dict
    left_out: list[LeftOut]

    @property
    def k(self) -> int:
        return len(self.members)

    def to_dict(self) -> dict:
        return {"exercise": self.exercise, "n_images": self.n_images, "classes": list(self.classes), "k": self.k,
                "rule": "the mean of the members' predicted probabilities (deep ensemble); predictions CSVs and "
                        "submissions that could not be scored take no part",
                "ensemble": dict(self.ensemble), "mean_member": dict(self.mean_member),
                "members": [asdict(m) for m in self.members], "left_out": [asdict(x) for x in self.left_out]}

    @classmethod
    def from_dict(cls, d: dict) -> TeamEnsemble:
        return cls(d["exercise"], int(d["n_images"]), list(d["classes"]), [Member(**m) for m in d["members"]],
                   dict(d["mean_member"]), dict(d["ensemble"]), [LeftOut(**x) for x in d["left_out"]])


def _measure_details(row: Row) -> dict | None:
    """The details of the row's check that judged the whole split (kind, measures), or None."""
    for check in (row.result or {}).get("checks", []):
        details = check.get("details") or {}
        if "kind" in details or "log_probabilities" in details:
            return details
    return None


def has_probabilities(rows: list[Row]) -> bool:
    """Does any row keep a model's log-probabilities (is there an ensemble to make)?"""
    return any("log_probabilities" in (_measure_details(r) or {}) for r in rows)


def probabilities_of(row: Row, n: int, k: int) -> tuple[np.ndarray | None, str]:
    """(the team model's probabilities (n, k), "") or (None, why it takes no part)."""
    from .leaderboard import halves_of

    details = _measure_details(row)
    if details is None or not row.result:
        return None, f"not scored: {halves_of(row)[2]}"
    if details.get("kind") == "csv":
        return None, CSV_REASON
    if isinstance(details.get("no_probabilities"), str):
        return None, f"no probabilities: {details['no_probabilities'][:120]}"
    if "log_probabilities" not in details:
        return None, "no probabilities kept (graded by an older grader: regrade it)"
    try:
        logp = np.asarray(details.get("log_probabilities"), dtype=np.float64)                # (n, k)
    except (TypeError, ValueError):
        return None, "its probabilities could not be read"
    if logp.shape != (n, k):
        return None, f"probabilities of shape {logp.shape}, not ({n}, {k}): graded on other data? regrade it"
    if not np.all(np.isfinite(logp)):
        return None, "no probabilities: they hold NaN or infinity"
    p = np.exp(logp)
    return p / p.sum(axis=1, keepdims=True), ""                                            # rounding undone


def combine(rows: list[Row], labels: np.ndarray, classes: list[str], exercise: str) -> TeamEnsemble | None:
    """The ensemble of every row's model against ``labels`` (in the details' order); None when
    fewer than two teams' models have probabilities."""
    n, k = len(labels), len(classes)
    probs, members, left_out = [], [], []
    for row in sorted(rows, key=lambda r: r.student):
        p, reason = probabilities_of(row, n, k)
        if p is None:
            left_out.append(LeftOut(row.student, row.name or row.student, reason))
        else:
            probs.append(p)
            members.append(row)
    if len(probs) < 2:
        return None
    judged = judge_ensemble(probs, np.asarray(labels))
    four = lambda figures: {key: round(float(figures[key]), 4) for key in FIGURES}     # noqa: E731
    ranked = sorted(zip(members, map(four, judged["members"])), key=lambda t: (-t[1]["balanced_accuracy"],
                                                                    (t[0].name or t[0].student).lower(), t[0].student))
    return TeamEnsemble(exercise, n, list(classes), [Member(r.student, r.name or r.student, f) for r, f in ranked],
                        four(judged["mean_member"]), four(judged["ensemble"]),
                        sorted(left_out, key=lambda x: (x.name.lower(), x.team)))


def of_batch(rows: list[Row], exercise: str, data_dir=None) -> tuple[TeamEnsemble | None, str]:
    """(the class's ensemble or None, a note for the instructor: why none, or its headline)."""
    if not has_probabilities(rows):
        return None, ""
    from grader.data import DataError

    checks = importlib.import_module(f"grader.checks.{exercise}")
    try:
        labels, classes = checks.hidden_labels(data_dir)
    except (DataError, OSError) as e:
        return None, f"no ensemble of the teams' models: the test labels could not be read ({e})"
    built = combine(rows, labels, classes, exercise)
    if built is None:
        return None, "no ensemble of the teams' models: fewer than two models with probabilities"
    return built, headline(built)


def headline(e: TeamEnsemble) -> str:
    """One line: the ensemble against its mean and best member."""
    best = e.members[0].figures
    return (f"ensemble of the {e.k} teams' models on {e.n_images} test images: balanced accuracy "
            f"{e.ensemble['balanced_accuracy']:.3f} (mean member {e.mean_member['balanced_accuracy']:.3f}, best "
            f"{best['balanced_accuracy']:.3f}), NLL {e.ensemble['nll']:.3f} (mean member {e.mean_member['nll']:.3f}), "
            f"ECE {e.ensemble['ece']:.3f} (mean member {e.mean_member['ece']:.3f})")


def write_json(e: TeamEnsemble, path: Path) -> Path:
    path.write_text(json.dumps(e.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path

