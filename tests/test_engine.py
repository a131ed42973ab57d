"""The engine's replay of drawn examples, its seeds and its shrink budget.

A passing check replays the inputs hypothesis draws for it (drawn once per process), and
only a failing one runs hypothesis itself; the claims that make this safe are tested here
for every check of every exercise, against the model solutions.
"""

import inspect
import json
import pickle
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from grader import engine, registry
from grader.engine import replay
from grader.kit import Context
from grader.collect import read_submission
from grader.sandbox.process import Limits
from grader.sandbox.proxy import Submission

ROOT = Path(__file__).resolve().parents[1]
SEARCHED = [e.id for e in registry.all_exercises()
            if any(replay.is_search(s) for s in registry.load(e).checks)]


def _submission(exercise: str, path: Path) -> tuple[registry.Exercise, Submission]:
    info = registry.find_exercise(exercise)
    ex = registry.load(info)
    source = read_submission(path)
    sub = Submission([c.to_wire() for c in source.cells], limits=Limits(), preload=info.preload, hidden=(),
                     sandbox=True, stubs=frozenset())
    sub.context = Context(submission=source.path)
    sub.rules = dict(ex.rules)
    sub.start()
    return ex, sub


@pytest.mark.parametrize("exercise", SEARCHED)
def test_the_replayed_inputs_are_exactly_what_hypothesis_draws_when_every_example_passes(exercise):
    ex, sub = _submission(exercise, ROOT / "solutions" / f"{exercise}.py")
    try:
        for spec in filter(replay.is_search, ex.checks):
            n = spec.max_examples or ex.max_examples
            recorded = engine.recorded_examples(ex.id, spec, n)
            drawn = []
            hyp = spec.fn.hypothesis
            inner = hyp.inner_test

            def spy(*args, **kwargs):
                drawn.append(replay._drawn(kwargs))
                return inner(*args, **kwargs)

            hyp.inner_test = spy
            sub.log, sub.deadline = [], time.monotonic() + 120
            failures = []
            try:
                replay._search(spec, sub, failures, n, seed=engine.check_seed(ex.id, spec.name), shrink_calls=100)
            finally:
                hyp.inner_test, sub.deadline = inner, None
            assert not failures, f"{spec.name} fails on the model solution"
            assert len(recorded) == len(drawn) >= min(n, 10), spec.name
            assert [pickle.dumps(d) for d in drawn] == [pickle.dumps(r) for r in recorded], spec.name
    finally:
        sub.close()


@pytest.mark.parametrize("exercise", SEARCHED)
def test_check_bodies_never_draw_from_the_global_random_generators(exercise):
    # hypothesis seeds them around each example, the replay does not: bodies must not use them
    engine.prepare(exercise)
    random.seed(1234)
    np.random.seed(1234)
    before = random.getstate(), np.random.get_state()[1].copy()
    result = engine.grade(exercise, ROOT / "solutions" / f"{exercise}.py", instructor=True)
    assert result.score == result.max_score
    assert random.getstate() == before[0]
    assert np.array_equal(np.random.get_state()[1], before[1])


def test_a_checks_seed_comes_from_the_exercise_and_check_names_alone():
    seed = engine.check_seed("exercise03", "conv2d_handles_stride_and_padding")
    assert seed == engine.check_seed("exercise03", "conv2d_handles_stride_and_padding")
    assert seed != engine.check_seed("exercise03", "conv2d_matches_the_reference_on_single_channel_images")
    assert seed != engine.check_seed("exercise04", "conv2d_handles_stride_and_padding")
    assert 0 <= seed < 2 ** 64


def test_no_check_body_calls_assume_since_a_recording_never_runs_the_body():
    offenders = []
    for info in registry.all_exercises():
        for spec in filter(replay.is_search, registry.load(info).checks):
            if "assume(" in inspect.getsource(spec.fn.hypothesis.inner_test):
                offenders.append(f"{info.id}.{spec.name}")
    assert offenders == []


FLIPPED = ("out[f, i, j] = np.sum(window * kernel[f])", "out[f, i, j] = np.sum(window * kernel[f, :, ::-1, ::-1])")
CONV_SEARCHES = ["conv2d_matches_the_reference_on_single_channel_images", "conv2d_handles_stride_and_padding",
                 "conv2d_sums_over_channels_and_stacks_filters", "conv2d_with_a_delta_kernel_returns_the_cropped_image"]


def test_the_first_failing_search_of_a_function_shrinks_and_later_ones_show_their_first_failure(grade_text, solution_text,
                                                                                       mutate):
    result = grade_text("exercise03", mutate(solution_text("exercise03"), *FLIPPED), functions=["conv2d"])
    checks = {c.name: c for c in result.checks}
    first, *later = [checks[n] for n in CONV_SEARCHES]
    assert all(c.outcome == "failed" and c.diagnosis.name == "flipped kernel" for c in [first, *later])
    # the first: one row of two pixels, as small as it gets
    assert "(1, 2)" in first.counterexample.inputs["image"] and "(1, 2)" in first.counterexample.inputs["kernel"]
    ex = registry.load(registry.find_exercise("exercise03"))
    assert ex.shrink_calls_again == 0
    # the report says which is which: shrunk, drawn, and the lecture's fixed example
    assert first.counterexample.heading == "smallest failing input"
    assert {c.counterexample.heading for c in later} == {"failing input"}
    assert checks["conv2d_reproduces_the_lecture_examples"].counterexample.shrunk is False
    for c in later:  # replayed until the first failure, which is reported as drawn: hypothesis never ran
        assert c.examples <= ex.max_examples, (c.name, c.examples)
        assert c.counterexample.expected != c.counterexample.got


def test_a_smaller_shrink_budget_still_reports_a_real_failure_and_the_same_score(grade_text, solution_text, mutate,
                                                                                monkeypatch):
    text = mutate(solution_text("exercise03"), *FLIPPED)
    full = grade_text("exercise03", text, functions=["conv2d"])
    monkeypatch.setattr(registry.Exercise, "shrink_calls", 3)
    monkeypatch.setattr(registry.Exercise, "shrink_calls_again", 0)
    import grader.checks.exercise03 as module
    monkeypatch.delattr(module, "SHRINK_CALLS", raising=False)
    small = grade_text("exercise03", text, functions=["conv2d"])
    assert small.score == full.score
    for c in small.checks:
        if c.name in CONV_SEARCHES:
            assert c.outcome == "failed" and c.counterexample.expected != c.counterexample.got
            assert c.examples <= 2 * 30 + 3 + 1


DRAWS = """
import json, sys
sys.path.insert(0, sys.argv[1])
if sys.argv[2] == "import":
    import many_constants  # a local module full of literals, as a checkout or a notebook folder has
from grader import registry
from grader.engine import replay
ex = registry.load(registry.find_exercise("exercise08"))
spec = next(s for s in ex.checks if s.name == "glorot_uniform_limit_is_sqrt_6_over_fan_in_plus_fan_out")
drawn = replay.recorded_examples(ex.id, spec, 200)
print(json.dumps([repr(d) for d in drawn]))
"""


def test_the_examples_depend_on_the_seed_alone_not_on_what_else_the_process_imported(tmp_path):
    # hypothesis mixes literals of loaded local modules into its draws; the engine must not let it
    (tmp_path / "many_constants.py").write_text(
        "VALUES = [" + ", ".join(f"{v}" for v in [*range(-40, 41), 0.125, 1.5, -2.75, 3.25, 1e-3, 7.5]) + "]\n"
        + "".join(f"K{i} = {i * 7 + 3}\n" for i in range(200)))
    runs = [subprocess.run([sys.executable, "-c", DRAWS, str(tmp_path), mode], capture_output=True, text=True,
                           cwd=ROOT, timeout=300) for mode in ("plain", "import")]
    assert all(r.returncode == 0 for r in runs), [r.stderr[-1500:] for r in runs]
    plain, imported = (json.loads(r.stdout) for r in runs)
    assert len(plain) >= 100 and plain == imported
