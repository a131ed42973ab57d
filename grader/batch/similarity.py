"""Pairs of submissions that share suspiciously much code: a list to look at, never a verdict.

copydetect (the winnowing fingerprints of Schleimer, Wilkerson and Aiken's MOSS) compares the
submissions: each file is tokenised with names, strings and comments replaced by a letter per
kind (renaming variables or rewording comments changes nothing), its k-grams hashed and
winnowed; the fingerprints of the released exercise file (signatures, docstrings, the code
every student starts from) are removed first, so that what every student shares does not
count. Reordered functions keep their fingerprints, so they are found too.

A pair's similarity is the larger of the two shares "tokens of this file also in the other"
(one student copying another's whole file and adding their own is still found). Files with
fewer than ``MIN_TOKENS`` tokens of their own (a stub, an empty notebook) are left out: they
share the template and little else. Pairs at or above ``THRESHOLD`` are listed, most similar
first, each with a side-by-side page that highlights the shared code. Correct solutions of a
small exercise look alike to some degree; the threshold is set so that independently written
ones stay below it (``tests/batch/test_similarity.py`` measures both sides).
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from ..collect import SubmissionError, read_submission
from ..registry import ExerciseInfo

NOISE = 25  # k: characters of filtered code in one fingerprint (copydetect's noise threshold)
WINDOW = 1  # winnowing window: 1 keeps every k-gram (exact; classes are small enough)
THRESHOLD = 0.9
MIN_TOKENS = 200  # filtered characters of a file's own code, boilerplate removed
MAX_LISTED = 50


@dataclass
class Pair:
    """Two students whose files share ``similarity`` of their own code."""

    a: str
    b: str
    name_a: str
    name_b: str
    similarity: float  # the larger of the two shares
    shares: tuple[float, float]
    page: str = ""  # the side-by-side page, relative to the exercise's output folder
    code: tuple[str, str] = ("", "")
    slices: tuple = field(default=(), repr=False)  # copydetect's copied slices in each file


def _code(path: Path) -> str | None:
    try:
        return read_submission(path).text
    except (SubmissionError, OSError):
        return None


def fingerprints(codes: dict[str, str], boilerplate: str):
    """Return copydetect's fingerprint of each code (``.py`` tokens), the boilerplate's removed."""
    import numpy as np
    from copydetect.detector import CodeFingerprint

    base = CodeFingerprint("exercise.py", NOISE, 1, fp=io.StringIO(boilerplate))
    skip = np.unique(np.array(list(base.hashes)))
    return {key: CodeFingerprint("submission.py", NOISE, WINDOW, boilerplate=skip, fp=io.StringIO(text))
            for key, text in codes.items()}


def similar_pairs(students: list, exercise: ExerciseInfo, *, threshold: float = THRESHOLD) -> list[Pair]:
    """Return the pairs of ``students`` (discovered, with a ``file``) at or above ``threshold``,
    most similar first (at most ``MAX_LISTED``).

    Files with the same fingerprints (the same code, comments and names aside) are compared
    once: a class where many hand in the lecture's solution costs no more than one that does not.
    """
    from copydetect.detector import compare_files

    codes = {s.id: text for s in students if s.file is not None and (text := _code(s.file)) is not None}
    names = {s.id: s.name for s in students}
    prints = {k: f for k, f in fingerprints(codes, exercise.exercise_file()).items() if f.token_coverage >= MIN_TOKENS}
    groups: dict[frozenset, list[str]] = {}
    for key in sorted(prints):
        groups.setdefault(frozenset(prints[key].hashes), []).append(key)
    found: list[tuple[float, tuple[float, float], str, str]] = []
    for members in groups.values():  # the same fingerprints: all of the code is shared
        found += [(1.0, (1.0, 1.0), a, b) for a, b in combinations(members, 2)]
    for first, second in combinations(list(groups.values()), 2):
        fa, fb = prints[first[0]], prints[second[0]]
        if len(fa.hashes & fb.hashes) < threshold * min(len(fa.hashes), len(fb.hashes)) * 0.5:
            continue  # cannot reach the threshold: skip the exact count
        _, shares, _ = compare_files(fa, fb)
        if max(shares) >= threshold:
            found += [(float(max(shares)), (float(shares[0]), float(shares[1])), a, b) for a in first for b in second]
    found.sort(key=lambda t: (-t[0], min(t[2], t[3]), max(t[2], t[3])))
    pairs = []
    for share, shares, a, b in found[:MAX_LISTED]:
        a, b, shares = (a, b, shares) if a < b else (b, a, shares[::-1])
        _, _, slices = compare_files(prints[a], prints[b])  # where the shared code is, for the page
        pairs.append(Pair(a, b, names.get(a, ""), names.get(b, ""), round(share, 3),
                          (round(shares[0], 3), round(shares[1], 3)), code=(codes[a], codes[b]), slices=slices))
    return pairs


def _highlighted(code: str, slices) -> str:
    from copydetect.utils import highlight_overlap

    if slices is None or len(slices) == 0 or slices.shape[-1] == 0:
        return html.escape(code)
    text, _ = highlight_overlap(code, slices, "<mark>", "</mark>", escape_html=True)
    return text


def page_name(pair: Pair) -> str:
    safe = lambda s: re.sub(r"[^\w.-]", "_", s)[:60]  # noqa: E731
    return f"{safe(pair.a)}--{safe(pair.b)}.html"


def write_pages(pairs: list[Pair], folder: Path) -> list[Path]:
    """Write one side-by-side page per pair into ``folder`` (``similarity/``); set each pair's ``page``."""
    from ..report.page import _environment

    written = []
    if pairs:
        folder.mkdir(parents=True, exist_ok=True)
    template = _environment().get_template("similar.html.j2")
    for pair in pairs:
        left, right = (_highlighted(code, slices) for code, slices in zip(pair.code, pair.slices))
        path = folder / page_name(pair)
        path.write_text(template.render(pair=pair, left=left, right=right), encoding="utf-8")
        pair.page = f"{folder.name}/{path.name}"
        written.append(path)
    return written
