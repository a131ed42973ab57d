"""JUnit XML for CI systems: one testsuite per exercise, one testcase per check."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..results import ExerciseResult
from .fmt import clip
from .gradescope import check_output


def to_element(result: ExerciseResult) -> ET.Element:
    failures = sum(1 for c in result.checks if not c.passed)
    suite = ET.Element("testsuite", name=result.exercise, tests=str(len(result.checks)), failures=str(failures),
                       errors="0", skipped="0", time=f"{result.duration:.3f}")
    props = ET.SubElement(suite, "properties")
    for key, value in (("score", result.score), ("max_score", result.max_score), ("submission", result.submission),
                       ("sha256", result.sha256), ("grader_version", result.grader_version)):
        ET.SubElement(props, "property", name=key, value=str(value))
    for c in result.checks:
        case = ET.SubElement(suite, "testcase", classname=result.exercise, name=c.name, time=f"{c.duration:.3f}")
        if not c.passed:
            failure = ET.SubElement(case, "failure", message=f"{clip(c.message)} ({c.score:g}/{c.max_score:g} points)",
                                    type=c.outcome)
            failure.text = check_output(c)
        ET.SubElement(case, "system-out").text = f"{c.score:g}/{c.max_score:g} points: {c.title}"
    return suite


def render(results: list[ExerciseResult] | ExerciseResult) -> str:
    if isinstance(results, ExerciseResult):
        results = [results]
    root = ET.Element("testsuites")
    for r in results:
        root.append(to_element(r))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
