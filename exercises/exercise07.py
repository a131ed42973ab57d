"""Exercise 07 — batch normalization and input standardization.

Two ways of bringing numbers to a common scale:

* batch normalization, a layer inside the network: every channel is normalised with the
  mean and variance of the current mini-batch, then scaled by a learned ``gamma`` and shifted
  by a learned ``beta``;
* input standardization, a preprocessing step: every pixel (feature) is z-transformed with
  the mean and standard deviation of the *training* data — and the validation and test data
  are transformed with those same training numbers.

Conventions:

* Shapes are channels-first as in PyTorch: ``(N, D)`` for a batch of feature vectors,
  ``(N, C, H, W)`` for a batch of images. The slides (Keras) print channels-last shapes
  ``(N, H, W, C)``, where BN normalises over the last axis; here the channel axis is axis 1.
* ``batchnorm`` is the *training-mode* computation of ``torch.nn.BatchNorm1d`` /
  ``BatchNorm2d`` (the running averages used at test time are not part of this exercise).
  It uses the biased variance (divide by the number of values, numpy's default ``ddof=0``) and
  puts ``eps`` inside the square root.
* ``standardize`` uses the population standard deviation (``ddof=0``) and adds ``eps`` to the
  standard deviation, not to the variance: ``(x - mean) / (std + eps)``.
* numpy arrays in, float numpy arrays out.

Check your work with:  grade exercise07

Points: batchnorm 5 · standardize 3 (total 8)
"""

import numpy as np


def batchnorm(x, gamma, beta, eps=1e-5):
    """Training-mode batch normalization: gamma * (x - mean) / sqrt(var + eps) + beta.

    ``x`` is ``(N, D)`` (as BatchNorm1d; mean and variance of each of the D features over the
    N rows) or ``(N, C, H, W)`` (as BatchNorm2d; mean and variance of each of the C channels
    over the batch *and* all positions, i.e. over axes 0, 2 and 3). A ``(N, C, L)`` batch
    (BatchNorm1d on sequences) is normalised over axes 0 and 2. ``gamma`` and ``beta`` have
    shape ``(D,)`` or ``(C,)``. The variance is the biased one (ddof=0). Returns an array of the
    shape of ``x``.

    >>> batchnorm(np.array([[1.0], [3.0]]), np.ones(1), np.zeros(1), eps=0.0)
    array([[-1.],
           [ 1.]])

    The slides' "undo": with gamma = sqrt(var + eps) and beta = mean, BN gives back its input.

    >>> x = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 1.0]])
    >>> gamma, beta = np.sqrt(x.var(axis=0) + 1e-5), x.mean(axis=0)
    >>> np.allclose(batchnorm(x, gamma, beta), x)
    True
    """
    raise NotImplementedError


def standardize(train, *others, eps=1e-4):
    """Standardize ``train`` and every other split with the training split's statistics.

    ``mean`` and ``std`` are computed per feature / per pixel over the samples of ``train``
    only (axis 0; every other axis is kept, so images ``(N, C, H, W)`` get one mean and one
    std per channel and position). ``std`` is the population standard deviation (ddof=0).
    Every split ``s`` (``train`` and each array in ``others``; they all have the shape of
    ``train`` except for the number of samples) becomes ``(s - mean) / (std + eps)``.

    Return a tuple ``(train_z, *others_z)`` in the order given — a 1-tuple ``(train_z,)``
    when no other split is passed.

    >>> train = np.array([[0.0, 10.0], [2.0, 30.0]])
    >>> test = np.array([[1.0, 20.0], [3.0, 50.0]])
    >>> train_z, test_z = standardize(train, test, eps=0.0)
    >>> train_z
    array([[-1., -1.],
           [ 1.,  1.]])
    >>> test_z
    array([[0., 0.],
           [2., 3.]])
    >>> len(standardize(train))
    1
    """
    raise NotImplementedError
