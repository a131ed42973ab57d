"""Reference for exercise01 — softmax and cross-entropy (numpy only).

The oracle the grader compares submissions against. Plain numpy, so that it stays an
independent check of ``torch.softmax`` / ``torch.nn.functional.cross_entropy``, which the
tests compare it with.

Conventions:

- probabilities live on the **last** axis: a batch of scores is ``(N, K)``, one score
  vector is ``(K,)``; any leading shape works for ``softmax``;
- ``cross_entropy`` takes two distributions (e.g. one-hot labels and predictions),
  ``nll_from_logits`` takes raw scores and integer labels, like
  ``torch.nn.functional.cross_entropy``;
- both losses are *means* over the rows (Keras' and torch's default reduction), returned as
  plain Python floats.

Worked numbers of the slides: predicting 0.9 for the true class costs −log 0.9 = 0.1053;
a uniform guess over 8 classes costs ln 8 = 2.079, over 10 classes ln 10 = 2.3026, and it is
right 10 % of the time (it gives the true class probability 1/10).
"""

from __future__ import annotations

import numpy as np


def softmax(z) -> np.ndarray:
    """exp(z) / sum(exp(z)) over the last axis, for any leading shape.

    Subtracting the row maximum first changes nothing mathematically (softmax is invariant
    to adding a constant to a row) but keeps exp() from overflowing: the largest exponent is
    exp(0) = 1, so scores of ±1e4 stay finite.
    """
    z = np.asarray(z, dtype=np.float64)
    assert z.ndim >= 1, f"softmax needs at least one axis, got a scalar of shape {z.shape}"
    assert z.shape[-1] >= 1, "the last axis (the classes) must not be empty"
    shifted = z - z.max(axis=-1, keepdims=True)  # (..., K), max 0 per row
    e = np.exp(shifted)  # (..., K), in (0, 1]
    return e / e.sum(axis=-1, keepdims=True)  # (..., K), rows sum to 1


def cross_entropy(p_true, p_pred) -> float:
    """Mean over rows of −Σ_k p_true[k]·log p_pred[k]; 0·log 0 counts as 0.

    p_true, p_pred: same shape (K,) (one row) or (N, K) (more leading axes are averaged too).
    Entries with p_true == 0 contribute nothing, even where p_pred == 0 (a plain
    ``p_true * log(p_pred)`` would give 0·(−inf) = nan there). A true class with
    p_pred == 0 costs +inf, as it should.
    """
    t = np.asarray(p_true, dtype=np.float64)
    p = np.asarray(p_pred, dtype=np.float64)
    assert t.shape == p.shape, f"p_true {t.shape} and p_pred {p.shape} must have the same shape"
    assert t.ndim >= 1 and t.shape[-1] >= 1, "need at least one class on the last axis"
    safe = np.where(t > 0, p, 1.0)  # log(1) = 0 where the term must vanish
    with np.errstate(divide="ignore"):
        terms = np.where(t > 0, t * np.log(safe), 0.0)  # (..., K)
    per_row = -terms.sum(axis=-1)  # (...,)
    return float(per_row.mean())


def log_softmax(logits) -> np.ndarray:
    """log softmax over the last axis via log-sum-exp: z − max − log Σ exp(z − max)."""
    z = np.asarray(logits, dtype=np.float64)
    shifted = z - z.max(axis=-1, keepdims=True)  # (..., K)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))  # (..., K)


def nll_from_logits(logits, labels) -> float:
    """Mean negative log-likelihood of integer labels under softmax(logits).

    logits (N, K) raw scores, labels (N,) integers in [0, K). Computed as
    logsumexp(z_i) − z_i[label_i], never as log(softmax(z)): softmax can round to 0 and
    its log to −inf, log-sum-exp cannot. Equals torch.nn.functional.cross_entropy.
    """
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels)
    assert z.ndim == 2, f"logits must be (N, K), got shape {z.shape}"
    N, K = z.shape
    assert N >= 1 and K >= 1, "need at least one row and one class"
    assert y.shape == (N,), f"labels must have shape ({N},), got {y.shape}"
    assert np.issubdtype(y.dtype, np.integer), f"labels must be integers, got dtype {y.dtype}"
    assert ((y >= 0) & (y < K)).all(), f"labels must lie in [0, {K})"
    logp = log_softmax(z)  # (N, K)
    return float(-logp[np.arange(N), y].mean())
