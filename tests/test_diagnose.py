"""grader.engine.diagnose: two typical mistakes that look alike on the shown input are told apart, or named together."""

import numpy as np

from grader.engine.diagnose import diagnose
from grader.engine.replay import Failure
from grader.kit import Mismatch, Mistake
from grader.kit.check import CheckSpec
from grader.sandbox.proxy import CallRecord

# the function is "double x"; two wrong versions agree on [1, 1] but not on [1, 2]
SQUARE = Mistake("square", "f", "you squared and added", wrong=lambda x: x * x + 1)
PLUS_ONE = Mistake("plus one", "f", "you added one instead of doubling", wrong=lambda x: x + 1)


def _spec() -> CheckSpec:
    return CheckSpec(name="c", title="c", points=1, functions=("f",), fn=lambda sub: None)


def _failing(x: np.ndarray, got: np.ndarray) -> tuple[Failure, CallRecord]:
    record = CallRecord("f", (x,), {}, result=got)
    return Failure({"x": x}, Mismatch("f(x)", "value", "differs", expected=2 * x, got=got), [record], shrunk=True), record


def test_mistakes_alike_on_the_failing_input_are_told_apart_by_the_checks_other_calls():
    # a student who adds one: the failing (shrunk) input is [1, 1], where squaring-and-adding-one agrees;
    # an earlier call on [0.5, 0.5] (whose result the check judged too) tells them apart
    failure, record = _failing(np.array([1.0, 1.0]), np.array([2.0, 2.0]))  # 1 + 1 = 2 = 1·1 + 1
    other = CallRecord("f", (np.array([0.5, 0.5]),), {}, result=np.array([1.5, 1.5]))
    found = diagnose([SQUARE, PLUS_ONE], _spec(), [failure], calls=[other, record])
    assert (found.name, found.also) == ("plus one", ())


def test_mistakes_no_call_tells_apart_are_named_together():
    failure, record = _failing(np.array([1.0, 1.0]), np.array([2.0, 2.0]))
    found = diagnose([SQUARE, PLUS_ONE], _spec(), [failure], calls=[record])
    assert found.name == "square"  # the checks module's order
    assert found.also == ("you added one instead of doubling",)


def test_a_diagnosis_with_alternatives_survives_its_json():
    from grader.results import CheckResult, Diagnosis

    c = CheckResult(name="c", title="c", score=0, max_score=1, outcome="failed",
                    diagnosis=Diagnosis("square", "you squared", also=("you added one",)))
    back = CheckResult.from_dict(c.to_dict())
    assert back.diagnosis == c.diagnosis
