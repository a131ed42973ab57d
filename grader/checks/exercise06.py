"""Checks for exercise06 — dropout expectations.

The oracle is ``reference.exercise06``. ``expected_output`` and ``test_time_weights`` are
deterministic and compared with exact values; ``dropout`` is random and checked
statistically: the student's function gets a generator seeded by the grader
(``rng=np.random.default_rng(SEED)``, created in the worker, see ``grader.kit.worker_rng``), so
every grading of the same submission sees the same masks and gives the same verdict.
Hypothesis draws only the non-random parameters (the drop rate p, shapes, values); p is
random so that the p = 0.5 coincidence (p = 1 − p) cannot hide the keep-probability mistakes.

Soundness: each statistical test accepts a correct solution except with probability at most
``ALPHA`` = 1e-8 per example (Hoeffding's inequality, see the checks' docstrings); with at
most 25 examples per check a correct solution fails a check with probability < 3e-7.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from grader.kit import (
    ALPHA, FLOAT_RTOL, check, expect, expect_array, expect_float, float_arrays, given, hoeffding, Mismatch,
    Mistake, probabilities, RemoteArraySubclass, sides, st, TensorData, worker_rng)

from grader.reference import exercise06 as ref


TITLE = "Dropout expectations"
ALIASES = ("dropout",)
MAX_EXAMPLES = 25

SEED = 6
N_SAMPLES = 20_000  # elements per statistical call: Hoeffding's t = 0.0219 at ALPHA


# --------------------------------------------------------------------------- helpers


def drop_rates(*, edges: bool = False):
    """Return a strategy for the drop rate p (two decimals in [0.05, 0.95]; 0 and 1 if ``edges``)."""
    return st.one_of(probabilities(), st.sampled_from([0.0, 1.0])) if edges else probabilities()


def _pattern(shape) -> np.ndarray:
    """A fixed array without zeros: -3.5, -2.5, …, 4.5 repeating (so every drop is visible)."""
    n = int(np.prod(shape))
    return ((np.arange(n) % 9) - 3.5).reshape(shape).astype(np.float64)


def _expect_float_array(got, shape, what: str) -> np.ndarray:
    """Expect a float numpy array of ``shape`` (values are judged by the caller)."""
    if isinstance(got, RemoteArraySubclass):
        raise Mismatch(what, "type", f"returned a {got.subclass} (an ndarray subclass); return a plain numpy.ndarray",
                       got=got.array)
    if isinstance(got, TensorData):
        raise Mismatch(what, "type", "returned a torch.Tensor; this exercise works with numpy arrays", got=got.array)
    if not isinstance(got, np.ndarray):
        raise Mismatch(what, "type", f"expected a numpy.ndarray, got {type(got).__name__}", got=got)
    if got.dtype.kind != "f":
        raise Mismatch(what, "dtype", f"expected an array of floats, got dtype {got.dtype}", got=got)
    if got.shape != tuple(shape):
        raise Mismatch(what, "shape", f"expected shape {tuple(shape)} (the shape of x), got shape {got.shape}",
                       expected=tuple(shape), got=got)
    return got


def _rtol(got: np.ndarray) -> float:
    """Relative tolerance for comparing a result with exact values: looser for float32/float16."""
    return max(1e-9, FLOAT_RTOL.get(got.dtype, 0.0))


def _expect_dropped_or_scaled(got: np.ndarray, x: np.ndarray, p: float, what: str) -> np.ndarray:
    """Every element is 0 (dropped) or x / (1 − p) (kept); return the boolean mask of kept ones."""
    scaled = x / (1.0 - p)
    zero = np.isclose(got, 0.0, rtol=0.0, atol=1e-12)
    kept = np.isclose(got, scaled, rtol=_rtol(got), atol=1e-12)
    ok = zero | kept
    if not ok.all():
        i = np.unravel_index(int(np.argmin(ok)), ok.shape)
        at = tuple(int(k) for k in i)
        raise Mismatch(what, "value",
                       f"every element must be 0 (dropped) or x/(1 − p) = x · {1 / (1 - p):.6g} (kept); at index {at} "
                       f"x = {x[i]:.6g}, so 0 or {scaled[i]:.6g}, but got {got[i]:.6g}", got=got)
    return kept & ~np.isclose(x, 0.0)


# --------------------------------------------------------------------------- expected_output (2 points)

SLIDE_CASES = [([1.0, 1.0], [1.0, 1.0]), ([2.0, 4.0], [1.0, 3.0]), ([2.0, -3.0], [0.5, 4.0]),
               ([0.3, 0.7], [-1.2, 2.5])]


@check(points=1, functions=("expected_output",))
def expected_output_reproduces_the_slides_example(sub):
    """With p = 0.5 and two inputs, E[a] = ½(w₀x + w₁y) (and w·x when nothing is dropped, p = 0)."""
    for w, x in SLIDE_CASES:
        w, x = np.array(w), np.array(x)
        half = 0.5 * (w[0] * x[0] + w[1] * x[1])
        expect_float(sub.expected_output(w, x, 0.5), half, what=f"expected_output(w={w.tolist()}, x={x.tolist()}, 0.5)")
    w, x = np.array([2.0, 4.0]), np.array([1.0, 3.0])
    expect_float(sub.expected_output(w, x, 0.0), 14.0, what="expected_output(w=[2.0, 4.0], x=[1.0, 3.0], 0.0)")


def _enumerated(w: np.ndarray, x: np.ndarray, p: float) -> float:
    """E[Σ wᵢxᵢmᵢ] as the probability-weighted sum over all 2ⁿ masks."""
    total = 0.0
    for mask in itertools.product((0.0, 1.0), repeat=len(w)):
        m = np.array(mask)
        total += float(np.prod(np.where(m == 1.0, 1.0 - p, p))) * float(np.sum(w * x * m))
    return total


@dataclass
class ExpectationCase:
    w: np.ndarray
    x: np.ndarray
    p: float


@st.composite
def expectation_cases(draw):
    """Return a case: two 1-D arrays w, x of the same length n ≤ 8 and a drop rate p."""
    n = draw(sides(max_side=8))
    return ExpectationCase(draw(float_arrays((n,))), draw(float_arrays((n,))), draw(drop_rates(edges=True)))


@check(points=1, functions=("expected_output",))
@given(case=expectation_cases())
def expected_output_equals_the_average_over_all_masks(sub, case):
    """expected_output equals the probability-weighted average of Σ wᵢxᵢmᵢ over all 2ⁿ masks (random p)."""
    w, x, p = case.w, case.x, case.p
    expect_float(sub.expected_output(w, x, p), _enumerated(w, x, p), what=f"expected_output(w, x, {p})")


# --------------------------------------------------------------------------- dropout (4 points)


@check(points=1, functions=("dropout",))
@given(x=float_arrays(st.lists(sides(max_side=5), min_size=1, max_size=3).map(tuple)), p=drop_rates())
def dropout_is_the_identity_at_test_time_and_for_p_0(sub, x, p):
    """dropout(x, p, training=False) and dropout(x, 0.0) return x unchanged (inverted dropout: no test-time scaling)."""
    expect_array(sub.dropout(x, p, training=False), x, what=f"dropout(x, {p}, training=False)")
    expect_array(sub.dropout(x, 0.0), x, what="dropout(x, 0.0)")


@check(points=1, functions=("dropout",))
@given(shape=st.sampled_from([(N_SAMPLES,), (100, 200), (20, 25, 40)]), p=drop_rates())
def dropout_zeroes_a_fraction_p_and_scales_the_survivors(sub, shape, p):
    """dropout zeroes each element with probability p and multiplies the survivors by 1/(1 − p).

    x has 20,000 non-zero elements, ``rng=np.random.default_rng(6)``. Every element must be 0
    or x/(1 − p) exactly; the zeroed fraction must be within t = 0.0219 of p. For a correct
    solution the number of zeros is Binomial(20000, p); by Hoeffding,
    P(|fraction − p| > t) ≤ 2·exp(−2·20000·t²) = 1e-8 per example, so with ≤ 25 examples a
    correct solution fails with probability < 2.5e-7. Caught: survivors scaled by 1/p (all p
    but 0.5) or not at all; dropping with probability 1 − p (fraction 1 − p: every p outside
    0.478 … 0.522); one coin for the whole array (fraction 0 or 1).
    """
    x = _pattern(shape)
    what = f"dropout(x, {p}, rng=np.random.default_rng({SEED}))"
    got = _expect_float_array(sub.dropout(x, p, rng=worker_rng(sub, "dropout", SEED)), shape, what)
    kept = _expect_dropped_or_scaled(got, x, p, what)
    frac = 1.0 - kept.mean()
    t = hoeffding(x.size, ALPHA)
    expect(abs(frac - p) <= t, what,
           f"{frac:.2%} of the {x.size} elements were zeroed, but each one should be dropped with probability "
           f"p = {p} (a correct dropout lands within {p - t:.2%} … {p + t:.2%} except with probability 1e-8)",
           expected=p, got=got)


@check(points=1, functions=("dropout",))
@given(x=float_arrays(st.tuples(sides(max_side=4))), p=drop_rates())
def dropout_is_unbiased(sub, x, p):
    """The mean of dropout(x) over 20,000 draws is x (inverted dropout keeps the expectation).

    x (n ≤ 4 values) is repeated in 20,000 rows, ``rng=np.random.default_rng(6)``; the mean of
    column j must be within |xⱼ|·t/(1 − p) of xⱼ, t = √(ln(2n/α)/40000) ≤ 0.0227. For a correct solution column j's
    mean is xⱼ·K/(20000·(1 − p)) with K ~ Binomial(20000, 1 − p) survivors, so by Hoeffding and a
    union bound over the n ≤ 4 columns, P(reject) ≤ n·2·exp(−2·20000·t²) ≤ 1e-8 per example
    (< 2.5e-7 for 25 examples). Caught: no scaling (mean (1 − p)·x), scaling by 1/p (mean
    x·(1 − p)/p), dropping with probability 1 − p (mean x·p/(1 − p)), one coin for all.
    """
    rows = 20_000
    big = np.tile(x, (rows, 1))  # (20000, n)
    what = f"dropout(x repeated in {rows} rows, {p}, rng=np.random.default_rng({SEED}))"
    got = _expect_float_array(sub.dropout(big, p, rng=worker_rng(sub, "dropout", SEED)), big.shape, what)
    means = got.astype(np.float64).mean(axis=0)
    t = hoeffding(rows, ALPHA / len(x))
    tol = np.abs(x) * t / (1.0 - p) + 1e-9 * (1.0 + np.abs(x))
    bad = np.abs(means - x) > tol
    if bad.any():
        j = int(np.argmax(bad))
        raise Mismatch(what, "value",
                       f"column {j}: x = {x[j]:.6g}, but the mean over {rows} draws is {means[j]:.6g} "
                       f"(a correct, unbiased dropout lands within ±{tol[j]:.3g} except with probability 1e-8)",
                       expected=x, got=got)


@check(points=1, functions=("dropout",))
def dropout_draws_its_masks_from_rng(sub):
    """dropout draws its masks from the rng it is given (same seed, same mask) and, with rng=None, fresh ones.

    Different seeds must give different masks, and two calls with rng=None too (a fixed default
    seed would drop the same units every step): for a correct solution two independent masks of
    1,000 elements agree with probability (p² + (1 − p)²)^1000 ≤ 0.68^1000 < 1e-160.
    """
    x = _pattern((1000,))
    for p in (0.2, 0.5, 0.8):
        what = f"dropout(x, {p}, rng=np.random.default_rng(…))"
        a = _expect_float_array(sub.dropout(x, p, rng=worker_rng(sub, "dropout", 11)), x.shape, what)
        _expect_dropped_or_scaled(a, x, p, what)
        b = _expect_float_array(sub.dropout(x, p, rng=worker_rng(sub, "dropout", 11)), x.shape, what)
        expect(np.array_equal(a, b), what,
               "two calls with generators seeded alike gave different masks: draw the mask from `rng` "
               "(not from np.random or a new default_rng())", got=b)
        c = _expect_float_array(sub.dropout(x, p, rng=worker_rng(sub, "dropout", 12)), x.shape, what)
        expect(not np.array_equal(a, c), what,
               "generators with different seeds gave the same mask: draw the mask from the `rng` you are given",
               got=c)
        what = f"dropout(x, {p})  # rng=None"
        d = _expect_float_array(sub.dropout(x, p), x.shape, what)
        _expect_dropped_or_scaled(d, x, p, what)
        e = _expect_float_array(sub.dropout(x, p), x.shape, what)
        expect(not np.array_equal(d, e), what, "two calls with rng=None dropped the same units: without an rng, "
               "draw fresh randomness (np.random.default_rng() with no seed), not a fixed seed", got=e)


# --------------------------------------------------------------------------- test_time_weights (1 point)


@check(points=1, functions=("test_time_weights",))
@given(w=float_arrays(st.lists(sides(max_side=5), min_size=1, max_size=2).map(tuple)), p=drop_rates(edges=True))
def weights_at_test_time_are_multiplied_by_the_keep_probability(sub, w, p):
    """test_time_weights(w, p) = w·(1 − p), the keep probability, for random p ([1, −2, 4], 0.25 → [0.75, −1.5, 3])."""
    example = np.array([1.0, -2.0, 4.0])
    expect_array(sub.test_time_weights(example, 0.25), np.array([0.75, -1.5, 3.0]),
                 what="test_time_weights([1.0, -2.0, 4.0], 0.25)")
    expect_array(sub.test_time_weights(w, p), ref.test_time_weights(w, p), what=f"test_time_weights(w, {p})")


# --------------------------------------------------------------------------- typical mistakes


def expected_p_instead_of_keep(w, x, p):
    assert p != 0.5
    return p * float(np.sum(np.asarray(w, float) * np.asarray(x, float)))


def expected_ignores_dropout(w, x, p):
    assert p != 0.0
    return float(np.sum(np.asarray(w, float) * np.asarray(x, float)))


def _shaped(got, x) -> bool:
    return isinstance(got, np.ndarray) and got.shape == np.shape(x) and got.dtype.kind in "iuf"


def _test_time_factor(factor):
    def matches(got, x, p, training=True, rng=None):
        x = np.asarray(x, float)
        return (not training and p > 0 and np.any(x != 0) and _shaped(got, x)
                and np.allclose(got, x * factor(p), rtol=_rtol(got), atol=1e-12))
    return matches


def dropping_at_test_time(got, x, p, training=True, rng=None):
    x = np.asarray(x, float)
    if training or p == 0 or not _shaped(got, x):
        return False
    ok = np.isclose(got, 0.0, atol=1e-12) | np.isclose(got, x / (1 - p), rtol=_rtol(got), atol=1e-12)
    return bool(ok.all() and not np.allclose(got, x))


def _survivors_scaled(scale):
    """Every element is 0 or x·scale(p), scale(p) ≠ 1/(1 − p), and some survivors are visible."""
    def matches(got, x, p, training=True, rng=None):
        x = np.asarray(x, float)
        if not training or p == 0 or not _shaped(got, x) or np.isclose(scale(p), 1 / (1 - p), rtol=1e-6):
            return False
        nz = x != 0
        kept = np.isclose(got, x * scale(p), rtol=_rtol(got), atol=1e-12) & nz
        ok = np.isclose(got, 0.0, atol=1e-12) | kept
        return bool(ok.all() and kept.any())
    return matches


def drops_with_one_minus_p(got, x, p, training=True, rng=None):
    """Survivors scaled by 1/(1 − p) or 1/p, but the zeroed fraction is ≈ 1 − p, clearly not ≈ p."""
    x = np.asarray(x, float)
    nz = x != 0
    if not training or p == 0 or not _shaped(got, x) or nz.sum() < 100:
        return False
    zero = np.isclose(got, 0.0, atol=1e-12)
    scaled = np.isclose(got, x / (1 - p), rtol=_rtol(got), atol=1e-12) | np.isclose(got, x / p, rtol=_rtol(got), atol=1e-12)
    if not (zero | scaled).all():
        return False
    frac = zero[nz].mean()
    t = hoeffding(int(nz.sum()), ALPHA)
    return bool(abs(frac - (1 - p)) <= t < abs(frac - p))


def one_coin(got, x, p, training=True, rng=None):
    """All non-zero inputs dropped, or all kept: one random number for the whole array."""
    x = np.asarray(x, float)
    nz = x != 0
    if not training or p == 0 or not _shaped(got, x) or nz.sum() < 20:
        return False
    zero = np.isclose(got, 0.0, atol=1e-12)
    kept = np.isclose(got, x / (1 - p), rtol=_rtol(got), atol=1e-12)
    return bool(zero[nz].all() or kept[nz].all())


def weights_times_p(w, p):
    assert p != 0.5
    return np.asarray(w, float) * p


def weights_divided(w, p):
    assert 0 < p < 1
    return np.asarray(w, float) / (1 - p)


MISTAKES = [
    Mistake("multiplying by p instead of 1 − p", "expected_output",
            "your expectation is p·(w·x): each input is *kept* with probability 1 − p, so E[mᵢ] = 1 − p "
            "(p = 0.5 hides this: it is the only p where p = 1 − p)",
            "E[a] = Σ wᵢxᵢ·E[mᵢ] = (1 − p)·(w·x)", wrong=expected_p_instead_of_keep),
    Mistake("dropout ignored in the expectation", "expected_output",
            "your expectation is w·x, as if nothing were dropped", "E[mᵢ] = 1 − p, not 1",
            wrong=expected_ignores_dropout),
    Mistake("multiplying by p instead of 1 − p", "dropout",
            "your dropout scales the kept values by 1/p; inverted dropout divides by the keep probability 1 − p "
            "(the two agree only at p = 0.5)",
            "return np.where(keep, x / (1 - p), 0.0)", matches=_survivors_scaled(lambda p: 1.0 / p)),
    Mistake("no scaling in training", "dropout",
            "your dropout keeps the survivors as they are: inverted dropout multiplies them by 1/(1 − p), "
            "otherwise the expected output is only (1 − p)·x",
            "divide the kept values by 1 - p", matches=_survivors_scaled(lambda p: 1.0)),
    Mistake("dropping with probability 1 − p", "dropout",
            "about a fraction 1 − p of your outputs are zero: p is the *drop* rate (as in nn.Dropout(p)), "
            "an element is kept with probability 1 − p",
            "keep = rng.random(x.shape) >= p  # True with probability 1 - p", matches=drops_with_one_minus_p),
    Mistake("one coin for the whole array", "dropout",
            "your dropout drops all elements or none: every element needs its own random number",
            "draw rng.random(x.shape), one number per element", matches=one_coin),
    Mistake("scaling at test time too", "dropout",
            "with training=False your dropout multiplies x by 1 − p: inverted dropout already scaled in training, "
            "so at test time it returns x unchanged (never both)",
            "if not training: return x (as a float array)", matches=_test_time_factor(lambda p: 1.0 - p)),
    Mistake("scaling at test time too", "dropout",
            "with training=False your dropout divides x by 1 − p: at test time inverted dropout returns x unchanged",
            "if not training: return x (as a float array)", matches=_test_time_factor(lambda p: 1.0 / (1.0 - p))),
    Mistake("dropping at test time", "dropout",
            "your dropout also drops elements when training=False: at test time every input is used",
            "check `training` before drawing the mask", matches=dropping_at_test_time),
    Mistake("multiplying by p instead of 1 − p", "test_time_weights",
            "your weights are multiplied by p, the drop rate: at test time they are multiplied by the keep "
            "probability 1 − p", "return w * (1 - p)", wrong=weights_times_p),
    Mistake("scaling the wrong way", "test_time_weights",
            "your weights are divided by 1 − p (that is inverted dropout's training-time factor); the classic "
            "variant multiplies them by 1 − p at test time", "return w * (1 - p)", wrong=weights_divided),
]
