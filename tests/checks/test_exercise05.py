"""exercise05's checks judged against the project itself: solution, exercise file, typical mistakes."""

import pytest

EX = "exercise05"
_ADD = "r += (kernel_size - 1) * dilation * jump"

# (edits of the solution as (old, new) pairs, function, the mistake's name in MISTAKES)
MISTAKE_EDITS = [
    ([(f"{_ADD}\n        jump *= stride", f"jump *= stride\n        {_ADD}")], "receptive_field", "own stride included"),
    ([("jump *= stride", "jump *= 1")], "receptive_field", "strides ignored"),
    ([(_ADD, "r += (kernel_size - 1) * jump")], "receptive_field", "dilation ignored"),
    ([("    r = 1\n", "    r = 0\n")], "receptive_field", "look-back instead of receptive field"),
    ([(_ADD, "r += kernel_size * dilation"), ("    r = 1\n", "    r = 0\n")], "receptive_field",
     "kernel sizes added"),
    ([(_ADD, "r += (kernel_size * dilation - 1) * jump")], "receptive_field", "dilated kernel span k·d"),
    ([("return n_layers * channels * channels * kernel_size * kernel_size",
       "return n_layers * (channels * channels * kernel_size * kernel_size + channels)")], "stack_weights",
     "bias counted"),
    ([("return n_layers * channels * channels * kernel_size * kernel_size",
       "return n_layers * channels * kernel_size * kernel_size")], "stack_weights", "channels not squared"),
    ([("return n_layers * channels * channels * kernel_size * kernel_size",
       "return n_layers * channels * channels * kernel_size")], "stack_weights", "kernel not squared"),
]


@pytest.mark.parametrize("edits, function, mistake", MISTAKE_EDITS, ids=[f"{m[1]}: {m[2]}" for m in MISTAKE_EDITS])
def test_each_typical_mistake_loses_points_and_is_diagnosed(assert_mistake_diagnosed, edits, function, mistake):
    assert_mistake_diagnosed(EX, edits, function, mistake)


def test_the_own_stride_mistake_passes_the_slide_examples_but_not_the_strided_stacks(grade_text, solution_text,
                                                                                     mutate):
    text = mutate(solution_text(EX), f"{_ADD}\n        jump *= stride", f"jump *= stride\n        {_ADD}")
    result = grade_text(EX, text, functions=["receptive_field"])
    by_name = {c.name: c for c in result.checks}
    assert by_name["receptive_field_gives_the_causal_look_backs"].passed
    assert not by_name["receptive_field_accounts_for_the_strides_of_earlier_layers"].passed


def test_a_numpy_integer_result_is_accepted(grade_text):
    text = '''
import numpy as np

def receptive_field(layers):
    if not layers:
        return np.int64(1)
    k, s, d = (np.array(col) for col in zip(*layers))
    jumps = np.concatenate([[1], np.cumprod(s)[:-1]])
    return 1 + np.sum((k - 1) * d * jumps)

def stack_weights(kernel_size, n_layers, channels=1):
    return np.int64(n_layers * channels ** 2 * kernel_size ** 2)
'''
    result = grade_text(EX, text)
    assert result.score == result.max_score, [c.message for c in result.checks if not c.passed]
