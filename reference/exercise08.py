"""Reference for exercise08 — weight initialization (numpy only).

The oracle the grader compares submissions against.

Weight matrices follow ``nn.Linear``: ``W`` has shape ``(fan_out, fan_in)`` and a layer computes
``W @ x`` for a column ``x`` (Keras' ``Dense`` kernel is the transpose, ``(fan_in, fan_out)``).

- Glorot/Xavier uniform (Keras' default): U(-limit, limit) with limit = sqrt(6 / (fan_in +
  fan_out)), so that Var = limit^2 / 3 = 2 / (fan_in + fan_out) keeps the signal's variance
  roughly constant forwards and backwards (``torch.nn.init.xavier_uniform_``).
- He/Kaiming normal (for ReLU): a plain, untruncated N(0, std^2) with std = sqrt(2 / fan_in)
  (``torch.nn.init.kaiming_normal_(w, nonlinearity="relu")``; Keras' ``he_normal`` truncates
  at 2 std, this one does not).
- "zeros" and "constant" (every weight equal to ``value``, default 0.5) are the bad choices
  the exercise is about: all hidden units compute the same function and get the same gradient
  (``first_layer_gradients``), so gradient descent can never make them different.

Random draws: ``rng=None`` (fresh ``np.random.default_rng()``), a ``np.random.Generator`` or
an int seed; glorot draws ``rng.uniform(-limit, limit, (fan_out, fan_in))``, he draws
``rng.normal(0, std, (fan_out, fan_in))``; "zeros"/"constant" draw nothing.
"""

from __future__ import annotations

import math

import numpy as np

SCHEMES = ("zeros", "constant", "glorot_uniform", "he_normal")


def _check_fan(name: str, n) -> None:
    assert isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1, f"{name} must be an int >= 1, got {n!r}"


def glorot_uniform_limit(fan_in: int, fan_out: int) -> float:
    """sqrt(6 / (fan_in + fan_out)): the bound of Glorot's uniform distribution."""
    _check_fan("fan_in", fan_in)
    _check_fan("fan_out", fan_out)
    return math.sqrt(6.0 / (fan_in + fan_out))


def he_normal_std(fan_in: int) -> float:
    """sqrt(2 / fan_in): ReLU zeroes half of its input, the factor 2 makes up for it."""
    _check_fan("fan_in", fan_in)
    return math.sqrt(2.0 / fan_in)


def init_dense(fan_in: int, fan_out: int, scheme: str, rng=None, *, value: float = 0.5) -> np.ndarray:
    """A float64 weight matrix of shape (fan_out, fan_in) initialised with ``scheme``."""
    _check_fan("fan_in", fan_in)
    _check_fan("fan_out", fan_out)
    assert scheme in SCHEMES, f"scheme must be one of {SCHEMES}, got {scheme!r}"
    shape = (fan_out, fan_in)  # nn.Linear convention
    if scheme == "zeros":
        return np.zeros(shape)  # (fan_out, fan_in)
    if scheme == "constant":
        return np.full(shape, float(value))  # (fan_out, fan_in)
    rng = np.random.default_rng(rng)
    if scheme == "glorot_uniform":
        limit = glorot_uniform_limit(fan_in, fan_out)
        return rng.uniform(-limit, limit, size=shape)  # (fan_out, fan_in)
    return rng.normal(0.0, he_normal_std(fan_in), size=shape)  # (fan_out, fan_in)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-z) without overflow for large |z|."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def first_layer_gradients(W1, W2, x, y) -> np.ndarray:
    """dL/dW1 for logits = W2 @ sigmoid(W1 @ x.T), L = mean cross-entropy over the N rows.

    Backpropagation by hand (no biases):
        Z = W1 @ x.T, A = sigmoid(Z), S = W2 @ A, P = softmax(S) per column,
        dS = (P - onehot(y)) / N, dA = W2.T @ dS, dZ = dA * A * (1 - A), dW1 = dZ @ x.
    Row j of the result is the gradient of hidden unit j. If all rows of W1 are equal and all
    columns of W2 are equal (e.g. a constant init), every hidden unit has the same activation
    and the same incoming error, hence the same gradient row: the units stay identical forever.
    """
    W1 = np.asarray(W1, dtype=np.float64)  # (H, D)
    W2 = np.asarray(W2, dtype=np.float64)  # (K, H)
    x = np.asarray(x, dtype=np.float64)  # (N, D)
    y = np.asarray(y)  # (N,)
    assert W1.ndim == 2 and W2.ndim == 2 and x.ndim == 2, "W1 (H, D), W2 (K, H) and x (N, D) must be 2-D"
    H, D = W1.shape
    K = W2.shape[0]
    N = x.shape[0]
    assert W2.shape[1] == H, f"W2 must be (K, {H}), got {W2.shape}"
    assert x.shape[1] == D, f"x must be (N, {D}), got {x.shape}"
    assert N >= 1, "x needs at least one row"
    assert y.shape == (N,) and np.issubdtype(y.dtype, np.integer), f"y must be {N} integer labels, got {y.dtype} {y.shape}"
    assert np.all((0 <= y) & (y < K)), f"labels must be in [0, {K})"
    A = _sigmoid(W1 @ x.T)  # (H, N)
    S = W2 @ A  # (K, N)
    S = S - S.max(axis=0, keepdims=True)  # (K, N), softmax is shift-invariant
    P = np.exp(S) / np.exp(S).sum(axis=0, keepdims=True)  # (K, N)
    dS = P.copy()  # (K, N)
    dS[y, np.arange(N)] -= 1.0
    dS /= N  # mean over the N rows
    dA = W2.T @ dS  # (H, N)
    dZ = dA * A * (1.0 - A)  # (H, N), sigmoid' = A (1 - A)
    return dZ @ x  # (H, D)
