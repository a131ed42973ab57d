"""Checks for exercise01 — softmax and cross-entropy.

The oracle is ``reference.exercise01`` (plain numpy; its own tests compare it with
``torch.softmax`` and ``torch.nn.functional.cross_entropy``). This module stays torch-free so
that ``grade exercise01`` starts fast. Scores are small numbers (the slides' style); the
stability checks draw them from a short list of huge values (±1000, ±1e4) so that the
smallest failing example is one overflowing score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from grader.kit import (
    check, expect, expect_array, expect_float, expect_oracle, float_arrays, given, Mismatch, Mistake, sides, st,
    type_name)

from grader.reference import exercise01 as ref

TITLE = "Softmax and cross-entropy"
ALIASES = ("softmax", "cross-entropy", "cross_entropy", "crossentropy")
RULES = {  # "use numpy only (no torch/scipy inside the functions)", says the task
    "softmax": ("torch", "scipy", "tensorflow", "jax", "keras", "sklearn"),
    "cross_entropy": ("torch", "scipy", "tensorflow", "jax", "keras", "sklearn"),
    "nll_from_logits": ("torch", "scipy", "tensorflow", "jax", "keras", "sklearn"),
}
MAX_EXAMPLES = 25

# Scores far beyond exp()'s range (exp overflows above ≈ 709.8 and underflows to 0 below ≈ −745):
# hypothesis shrinks towards the front of the list, so a failure reads like "[1000.0]".
HUGE = [0.0, 1000.0, -1000.0, 1.0, 10000.0, -10000.0, 750.0, -800.0, 2.5, 9999.5, -9999.5, 5000.0]


def _finite(value) -> bool:
    try:
        return bool(np.all(np.isfinite(np.asarray(value, dtype=np.float64))))
    except (TypeError, ValueError):
        return True


def _probabilities(got, shape: tuple, what: str) -> np.ndarray:
    """The student's softmax output as a float array of the input's shape (else Mismatch)."""
    if not isinstance(got, np.ndarray) or got.dtype.kind != "f":
        raise Mismatch(what, "type", f"expected a numpy.ndarray of floats, got {type_name(got)}", got=got)
    if got.shape != shape:
        raise Mismatch(what, "shape", f"expected shape {shape} (the input's shape), got shape {got.shape}", got=got)
    if not np.all(np.isfinite(got)):
        raise Mismatch(what, "value", "the result contains nan or inf", got=got)
    return got


# --------------------------------------------------------------------------- inputs


def score_arrays(*, max_ndim: int = 3, min_rows: int = 1, elements=None):
    """Return a strategy for score arrays (K,), (N, K) or (A, B, K); K ≤ 6 classes."""
    shapes = st.one_of(
        st.tuples(sides()),
        st.tuples(st.integers(min_rows, 5), sides()),
        st.tuples(st.integers(min_rows, 3), st.integers(1, 3), sides()),
    ) if max_ndim >= 3 else st.one_of(st.tuples(sides()), st.tuples(st.integers(min_rows, 5), sides()))
    if elements is None:
        return float_arrays(shapes)
    return shapes.flatmap(lambda shape: st.lists(elements, min_size=math.prod(shape), max_size=math.prod(shape))
                          .map(lambda v, shape=shape: np.array(v, dtype=np.float64).reshape(shape)))


@dataclass
class CECase:
    p_true: np.ndarray
    p_pred: np.ndarray


@st.composite
def ce_cases(draw, *, zeros: bool = False):
    """Return a strategy for a cross_entropy call: p_true one-hot or soft, p_pred a distribution.

    Default: p_pred = softmax of scores in [−2, 2] (every entry ≥ ≈ 0.004, so clipping
    with ε ≤ 1e-7, as Keras does, stays within the tolerance). ``zeros``: p_true one-hot and
    p_pred with exact zeros in some of the other classes (0·log 0 must count 0).
    """
    k = draw(st.integers(2, 5))
    rows = draw(st.none() | st.integers(1, 4))
    shape = (k,) if rows is None else (rows, k)
    n = 1 if rows is None else rows
    labels = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    onehot = np.eye(k)[labels]
    if zeros:
        weights = np.array(draw(st.lists(st.lists(st.sampled_from([0.0, 1.0, 2.0, 3.0]), min_size=k, max_size=k),
                                         min_size=n, max_size=n)))
        weights[np.arange(n), labels] = np.maximum(weights[np.arange(n), labels], 1.0)
        other = (np.array(labels) + 1) % k
        weights[np.arange(n), other] = 0.0  # at least one 0·log 0 term per row
        p_true, p_pred = onehot, weights / weights.sum(axis=1, keepdims=True)
    else:
        scores = draw(float_arrays((n, k), min_value=-2.0, max_value=2.0))
        p_pred = ref.softmax(scores)
        if draw(st.booleans()):
            p_true = onehot
        else:
            soft = np.array(draw(st.lists(st.lists(st.sampled_from([0.0, 1.0, 2.0, 3.0]), min_size=k, max_size=k),
                                          min_size=n, max_size=n)))
            soft[np.arange(n), labels] += 1.0
            p_true = soft / soft.sum(axis=1, keepdims=True)
    return CECase(p_true.reshape(shape), p_pred.reshape(shape))


@dataclass
class NLLCase:
    logits: np.ndarray
    labels: np.ndarray


@st.composite
def nll_cases(draw, *, huge: bool = False):
    """Return a strategy for an nll_from_logits call: logits (N, K), integer labels (N,)."""
    n, k = draw(st.integers(1, 4)), draw(st.integers(1, 6))
    if huge:
        values = draw(st.lists(st.sampled_from(HUGE), min_size=n * k, max_size=n * k))
        logits = np.array(values, dtype=np.float64).reshape(n, k)
    else:
        logits = draw(float_arrays((n, k)))
    labels = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)), dtype=np.int64)
    return NLLCase(logits, labels)


# --------------------------------------------------------------------------- softmax (4 points)


@check(points=1, functions=("softmax",))
def softmax_gives_the_lectures_probabilities(sub):
    """softmax reproduces the lecture's examples: 10 equal scores give 1/10 each (right 10 % of the time)."""
    for z in (np.zeros(10), np.array([1.0, 2.0, 3.0]), np.array([[1e4, 0.0], [0.0, 0.0]]), np.full((2, 8), 3.0)):
        expect_oracle(sub.softmax(z), ref.softmax, z, what=f"softmax({z.tolist()})" if z.size <= 4 else
                     f"softmax(array of shape {z.shape}, all {z.flat[0]:g})")


@check(points=1, functions=("softmax",))
@given(z=score_arrays())
def softmax_matches_the_reference_over_the_last_axis(sub, z):
    """softmax equals the reference (= torch.softmax(z, dim=-1)) for (K,), (N, K) and (A, B, K) scores."""
    expect_oracle(sub.softmax(z), ref.softmax, z, what="softmax(z)")


@check(points=1, functions=("softmax",))
@given(z=score_arrays(), shift=st.integers(-3, 3))
def softmax_rows_sum_to_one_and_ignore_a_constant_shift(sub, z, shift):
    """Every row of softmax(z) is positive and sums to 1, and adding a constant to a row changes nothing."""
    got = sub.softmax(z)
    p = _probabilities(got, z.shape, "softmax(z)")
    sums = p.astype(np.float64).sum(axis=-1)
    expect(bool(np.all(p >= 0)) and bool(np.allclose(sums, 1.0, rtol=0, atol=1e-6)), "softmax(z)",
           f"every row (last axis) must be ≥ 0 and sum to 1; the row sums are {np.round(sums, 6).tolist()}",
           expected=np.ones_like(sums), got=got)
    c = shift + np.arange(z.shape[0]).reshape((-1,) + (1,) * (z.ndim - 1)) if z.ndim > 1 else shift
    expect_array(sub.softmax(z + c), p.astype(np.float64), rtol=1e-6,
                 what="softmax(z + c) compared with softmax(z) (c: one constant per row)")


@check(points=1, functions=("softmax",))
@given(z=score_arrays(max_ndim=2, elements=st.sampled_from(HUGE)))
def softmax_stays_finite_for_scores_up_to_1e4(sub, z):
    """softmax is finite and correct for scores as large as ±1e4 (exp(1000) alone overflows)."""
    expect_oracle(sub.softmax(z), ref.softmax, z, what="softmax(z)")


# --------------------------------------------------------------------------- cross_entropy (3 points)


@check(points=1, functions=("cross_entropy",))
def cross_entropy_gives_the_lectures_numbers(sub):
    """cross_entropy gives the lecture's numbers: −log 0.9 = 0.1053, a uniform guess ln 8 = 2.079, ln 10 = 2.3026."""
    expect_float(sub.cross_entropy(np.array([0.0, 1.0, 0.0]), np.array([0.05, 0.9, 0.05])), -math.log(0.9),
                 what="cross_entropy([0, 1, 0], [0.05, 0.9, 0.05]) (−log 0.9)", rtol=1e-6)
    expect_float(sub.cross_entropy(np.eye(8), np.full((8, 8), 1 / 8)), math.log(8),
                 what="cross_entropy(np.eye(8), np.full((8, 8), 1/8)) (ln 8)", rtol=1e-6)
    expect_float(sub.cross_entropy(np.eye(10), np.full((10, 10), 0.1)), math.log(10),
                 what="cross_entropy(np.eye(10), np.full((10, 10), 0.1)) (ln 10)", rtol=1e-6)
    expect_float(sub.cross_entropy([1.0, 0.0], [1.0, 0.0]), 0.0, what="cross_entropy([1, 0], [1, 0])")


@check(points=1, functions=("cross_entropy",))
@given(case=ce_cases())
def cross_entropy_is_the_mean_over_rows_and_never_negative(sub, case):
    """cross_entropy equals the reference — the mean over rows of −Σ p_true·log p_pred — and is ≥ 0."""
    got = sub.cross_entropy(case.p_true, case.p_pred)
    expected = ref.cross_entropy(case.p_true, case.p_pred)
    value = expect_float(got, expected, what="cross_entropy(p_true, p_pred)", rtol=1e-5, atol=1e-4)
    expect(value >= 0, "cross_entropy(p_true, p_pred)", f"cross-entropy is never negative, got {value:.6g}",
           expected=expected, got=got)


@check(points=1, functions=("cross_entropy",))
@given(case=ce_cases(zeros=True))
def cross_entropy_counts_0_log_0_as_0(sub, case):
    """Classes with p_true = 0 and p_pred = 0 add nothing (0·log 0 = 0): the loss stays finite."""
    got = sub.cross_entropy(case.p_true, case.p_pred)
    expect_float(got, ref.cross_entropy(case.p_true, case.p_pred), what="cross_entropy(p_true, p_pred)",
                 rtol=1e-5, atol=1e-4)


# --------------------------------------------------------------------------- nll_from_logits (4 points)


@check(points=1, functions=("nll_from_logits",))
def nll_from_logits_gives_the_lectures_numbers(sub):
    """Equal scores cost ln 10 = 2.3026 over 10 classes and ln 8 = 2.079 over 8; p = 0.9 costs 0.1053."""
    expect_float(sub.nll_from_logits(np.zeros((4, 10)), np.array([0, 3, 9, 3])), math.log(10),
                 what="nll_from_logits(np.zeros((4, 10)), [0, 3, 9, 3]) (ln 10)", rtol=1e-6)
    expect_float(sub.nll_from_logits(np.zeros((8, 8)), np.arange(8)), math.log(8),
                 what="nll_from_logits(np.zeros((8, 8)), [0, 1, …, 7]) (ln 8)", rtol=1e-6)
    logits = np.log(np.array([[0.05, 0.9, 0.05]]))
    expect_float(sub.nll_from_logits(logits, np.array([1])), -math.log(0.9),
                 what="nll_from_logits(log([[0.05, 0.9, 0.05]]), [1]) (−log 0.9)", rtol=1e-6)


@check(points=1, functions=("nll_from_logits",))
@given(case=nll_cases())
def nll_from_logits_matches_torch_cross_entropy(sub, case):
    """nll_from_logits equals the reference (= torch.nn.functional.cross_entropy, mean over rows)."""
    expect_float(sub.nll_from_logits(case.logits, case.labels), ref.nll_from_logits(case.logits, case.labels),
                 what="nll_from_logits(logits, labels)", rtol=1e-6)


@check(points=1, functions=("nll_from_logits",))
@given(case=nll_cases(huge=True))
def nll_from_logits_stays_finite_for_scores_up_to_1e4(sub, case):
    """nll_from_logits is finite and correct for scores as large as ±1e4 (log-sum-exp, not log of softmax)."""
    expect_float(sub.nll_from_logits(case.logits, case.labels), ref.nll_from_logits(case.logits, case.labels),
                 what="nll_from_logits(logits, labels)", rtol=1e-6)


@check(points=1, functions=("nll_from_logits",))
@given(case=nll_cases(), shift=st.integers(-3, 3))
def nll_from_logits_is_non_negative_and_ignores_a_constant_shift(sub, case, shift):
    """nll_from_logits is ≥ 0 and does not change when a constant is added to a row of logits."""
    expected = ref.nll_from_logits(case.logits, case.labels)
    got = sub.nll_from_logits(case.logits, case.labels)
    value = expect_float(got, expected, what="nll_from_logits(logits, labels)", rtol=1e-6)
    expect(value >= 0, "nll_from_logits(logits, labels)", f"a negative log-likelihood is never negative, got {value:.6g}",
           expected=expected, got=got)
    shifted = case.logits + shift + np.arange(case.logits.shape[0])[:, None]
    expect_float(sub.nll_from_logits(shifted, case.labels), value, rtol=1e-6,
                 what="nll_from_logits(logits + c, labels) compared with nll_from_logits(logits, labels)")


# --------------------------------------------------------------------------- typical mistakes


def softmax_axis0(z):
    z = np.asarray(z, dtype=float)
    assert z.ndim >= 2 and z.shape[0] >= 2
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def softmax_all_entries(z):
    z = np.asarray(z, dtype=float)
    assert z.ndim >= 2 and z.size > z.shape[-1]
    e = np.exp(z - z.max())
    return e / e.sum()


def softmax_overflows(got, z):
    """Non-finite output where the reference is finite, and plain exp(z) would overflow too."""
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(np.asarray(z, dtype=float))
        naive = naive / naive.sum(axis=-1, keepdims=True)
    return isinstance(got, np.ndarray) and not _finite(got) and _finite(ref.softmax(z)) and not _finite(naive)


def _rows(p_true) -> int:
    t = np.asarray(p_true, dtype=float)
    return t.size // t.shape[-1]


def cross_entropy_sum(p_true, p_pred):
    assert _rows(p_true) >= 2
    return ref.cross_entropy(p_true, p_pred) * _rows(p_true)


def cross_entropy_log0(got, p_true, p_pred):
    """nan/inf although the reference is finite, from a 0·log 0 term (p_true = p_pred = 0)."""
    t, p = np.asarray(p_true, dtype=float), np.asarray(p_pred, dtype=float)
    return not _finite(got) and _finite(ref.cross_entropy(t, p)) and bool(np.any((t == 0) & (p == 0)))


def nll_sum(logits, labels):
    n = np.asarray(logits).shape[0]
    assert n >= 2
    return ref.nll_from_logits(logits, labels) * n


def _nll_no_shift(logits, labels) -> float:
    z = np.asarray(logits, dtype=float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        lse = np.log(np.exp(z).sum(axis=1))
        return float(np.mean(lse - z[np.arange(len(z)), np.asarray(labels)]))


def nll_no_shift(logits, labels):
    """log Σ exp(z) without the max-shift: inf (or −inf, nan) once a score leaves exp()'s range."""
    value = _nll_no_shift(logits, labels)
    assert not _finite(value) and _finite(ref.nll_from_logits(logits, labels))
    return value


def nll_log_of_softmax(logits, labels):
    """−log of a (stable) softmax: inf when the true class's probability rounds to 0."""
    p = ref.softmax(logits)
    with np.errstate(divide="ignore"):
        value = float(-np.mean(np.log(p[np.arange(len(p)), np.asarray(labels)])))
    assert not _finite(value) and _finite(ref.nll_from_logits(logits, labels))
    return value


_AXIS_HINT = "pass axis=-1 (and keepdims=True) to np.max and np.sum, so that each row is normalised on its own"
_SHIFT_HINT = "subtract the row maximum before exp: z - np.max(z, axis=-1, keepdims=True)"
MISTAKES = [
    Mistake("wrong axis", "softmax",
            "your softmax normalises over the batch (axis 0) instead of over the classes: the columns sum to 1, "
            "not the rows", _AXIS_HINT, wrong=softmax_axis0),
    Mistake("wrong axis", "softmax",
            "your softmax normalises over all entries of the array: the whole batch sums to 1, not each row",
            _AXIS_HINT, wrong=softmax_all_entries),
    Mistake("no max-shift", "softmax",
            "your softmax overflows: exp of a large score is inf, and inf/inf is nan (exp(710) is already inf)",
            _SHIFT_HINT + " — softmax does not change, and the largest exponent becomes exp(0) = 1",
            matches=softmax_overflows),
    Mistake("sum instead of mean", "cross_entropy",
            "your cross_entropy adds up the rows: the loss of a batch is the mean over its rows",
            "return the mean of the per-row losses (np.mean), not their sum", wrong=cross_entropy_sum),
    Mistake("log(0)", "cross_entropy",
            "your cross_entropy computes 0·log 0 literally: log(0) = −inf and 0·(−inf) = nan",
            "leave out the terms with p_true == 0 (a mask such as p_true > 0), they count 0",
            matches=cross_entropy_log0),
    Mistake("sum instead of mean", "nll_from_logits",
            "your nll_from_logits adds up the rows: the loss of a batch is the mean over its rows",
            "return the mean over the rows (np.mean), as torch's cross_entropy does", wrong=nll_sum),
    Mistake("log(0)", "nll_from_logits",
            "your nll_from_logits takes the log of a softmax: a true class far below the best score gets "
            "probability 0.0 in floating point, and −log 0 = inf",
            "compute log softmax directly: z_k − m − log Σ exp(z − m), never log(softmax(z))",
            wrong=nll_log_of_softmax),
    Mistake("no max-shift", "nll_from_logits",
            "your nll_from_logits overflows: exp of a large score is inf, so log Σ exp(z) is inf (or nan)",
            "log-sum-exp: m + log Σ exp(z − m) with m the row maximum", wrong=nll_no_shift),
]
