"""Reference for exercise06 — dropout expectations (numpy only).

The oracle the grader compares submissions against.

Dropout multiplies every input by an independent mask ``m_i ~ Bernoulli(1 - p)``: an input is
*dropped* (set to zero) with probability ``p`` and *kept* with probability ``1 - p``. ``p`` is
the drop rate, as in ``torch.nn.Dropout(p)`` and ``keras.layers.Dropout(rate)``.

Two ways to keep the expected activation the same in training and at test time:

- inverted dropout (PyTorch and Keras): scale the survivors by ``1 / (1 - p)`` during
  training, do nothing at test time (``dropout`` below);
- the slides' classic variant: train without scaling, multiply the weights by the keep
  probability ``1 - p`` at test time (``test_time_weights`` below).

Random functions take ``rng=None`` (a fresh ``np.random.default_rng()``), a
``np.random.Generator`` (used as it is, so the same seed gives the same masks) or an int seed.
The mask is drawn as ``rng.random(x.shape) >= p`` (one uniform number per element, keep where
it is at least ``p``).
"""

from __future__ import annotations

import numpy as np


def expected_output(w, x, p: float) -> float:
    """Exact E[a] for a = sum_i w_i * x_i * m_i with m_i ~ Bernoulli(1 - p) independent.

    Linearity of expectation: E[w_i x_i m_i] = w_i x_i E[m_i] = w_i x_i (1 - p), so the
    expectation is (1 - p) * (w . x) — no need to enumerate the 2^n masks.
    """
    w = np.asarray(w, dtype=np.float64)  # (n,)
    x = np.asarray(x, dtype=np.float64)  # (n,)
    assert w.shape == x.shape, f"w and x must have the same shape, got {w.shape} and {x.shape}"
    assert 0.0 <= p <= 1.0, f"p must be in [0, 1], got {p}"
    return float((1.0 - p) * np.sum(w * x))


def dropout(x, p: float, training: bool = True, rng=None) -> np.ndarray:
    """Inverted dropout: zero each element with probability p, scale survivors by 1 / (1 - p).

    The scaling makes the layer unbiased, E[dropout(x)] = x, so nothing changes at test time:
    with ``training=False`` (and for p = 0) the result equals x. Any shape; float64 out.
    """
    x = np.asarray(x, dtype=np.float64)  # any shape
    assert 0.0 <= p < 1.0, f"p must be in [0, 1), got {p}"
    if not training or p == 0.0:
        return x.copy()
    rng = np.random.default_rng(rng)
    keep = rng.random(x.shape) >= p  # same shape as x, True with probability 1 - p
    return np.where(keep, x / (1.0 - p), 0.0)  # same shape as x


def test_time_weights(w, p: float) -> np.ndarray:
    """The classic (non-inverted) variant: weights used at test time are w * (1 - p).

    Trained without scaling, a unit saw on average only the fraction 1 - p of its inputs;
    multiplying the weights by the keep probability gives the test-time unit that expected
    activation (E[a] = (1 - p) * w . x, see ``expected_output``).
    """
    w = np.asarray(w, dtype=np.float64)  # any shape
    assert 0.0 <= p <= 1.0, f"p must be in [0, 1], got {p}"
    return w * (1.0 - p)


# pytest would otherwise collect ``test_time_weights`` as a test when it is imported there.
test_time_weights.__test__ = False
