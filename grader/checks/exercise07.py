"""Checks for exercise07 — batch normalization and input standardization.

The oracle is ``reference.exercise07``: its ``batchnorm`` is tested against
``torch.nn.BatchNorm1d``/``BatchNorm2d`` in training mode in ``tests/reference``, so this module
needs no torch. Batches are small (2 – 6 values per channel, so that a ``ddof=1`` variance is
visibly off) and ε is drawn from 1e-5 … 1 (so that ε outside the square root shows).
``standardize`` is checked against the reference and for leakage: the transformed training
split must not depend on the other splits, and every other split is transformed with the
training mean and std.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from grader.kit import (assume, check, expect, expect_array, expect_oracle, float_arrays, given, Mismatch, Mistake,
                        result_dtype, rounding_tolerance, sides, st, type_name)

from grader.reference import exercise07 as ref

TITLE = "Batch normalization and input standardization"
ALIASES = ("batchnorm", "batch-normalization", "standardize", "standardization")
MAX_EXAMPLES = 25

BN_DEFAULT_EPS = 1e-5
STD_DEFAULT_EPS = 1e-4


# --------------------------------------------------------------------------- batchnorm (5 points)


@dataclass
class BNCase:
    x: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    eps: float = BN_DEFAULT_EPS

    def kwargs(self) -> dict:
        return {} if self.eps == BN_DEFAULT_EPS else {"eps": self.eps}

    def call(self, sub):
        return sub.batchnorm(self.x, self.gamma, self.beta, **self.kwargs())

    def what(self) -> str:
        eps = "" if self.eps == BN_DEFAULT_EPS else f", eps={self.eps}"
        return f"batchnorm(x of shape {self.x.shape}, gamma, beta{eps})"


@st.composite
def bn_cases(draw, *, ndim: int | None = None, affine: bool = True):
    """Return a BNCase: x (N, D), (N, C, L) or (N, C, H, W) with ≥ 2 values per channel."""
    ndim = ndim if ndim is not None else draw(st.sampled_from([2, 3, 4]))
    if ndim == 2:
        shape = (draw(st.integers(2, 6)), draw(sides(max_side=4)))
    else:
        rest = tuple(draw(sides(max_side=3)) for _ in range(ndim - 2))
        shape = (draw(st.integers(1, 3)), draw(sides(max_side=3))) + rest
        assume(shape[0] * int(np.prod(rest)) >= 2)
    x = draw(float_arrays(shape))
    c = shape[1]
    gamma = draw(float_arrays((c,))) if affine else np.ones(c)
    beta = draw(float_arrays((c,))) if affine else np.zeros(c)
    eps = draw(st.sampled_from([BN_DEFAULT_EPS, 1e-3, 0.1, 0.5, 1.0]))
    return BNCase(x, gamma, beta, eps)


def _undo(x: np.ndarray, eps: float = BN_DEFAULT_EPS):
    """gamma = sqrt(var + eps), beta = mean per channel (axis 1): the parameters that undo BN."""
    axes = (0,) + tuple(range(2, x.ndim))
    return np.sqrt(x.var(axis=axes) + eps), x.mean(axis=axes)


UNDO_EXAMPLES = [
    np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 1.0]]),  # the task's doctest
    np.array([[0.5, -1.0, 2.0], [1.5, 3.0, -2.0], [2.5, 0.0, 1.0], [-0.5, 1.0, 4.0]]),
    np.arange(24, dtype=float).reshape(2, 3, 2, 2) % 7 - 3,  # (N, C, H, W)
]


@check(points=1, functions=("batchnorm",))
def batchnorm_can_undo_itself(sub):
    """With γ = √(var + ε) and β = mean, batchnorm gives back its input (the slides' "undo").

    Also the task's example: [[1], [3]] with γ = 1, β = 0, ε = 0 gives [[−1], [1]].
    """
    expect_array(sub.batchnorm(np.array([[1.0], [3.0]]), np.ones(1), np.zeros(1), eps=0.0), np.array([[-1.0], [1.0]]),
                 what="batchnorm([[1.0], [3.0]], gamma=[1.0], beta=[0.0], eps=0.0)")
    for x in UNDO_EXAMPLES:
        gamma, beta = _undo(x)
        expect_array(sub.batchnorm(x, gamma, beta), x,
                     what=f"batchnorm(x of shape {x.shape}, gamma=sqrt(var + 1e-5), beta=mean)")


@check(points=1, functions=("batchnorm",))
@given(case=bn_cases(ndim=2))
def batchnorm_matches_torch_on_feature_batches(sub, case):
    """batchnorm on (N, D) batches equals the reference (= torch's BatchNorm1d in training mode)."""
    expect_oracle(case.call(sub), ref.batchnorm, case.x, case.gamma, case.beta, case.eps, what=case.what())


@check(points=2, functions=("batchnorm",))
@given(case=st.one_of(bn_cases(ndim=4), bn_cases(ndim=3)))
def batchnorm_normalises_images_per_channel_over_batch_and_space(sub, case):
    """batchnorm on (N, C, H, W) and (N, C, L) equals the reference (= torch's BatchNorm2d/1d in training mode)."""
    expect_oracle(case.call(sub), ref.batchnorm, case.x, case.gamma, case.beta, case.eps, what=case.what())


@check(points=1, functions=("batchnorm",))
@given(case=bn_cases(affine=False))
def batchnorm_gives_mean_0_and_std_1_per_channel(sub, case):
    """With γ = 1, β = 0 every channel of the output has mean 0 and std √(var/(var + ε)) (≈ 1)."""
    got = case.call(sub)
    expect(isinstance(got, np.ndarray) and got.dtype.kind == "f", case.what(),
           f"expected a numpy array of floats, got {type_name(got)}", got=got)
    expect(got.shape == case.x.shape, case.what(), f"expected shape {case.x.shape} (the shape of x), got {got.shape}",
           expected=case.x.shape, got=got)
    axes = (0,) + tuple(range(2, case.x.ndim))
    var = case.x.var(axis=axes)
    mean, std = got.astype(np.float64).mean(axis=axes), got.astype(np.float64).std(axis=axes)
    expect(np.allclose(mean, 0.0, atol=1e-6), case.what(), f"the channel means of the output are {mean.tolist()}, "
           "not 0", expected=np.zeros_like(mean), got=got)
    target = np.sqrt(var / (var + case.eps))
    expect(np.allclose(std, target, atol=1e-6), case.what(), f"the channel stds of the output are {std.tolist()}, "
           f"expected √(var/(var + ε)) = {target.tolist()}", expected=target, got=got)


# --------------------------------------------------------------------------- standardize (3 points)


@dataclass
class SplitCase:
    train: np.ndarray
    others: list = field(default_factory=list)
    eps: float = STD_DEFAULT_EPS

    def kwargs(self) -> dict:
        return {} if self.eps == STD_DEFAULT_EPS else {"eps": self.eps}

    def what(self, others=None) -> str:
        n = len(self.others if others is None else others)
        splits = "train" + "".join(f", other{i + 1}" for i in range(n))
        eps = "" if self.eps == STD_DEFAULT_EPS else f", eps={self.eps}"
        return f"standardize({splits}{eps})"


@st.composite
def split_cases(draw, *, min_others: int = 0, max_others: int = 2):
    """Return a SplitCase: train (N, D) or (N, C, H, W), 0–2 other splits, sometimes a constant pixel."""
    feature = draw(st.one_of(st.tuples(sides(max_side=4)), st.tuples(st.integers(1, 2), sides(max_side=2), sides(max_side=2))))
    n = draw(st.integers(1, 5))
    train = draw(float_arrays((n,) + feature))
    if draw(st.booleans()):  # a pixel that is constant in training (the MNIST border): std 0
        train = train.copy()
        train.reshape(n, -1)[:, 0] = train.reshape(n, -1)[0, 0]
    others = [draw(float_arrays((draw(st.integers(0, 4)),) + feature))
              for _ in range(draw(st.integers(min_others, max_others)))]
    eps = draw(st.sampled_from([STD_DEFAULT_EPS, 1e-2, 0.5]))
    return SplitCase(train, others, eps)


def _expect_splits(got, splits: tuple, eps: float, what: str) -> tuple:
    """Expect a tuple (or list) of arrays equal to ``ref.standardize(*splits, eps=eps)``, within the
    rounding error of the answer's precision; a mismatch reports the whole result."""
    expected = ref.standardize(*splits, eps=eps)
    if not isinstance(got, (tuple, list)):
        kind = "a single array" if hasattr(got, "shape") else type(got).__name__
        raise Mismatch(what, "type", f"expected a tuple of {len(expected)} array(s) (train_z, *others_z), got {kind}"
                       + (" — return (train_z,) even when there are no other splits" if len(expected) == 1 else ""),
                       expected=expected, got=got)
    if len(got) != len(expected):
        raise Mismatch(what, "shape", f"expected a tuple of {len(expected)} arrays, one per split, got {len(got)}",
                       expected=expected, got=got)
    names = ["the training split"] + [f"split {i + 1} (with the training mean and std)" for i in range(1, len(expected))]
    tolerance = rounding_tolerance(ref.standardize, splits, {"eps": eps}, dtype=result_dtype(got), expected=expected)
    for name, g, e, atol in zip(names, got, expected, tolerance):
        try:
            expect_array(g, e, what=f"{what}, {name}", atol=atol)
        except Mismatch as m:
            raise Mismatch(m.what, m.reason, m.detail, expected=expected, got=got) from None
    return tuple(got)


@check(points=1, functions=("standardize",))
def standardize_reproduces_the_worked_example(sub):
    """train [[0, 10], [2, 30]], test [[1, 20], [3, 50]] → [[−1, −1], [1, 1]] and [[0, 0], [2, 3]]; a 1-tuple alone."""
    train, test = np.array([[0.0, 10.0], [2.0, 30.0]]), np.array([[1.0, 20.0], [3.0, 50.0]])
    # the reference gives the slide's numbers: [[−1, −1], [1, 1]] and [[0, 0], [2, 3]]
    _expect_splits(sub.standardize(train, test, eps=0.0), (train, test), 0.0, what="standardize(train, test, eps=0.0)")
    _expect_splits(sub.standardize(train, eps=0.0), (train,), 0.0, what="standardize(train, eps=0.0)")
    # a pixel constant in training (std 0): 0 in train, (x − mean)/ε elsewhere
    train, test = np.array([[5.0, 1.0], [5.0, 3.0]]), np.array([[6.0, 2.0]])
    _expect_splits(sub.standardize(train, test), (train, test), STD_DEFAULT_EPS, what="standardize(train, test)")


@check(points=1, functions=("standardize",))
@given(case=split_cases())
def standardize_matches_the_reference(sub, case):
    """standardize equals the reference: per-pixel (x − mean)/(std + ε) with the training mean and population std."""
    _expect_splits(sub.standardize(case.train, *case.others, **case.kwargs()), (case.train, *case.others), case.eps,
                   what=case.what())


@dataclass
class LeakageCase:
    train: np.ndarray
    validation: np.ndarray
    other_validation: np.ndarray  # a different validation split of the same features
    eps: float = STD_DEFAULT_EPS

    def kwargs(self) -> dict:
        return {} if self.eps == STD_DEFAULT_EPS else {"eps": self.eps}


@st.composite
def leakage_cases(draw):
    """Return a LeakageCase: a training split and two different validation splits."""
    case = draw(split_cases(min_others=1, max_others=1))
    feature = case.train.shape[1:]
    other = draw(float_arrays((draw(st.integers(1, 4)),) + feature, min_value=-8, max_value=8))
    assume(other.shape != case.others[0].shape or not np.array_equal(other, case.others[0]))
    return LeakageCase(case.train, case.others[0], other, case.eps)


def _expect_tuple_of(got, shapes: list, what: str) -> tuple:
    """Expect a tuple (or list) of arrays of these shapes (values judged by the caller)."""
    expect(isinstance(got, (tuple, list)) and len(got) == len(shapes), what,
           f"expected a tuple of {len(shapes)} array(s), one per split, got {type_name(got)}", got=got)
    for i, (g, shape) in enumerate(zip(got, shapes)):
        expect(isinstance(g, np.ndarray) and g.dtype.kind == "f" and g.shape == shape, what,
               f"split {i} should come back as a float array of shape {shape}, got {type_name(g)} "
               f"{getattr(g, 'shape', '')}", got=got)
    return tuple(got)


@check(points=1, functions=("standardize",))
@given(case=leakage_cases())
def standardize_uses_only_the_training_statistics(sub, case):
    """No leakage: the training output does not depend on the other splits, which use the training mean and std."""
    train, val1, val2 = case.train, case.validation, case.other_validation
    eps = "" if case.eps == STD_DEFAULT_EPS else f", eps={case.eps}"
    calls = [(f"standardize(train, validation{eps})", (train, val1)),
             (f"standardize(train, other_validation{eps})", (train, val2)), (f"standardize(train{eps})", (train,))]
    got = [_expect_tuple_of(sub.standardize(*splits, **case.kwargs()), [s.shape for s in splits], what)
           for what, splits in calls]
    for (what, _), result in zip(calls[1:], got[1:]):
        if not np.allclose(got[0][0], result[0], rtol=1e-12, atol=1e-12):
            raise Mismatch(what, "property", f"the standardized training split differs from the one of "
                           f"{calls[0][0]}: the training data must be transformed with the training statistics only, "
                           "whatever the other splits are", expected=got[0][0], got=result)
    for (what, splits), result in zip(calls, got):
        _expect_splits(result, splits, case.eps, what=what)


# --------------------------------------------------------------------------- typical mistakes


def _quiet(fn):
    """Run a wrong variant without numpy's warnings (0/0 on constant channels is part of the variant)."""
    def wrapper(*args, **kwargs):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return fn(*args, **kwargs)
    return wrapper


def _bn_axes(x):
    return (0,) + tuple(range(2, x.ndim))


def _bn_with(x, gamma, beta, mean, denom):
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    return np.asarray(gamma, float).reshape(shape) * (x - mean) / denom + np.asarray(beta, float).reshape(shape)


@_quiet
def bn_unbiased_variance(x, gamma, beta, eps=1e-5):
    x = np.asarray(x, float)
    axes = _bn_axes(x)
    mean = x.mean(axis=axes, keepdims=True)
    return _bn_with(x, gamma, beta, mean, np.sqrt(x.var(axis=axes, keepdims=True, ddof=1) + eps))


@_quiet
def bn_eps_outside_sqrt(x, gamma, beta, eps=1e-5):
    x = np.asarray(x, float)
    axes = _bn_axes(x)
    mean = x.mean(axis=axes, keepdims=True)
    return _bn_with(x, gamma, beta, mean, x.std(axis=axes, keepdims=True) + eps)


@_quiet
def bn_per_pixel(x, gamma, beta, eps=1e-5):
    x = np.asarray(x, float)
    assert x.ndim > 2
    mean = x.mean(axis=0, keepdims=True)
    return _bn_with(x, gamma, beta, mean, np.sqrt(x.var(axis=0, keepdims=True) + eps))


@_quiet
def bn_per_sample(x, gamma, beta, eps=1e-5):
    x = np.asarray(x, float)
    axes = tuple(range(1, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    return _bn_with(x, gamma, beta, mean, np.sqrt(x.var(axis=axes, keepdims=True) + eps))


@_quiet
def bn_global_statistics(x, gamma, beta, eps=1e-5):
    x = np.asarray(x, float)
    return _bn_with(x, gamma, beta, x.mean(), np.sqrt(x.var() + eps))


@_quiet
def bn_channels_last(x, gamma, beta, eps=1e-5):
    x = np.asarray(x, float)
    assert x.ndim > 2
    axes = tuple(range(x.ndim - 1))
    mean = x.mean(axis=axes, keepdims=True)
    x_hat = (x - mean) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    shape = (1,) * (x.ndim - 1) + (x.shape[-1],)
    return np.asarray(gamma, float).reshape(shape) * x_hat + np.asarray(beta, float).reshape(shape)


@_quiet
def bn_gamma_beta_swapped(x, gamma, beta, eps=1e-5):
    return ref.batchnorm(x, beta, gamma, eps=eps)


@_quiet
def standardize_own_statistics(train, *others, eps=1e-4):
    assert others
    return tuple(ref.standardize(split, eps=eps)[0] for split in (train, *others))


@_quiet
def standardize_pooled_statistics(train, *others, eps=1e-4):
    assert others
    pooled = np.concatenate([np.asarray(s, float) for s in (train, *others)])
    mean, std = pooled.mean(axis=0), pooled.std(axis=0)
    return tuple((np.asarray(s, float) - mean) / (std + eps) for s in (train, *others))


@_quiet
def standardize_global_statistics(train, *others, eps=1e-4):
    train = np.asarray(train, float)
    mean, std = train.mean(), train.std()
    return tuple((np.asarray(s, float) - mean) / (std + eps) for s in (train, *others))


@_quiet
def standardize_sample_std(train, *others, eps=1e-4):
    train = np.asarray(train, float)
    mean, std = train.mean(axis=0), train.std(axis=0, ddof=1)
    return tuple((np.asarray(s, float) - mean) / (std + eps) for s in (train, *others))


@_quiet
def standardize_eps_in_variance(train, *others, eps=1e-4):
    train = np.asarray(train, float)
    mean, std = train.mean(axis=0), np.sqrt(train.var(axis=0) + eps)
    return tuple((np.asarray(s, float) - mean) / std for s in (train, *others))


def bare_array_when_alone(got, train, *others, eps=1e-4):
    return not others and isinstance(got, np.ndarray) and got.shape == np.shape(train)


_BN_AXES_HINT = "axes = (0,) + tuple(range(2, x.ndim)): every axis but the channel axis 1"
MISTAKES = [
    Mistake("unbiased variance", "batchnorm",
            "your batchnorm divides the variance by m − 1; batch normalization uses the biased variance "
            "(divide by the number of values m, numpy's default ddof=0) — torch uses m − 1 only for its running average",
            "x.var(axis=axes) or ((x - mean) ** 2).mean(axis=axes)", wrong=bn_unbiased_variance),
    Mistake("ε outside the square root", "batchnorm",
            "your batchnorm divides by √var + ε; ε belongs inside the square root: √(var + ε)",
            "x_hat = (x - mean) / np.sqrt(var + eps)", wrong=bn_eps_outside_sqrt),
    Mistake("statistics per pixel instead of per channel", "batchnorm",
            "your batchnorm normalises every channel *and position* separately (over the batch axis only); "
            "BatchNorm2d uses one mean and variance per channel, over the batch and all positions",
            _BN_AXES_HINT, wrong=bn_per_pixel),
    Mistake("statistics per sample (layer norm)", "batchnorm",
            "your batchnorm normalises each sample over its features (that is layer normalization); batch "
            "normalization normalises each feature/channel over the batch", _BN_AXES_HINT, wrong=bn_per_sample),
    Mistake("one mean and variance for everything", "batchnorm",
            "your batchnorm uses a single mean and variance over the whole array; every feature/channel has its own",
            _BN_AXES_HINT, wrong=bn_global_statistics),
    Mistake("channels-last axis", "batchnorm",
            "your batchnorm treats the last axis as the channel axis (Keras' (N, H, W, C)); here images are "
            "channels-first (N, C, H, W), the channel axis is 1", _BN_AXES_HINT, wrong=bn_channels_last),
    Mistake("γ and β swapped", "batchnorm",
            "your batchnorm adds γ and scales by β: the output is γ·x̂ + β", "return gamma * x_hat + beta",
            wrong=bn_gamma_beta_swapped),
    Mistake("leakage: each split standardized with its own statistics", "standardize",
            "your standardize uses each split's own mean and std: the validation and test data must be "
            "transformed with the *training* mean and std (the model never sees their statistics)",
            "compute mean and std from train once, then apply (s - mean) / (std + eps) to every split",
            wrong=standardize_own_statistics),
    Mistake("leakage: statistics pooled over all splits", "standardize",
            "your standardize computes the mean and std over all splits together: they must come from the "
            "training split only (otherwise the training data depend on the test data)",
            "mean = train.mean(axis=0); std = train.std(axis=0)", wrong=standardize_pooled_statistics),
    Mistake("one mean and std for all pixels", "standardize",
            "your standardize uses a single mean and std over all pixels; the z-transform is per pixel/feature "
            "(statistics over the samples, axis 0)", "train.mean(axis=0), train.std(axis=0)",
            wrong=standardize_global_statistics),
    Mistake("sample std (ddof=1)", "standardize",
            "your standardize uses the sample std (divide by N − 1); use the population std (ddof=0)",
            "train.std(axis=0)", wrong=standardize_sample_std),
    Mistake("ε added to the variance", "standardize",
            "your standardize divides by √(var + ε); here ε is added to the std: (x − mean)/(std + ε) — it shows "
            "on pixels that are constant in training", "(s - mean) / (std + eps)", wrong=standardize_eps_in_variance),
    Mistake("no tuple for a single split", "standardize",
            "with only the training split your standardize returns a bare array; it always returns a tuple, "
            "here (train_z,)", "return tuple(results)", matches=bare_array_when_alone),
]
