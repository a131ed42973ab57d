"""Checks for exercise08 — weight initialization.

The oracle is ``reference.exercise08`` (its ``first_layer_gradients`` is tested against torch
autograd in ``tests/reference``, so this module needs no torch). The scales are compared
with the formulas; the random schemes of ``init_dense`` are checked statistically on
20,000 – 50,000 weights drawn from a generator the grader seeds
(``rng=np.random.default_rng(SEED)``, created in the worker, see ``grader.kit.worker_rng``), so
the verdict is the same on every grading. Hypothesis draws only the fans.

Soundness: each statistical test rejects a correct sampler with probability at most
``ALPHA`` = 1e-8 per example (Dvoretzky–Kiefer–Wolfowitz for the distribution, a Chernoff
bound for the tails); the statistical checks run 12 examples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from grader.kit import (
    ALPHA, check, chernoff_lower, dkw, example, expect, expect_array, expect_float, float_arrays, given,
    ks_on_grid, Mistake, normal_cdf, sides, small_floats, st, type_name, uniform_cdf, worker_rng)

from grader.reference import exercise08 as ref


TITLE = "Weight initialization"
ALIASES = ("initialization", "init", "weight-init")
MAX_EXAMPLES = 25

SEED = 8
STAT_EXAMPLES = 12
MIN_WEIGHTS, MAX_WEIGHTS = 20_000, 50_000
TAIL = 2.28  # in std: a plain normal has 2.26 % of its mass beyond, Keras' truncated he_normal none


# --------------------------------------------------------------------------- glorot_uniform_limit, he_normal_std (1 + 1)


@check(points=1, functions=("glorot_uniform_limit",))
@given(fan_in=st.integers(1, 1000), fan_out=st.integers(1, 1000))
@example(fan_in=3, fan_out=3)
@example(fan_in=784, fan_out=500)
def glorot_uniform_limit_is_sqrt_6_over_fan_in_plus_fan_out(sub, fan_in, fan_out):
    """glorot_uniform_limit(fan_in, fan_out) = √(6/(fan_in + fan_out)) (1 for 3 and 3, 0.0684 for 784 and 500)."""
    expect_float(sub.glorot_uniform_limit(fan_in, fan_out), ref.glorot_uniform_limit(fan_in, fan_out),
                 what=f"glorot_uniform_limit({fan_in}, {fan_out})")


@check(points=1, functions=("he_normal_std",))
@given(fan_in=st.integers(1, 1000))
@example(fan_in=2)
@example(fan_in=784)
def he_normal_std_is_sqrt_2_over_fan_in(sub, fan_in):
    """he_normal_std(fan_in) = √(2/fan_in) (1 for 2, 0.0505 for 784)."""
    expect_float(sub.he_normal_std(fan_in), ref.he_normal_std(fan_in), what=f"he_normal_std({fan_in})")


# --------------------------------------------------------------------------- init_dense (3 points)


@check(points=1, functions=("init_dense",))
@given(fan_in=sides(), fan_out=sides(), value=small_floats())
def init_dense_zeros_and_constant_fill_a_fan_out_by_fan_in_matrix(sub, fan_in, fan_out, value):
    """"zeros" and "constant" (value=…, default 0.5) give a (fan_out, fan_in) matrix — nn.Linear's weight shape."""
    shape = (fan_out, fan_in)
    expect_array(sub.init_dense(fan_in, fan_out, "zeros"), np.zeros(shape),
                 what=f'init_dense({fan_in}, {fan_out}, "zeros")')
    expect_array(sub.init_dense(fan_in, fan_out, "constant"), np.full(shape, 0.5),
                 what=f'init_dense({fan_in}, {fan_out}, "constant")')
    expect_array(sub.init_dense(fan_in, fan_out, "constant", value=value), np.full(shape, value),
                 what=f'init_dense({fan_in}, {fan_out}, "constant", value={value})')


@dataclass
class Fans:
    fan_in: int
    fan_out: int


@st.composite
def big_fans(draw):
    """Return Fans with 20,000 ≤ fan_in·fan_out ≤ 50,000 (ratios from 1:100 to 100:1)."""
    fan_in = draw(st.integers(20, 2000))
    lo = -(-MIN_WEIGHTS // fan_in)
    return Fans(fan_in, draw(st.integers(lo, max(lo, MAX_WEIGHTS // fan_in))))


def _expect_weights(got, fan_in: int, fan_out: int, what: str) -> np.ndarray:
    """Expect a finite float matrix of shape (fan_out, fan_in)."""
    expect(isinstance(got, np.ndarray) and got.dtype.kind == "f", what,
           f"expected a numpy array of floats, got {type_name(got)}", got=got)
    expect(got.shape == (fan_out, fan_in), what,
           f"expected shape (fan_out, fan_in) = {(fan_out, fan_in)} (nn.Linear's weight), got {got.shape}"
           + (" — that is Keras' kernel shape (fan_in, fan_out)" if got.shape == (fan_in, fan_out) else ""),
           expected=(fan_out, fan_in), got=got)
    expect(bool(np.all(np.isfinite(got))), what, "the matrix contains nan or inf", got=got)
    return got


def _expect_rng_is_used(sub, scheme: str) -> None:
    """The same seed gives the same matrix; rng=None draws a fresh one each time (a small matrix, fans 7 and 5;
    35 continuous draws repeat by chance with probability 0)."""
    what = f'init_dense(7, 5, "{scheme}", rng=np.random.default_rng(…))'
    a = _expect_weights(sub.init_dense(7, 5, scheme, rng=worker_rng(sub, "init_dense", 1)), 7, 5, what)
    b = _expect_weights(sub.init_dense(7, 5, scheme, rng=worker_rng(sub, "init_dense", 1)), 7, 5, what)
    expect(np.array_equal(a, b), what, "two calls with generators seeded alike gave different weights: draw them "
                                       "from `rng` (not from np.random or a new default_rng())", got=b)
    what = f'init_dense(7, 5, "{scheme}")  # rng=None'
    c = _expect_weights(sub.init_dense(7, 5, scheme), 7, 5, what)
    d = _expect_weights(sub.init_dense(7, 5, scheme), 7, 5, what)
    expect(not np.array_equal(c, d), what, "two calls with rng=None gave the same weights: without an rng, draw "
           "fresh randomness (np.random.default_rng() with no seed), not a fixed seed", got=d)
    if scheme == "glorot_uniform":
        limit = ref.glorot_uniform_limit(7, 5)
        expect(bool(np.all(np.abs(c) <= limit * (1 + 1e-12))), what,
               f"a weight of {float(np.abs(c).max()):.4g} lies outside ±limit = ±{limit:.4g}", got=c)


def _stat_what(fan_in, fan_out, scheme):
    return f'init_dense({fan_in}, {fan_out}, "{scheme}", rng=np.random.default_rng({SEED}))'


@check(points=1, functions=("init_dense",), max_examples=STAT_EXAMPLES)
@given(fans=big_fans())
def init_dense_glorot_uniform_is_uniform_within_the_limit(sub, fans):
    """"glorot_uniform" draws U(−limit, limit), limit = √(6/(fan_in + fan_out)), from the rng it is given.

    On 20,000 – 50,000 weights: every |w| ≤ limit, and the empirical CDF is within ε = √(ln(2/α)/2n)
    (≤ 0.022) of the uniform CDF at every point of a 513-point grid. By the DKW inequality a
    correct sampler exceeds ε with probability ≤ α = 1e-8 per example, < 1.2e-7 over the 12
    examples. Caught: a normal instead of the uniform (Glorot normal with std limit/√3: 8 % of
    the weights beyond ±limit, CDF distance 0.057; a normal with std = limit: 32 % beyond), a
    wrong limit, Keras' (fan_in, fan_out) shape, an rng that is ignored.
    """
    fan_in, fan_out = fans.fan_in, fans.fan_out
    limit = ref.glorot_uniform_limit(fan_in, fan_out)
    what = _stat_what(fan_in, fan_out, "glorot_uniform")
    w = _expect_weights(sub.init_dense(fan_in, fan_out, "glorot_uniform", rng=worker_rng(sub, "init_dense", SEED)),
                        fan_in, fan_out, what)
    big = float(np.abs(w).max())
    outside = int(np.sum(np.abs(w) > limit * (1 + 1e-12)))
    expect(outside == 0, what, f"{outside} of the {w.size} weights lie outside ±limit = ±{limit:.4g} "
                               f"(the largest |w| is {big:.4g}): U(−limit, limit) never leaves the interval", got=w)
    grid = np.linspace(-limit, limit, 513)
    dist, at = ks_on_grid(w, uniform_cdf(grid, limit), grid)
    eps = dkw(w.size, ALPHA)
    expect(dist <= eps, what, f"the weights are not uniform on ±{limit:.4g}: at w = {at:.4g} the fraction of "
                              f"weights below differs by {dist:.3f} from the uniform CDF (a correct sampler stays "
                              f"within {eps:.3f} except with probability 1e-8)", got=w)
    _expect_rng_is_used(sub, "glorot_uniform")


@check(points=1, functions=("init_dense",), max_examples=STAT_EXAMPLES)
@given(fans=big_fans())
def init_dense_he_normal_is_normal_with_std_sqrt_2_over_fan_in(sub, fans):
    """"he_normal" draws a plain (untruncated) N(0, 2/fan_in) from the rng it is given.

    On 20,000 – 50,000 weights: the empirical CDF is within ε = √(ln(2/α)/2n) (≤ 0.022) of
    Φ(w/std), std = √(2/fan_in), on a 1001-point grid (DKW: a correct sampler exceeds ε with
    probability ≤ α = 1e-8), and at least (1 − δ)·μ weights lie beyond 2.28 std, where μ = 2.26 %
    of n is the normal's expected count and δ = √(2·ln(1/α)/μ) (Chernoff: probability ≤ 1e-8).
    Together < 2.4e-7 over the 12 examples. Caught: the std from fan_out (√(2/fan_out); CDF
    distance ≥ 0.044 once the fans differ by a factor 1.44, and hypothesis draws ratios up to
    100), the variance used as std, the LeCun std √(1/fan_in), Keras' truncated he_normal (no
    weights beyond 2.28 std), Keras' shape, an rng that is ignored.
    """
    fan_in, fan_out = fans.fan_in, fans.fan_out
    std = ref.he_normal_std(fan_in)
    what = _stat_what(fan_in, fan_out, "he_normal")
    w = _expect_weights(sub.init_dense(fan_in, fan_out, "he_normal", rng=worker_rng(sub, "init_dense", SEED)),
                        fan_in, fan_out, what)
    grid = std * np.linspace(-5.0, 5.0, 1001)
    dist, at = ks_on_grid(w, normal_cdf(grid, std), grid)
    eps = dkw(w.size, ALPHA)
    sample_std = float(np.std(w))
    expect(dist <= eps, what, f"the weights do not follow N(0, std²) with std = √(2/fan_in) = {std:.4g}: at "
                              f"w = {at:.4g} the fraction of weights below differs by {dist:.3f} from the normal CDF "
                              f"(a correct sampler stays within {eps:.3f} except with probability 1e-8); "
                              f"their std is {sample_std:.4g}", got=w)
    beyond = int(np.sum(np.abs(w) > TAIL * std))
    mu = w.size * 2.0 * (1.0 - float(normal_cdf(TAIL, 1.0)))
    least = chernoff_lower(mu, ALPHA)
    expect(beyond >= least, what, f"only {beyond} of the {w.size} weights lie beyond {TAIL} std; a plain normal has "
                                  f"about {mu:.0f} there (at least {least:.0f} except with probability 1e-8) — "
                                  "is your normal truncated?", got=w)
    _expect_rng_is_used(sub, "he_normal")


# --------------------------------------------------------------------------- first_layer_gradients (6 points)


@dataclass
class NetCase:
    W1: np.ndarray
    W2: np.ndarray
    x: np.ndarray
    y: np.ndarray

    def expected(self) -> np.ndarray:
        return ref.first_layer_gradients(self.W1, self.W2, self.x, self.y)

    def call(self, sub):
        return sub.first_layer_gradients(self.W1, self.W2, self.x, self.y)

    def what(self) -> str:
        (h, d), k, n = self.W1.shape, self.W2.shape[0], self.x.shape[0]
        return f"first_layer_gradients(W1 {h}×{d}, W2 {k}×{h}, x {n}×{d}, y)"


def _labels(draw, n: int, k: int) -> np.ndarray:
    return np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)), dtype=np.int64)


@st.composite
def net_cases(draw, *, constant: bool = False):
    """Return a NetCase: H, D ≤ 4 hidden units and inputs, K ≤ 3 classes, N ≤ 4 examples.

    ``constant``: W1 has identical rows and W2 identical columns (every hidden unit the same).
    """
    h, d, k, n = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(2, 3)), draw(st.integers(1, 4))
    if constant:
        W1 = np.tile(draw(float_arrays((d,), min_value=-2, max_value=2)), (h, 1))
        W2 = np.tile(draw(float_arrays((k, 1), min_value=-2, max_value=2)), (1, h))
    else:
        W1 = draw(float_arrays((h, d), min_value=-2, max_value=2))
        W2 = draw(float_arrays((k, h), min_value=-2, max_value=2))
    return NetCase(W1, W2, draw(float_arrays((n, d), min_value=-2, max_value=2)), _labels(draw, n, k))


@check(points=2, functions=("first_layer_gradients",))
@given(case=net_cases())
def first_layer_gradients_matches_the_reference(sub, case):
    """dL/dW1 equals the reference (= torch autograd) for random small networks, batches and labels."""
    expect_array(case.call(sub), case.expected(), what=case.what())


def _loss(W1, W2, x, y) -> float:
    z = W1 @ x.T
    a = 0.5 * (1.0 + np.tanh(0.5 * z))
    s = W2 @ a
    s = s - s.max(axis=0, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=0, keepdims=True))
    return float(-logp[y, np.arange(len(y))].mean())


def _numerical_gradient(case: NetCase, h: float = 1e-6) -> np.ndarray:
    g = np.zeros_like(case.W1)
    for idx in np.ndindex(*case.W1.shape):
        up, down = case.W1.copy(), case.W1.copy()
        up[idx] += h
        down[idx] -= h
        g[idx] = (_loss(up, case.W2, case.x, case.y) - _loss(down, case.W2, case.x, case.y)) / (2 * h)
    return g


@check(points=1, functions=("first_layer_gradients",))
@given(case=net_cases())
def first_layer_gradients_is_the_slope_of_the_loss(sub, case):
    """dL/dW1 agrees with central finite differences of the mean cross-entropy (h = 1e-6)."""
    expect_array(case.call(sub), _numerical_gradient(case), what=case.what() + " compared with finite differences",
                 rtol=1e-6)


DOC_X = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]])
DOC_Y = np.array([0, 1])


def _expect_identical_rows(g: np.ndarray, what: str) -> None:
    spread = float(np.max(np.abs(g - g[0]))) if g.size else 0.0
    expect(spread <= 1e-9 * max(1.0, float(np.max(np.abs(g)))), what,
           f"with every hidden unit initialised alike, all rows of dL/dW1 (one per hidden unit) must be equal; "
           f"yours differ by up to {spread:.3g}", got=g)


@check(points=1, functions=("first_layer_gradients",))
def first_layer_gradients_reproduces_the_constant_init_example(sub):
    """The task's example: W1 = 0.5 (4×3), W2 = 0.5 (2×4) give a 4×3 gradient with four identical rows."""
    case = NetCase(np.full((4, 3), 0.5), np.full((2, 4), 0.5), DOC_X, DOC_Y)
    g = expect_array(case.call(sub), case.expected(), what=case.what())
    _expect_identical_rows(g, case.what())


@check(points=2, functions=("first_layer_gradients",))
@given(case=net_cases(constant=True))
def constant_init_gives_identical_gradient_rows(sub, case):
    """With identical hidden units (W1's rows equal, W2's columns equal) every row of dL/dW1 is the same: no learning."""
    g = expect_array(case.call(sub), case.expected(), what=case.what())
    _expect_identical_rows(g, case.what())


# --------------------------------------------------------------------------- typical mistakes


def glorot_limit_is_normal_std(fan_in, fan_out):
    return math.sqrt(2.0 / (fan_in + fan_out))


def glorot_limit_no_sqrt(fan_in, fan_out):
    assert fan_in + fan_out != 6
    return 6.0 / (fan_in + fan_out)


def glorot_limit_fan_in_only(fan_in, fan_out):
    return math.sqrt(6.0 / fan_in)


def he_std_lecun(fan_in):
    return math.sqrt(1.0 / fan_in)


def he_std_is_variance(fan_in):
    assert fan_in != 2
    return 2.0 / fan_in


def keras_shape(got, fan_in, fan_out, scheme, rng=None, *, value=0.5):
    return fan_in != fan_out and getattr(got, "shape", None) == (fan_in, fan_out)


def constant_ignores_value(fan_in, fan_out, scheme, rng=None, *, value=0.5):
    assert scheme == "constant" and value != 0.5
    return np.full((fan_out, fan_in), 0.5)


def _big_weights(got, fan_in, fan_out) -> bool:
    return isinstance(got, np.ndarray) and got.shape == (fan_out, fan_in) and got.size >= 1000 \
        and bool(np.all(np.isfinite(got)))


def _normal_with_std(got, std: float) -> bool:
    grid = std * np.linspace(-5.0, 5.0, 1001)
    return ks_on_grid(got, normal_cdf(grid, std), grid)[0] <= dkw(got.size, ALPHA)


def glorot_normal(got, fan_in, fan_out, scheme, rng=None, *, value=0.5):
    """A normal instead of the uniform: std limit/√3 (Glorot normal) or std = limit."""
    if scheme != "glorot_uniform" or not _big_weights(got, fan_in, fan_out):
        return False
    limit = ref.glorot_uniform_limit(fan_in, fan_out)
    return bool(np.any(np.abs(got) > limit)) and (_normal_with_std(got, limit / math.sqrt(3))
                                                 or _normal_with_std(got, limit))


def he_fan_out(got, fan_in, fan_out, scheme, rng=None, *, value=0.5):
    if scheme != "he_normal" or not _big_weights(got, fan_in, fan_out):
        return False
    return _normal_with_std(got, math.sqrt(2.0 / fan_out)) and not _normal_with_std(got, math.sqrt(2.0 / fan_in))


def _he_with_std(std_of):
    def matches(got, fan_in, fan_out, scheme, rng=None, *, value=0.5):
        if scheme != "he_normal" or not _big_weights(got, fan_in, fan_out):
            return False
        return _normal_with_std(got, std_of(fan_in)) and not _normal_with_std(got, math.sqrt(2.0 / fan_in))
    return matches


def he_truncated(got, fan_in, fan_out, scheme, rng=None, *, value=0.5):
    if scheme != "he_normal" or not _big_weights(got, fan_in, fan_out):
        return False
    std = ref.he_normal_std(fan_in)
    return not np.any(np.abs(got) > TAIL * std) and abs(float(np.std(got)) / std - 1) < 0.05


def _network(W1, W2, x, y):
    W1, W2, x = (np.asarray(a, float) for a in (W1, W2, x))
    y = np.asarray(y)
    A = 0.5 * (1 + np.tanh(0.5 * (W1 @ x.T)))  # (H, N)
    S = W2 @ A  # (K, N)
    P = np.exp(S - S.max(axis=0)) / np.exp(S - S.max(axis=0)).sum(axis=0)  # (K, N)
    onehot = np.zeros_like(P)
    onehot[y, np.arange(len(y))] = 1.0
    return W1, W2, x, A, P, onehot


def grads_summed_loss(W1, W2, x, y):
    assert len(y) >= 2
    return len(np.asarray(y)) * ref.first_layer_gradients(W1, W2, x, y)


def grads_no_sigmoid_derivative(W1, W2, x, y):
    W1, W2, x, A, P, onehot = _network(W1, W2, x, y)
    return (W2.T @ ((P - onehot) / x.shape[0])) @ x


def grads_derivative_at_z(W1, W2, x, y):
    W1, W2, x, A, P, onehot = _network(W1, W2, x, y)
    Z = W1 @ x.T
    return ((W2.T @ ((P - onehot) / x.shape[0])) * Z * (1 - Z)) @ x


def grads_softmax_over_examples(W1, W2, x, y):
    W1, W2, x, A, _, onehot = _network(W1, W2, x, y)
    S = W2 @ A
    P = np.exp(S - S.max(axis=1, keepdims=True))
    P = P / P.sum(axis=1, keepdims=True)
    return ((W2.T @ ((P - onehot) / x.shape[0])) * A * (1 - A)) @ x


def grads_wrong_sign(W1, W2, x, y):
    return -ref.first_layer_gradients(W1, W2, x, y)


def grads_transposed(W1, W2, x, y):
    assert np.shape(W1)[0] != np.shape(W1)[1]
    return ref.first_layer_gradients(W1, W2, x, y).T


_SHAPE_HINT = "shape = (fan_out, fan_in), like nn.Linear(fan_in, fan_out).weight"
MISTAKES = [
    Mistake("Glorot normal std instead of the uniform limit", "glorot_uniform_limit",
            "your limit is √(2/(fan_in + fan_out)), the std of Glorot's *normal* variant; the uniform's bound is "
            "√(6/(fan_in + fan_out)) (a uniform on ±L has variance L²/3)", "np.sqrt(6 / (fan_in + fan_out))",
            wrong=glorot_limit_is_normal_std),
    Mistake("square root missing", "glorot_uniform_limit", "your limit is 6/(fan_in + fan_out): take the square root",
            "np.sqrt(6 / (fan_in + fan_out))", wrong=glorot_limit_no_sqrt),
    Mistake("fan_out ignored", "glorot_uniform_limit",
            "your limit is √(6/fan_in) (He's uniform bound); Glorot averages both fans: √(6/(fan_in + fan_out))",
            "np.sqrt(6 / (fan_in + fan_out))", wrong=glorot_limit_fan_in_only),
    Mistake("LeCun instead of He", "he_normal_std",
            "your std is √(1/fan_in) (LeCun); He's std for ReLU networks is √(2/fan_in) — ReLU zeroes half the inputs",
            "np.sqrt(2 / fan_in)", wrong=he_std_lecun),
    Mistake("variance instead of std", "he_normal_std",
            "you return the variance 2/fan_in; the standard deviation is its square root √(2/fan_in)",
            "np.sqrt(2 / fan_in)", wrong=he_std_is_variance),
    Mistake("Keras' kernel shape", "init_dense",
            "your matrix is (fan_in, fan_out), Keras' kernel layout; here weights have nn.Linear's shape "
            "(fan_out, fan_in)", _SHAPE_HINT, matches=keras_shape),
    Mistake("constant ignores value", "init_dense", 'your "constant" scheme ignores `value` and always fills 0.5',
            "np.full(shape, float(value))", wrong=constant_ignores_value),
    Mistake("Glorot normal instead of uniform", "init_dense",
            'your "glorot_uniform" draws from a normal distribution: it is uniform on (−limit, limit)',
            "rng.uniform(-limit, limit, size=shape)", matches=glorot_normal),
    Mistake("He with fan_out", "init_dense",
            'your "he_normal" weights have std √(2/fan_out); He (fan_in mode, as torch\'s kaiming_normal_ default) '
            "uses √(2/fan_in)", "rng.normal(0.0, he_normal_std(fan_in), size=shape)", matches=he_fan_out),
    Mistake("variance instead of std", "init_dense",
            'your "he_normal" weights have std 2/fan_in, the variance: numpy\'s normal takes the std, √(2/fan_in)',
            "rng.normal(0.0, np.sqrt(2 / fan_in), size=shape)", matches=_he_with_std(lambda f: 2.0 / f)),
    Mistake("LeCun instead of He", "init_dense",
            'your "he_normal" weights have std √(1/fan_in) (LeCun); He uses √(2/fan_in)',
            "rng.normal(0.0, np.sqrt(2 / fan_in), size=shape)", matches=_he_with_std(lambda f: math.sqrt(1.0 / f))),
    Mistake("truncated normal", "init_dense",
            'your "he_normal" has no weights beyond ≈ 2.3 std: that is Keras\' truncated he_normal; here it is the '
            "plain normal of torch's kaiming_normal_", "rng.normal(0.0, std, size=shape), no redrawing",
            matches=he_truncated),
    Mistake("sum instead of mean over the examples", "first_layer_gradients",
            "your gradient is N times too large: the loss is the *mean* cross-entropy over the N examples",
            "divide (P − onehot) by N", wrong=grads_summed_loss),
    Mistake("sigmoid derivative forgotten", "first_layer_gradients",
            "your backward pass skips the sigmoid: dZ = dA · σ'(Z) with σ'(Z) = A(1 − A)",
            "d_z = d_a * a * (1 - a)", wrong=grads_no_sigmoid_derivative),
    Mistake("sigmoid derivative at the wrong place", "first_layer_gradients",
            "your backward pass uses Z(1 − Z); the sigmoid's derivative is A(1 − A) with A = σ(Z)",
            "d_z = d_a * a * (1 - a)", wrong=grads_derivative_at_z),
    Mistake("softmax over the examples", "first_layer_gradients",
            "your softmax normalises over the examples (axis 1 of the (K, N) logits); each example's column is "
            "normalised over the K classes (axis 0)", "probs = exp(S) / exp(S).sum(axis=0)",
            wrong=grads_softmax_over_examples),
    Mistake("wrong sign", "first_layer_gradients",
            "your gradient has the wrong sign: dL/dS = P − onehot (gradient of the loss, not of the log-likelihood)",
            "d_logits = (probs - onehot) / n", wrong=grads_wrong_sign),
    Mistake("transposed gradient", "first_layer_gradients",
            "your gradient is (D, H), the transpose: dL/dW1 has W1's shape (H, D)", "return d_z @ x",
            wrong=grads_transposed),
]
