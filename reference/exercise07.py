"""Reference for exercise07 — batch normalization and input standardization (numpy only).

The oracle the grader compares submissions against.

- ``batchnorm`` is training-mode batch normalization, exactly what ``torch.nn.BatchNorm1d`` /
  ``BatchNorm2d`` compute in ``train()`` mode (the running averages are not part of it):
  statistics per channel over every axis but axis 1, i.e. over the batch for ``(N, D)``, over
  batch and length for ``(N, C, L)``, over batch and space for ``(N, C, H, W)``; the variance is
  the biased one (divide by the count, ``ddof=0``); ε goes inside the square root.
- ``standardize`` is the input z-transform of the course notebooks: per pixel (statistics over
  axis 0 only, every other axis kept), with the mean and the population std of the *training*
  split, ``(x - mean) / (std + eps)`` — ε added to the std, not to the variance — and the same
  numbers applied to every other split (no leakage of validation/test statistics).

Shapes are channels-first as in PyTorch; the slides print Keras' channels-last ``(N, H, W, C)``.
"""

from __future__ import annotations

import numpy as np


def batchnorm(x, gamma, beta, eps: float = 1e-5) -> np.ndarray:
    """Training-mode batch normalization: gamma * (x - mean) / sqrt(var + eps) + beta.

    mean and var are per channel (axis 1) over all other axes; var is biased (ddof=0),
    because that is what normalizes the batch (torch uses the unbiased one only for the
    running average). With gamma = sqrt(var + eps) and beta = mean the layer is the identity:
    BN can learn to undo itself, so it never costs the network expressiveness.
    """
    x = np.asarray(x, dtype=np.float64)  # (N, D), (N, C, L) or (N, C, H, W)
    gamma = np.asarray(gamma, dtype=np.float64)  # (C,)
    beta = np.asarray(beta, dtype=np.float64)  # (C,)
    assert x.ndim >= 2, f"x must be (N, D), (N, C, L) or (N, C, H, W), got shape {x.shape}"
    assert x.shape[0] >= 1, "x needs at least one sample"
    c = x.shape[1]
    assert gamma.shape == (c,), f"gamma must have shape ({c},), got {gamma.shape}"
    assert beta.shape == (c,), f"beta must have shape ({c},), got {beta.shape}"
    assert eps >= 0, f"eps must be >= 0, got {eps}"
    axes = (0,) + tuple(range(2, x.ndim))  # every axis but the channel axis
    mean = x.mean(axis=axes, keepdims=True)  # (1, C, 1, ...)
    var = x.var(axis=axes, keepdims=True)  # (1, C, 1, ...), biased
    x_hat = (x - mean) / np.sqrt(var + eps)  # same shape as x
    bshape = (1, c) + (1,) * (x.ndim - 2)
    return gamma.reshape(bshape) * x_hat + beta.reshape(bshape)  # same shape as x


def standardize(train, *others, eps: float = 1e-4) -> tuple:
    """Per-pixel z-transform with the training split's statistics: (x - mean) / (std + eps).

    mean and std (population std, ddof=0) are taken over axis 0 of ``train`` only, one value
    per feature / pixel / channel position, and the *same* numbers are applied to every split
    in ``others`` (validation, test): a model must not see test statistics, and train and test
    must be transformed alike. ε on the std keeps constant pixels (std 0, e.g. MNIST borders)
    finite. Returns a tuple ``(train_z, *others_z)`` — a 1-tuple when no others are given.
    """
    train = np.asarray(train, dtype=np.float64)  # (N, ...) e.g. (N, D) or (N, C, H, W)
    assert train.ndim >= 1 and train.shape[0] >= 1, f"train needs at least one sample, got shape {train.shape}"
    assert eps >= 0, f"eps must be >= 0, got {eps}"
    mean = train.mean(axis=0)  # (...)
    std = train.std(axis=0)  # (...), ddof=0
    out = []
    for split in (train, *others):
        split = np.asarray(split, dtype=np.float64)  # (M, ...)
        assert split.shape[1:] == train.shape[1:], f"every split must have shape (M, *{train.shape[1:]}), got {split.shape}"
        out.append((split - mean) / (std + eps))  # (M, ...)
    return tuple(out)
