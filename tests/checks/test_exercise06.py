"""exercise06's checks judged against the project itself: solution, exercise file, mistakes."""

import json

import pytest

EX = "exercise06"


def test_three_gradings_of_a_buggy_dropout_give_identical_json(canonical_json, grade_text, solution_text, mutate):
    """A failing statistical check must be just as reproducible as a passing one."""
    text = mutate(solution_text(EX), "keep = rng.random(x.shape) >= p  # True with probability 1 - p",
                  "keep = rng.random(x.shape) < p  # True with probability p")
    runs = {canonical_json(grade_text(EX, text, functions=["dropout"])) for _ in range(3)}
    assert len(runs) == 1
    assert json.loads(runs.pop())["score"] < 4


# (anchor in the solution, replacement, function, the mistake's name in MISTAKES)
MISTAKE_EDITS = [
    ("keep = 1.0 - p", "keep = p", "expected_output", "multiplying by p instead of 1 − p"),
    ("keep = 1.0 - p", "keep = 1.0", "expected_output", "dropout ignored in the expectation"),
    ("return np.where(keep, x / (1.0 - p), 0.0)", "return np.where(keep, x / p, 0.0)",
     "dropout", "multiplying by p instead of 1 − p"),
    ("return np.where(keep, x / (1.0 - p), 0.0)", "return np.where(keep, x, 0.0)", "dropout", "no scaling in training"),
    ("keep = rng.random(x.shape) >= p  # True with probability 1 - p",
     "keep = rng.random(x.shape) < p  # True with probability p", "dropout", "dropping with probability 1 − p"),
    ("keep = rng.random(x.shape) >= p  # True with probability 1 - p", "keep = rng.random() >= p",
     "dropout", "one coin for the whole array"),
    ("        return x\n", "        return x * (1 - p) if not training else x\n", "dropout", "scaling at test time too"),
    ("        return x\n", "        return x / (1 - p) if not training else x\n", "dropout", "scaling at test time too"),
    ("if not training or p == 0:", "if p == 0:", "dropout", "dropping at test time"),
    ("return np.asarray(w, dtype=float) * (1 - p)", "return np.asarray(w, dtype=float) * p",
     "test_time_weights", "multiplying by p instead of 1 − p"),
]


@pytest.mark.parametrize("anchor, replacement, function, mistake", MISTAKE_EDITS,
                         ids=[f"{m[2]}: {m[3]} ({i})" for i, m in enumerate(MISTAKE_EDITS)])
def test_each_typical_mistake_loses_points_and_is_diagnosed(assert_mistake_diagnosed, anchor, replacement, function, mistake):
    assert_mistake_diagnosed(EX, [(anchor, replacement)], function, mistake)


def test_a_dropout_that_ignores_rng_fails_the_rng_check(grade_text, solution_text, mutate):
    text = mutate(solution_text(EX), "    if rng is None:\n        rng = np.random.default_rng()\n",
                  "    rng = np.random.default_rng()\n")
    result = grade_text(EX, text, functions=["dropout"])
    check = next(c for c in result.checks if c.name == "dropout_draws_its_masks_from_rng")
    assert check.outcome == "failed" and "seeded alike" in check.message


def test_a_vectorized_solution_drawing_its_masks_differently_scores_full_marks(grade_text):
    text = '''
import numpy as np

def expected_output(w, x, p):
    return float((1 - p) * np.dot(w, x))

def dropout(x, p, training=True, rng=None):
    x = np.asarray(x, dtype=np.float32)
    if not training or p == 0:
        return x.copy()
    rng = rng if rng is not None else np.random.default_rng()
    mask = rng.binomial(1, 1 - p, size=x.shape).astype(np.float32)
    return x * mask / np.float32(1 - p)

def test_time_weights(w, p):
    return np.multiply(w, 1 - p)
'''
    result = grade_text(EX, text)
    assert result.score == result.max_score, [c.message for c in result.checks if not c.passed]
