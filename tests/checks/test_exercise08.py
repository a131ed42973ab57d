"""exercise08's checks judged against the project itself: solution, exercise file, mistakes."""


import pytest


EX = "exercise08"


# (edits of the solution: (anchor, replacement) pairs, function, the mistake's name in MISTAKES)
GLOROT = "return float(np.sqrt(6.0 / (fan_in + fan_out)))"
HE = "return float(np.sqrt(2.0 / fan_in))"
UNIFORM = "return rng.uniform(-limit, limit, size=shape)"
NORMAL = "return rng.normal(0.0, he_normal_std(fan_in), size=shape)"
TRUNCATED = """s = he_normal_std(fan_in) / 0.87962566103423978
        w = rng.normal(0.0, s, size=shape)
        while np.any(bad := np.abs(w) > 2 * s):
            w[bad] = rng.normal(0.0, s, size=int(bad.sum()))
        return w"""
MISTAKE_EDITS = [
    ([(GLOROT, "return float(np.sqrt(2.0 / (fan_in + fan_out)))")], "glorot_uniform_limit",
     "Glorot normal std instead of the uniform limit"),
    ([(GLOROT, "return float(6.0 / (fan_in + fan_out))")], "glorot_uniform_limit", "square root missing"),
    ([(GLOROT, "return float(np.sqrt(6.0 / fan_in))")], "glorot_uniform_limit", "fan_out ignored"),
    ([(HE, "return float(np.sqrt(1.0 / fan_in))")], "he_normal_std", "LeCun instead of He"),
    ([(HE, "return float(2.0 / fan_in)")], "he_normal_std", "variance instead of std"),
    ([("shape = (fan_out, fan_in)", "shape = (fan_in, fan_out)")], "init_dense", "Keras' kernel shape"),
    ([("return np.full(shape, float(value))", "return np.full(shape, 0.5)")], "init_dense", "constant ignores value"),
    ([(UNIFORM, "return rng.normal(0.0, limit, size=shape)")], "init_dense", "Glorot normal instead of uniform"),
    ([(UNIFORM, "return rng.normal(0.0, limit / np.sqrt(3), size=shape)")], "init_dense",
     "Glorot normal instead of uniform"),
    ([(NORMAL, "return rng.normal(0.0, he_normal_std(fan_out), size=shape)")], "init_dense", "He with fan_out"),
    ([(NORMAL, "return rng.normal(0.0, 2.0 / fan_in, size=shape)")], "init_dense", "variance instead of std"),
    ([(NORMAL, TRUNCATED)], "init_dense", "truncated normal"),
    ([("d_logits = (probs - onehot) / n   # (K, N)", "d_logits = probs - onehot   # (K, N)")],
     "first_layer_gradients", "sum instead of mean over the examples"),
    ([("d_z = d_a * a * (1.0 - a)         # (H, N)", "d_z = d_a         # (H, N)")],
     "first_layer_gradients", "sigmoid derivative forgotten"),
    ([("d_z = d_a * a * (1.0 - a)         # (H, N)", "d_z = d_a * z * (1.0 - z)         # (H, N)")],
     "first_layer_gradients", "sigmoid derivative at the wrong place"),
    ([("logits = logits - logits.max(axis=0)", "logits = logits - logits.max(axis=1, keepdims=True)"),
      ("probs = np.exp(logits) / np.exp(logits).sum(axis=0)",
       "probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)")],
     "first_layer_gradients", "softmax over the examples"),
    ([("d_logits = (probs - onehot) / n   # (K, N)", "d_logits = (onehot - probs) / n   # (K, N)")],
     "first_layer_gradients", "wrong sign"),
    ([("return d_z @ x                    # (H, D)", "return x.T @ d_z.T                    # (H, D)")],
     "first_layer_gradients", "transposed gradient"),
]


@pytest.mark.parametrize("edits, function, mistake", MISTAKE_EDITS,
                         ids=[f"{m[1]}: {m[2]} ({i})" for i, m in enumerate(MISTAKE_EDITS)])
def test_each_typical_mistake_loses_points_and_is_diagnosed(assert_mistake_diagnosed, edits, function, mistake):
    assert_mistake_diagnosed(EX, edits, function, mistake)


@pytest.mark.parametrize("scheme_check", ["init_dense_glorot_uniform_is_uniform_within_the_limit",
                                          "init_dense_he_normal_is_normal_with_std_sqrt_2_over_fan_in"])
def test_an_init_dense_that_ignores_rng_fails_the_statistical_checks(grade_text, solution_text, mutate, scheme_check):
    text = mutate(solution_text(EX), "if rng is None:", "if True:")
    result = grade_text(EX, text, functions=["init_dense"])
    check = next(c for c in result.checks if c.name == scheme_check)
    assert check.outcome == "failed" and "seeded alike" in check.message


def test_constant_init_is_the_one_where_the_gradient_rows_must_be_equal(grade_text):
    """A gradient that is right except for one row's noise fails the identical-rows check."""
    text = '''
import numpy as np

def first_layer_gradients(W1, W2, x, y):
    W1, W2, x, y = (np.asarray(a, float) for a in (W1, W2, x)) + (np.asarray(y, int),)
    a = 1 / (1 + np.exp(-(W1 @ x.T)))
    s = W2 @ a
    p = np.exp(s - s.max(axis=0)) / np.exp(s - s.max(axis=0)).sum(axis=0)
    p[y, np.arange(len(y))] -= 1
    g = ((W2.T @ p / len(y)) * a * (1 - a)) @ x
    g[-1] += 1e-3 * (len(g) > 1)
    return g
'''
    result = grade_text(EX, text, functions=["first_layer_gradients"])
    outcome = {c.name: c.outcome for c in result.checks}
    assert outcome["constant_init_gives_identical_gradient_rows"] == "failed"
