"""A call's limit measures the student's code (CPU time), not the machine: fair on a busy laptop,
and a timeout says what the code did with its time."""

from grader.sandbox.process import Limits

EX = "exercise03"


def test_on_a_saturated_machine_the_solution_gets_full_marks(saturated, grade_text, solution_text):
    # a library call hidden in a helper is still a broken rule there too: tests/checks/test_exercise03.py
    result = grade_text(EX, solution_text(EX), functions=["conv2d", "relu", "conv_output_size"])
    assert result.score == result.max_score > 0, [(c.name, c.message) for c in result.checks if not c.passed]


def _verdict(grade_text, solution_text, body: str, **limits):
    text = solution_text(EX) + f"\n\ndef conv_output_size(n, kernel_size, stride=1, padding=0):\n    {body}\n"
    limits = {"call_timeout": 1.0, "wall_factor": 3.0, "check_timeout": 60.0, **limits}
    result = grade_text(EX, text, functions=["conv_output_size"], limits=Limits(**limits))
    return result.checks[0]


def test_a_loop_is_stopped_by_its_cpu_time_and_a_sleep_by_the_wall_clock_each_saying_so(grade_text, solution_text):
    loop = _verdict(grade_text, solution_text, "while True:\n        pass")
    assert loop.outcome == "timeout" and "did not finish within 1 s of CPU time: an endless loop" in loop.message
    nap = _verdict(grade_text, solution_text, "import time\n    time.sleep(60)")
    assert nap.outcome == "timeout" and "did not finish within 3" in nap.message and "it was waiting" in nap.message


def test_a_timeout_that_filled_the_memory_says_how_much(grade_text, solution_text):
    body = "import numpy as np\n    x = np.ones(160_000_000)\n    while True:\n        x[::4096] += 1"  # 1.2 GiB, a loop
    hog = _verdict(grade_text, solution_text, body, memory=2 << 30, call_timeout=4.0)  # time to fill 1.2 GiB
    assert hog.outcome == "timeout" and "did not finish within 4 s of CPU time" in hog.message
    assert "its memory peaked at 1.2 GiB of the 2 GiB allowed" in hog.message
