"""Every documented default is part of the task: a changed default loses the first check of its function."""

import pytest

CHANGED = [
    ("exercise02", "fcnn", 'activation="sigmoid"', 'activation="relu"', "activation='relu'"),
    ("exercise03", "conv2d", "stride=1, padding=0):\n", "stride=2, padding=0):\n", "stride=2"),
    ("exercise07", "batchnorm", "eps=1e-5", "eps=1e-3", "eps=0.001"),
]


@pytest.mark.parametrize("exercise, function, old, new, says", CHANGED, ids=[c[1] for c in CHANGED])
def test_a_changed_default_costs_the_first_check_of_its_function_and_says_which(
        grade_text, solution_text, mutate, exercise, function, old, new, says):
    text = solution_text(exercise)
    segment = _one(text, function, old)
    result = grade_text(exercise, mutate(text, segment, segment.replace(old, new)), functions=[function])
    first = next(c for c in result.checks if function in c.functions and not c.hidden)
    assert first.score == 0 and first.message.startswith(f"{function}'s default {says} is not the task's"), \
        first.message
    if function == "fcnn":  # no other check can see it: every check passes the activation explicitly
        assert [c.name for c in result.checks if not c.passed] == [first.name]


def _one(text: str, function: str, old: str) -> str:
    """The def line(s) of ``function`` holding ``old`` (unique, for the mutation)."""
    start = text.index(f"def {function}(")
    end = text.index(":\n", start) + 2
    segment = text[start:end]
    assert old in segment, (segment, old)
    return segment


def test_a_list_where_the_task_documents_a_tuple_is_the_same_default(grade_text, solution_text, mutate):
    text = solution_text("exercise02")
    segment = _one(text, "fcnn", "hidden=(500, 50)")
    result = grade_text("exercise02", mutate(text, segment, segment.replace("hidden=(500, 50)", "hidden=[500, 50]")),
                        functions=["fcnn"])
    assert all(c.passed for c in result.checks), [(c.name, c.message) for c in result.checks if not c.passed]
