"""Hostile and broken submissions are contained: a clear per-check message, no points, no leftovers.

Each case replaces exercise03's ``conv_output_size`` in the model solution with misbehaving
code and grades the checks of conv_output_size and relu: the former must fail with the
expected outcome and message within the time limits, the latter (which does not depend on
the broken function) must still pass, and no process of the submission may outlive grading.
"""

import os
import time

from pathlib import Path

import pytest

from grader.sandbox.process import Limits

REFERENCE_FILE = str(Path(__file__).resolve().parents[2] / "reference" / "exercise03.py")

EX = "exercise03"
LIMITS = dict(call_timeout=2.0, check_timeout=3.0, exercise_timeout=60.0)

HOSTILE = {
    "hangs": ("while True:\n        pass", "timeout", "did not finish within"),
    "sleeps with signals ignored": (
        "import signal, time\n    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n    time.sleep(1000)",
        "timeout", "did not finish within"),
    "exhausts memory": ("import numpy\n    x = [numpy.empty(1 << 26) for _ in range(10_000)]\n    return len(x)", None,
                        "MemoryError"),
    "calls sys.exit": ("import sys\n    sys.exit(3)", "crash", "sys.exit(3)"),
    "calls os._exit": ("import os\n    os._exit(7)", "crash", "exited with status 7"),
    "crashes the interpreter": ("import ctypes\n    return ctypes.string_at(0)", "crash", "SIGSEGV"),
    "forks": ("import os\n    return os.fork()", None, "does not allow starting"),
    "starts a subprocess": ("import subprocess\n    return subprocess.run(['true']).returncode", None,
                            "does not allow starting"),
    "prints megabytes": ("print('x' * 20_000_000)\n    return (n + 2 * padding - kernel_size) // stride", "failed",
                         "expected"),
    "returns nan": ("return float('nan')", "failed", "expected an int"),
    "imports the reference": ("import reference.exercise03 as r\n    return r.conv_output_size(n, kernel_size, stride, padding)",
                              None, "cannot be imported"),
    "reads the reference file": (f"return len(open({REFERENCE_FILE!r}).read())", None, ""),
    "lists the reference folder": (f"import os\n    return len(os.listdir({str(Path(REFERENCE_FILE).parent)!r})) - 100",
                                   None, ""),
    "uses the network": ("import socket\n    socket.create_connection(('127.0.0.1', 9), timeout=1)", None, "network"),
}


def _worker_pids() -> set[int]:
    """Return every live process started by this test process's workers (tagged in their environment)."""
    from grader.sandbox.process import tagged_processes, warm_parent_pids

    return {pid for pid, parent in tagged_processes().items() if parent == os.getpid()} - warm_parent_pids()


@pytest.mark.parametrize("behaviour", list(HOSTILE))
def test_a_hostile_function_fails_its_own_checks_only_and_leaves_no_process(grade_text, solution_text, behaviour):
    _contained(grade_text, solution_text, behaviour, sandbox=True)


REDUCED = ["forks", "starts a subprocess", "imports the reference", "reads the reference file", "uses the network",
           "calls os._exit", "hangs"]


@pytest.mark.parametrize("behaviour", REDUCED)
def test_without_bubblewrap_the_guards_still_contain_it(grade_text, solution_text, behaviour):
    _contained(grade_text, solution_text, behaviour, sandbox=False)


def _contained(grade_text, solution_text, behaviour, sandbox):
    body, outcome, message = HOSTILE[behaviour]
    text = solution_text(EX) + f"\n\ndef conv_output_size(n, kernel_size, stride=1, padding=0):\n    {body}\n"
    before = _worker_pids()
    start = time.monotonic()
    result = grade_text(EX, text, functions=["conv_output_size", "relu"], limits=Limits(**LIMITS), sandbox=sandbox)
    elapsed = time.monotonic() - start
    broken = [c for c in result.checks if c.functions[0] == "conv_output_size"]
    others = [c for c in result.checks if c.functions[0] == "relu"]
    assert broken and all(c.score == 0 for c in broken)
    if outcome is not None:
        assert broken[0].outcome == outcome, broken[0].message
    assert message in broken[0].message + str(broken[0].counterexample), broken[0].message
    assert others and all(c.passed for c in others), [c.message for c in others]
    # two conv_output_size checks at most 3 s each, plus start-up
    assert elapsed < 2 * LIMITS["check_timeout"] + 8
    time.sleep(0.2)
    assert _worker_pids() - before == set()


def test_module_level_sabotage_does_not_forge_a_score(grade_text, solution_text):
    text = solution_text(EX) + '''
import builtins, numpy
numpy.allclose = lambda *a, **k: True
numpy.array_equal = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
builtins.abs = lambda x: 0

class _Liar(numpy.ndarray):
    def __eq__(self, other):
        return numpy.ones(numpy.shape(other), bool)

def relu(x):
    return numpy.zeros((1, 1)).view(_Liar)
'''
    result = grade_text(EX, text, functions=["relu"])
    (check,) = result.checks
    assert check.score == 0 and "subclass" in check.message


def test_a_file_that_exits_while_loading_is_reported_once_for_every_check(grade_text):
    result = grade_text(EX, "import os\nos._exit(1)\n")
    assert result.score == 0
    assert all(c.outcome == "crash" for c in result.checks)
    assert "top-level" in result.checks[0].message


def test_a_syntax_error_is_reported_with_its_line_and_nothing_runs(grade_text):
    result = grade_text(EX, "import numpy as np\n\ndef relu(x)\n    return x\n")
    assert result.score == 0
    assert "line 3" in result.checks[0].message and "SyntaxError" in result.checks[0].message


def test_an_exception_shows_the_students_own_frame(grade_text, solution_text):
    text = solution_text(EX) + "\n\ndef relu(x):\n    y = x.nonexistent\n    return y\n"
    result = grade_text(EX, text, functions=["relu"])
    (check,) = result.checks
    assert "AttributeError" in check.message
    assert check.frames and check.frames[-1][1] > 200 and "nonexistent" in check.frames[-1][3]


def test_patching_the_builtins_of_the_worker_only_breaks_the_submission(grade_text, solution_text):
    text = solution_text(EX) + "\nimport builtins\nbuiltins.isinstance = lambda *a: True\n"
    result = grade_text(EX, text, functions=["relu"])
    assert result.score == 0 and result.checks[0].outcome == "crash"
