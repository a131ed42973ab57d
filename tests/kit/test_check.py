"""Declaring checks: a module's own checks only, mistakes matched on observed facts, labels from the engine."""

import types

import numpy as np

from grader import registry
from grader.kit import CallRecord, Mistake, check, expect_array


def test_a_check_imported_from_another_checks_module_is_not_collected_twice():
    from grader.checks import exercise03

    module = types.ModuleType("grader.checks.exercise99")
    module.mine = check(points=1, functions=("f",))(lambda sub: None)
    module.mine.__module__ = module.__name__
    module.borrowed = exercise03.conv2d_reproduces_the_lecture_examples
    assert registry.defined_in(module.mine, module)
    assert not registry.defined_in(module.borrowed, module)
    assert all(registry.defined_in(getattr(exercise03, s.name), exercise03)
               for s in registry.load(registry.find_exercise("exercise03")).checks)


def test_a_mistake_declared_by_an_observed_fact_matches_only_results_with_that_fact():
    mistake = Mistake("softmax", "fcnn", "the model ends in a softmax", observed="softmax")
    record = CallRecord("fcnn", (), {}, result=object())
    assert not mistake.explains(record.result, record.args, record.kwargs, record.facts)
    record.facts.add("softmax")
    assert mistake.explains(record.result, record.args, record.kwargs, record.facts)


def test_a_check_without_what_is_labelled_by_the_engine_from_the_failing_call(grade_text, solution_text, monkeypatch):
    from grader.checks import exercise03

    @check(points=1, functions=("relu",))
    def relu_of_a_fixed_array(sub):
        """relu keeps positives (no what= label)."""
        expect_array(sub.relu(np.array([-1.0, 2.0])), np.array([0.0, 2.0]))

    relu_of_a_fixed_array.__module__ = exercise03.__name__
    monkeypatch.setattr(exercise03, "relu_of_a_fixed_array", relu_of_a_fixed_array, raising=False)
    text = solution_text("exercise03") + "\n\ndef relu(x):\n    return x\n"
    result = grade_text("exercise03", text, functions=["relu"])
    mine = next(c for c in result.checks if c.name == "relu_of_a_fixed_array")
    assert mine.message == "relu(…): values differ: largest difference 1 at index (0,) (expected 0, got -1)"
