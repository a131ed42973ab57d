"""exercise07's checks judged against the project itself: solution, exercise file, mistakes."""


import pytest


EX = "exercise07"


# (edits of the solution: (anchor, replacement) pairs, function, the mistake's name in MISTAKES)
AXES = "axes = tuple(a for a in range(x.ndim) if a != 1)  # all but the channel axis"
MISTAKE_EDITS = [
    ([("var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)",
       "var = ((x - mean) ** 2).sum(axis=axes, keepdims=True) / (x.size // x.shape[1] - 1)")],
     "batchnorm", "unbiased variance"),
    ([("x_hat = (x - mean) / np.sqrt(var + eps)", "x_hat = (x - mean) / (np.sqrt(var) + eps)")],
     "batchnorm", "ε outside the square root"),
    ([(AXES, "axes = (0,)")], "batchnorm", "statistics per pixel instead of per channel"),
    ([(AXES, "axes = tuple(range(1, x.ndim))")], "batchnorm", "statistics per sample (layer norm)"),
    ([(AXES, "axes = None")], "batchnorm", "one mean and variance for everything"),
    ([("return gamma.reshape(shape) * x_hat + beta.reshape(shape)",
       "return beta.reshape(shape) * x_hat + gamma.reshape(shape)")], "batchnorm", "γ and β swapped"),
    ([("results.append((split - mean) / (std + eps))",
       "results.append((split - split.mean(axis=0)) / (split.std(axis=0) + eps))")],
     "standardize", "leakage: each split standardized with its own statistics"),
    ([("mean = train.mean(axis=0)",
       "mean = np.concatenate((train,) + tuple(np.asarray(o, dtype=float) for o in others)).mean(axis=0)"),
      ("std = train.std(axis=0)",
       "std = np.concatenate((train,) + tuple(np.asarray(o, dtype=float) for o in others)).std(axis=0)")],
     "standardize", "leakage: statistics pooled over all splits"),
    ([("mean = train.mean(axis=0)", "mean = train.mean()"), ("std = train.std(axis=0)", "std = train.std()")],
     "standardize", "one mean and std for all pixels"),
    ([("std = train.std(axis=0)", "std = train.std(axis=0, ddof=1)")], "standardize", "sample std (ddof=1)"),
    ([("results.append((split - mean) / (std + eps))", "results.append((split - mean) / np.sqrt(std ** 2 + eps))")],
     "standardize", "ε added to the variance"),
    ([("return tuple(results)", "return results[0] if len(results) == 1 else tuple(results)")],
     "standardize", "no tuple for a single split"),
]


@pytest.mark.parametrize("edits, function, mistake", MISTAKE_EDITS, ids=[f"{m[1]}: {m[2]}" for m in MISTAKE_EDITS])
def test_each_typical_mistake_loses_points_and_is_diagnosed(assert_mistake_diagnosed, edits, function, mistake):
    assert_mistake_diagnosed(EX, edits, function, mistake)


def test_changing_the_validation_data_must_not_change_the_training_output(grade_text, solution_text, mutate):
    text = solution_text(EX)
    for anchor, replacement in MISTAKE_EDITS[7][0]:  # pooled statistics
        text = mutate(text, anchor, replacement)
    result = grade_text(EX, text, functions=["standardize"])
    check = next(c for c in result.checks if c.name == "standardize_uses_only_the_training_statistics")
    assert check.outcome == "failed"
    assert "the standardized training split differs" in check.message


def test_a_float32_einsum_solution_scores_full_marks(grade_text):
    text = '''
import numpy as np

def batchnorm(x, gamma, beta, eps=1e-5):
    x = np.asarray(x, dtype=np.float32)
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(axis=axes).reshape(shape)
    var = x.var(axis=axes).reshape(shape)
    return (np.asarray(gamma, np.float32).reshape(shape) * (x - mean) / np.sqrt(var + np.float32(eps))
            + np.asarray(beta, np.float32).reshape(shape))

def standardize(train, *others, eps=1e-4):
    mean, std = np.mean(train, axis=0), np.std(train, axis=0)
    return tuple((np.asarray(s) - mean) / (std + eps) for s in (train, *others))
'''
    result = grade_text(EX, text)
    assert result.score == result.max_score, [c.message for c in result.checks if not c.passed]


FLOAT32_STANDARDIZE = '''
import numpy as np

def standardize(train, *others, eps=1e-4):
    train = np.asarray(train, dtype=np.float32)
    mean, std = train.mean(axis=0), train.std(axis=0)
    return tuple((np.asarray(s, dtype=np.float32) - mean) / (std + np.float32(eps)) for s in (train, *others))
'''


def test_a_float32_standardize_gets_full_marks_although_a_constant_pixel_amplifies_its_rounding(grade_text):
    # -3.9 is not a float32 number: the float32 mean of a constant column is one ulp off, and
    # dividing that ulp by std + eps = 1e-4 leaves 2e-3 where the float64 oracle says 0
    import numpy as np
    column = np.full((3, 1), -3.9, dtype=np.float32)
    assert abs(float((column - column.mean(axis=0))[0, 0]) / 1e-4) > 1e-3  # the amplification is real
    result = grade_text(EX, FLOAT32_STANDARDIZE, functions=["standardize"])
    assert result.score == result.max_score, [c.message for c in result.checks if not c.passed]


def test_a_float32_standardize_with_eps_added_to_the_variance_still_loses_points(grade_text, mutate):
    text = mutate(FLOAT32_STANDARDIZE, "/ (std + np.float32(eps))", "/ np.sqrt(std ** 2 + np.float32(eps))")
    result = grade_text(EX, text, functions=["standardize"])
    assert result.score < result.max_score
    diagnosed = {c.diagnosis.name for c in result.checks if c.diagnosis is not None}
    assert "ε added to the variance" in diagnosed, [(c.name, c.message, c.diagnosis) for c in result.checks]
