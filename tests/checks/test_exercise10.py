"""exercise10's checks judged against the project itself: solution, exercise file, mistakes."""


import pytest


EX = "exercise10"


# (edits of the solution: (anchor, replacement) pairs, function, the mistake's name in MISTAKES)
SOURCE = "source = t - (k - 1 - j) * dilation"
MISTAKE_EDITS = [
    ([(SOURCE, "source = t - j * dilation")], "flipped kernel"),
    ([(SOURCE, "source = t - (k - 1 - j) * dilation + ((k - 1) * dilation + 1) // 2"),
      ("if source >= 0:", "if 0 <= source < len(x):")], "centred padding looks into the future"),
    ([(SOURCE, "source = t + j * dilation"), ("if source >= 0:", "if source < len(x):")], "padding at the end"),
    ([(SOURCE, "source = t - (k - 1 - j)")], "dilation ignored"),
    ([("y = np.zeros(len(x))", "y = np.zeros(len(x) - (k - 1) * (dilation - 1))"),
      (SOURCE, "source = t + (k - 1) * (dilation - 1) - (k - 1 - j) * dilation")], "padding not dilated"),
    ([("y = np.zeros(len(x))", "y = np.zeros(len(x) - (k - 1) * dilation)"), (SOURCE, "source = t + j * dilation")],
     "no padding"),
]


@pytest.mark.parametrize("edits, mistake", MISTAKE_EDITS, ids=[m[1] for m in MISTAKE_EDITS])
def test_each_typical_mistake_loses_points_and_is_diagnosed(assert_mistake_diagnosed, edits, mistake):
    assert_mistake_diagnosed(EX, edits, "causal_conv1d", mistake)


def test_the_worked_example_shows_the_flip(grade_text, solution_text, mutate):
    text = mutate(solution_text(EX), SOURCE, "source = t - j * dilation")
    result = grade_text(EX, text)
    check = next(c for c in result.checks if c.name == "causal_conv1d_reproduces_the_worked_examples")
    assert check.outcome == "failed" and check.message.startswith("causal_conv1d([10, 20, 30], [1, 2])")
    assert check.counterexample.got.startswith("[10., 40., 70.]")


def test_looking_into_the_future_breaks_causality(grade_text, solution_text, mutate):
    text = mutate(mutate(solution_text(EX), SOURCE, "source = t + j * dilation"), "if source >= 0:", "if source < len(x):")
    result = grade_text(EX, text)
    outcome = {c.name: c.outcome for c in result.checks}
    assert outcome["output_t_does_not_depend_on_inputs_after_t"] == "failed"
    assert outcome["a_dilated_stack_has_the_receptive_field_of_exercise05"] == "failed"


def test_a_vectorized_solution_scores_full_marks(grade_text):
    text = '''
import numpy as np

def causal_conv1d(x, kernel, dilation=1):
    x = np.asarray(x, dtype=float)
    w = np.asarray(kernel, dtype=float)
    pad = (len(w) - 1) * dilation
    xp = np.concatenate([np.zeros(pad), x])
    idx = np.arange(len(x))[:, None] + dilation * np.arange(len(w))[None, :]
    return xp[idx] @ w
'''
    result = grade_text(EX, text)
    assert result.score == result.max_score, [c.message for c in result.checks if not c.passed]
