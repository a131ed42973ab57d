"""Exercise 01 — softmax and cross-entropy

A classifier's last layer produces one score ("logit") per class. Softmax turns the scores
into probabilities, and cross-entropy measures how much probability the model gave to the
true class. You implement both with numpy, in the numerically safe way the libraries use.

Conventions that matter here:

- The classes are on the **last axis**: one score vector is ``(K,)``, a batch is ``(N, K)``;
  ``softmax`` must work for any number of leading axes.
- Both losses are the **mean** over the rows (the default of Keras and PyTorch), returned as
  a plain Python ``float``.
- ``nll_from_logits`` takes raw scores and integer labels and must equal
  ``torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(labels))``. On the
  slides (Keras) the network ends with ``Activation('softmax')`` and the loss is
  ``categorical_crossentropy`` on one-hot labels; in PyTorch the network returns logits and
  the loss applies log-softmax itself.
- Use numpy only (no torch/scipy inside the functions). Inputs may be lists or arrays of
  any float dtype.

Check your work with:  grade exercise01

Points: softmax 4 · cross_entropy 3 · nll_from_logits 4 (total 11)
"""

import numpy as np


def softmax(z):
    """Softmax over the last axis.

    z: array-like of finite scores with shape (..., K) — a single vector (K,), a batch
    (N, K) or any number of leading axes. Returns a float array of the same shape whose
    entries are exp(z) / sum(exp(z)) along the last axis, so every row is positive and
    sums to 1.

    It must stay finite for scores as large as ±1e4: exp(1000) already overflows to inf.
    Use that softmax does not change when you add the same constant to every score of a
    row, and subtract the row maximum before calling exp.

    >>> np.round(softmax(np.array([1.0, 2.0, 3.0])), 4)
    array([0.09  , 0.2447, 0.6652])
    >>> softmax(np.array([[1e4, 0.0], [0.0, 0.0]]))
    array([[1. , 0. ],
           [0.5, 0.5]])

    A uniform guess over 10 classes gives the true class probability 1/10, so it is right
    10 % of the time:

    >>> float(softmax(np.zeros(10))[3])
    0.1
    """
    raise NotImplementedError


def cross_entropy(p_true, p_pred):
    """Mean cross-entropy between true and predicted class distributions.

    p_true, p_pred: array-likes of the same shape, (K,) for one example or (N, K) for a
    batch; p_true is usually one-hot, p_pred the output of a softmax. For each row compute
    -sum_k p_true[k] * log(p_pred[k]) and return the mean over the rows as a Python float
    (a 1-D input is one row).

    Terms with p_true[k] == 0 count 0 — even where p_pred[k] == 0 (0 * log 0 = 0; computing
    0 * log(0) literally gives nan).

    Predicting 0.9 for the true class costs -log 0.9 ≈ 0.1053:

    >>> round(cross_entropy([0, 1, 0], [0.05, 0.9, 0.05]), 5)
    0.10536

    A uniform guess over 8 classes costs ln 8 ≈ 2.079, whatever the true class is:

    >>> round(cross_entropy(np.eye(8), np.full((8, 8), 1 / 8)), 3)
    2.079
    >>> cross_entropy([1.0, 0.0], [1.0, 0.0])
    0.0
    """
    raise NotImplementedError


def nll_from_logits(logits, labels):
    """Mean negative log-likelihood of integer labels, computed from raw scores.

    logits: (N, K) array-like of scores; labels: (N,) integers in 0..K-1. Return the mean
    over the rows of -log softmax(logits[i])[labels[i]] as a Python float — the same number
    as torch.nn.functional.cross_entropy(logits, labels).

    Do not take the log of a softmax (it can round to 0 and give -inf). Use log-sum-exp:
    log softmax(z)_k = z_k - m - log(sum_j exp(z_j - m)) with m = max_j z_j.

    A network that outputs the same score for all 10 classes costs ln 10 ≈ 2.3026:

    >>> round(nll_from_logits(np.zeros((4, 10)), np.array([0, 3, 9, 3])), 4)
    2.3026
    >>> nll_from_logits(np.array([[1000.0, 0.0]]), np.array([0]))
    0.0
    >>> round(nll_from_logits(np.array([[1000.0, 0.0]]), np.array([1])), 1)
    1000.0
    """
    raise NotImplementedError
