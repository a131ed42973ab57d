"""Exercise 09 — early stopping and data augmentation.

Two tricks of the trade against overfitting:

* early stopping: watch the validation loss (or accuracy) after every epoch and stop
  training once it has not improved for ``patience`` epochs — the behaviour of
  ``keras.callbacks.EarlyStopping`` from the slides, written as a small class you call once
  per epoch;
* data augmentation: show the network slightly changed copies of the training images —
  mirrored, shifted by a few pixels — that keep their label (the labels are not passed in:
  they do not change).

Conventions:

* Images are channels-first as in PyTorch: a batch is ``(N, C, H, W)`` (a batch of
  grey-value images may also come as ``(N, H, W)``). The slides (Keras) print
  channels-last shapes ``(N, H, W, C)``.
* The augmentation functions return a *new* array of the same shape and dtype (uint8 stays
  uint8) and leave their input unchanged.
* ``rng`` is ``None`` (use ``np.random.default_rng()``) or a ``np.random.Generator``; draw all
  randomness from it, so that the same seed gives the same batch.

Check your work with:  grade exercise09

Points: EarlyStopping 5 · random_flip 3 · random_shift 4 (total 12)
"""

import math

import numpy as np


class EarlyStopping:
    """Early stopping with the semantics of ``keras.callbacks.EarlyStopping``.

    ``EarlyStopping(patience=3, min_delta=0.0, mode="min")``; call ``step(value)`` once per
    epoch with the monitored value (e.g. the validation loss). It returns ``True`` when
    training should stop now, ``False`` otherwise.

    * A value is an improvement if ``value < best - min_delta`` (mode ``"min"``, for losses) or
      ``value > best + min_delta`` (mode ``"max"``, for accuracies). Strictly: an equal value or
      a gain of at most ``min_delta`` is no improvement. The first value is always an
      improvement, except that a NaN value is never one.
    * On an improvement, ``best`` becomes the value, ``best_epoch`` the 0-based number of this
      ``step`` call (the first call is epoch 0), the wait counter is reset to 0 and ``step``
      returns ``False``: training never stops on an epoch that improved.
    * Otherwise the wait counter goes up by 1 and ``step`` returns ``True`` if it is
      ``>= patience`` (so with ``patience=0`` training stops at the first epoch without
      improvement). Further calls follow the same rules.
    * Before the first improvement, ``best`` and ``best_epoch`` are ``None``.

    The Keras example — patience 3, the loss never improves after the first epoch: 4 epochs run.

    >>> stopper = EarlyStopping(patience=3)
    >>> [stopper.step(loss) for loss in [0.5, 0.6, 0.7, 0.5, 0.4]]
    [False, False, False, True, False]
    >>> stopper.best, stopper.best_epoch
    (0.4, 4)
    >>> stopper = EarlyStopping(patience=0)
    >>> [stopper.step(loss) for loss in [3.0, 2.0, 2.0]]
    [False, False, True]
    >>> stopper = EarlyStopping(patience=1, min_delta=0.1, mode="max")
    >>> stopper.step(0.80), stopper.step(0.85)
    (False, True)
    >>> stopper.best, stopper.best_epoch
    (0.8, 0)
    """

    def __init__(self, patience=3, min_delta=0.0, mode="min"):
        raise NotImplementedError

    def step(self, value):
        """Record the monitored value of one epoch; return True if training should stop now."""
        raise NotImplementedError


def random_flip(images, rng=None, horizontal=True, vertical=False):
    """Randomly mirror each image of a batch, independently of the others.

    ``images`` is ``(N, C, H, W)`` or ``(N, H, W)``. If ``horizontal``, each image is flipped
    left-right (the width axis, the last one, reversed) with probability 0.5; if ``vertical``,
    each image is flipped upside down (the height axis reversed) with probability 0.5,
    independently of the horizontal flip. Return a new array of the same shape and dtype.

    >>> batch = np.arange(2 * 1 * 2 * 3).reshape(2, 1, 2, 3)
    >>> out = random_flip(batch, np.random.default_rng(0))
    >>> out.shape == batch.shape and out.dtype == batch.dtype
    True
    >>> all((o == b).all() or (o == b[..., ::-1]).all() for o, b in zip(out, batch))
    True
    """
    raise NotImplementedError


def random_shift(images, max_shift, rng=None):
    """Shift each image of a batch by its own random number of pixels, filling with zeros.

    ``images`` is ``(N, C, H, W)`` or ``(N, H, W)``. For each image draw integers ``dy`` and
    ``dx`` uniformly from ``-max_shift, ..., max_shift`` (both ends included) and move the
    content ``dy`` pixels down and ``dx`` pixels to the right (negative: up / left); all
    channels of an image move together. Pixels moved out of the image are lost, the uncovered
    border is 0 (no wrap-around). Return a new array of the same shape and dtype.

    >>> image = np.arange(1, 10).reshape(1, 3, 3)
    >>> random_shift(image, 0, np.random.default_rng(0))
    array([[[1, 2, 3],
            [4, 5, 6],
            [7, 8, 9]]])
    >>> out = random_shift(np.ones((5, 1, 4, 4)), 1, np.random.default_rng(0))
    >>> out.shape, bool(out.sum(axis=(1, 2, 3)).min() >= 9)
    ((5, 1, 4, 4), True)
    """
    raise NotImplementedError
