"""JSON output: one object, compatible with Gradescope's autograder ``results.json``.

Only the fields of Gradescope's autograder specification are used (``score``,
``execution_time``, ``output``, ``output_format``, ``test_output_format``,
``test_name_format``, ``visibility``, ``stdout_visibility``, ``extra_data``, ``tests``; for a
test ``score``, ``max_score``, ``status``, ``name``, ``output``, ``output_format``,
``visibility``, ``extra_data``). Everything else (the maximum, the counterexample, the
diagnosis, notes, what the submission printed) is kept under ``extra_data``, for other tools
(``from_json_dict`` reads it back). Every text is "text": Gradescope's default for the top
level, "simple_format", would render HTML, and these texts quote the student's code.

A test's ``visibility`` is one of Gradescope's "visible", "hidden" (never shown to the
student), "after_due_date" or "after_published" (shown once the instructor publishes the
grades). Hidden checks only run in instructor mode, whose JSON is what gets uploaded: they
are "after_published", so students never see them while they can still resubmit against
them, and learn what they missed when the grades come out.
"""

from __future__ import annotations

import json

from ..results import CheckResult, ExerciseResult
from .fmt import all_passed, also_explains, clip, clip_all, hidden_line

HIDDEN_CHECK_VISIBILITY = "after_published"


def check_output(c: CheckResult) -> str:
    """Return the plain-text feedback for one check (what Gradescope shows under it)."""
    if c.passed:
        return ""
    lines = [clip(c.message)]
    for fname, lineno, func, line in c.frames[-1:]:
        lines.append(clip(f"  at {fname}, line {lineno}, in {func}: {line}"))
    ce = c.counterexample
    if ce is not None:
        lines.append(f"{ce.heading}:")
        lines += [_labelled(f"{clip(k, 200)} =", v) for k, v in ce.inputs.items()]
        if ce.call:
            lines.append(_labelled("call:", ce.call))
        if ce.expected is not None:
            lines.append(_labelled("expected:", ce.expected))
        if ce.got is not None:
            lines.append(_labelled("got:", ce.got))
    if c.diagnosis is not None:
        lines.append(f"likely mistake: {c.diagnosis.message}")
        lines.extend(also_explains(c.diagnosis))
        if c.diagnosis.hint:
            lines.append(f"hint: {c.diagnosis.hint}")
    return "\n".join(lines)


def _labelled(label: str, value: str) -> str:
    pad = "\n" + " " * (len(label) + 3)
    return f"  {label} " + pad.join(clip(value).splitlines())


def to_json_dict(result: ExerciseResult) -> dict:
    """The Gradescope object; every string from the result is ``clip``ped (what the submission
    printed is bounded by the sandbox already)."""
    tests = []
    for c in result.checks:
        extra = clip_all(c.to_dict())
        for key in ("score", "max_score", "status", "title"):
            extra.pop(key)
        extra = {"check": extra.pop("name"), **extra}  # the test's name is the check's title
        tests.append({"name": c.title, "score": c.score, "max_score": c.max_score,
                      "status": "passed" if c.passed else "failed", "output": check_output(c), "output_format": "text",
                      "visibility": HIDDEN_CHECK_VISIBILITY if c.hidden else "visible", "extra_data": extra})
    extra = result.to_dict()
    for key in ("checks", "score"):
        del extra[key]
    printed = extra.pop("output")
    extra = clip_all(extra)
    extra["student_output"] = printed
    return {"score": result.score, "execution_time": result.duration, "output": _overall_output(result),
            "output_format": "text", "test_output_format": "text", "test_name_format": "text",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests, "extra_data": extra}


def from_json_dict(data: dict) -> ExerciseResult:
    """The result back from ``to_json_dict``'s object (a CI job's or a batch run's results.json)."""
    extra = data.get("extra_data") or {}
    checks = [{**(extra_data := t.get("extra_data") or {}), "name": extra_data.get("check", t["name"]),
               "title": t["name"], "score": t["score"], "max_score": t["max_score"]} for t in data["tests"]]
    return ExerciseResult.from_dict({**extra, "output": extra.get("student_output", ""), "checks": checks})


def _overall_output(result: ExerciseResult) -> str:
    """Return the top-level text: notes, else whether all (public) checks passed; never a hidden check's name.

    Instructor runs (the JSON uploaded to Gradescope) give no total here: the score field
    carries it, and a line such as "17/18 points" would tell a student a hidden check failed.
    """
    lines = [clip(note) for note in result.notes] or ([all_passed(result)] if result.passed else [])
    return "\n".join(lines + list(filter(None, [hidden_line(result)])))


def render(result: ExerciseResult) -> str:
    return json.dumps(to_json_dict(result), indent=2, ensure_ascii=False)
