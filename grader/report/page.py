"""The feedback a student reads after the instructor grades: an HTML page and the same in Markdown.

One context (``feedback_context``) from the grading result, two jinja2 templates
(``templates/feedback.html.j2``, ``feedback.md.j2``): the exercise and the student, the score
and a short summary first; then the checks; then each cause of lost points once (by
``fmt.failure_groups``: a syntax error is explained once, with the checks it cost), its
counterexample as a small table, expected beside got, the likely mistake and a hint. Hidden
checks count in the score; their names and failures are shown only when the instructor
publishes them (``publish_hidden``). The page is one self-contained file that prints well.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

from ..results import CheckResult, ExerciseResult
from .fmt import clip, failure_groups, not_implemented, points
from .markdown import _code_block, _inline as _md

PLURAL = {True: "s", False: ""}


def _lost(checks: list[CheckResult]) -> float:
    return round(sum(c.max_score - c.score for c in checks), 6)


def _cause(c: CheckResult) -> str:
    """What went wrong, in a few words: the typical mistake's name, else what happened."""
    if c.diagnosis is not None:
        return c.diagnosis.name
    return c.outcome.label


def _headline(shown: CheckResult, others: list[CheckResult]) -> str:
    """The heading of a cause: the check's title, or (a crash, timeout or rule that cost several
    checks) what happened, from the message's first clause ("your file has a syntax error, …")."""
    if not others or shown.diagnosis is not None or not shown.message:
        return shown.title
    first = shown.message.split(" — ")[0].split("\n")[0].strip()
    return clip(first[:1].upper() + first[1:], 160) if first else shown.title


def _group(shown: CheckResult, others: list[CheckResult]) -> dict:
    ce = shown.counterexample
    frame = shown.frames[-1] if shown.frames else None
    return {
        "title": _headline(shown, others),
        "function": (shown.functions or ("",))[0],
        "cause": _cause(shown),
        "outcome": str(shown.outcome),
        "message": clip(shown.message),
        "where": None if frame is None else {"file": clip(str(frame[0]), 300), "line": frame[1],
                                              "function": clip(str(frame[2]), 300), "code": clip(str(frame[3] or ""))},
        "counterexample": None if ce is None else {
            "heading": ce.heading, "inputs": [(clip(k, 200), clip(v)) for k, v in ce.inputs.items()],
            "call": clip(ce.call) if ce.call else None,
            "expected": None if ce.expected is None else clip(ce.expected),
            "got": None if ce.got is None else clip(ce.got)},
        "diagnosis": None if shown.diagnosis is None else {"message": clip(shown.diagnosis.message),
                                                           "hint": clip(shown.diagnosis.hint)},
        "checks": [shown.title] + [o.title for o in others],
        "lost": points(_lost([shown, *others])),
    }


def feedback_context(result: ExerciseResult | None, *, exercise: str, title: str = "", student: str,
                     name: str = "", late: bool = False, publish_hidden: bool = False, not_graded: str = "",
                     max_score: float = 0.0) -> dict:
    """Everything the templates show, as plain values (strings already clipped)."""
    base = {"exercise": exercise, "title": title, "student": student, "name": name, "late": late,
            "not_graded": not_graded}
    if result is None:
        return {**base, "graded": False, "score": "0", "max_score": points(max_score), "fraction": 0.0,
                "summary": [clip(not_graded[:1].upper() + not_graded[1:])], "checks": [], "groups": [], "todo": [],
                "notes": [], "hidden": None, "file": "", "passed": False, "grader_version": "", "sha256": ""}
    hidden = [c for c in result.checks if c.hidden]
    visible = result if publish_hidden else dataclasses.replace(result, checks=[c for c in result.checks if not c.hidden])
    groups = [_group(shown, others) for shown, others in failure_groups(visible)]
    todo = not_implemented(visible)
    summary = []
    lost = _lost(result.checks)
    if result.passed:
        summary.append("Every check passed.")
    else:
        causes = len(groups) + (1 if todo else 0)
        summary.append(f"You lost {points(lost)} of {points(result.max_score)} point{PLURAL[result.max_score != 1]}"
                       + (f" to {causes} cause{PLURAL[causes != 1]}" if causes else "") + ".")
        if todo:
            summary.append(f"Not implemented yet: {', '.join(todo)}.")
        summary += [f"{g['title'] if g['outcome'] != 'failed' and len(g['checks']) > 1 else g['function'] or g['title']}"
                    f"{'' if g['outcome'] != 'failed' and len(g['checks']) > 1 else ': ' + g['cause']} "
                    f"({len(g['checks'])} check{PLURAL[len(g['checks']) != 1]}, "
                    f"{g['lost']} point{PLURAL[g['lost'] != '1']})" for g in groups]
    hidden_info = None
    if hidden and not publish_hidden:
        hidden_info = {"count": len(hidden), "score": points(sum(c.score for c in hidden)),
                       "max_score": points(sum(c.max_score for c in hidden)),
                       "passed": sum(c.passed for c in hidden)}
    return {
        **base, "graded": True, "title": result.title or title, "score": points(result.score),
        "max_score": points(result.max_score), "passed": result.passed,
        "fraction": result.score / result.max_score if result.max_score else 0.0,
        "summary": summary, "todo": todo, "notes": [clip(n) for n in result.notes], "groups": groups,
        "checks": [{"title": c.title, "score": points(c.score), "max_score": points(c.max_score), "passed": c.passed,
                    "outcome": c.outcome.label, "icon": "✔" if c.passed else "…" if c.outcome == "not_implemented" else "✘",
                    "hidden": c.hidden} for c in visible.checks],
        "hidden": hidden_info, "file": result.submission, "grader_version": result.grader_version,
        "sha256": result.sha256[:12],
    }


@lru_cache(maxsize=None)
def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("grader.report", "templates"),
                              autoescape=jinja2.select_autoescape(["html.j2"]), trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


def _s(n) -> str:
    return "" if str(n) == "1" else "s"


def render_html(context: dict) -> str:
    """The page (``templates/feedback.html.j2``)."""
    return _environment().get_template("feedback.html.j2").render(**context)


def render_markdown(context: dict) -> str:
    """The same content as ``render_html``, as Markdown (a feedback file, an LMS comment)."""
    c = context
    heading = f"# {_md(c['exercise'])}" + (f" — {_md(c['title'])}" if c["title"] else "")
    who = _md(c["name"] or c["student"]) + (f" ({_md(c['student'])})" if c["name"] and c["name"] != c["student"] else "")
    blocks = [f"{heading}: {c['score']}/{c['max_score']} points",
              who + (" · **handed in late**" if c["late"] else "")]
    if c["file"]:
        blocks.append(f"graded file: `{_md(c['file'])}`")
    summary = [f"**{_md(c['summary'][0])}**"] + [f"- {_md(line)}" for line in c["summary"][1:]]
    if c["hidden"]:
        h = c["hidden"]
        summary.append(f"- {h['count']} hidden check{_s(h['count'])}, shown when your instructor publishes them: "
                       f"{h['score']}/{h['max_score']} point{_s(h['max_score'])}")
    blocks.append("\n".join(summary))
    blocks += [f"> **note:** {_md(note)}" for note in c["notes"]]
    if c["checks"]:
        rows = [f"| {x['icon']} | {_md(x['title'])}{' *(hidden)*' if x['hidden'] else ''}"
                f"{'' if x['passed'] else ' — ' + x['outcome']} | {x['score']}/{x['max_score']} |" for x in c["checks"]]
        blocks += ["## Checks", "\n".join(["| | check | points |", "| --- | --- | ---: |", *rows])]
    if c["todo"]:
        blocks.append(f"**Not implemented yet:** {_md(', '.join(c['todo']))}")
    if c["groups"]:
        blocks.append("## What cost points")
    for g in c["groups"]:
        blocks.append(f"### ✘ {_md(g['title'])}")
        if len(g["checks"]) > 4:
            blocks.append(f"*This one cause cost {len(g['checks'])} checks, all marked ✘ above ({g['lost']} points).*")
        elif len(g["checks"]) > 1:
            blocks.append(f"*This one cause cost {len(g['checks'])} checks ({g['lost']} point{_s(g['lost'])}): "
                          f"{_md('; '.join(g['checks']))}.*")
        lines = [g["message"]]
        if w := g["where"]:
            lines.append(f"at {w['file']}, line {w['line']}, in {w['function']}" + (f": {w['code']}" if w["code"] else ""))
        if ce := g["counterexample"]:
            if ce["inputs"]:
                lines.append(f"\n{ce['heading']}:")
                lines += [f"  {key} = {value}" for key, value in ce["inputs"]]
            lines += [f"  {label}: {ce[key]}" for key, label in (("call", "call"), ("expected", "expected"), ("got", "got"))
                      if ce[key] is not None]
        blocks.append(_code_block("\n".join(lines)))
        if d := g["diagnosis"]:
            blocks.append(f"**Likely mistake:** {_md(d['message'])}" + (f"  \n**Hint:** {_md(d['hint'])}" if d["hint"] else ""))
    footer = f"Graded by dlcourse-grader {_md(c['grader_version'])}." if c["graded"] else "Not graded."
    blocks.append(f"---\n{footer} Run `grade {_md(c['exercise'])}` on your own machine to see the same checks "
                  "(hidden ones excepted).")
    return "\n\n".join(blocks) + "\n"
