"""exercise04's checks judged against the project itself: solution, exercise file, typical mistakes."""

import pytest

EX = "exercise04"
_BN_T = "trainable = 2 * shape[0]  # gamma and beta per channel"
_BN_NT = "non_trainable = 2 * shape[0]  # running mean and variance per channel"
_SIZE = "size = (n + 2 * p - k) // s + 1"

# (edits of the solution as (old, new) pairs, function, the mistake's name in MISTAKES)
MISTAKE_EDITS = [
    ([("n += out_channels", "n += 0")], "conv2d_params", "conv bias forgotten"),
    ([("n = out_channels * in_channels * kh * kw", "n = out_channels * kh * kw")], "conv2d_params",
     "input channels forgotten"),
    ([("n += out_channels", "n += 0")], "summary", "conv bias forgotten"),
    ([("n = out_channels * in_channels * kh * kw", "n = out_channels * kh * kw")], "summary",
     "input channels forgotten"),
    ([('if padding == "same":', "if False:"),
      ('p = 0 if padding == "valid" else int(padding)', 'p = 0 if padding in ("valid", "same") else int(padding)')],
     "summary", "'same' padding ignored"),
    ([('sh, sw = as_pair(layer.get("stride", layer["pool_size"]))', 'sh, sw = as_pair(layer.get("stride", 1))')],
     "summary", "pooling stride 1 instead of the pool size"),
    ([(_SIZE, "size = (n + p - k) // s + 1")], "summary", "padding on one side only"),
    ([(_SIZE, "size = -(-(n + 2 * p - k) // s) + 1")], "summary", "rounding up"),
    ([(_BN_T, "trainable = 4 * shape[0]"), (_BN_NT, "non_trainable = 0")], "summary", "batchnorm all trainable"),
    ([(_BN_NT, "non_trainable = 0")], "summary", "batchnorm running statistics forgotten"),
    ([(_BN_T, "trainable = 2 * shape[-1]"), (_BN_NT, "non_trainable = 2 * shape[-1]")], "summary",
     "batchnorm over the last axis"),
    ([("rows.append((name, shape, trainable, non_trainable))",
       "rows.append((name, shape[1:] + shape[:1] if len(shape) == 3 else shape, trainable, non_trainable))")],
     "summary", "channels last"),
    ([("counts[name] = 0", 'counts[name] = 1; name = f"{name}_1"')], "summary", "names counted from 1"),
    ([("name = keras_names[kind]", "name = kind")], "summary", "names from the layer type"),
    ([("total += trainable + non_trainable", "total += trainable")], "count_parameters",
     "non-trainable parameters left out"),
    ([(_BN_NT, "non_trainable = 0")], "count_parameters", "non-trainable parameters left out"),
    ([("n += out_channels", "n += 0")], "count_parameters", "conv bias forgotten"),
]


@pytest.mark.parametrize("edits, function, mistake", MISTAKE_EDITS, ids=[f"{m[1]}: {m[2]}" for m in MISTAKE_EDITS])
def test_each_typical_mistake_loses_points_and_is_diagnosed(assert_mistake_diagnosed, edits, function, mistake):
    assert_mistake_diagnosed(EX, edits, function, mistake)


def test_keras_2_1_names_lose_only_the_names_check(grade_text, solution_text, mutate):
    text = mutate(solution_text(EX), "counts[name] = 0", 'counts[name] = 1; name = f"{name}_1"')
    result = grade_text(EX, text, functions=["summary"])
    failed = [c.name for c in result.checks if not c.passed]
    assert failed == ["summary_names_the_layers_like_keras"]
    assert result.score == result.max_score - 1


def test_all_trainable_batchnorm_keeps_the_total_right(grade_text, solution_text, mutate):
    text = mutate(mutate(solution_text(EX), _BN_T, "trainable = 4 * shape[0]"), _BN_NT, "non_trainable = 0")
    result = grade_text(EX, text, functions=["count_parameters"])
    assert result.score == result.max_score


def test_a_summary_that_does_not_raise_for_dense_on_an_image_loses_that_check(grade_text, solution_text, mutate):
    text = mutate(solution_text(EX), 'assert len(shape) == 1, f"dense needs a flat input (n,), got {shape}: flatten first"',
                  "shape = (shape[0] * shape[1] * shape[2],) if len(shape) == 3 else shape")
    result = grade_text(EX, text, functions=["summary"])
    check = next(c for c in result.checks if c.name == "summary_refuses_dense_on_an_image_and_conv2d_on_a_flat_input")
    assert check.score == 0 and "dense layer on an image is an error" in check.message
