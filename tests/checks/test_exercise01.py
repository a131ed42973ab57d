"""exercise01's checks judged against the project itself: solution, exercise file, typical mistakes."""

import pytest

EX = "exercise01"

# (edits of the solution as (old, new) pairs, function, the mistake's name in MISTAKES)
MISTAKE_EDITS = [
    ([("shifted = z - np.max(z, axis=-1, keepdims=True)", "shifted = z - np.max(z, axis=0, keepdims=True)"),
      ("return e / np.sum(e, axis=-1, keepdims=True)", "return e / np.sum(e, axis=0, keepdims=True)")],
     "softmax", "wrong axis"),
    ([("shifted = z - np.max(z, axis=-1, keepdims=True)", "shifted = z - np.max(z, axis=None, keepdims=True)"),
      ("return e / np.sum(e, axis=-1, keepdims=True)", "return e / np.sum(e, axis=None, keepdims=True)")],
     "softmax", "wrong axis"),
    ([("shifted = z - np.max(z, axis=-1, keepdims=True)", "shifted = z")], "softmax", "no max-shift"),
    ([("return float(np.mean(losses))", "return float(np.sum(losses))")], "cross_entropy", "sum instead of mean"),
    ([("mask = t_row > 0  # only these terms count: 0 * log 0 = 0", "mask = np.ones_like(t_row, dtype=bool)")],
     "cross_entropy", "log(0)"),
    ([("return float(np.mean(log_sum_exp - true_scores))", "return float(np.sum(log_sum_exp - true_scores))")],
     "nll_from_logits", "sum instead of mean"),
    ([("m = np.max(logits, axis=1, keepdims=True)", "m = np.zeros((logits.shape[0], 1))")],
     "nll_from_logits", "no max-shift"),
]


@pytest.mark.parametrize("edits, function, mistake", MISTAKE_EDITS,
                         ids=[f"{m[1]}: {m[2]} ({i})" for i, m in enumerate(MISTAKE_EDITS)])
def test_each_typical_mistake_loses_points_and_is_diagnosed(assert_mistake_diagnosed, edits, function, mistake):
    assert_mistake_diagnosed(EX, edits, function, mistake)


def test_the_overflowing_softmax_loses_the_stability_check_with_its_diagnosis(grade_text, solution_text, mutate):
    text = mutate(solution_text(EX), "shifted = z - np.max(z, axis=-1, keepdims=True)", "shifted = z")
    result = grade_text(EX, text, functions=["softmax"])
    check = next(c for c in result.checks if c.name == "softmax_stays_finite_for_scores_up_to_1e4")
    assert check.score == 0 and "nan" in check.message
    assert check.diagnosis is not None and check.diagnosis.name == "no max-shift"
    # for moderate scores the overflowing softmax is right: only the stability checks fail
    moderate = next(c for c in result.checks if c.name == "softmax_matches_the_reference_over_the_last_axis")
    assert moderate.passed


def test_the_log_of_a_softmax_in_nll_from_logits_is_diagnosed(grade_text, solution_text):
    text = solution_text(EX) + '''

def nll_from_logits(logits, labels):
    p = softmax(logits)
    return float(-np.mean(np.log(p[np.arange(len(p)), np.asarray(labels)])))
'''
    result = grade_text(EX, text, functions=["nll_from_logits"])
    check = next(c for c in result.checks if c.name == "nll_from_logits_stays_finite_for_scores_up_to_1e4")
    assert check.score == 0
    assert check.diagnosis is not None and check.diagnosis.name == "log(0)"


def test_clipping_with_a_keras_epsilon_and_numpy_scalars_still_score_full_marks(grade_text):
    text = '''
import numpy as np

def softmax(z):
    z = np.asarray(z, dtype=np.float32)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)

def cross_entropy(p_true, p_pred):
    t = np.asarray(p_true, dtype=float)
    p = np.clip(np.asarray(p_pred, dtype=float), 1e-7, 1.0)
    return np.mean(-np.sum(t * np.log(p), axis=-1))

def nll_from_logits(logits, labels):
    z = np.asarray(logits, dtype=float)
    m = z.max(axis=1, keepdims=True)
    logp = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(z)), labels].mean()
'''
    result = grade_text(EX, text)
    assert result.score == result.max_score, [c.message for c in result.checks if not c.passed]


def test_using_torch_inside_softmax_breaks_the_numpy_only_rule(grade_text, solution_text):
    text = solution_text(EX) + '''

def softmax(z):
    import torch
    return torch.softmax(torch.as_tensor(z), dim=-1).numpy()
'''
    result = grade_text(EX, text, functions=["softmax"])
    assert all(c.outcome == "rule" and c.score == 0 for c in result.checks)
