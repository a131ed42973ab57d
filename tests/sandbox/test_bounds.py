"""Everything that comes back from the worker is bounded: a function returning a 20 MB string
fails its check in a second with one clear line, and no report grows with what it returned."""

import time

import numpy as np
import pytest

from grader.report import render_text
from grader.results import CheckResult, Counterexample, ExerciseResult
from grader.sandbox import protocol
from grader.sandbox.proxy import Abort, LoadReport, Submission

EX = "exercise03"
HUGE = 'x' * 20_000_000


def test_a_relu_returning_a_20_mb_string_fails_that_check_in_seconds_and_the_other_checks_pass(
        grade_text, solution_text, mutate, within):
    text = mutate(solution_text(EX), "def relu(x):\n", "def relu(x):\n    return 'x' * 20_000_000\n")
    started = time.monotonic()
    with within(60):
        result = grade_text(EX, text, instructor=True)
        reports = {fmt: render_text(result, fmt) for fmt in ("json", "rich", "markdown", "junit")}
    assert time.monotonic() - started < 15
    failed = [c for c in result.checks if not c.passed]
    assert [c.functions for c in failed] == [("relu",)]
    assert failed[0].message == ("relu: the result could not be sent back: too large to grade: a string of "
                                 "20,000,000 characters (at most 100,000)")
    assert result.score == result.max_score - failed[0].max_score
    assert max(len(r) for r in reports.values()) < 1_000_000


def test_the_grader_refuses_long_strings_and_huge_trees_whatever_the_worker_encoded():
    with pytest.raises(protocol.ValueTooLarge) as error:
        protocol.decode({"$dict": [["key", "x" * 100_001]]}, [])
    assert str(error.value) == "too large to grade: a string of 100,001 characters (at most 100,000)"
    with pytest.raises(protocol.ValueTooLarge, match="more than 2,000,000 values"):
        protocol.decode([0] * 2_000_001, [])
    assert protocol.decode(["x" * 100_000, [0] * 1_000_000], [])[0] == "x" * 100_000  # at the limits: fine


def test_a_frame_holding_a_20_mb_string_is_refused_before_its_json_is_parsed():
    reader = protocol.FrameReader()
    frame = protocol.pack({"op": "call", "value": HUGE}, [])  # packed as a request: pack lets it through
    with pytest.raises(protocol.ProtocolError, match="frame too large"):
        reader.feed(frame[:12])
        reader.take()
    with pytest.raises(protocol.ValueTooLarge, match="too large to grade: a reply of 20,000,0"):
        protocol.pack({"ok": True, "value": HUGE}, [])  # the worker's reply: refused where it is made


class _Worker:
    """A worker that has loaded ``relu`` and answers every call with ``reply``."""

    def __init__(self, reply):
        self.reply, self.closed, self.output = reply, False, ""
        self._out = bytearray()

    def alive(self):
        return not self.closed

    def request(self, message, blobs=None, *, timeout, cpu=None):
        return self.reply, []

    def close(self):
        self.closed = True


@pytest.mark.parametrize("reply, says", [
    ({"ok": True, "value": "x" * 200_000},
     "relu returned a value too large to grade: a string of 200,000 characters (at most 100,000)"),
    ({"ok": True, "value": {"$tuple": [[0] * 2_000_001]}},
     "relu returned a value too large to grade: more than 2,000,000 values in lists, tuples and dicts "
     "(an array is fine)"),
], ids=["a long string", "two million numbers"])
def test_a_value_too_large_from_a_tampered_worker_fails_the_call_and_keeps_the_worker(reply, says):
    sub = Submission([])
    sub.worker, sub.load = _Worker(reply), LoadReport(names={"relu": "function"})
    with pytest.raises(Abort) as error:
        sub.relu(np.zeros(3))
    assert (error.value.kind, error.value.message) == ("protocol", says)
    assert not sub.worker.closed


def test_a_students_error_message_of_20_mb_is_cut_to_100_000_characters():
    sub = Submission([])
    sub.worker = _Worker({"ok": False, "error": {"type": "ValueError", "message": HUGE, "frames": [["f", 1, "g", ""]] * 500}})
    sub.load = LoadReport(names={"relu": "function"})
    with pytest.raises(Exception) as error:
        sub.relu(1)
    assert len(error.value.message) == 100_000 and len(error.value.frames) == 20


def test_every_report_shows_at_most_a_few_thousand_characters_of_one_value():
    check = CheckResult(name="relu_works", title="relu works", score=0, max_score=1, outcome="failed",
                        message="relu raised ValueError: " + HUGE[:5_000_000], functions=("relu",),
                        counterexample=Counterexample({"x": HUGE[:3_000_000]}, "relu(x)", "[0.]", HUGE[:3_000_000]),
                        frames=[["exercise03.py", 3, "relu", HUGE[:1_000_000]]])
    result = ExerciseResult(EX, "Convolution by hand", "exercise03.py", "ab" * 32, [check],
                            notes=["cell 3 raised " + HUGE[:2_000_000]])
    for fmt in ("json", "rich", "markdown", "junit"):
        text = render_text(result, fmt, verbose=True) if fmt == "rich" else render_text(result, fmt)
        assert len(text) < 100_000, fmt
        assert "4,996,024 more characters" in text and "2,996,000 more characters" in text, fmt
