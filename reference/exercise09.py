"""Reference for exercise09 — early stopping and data augmentation (numpy only).

The oracle the grader compares submissions against.

``EarlyStopping`` follows ``keras.callbacks.EarlyStopping`` (``restore_best_weights`` and
``baseline`` aside), with one ``step(value)`` call per epoch:

- improvement: ``value < best - min_delta`` (mode "min") or ``value > best + min_delta``
  (mode "max"); the first value always improves (there is no best yet); NaN never improves;
- on improvement ``best``/``best_epoch`` are updated, the wait counter is reset to 0 and
  ``step`` returns False (Keras returns before its stop test); otherwise the counter goes up
  by one and ``step`` returns True ("stop now") when it is ``>= patience``. For patience >= 1
  this is the same as "stop when wait >= patience"; with patience 0 it stops at the first
  epoch without improvement (not on every epoch). Calls after a True keep the same rules;
- ``best_epoch`` is the 0-based index of the ``step`` call that set ``best``; before any
  improvement ``best`` and ``best_epoch`` are None.

So with patience 3 and a loss that never improves after the first epoch, ``step`` returns
True on its 4th call: 4 epochs run (the Keras docstring example).
Differences to Keras, both only for degenerate first values: Keras starts from best = ±inf,
so a first value of +inf (mode "min") does not count as an improvement there (here it does);
and Keras never stops on epoch 0 (its ``epoch > 0`` test), which matters only for patience 0
with a NaN first value (here that stops at once).

Augmentation works on batches ``(N, C, H, W)`` (or ``(N, H, W)``), channels first; labels are
not touched (a flipped or slightly shifted digit/object keeps its class). Both functions return
a new array of the same shape and dtype and leave the input as it is. Random draws, in this
order: ``random_flip`` draws ``rng.random(N) < 0.5`` for the horizontal flips (if enabled), then
again for the vertical flips (if enabled); ``random_shift`` draws
``rng.integers(-max_shift, max_shift, size=(N, 2), endpoint=True)`` — columns (dy, dx).
"""

from __future__ import annotations

import math

import numpy as np


class EarlyStopping:
    """Stop when the monitored value has not improved for ``patience`` epochs (Keras semantics)."""

    def __init__(self, patience: int = 3, min_delta: float = 0.0, mode: str = "min"):
        assert isinstance(patience, (int, np.integer)) and patience >= 0, f"patience must be an int >= 0, got {patience!r}"
        assert min_delta >= 0, f"min_delta must be >= 0, got {min_delta}"
        assert mode in ("min", "max"), f"mode must be 'min' or 'max', got {mode!r}"
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.mode = mode
        self.best = None  # best value so far
        self.best_epoch = None  # 0-based index of the step() call that set best
        self.wait = 0  # epochs since the last improvement
        self.epoch = 0  # number of step() calls so far

    def _is_improvement(self, value: float) -> bool:
        """Strictly better than best by more than min_delta; NaN compares False everywhere."""
        if math.isnan(value):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def step(self, value) -> bool:
        """Record one epoch's value; return True if training should stop now."""
        value = float(value)
        epoch = self.epoch
        self.epoch += 1
        if self._is_improvement(value):
            self.best = value
            self.best_epoch = epoch
            self.wait = 0
            return False  # never stop on an improvement (matters for patience 0)
        self.wait += 1
        return self.wait >= self.patience


def _check_images(images) -> np.ndarray:
    images = np.asarray(images)
    assert images.ndim in (3, 4), f"images must be (N, H, W) or (N, C, H, W), got shape {images.shape}"
    return images


def random_flip(images, rng=None, horizontal: bool = True, vertical: bool = False) -> np.ndarray:
    """Flip each image left-right (and/or up-down) independently with probability 0.5.

    Horizontal = reverse the width axis (last), vertical = reverse the height axis
    (second to last). A mirrored cat is still a cat — but a mirrored digit may not be a digit,
    which is why the course flips CIFAR-10, not MNIST.
    """
    images = _check_images(images)  # (N, C, H, W) or (N, H, W)
    rng = np.random.default_rng(rng)
    out = images.copy()  # same shape and dtype
    n = images.shape[0]
    if horizontal:
        flip = rng.random(n) < 0.5  # (N,)
        out[flip] = out[flip][..., ::-1]
    if vertical:
        flip = rng.random(n) < 0.5  # (N,)
        out[flip] = out[flip][..., ::-1, :]
    return out


def _shift(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """out[..., i + dy, j + dx] = image[..., i, j] where that lands inside; zeros elsewhere."""
    h, w = image.shape[-2:]
    out = np.zeros_like(image)  # (C, H, W) or (H, W)
    if abs(dy) >= h or abs(dx) >= w:
        return out  # shifted out of the frame
    src_y = slice(max(0, -dy), h - max(0, dy))
    dst_y = slice(max(0, dy), h - max(0, -dy))
    src_x = slice(max(0, -dx), w - max(0, dx))
    dst_x = slice(max(0, dx), w - max(0, -dx))
    out[..., dst_y, dst_x] = image[..., src_y, src_x]
    return out


def random_shift(images, max_shift: int, rng=None) -> np.ndarray:
    """Shift each image by its own integer (dy, dx) ~ U{-max_shift..max_shift}^2, zero fill.

    Positive dy moves the content down, positive dx to the right; pixels pushed out of the
    frame are lost and the uncovered border is 0 (Keras' ``fill_mode="constant"``), not
    wrapped around.
    """
    images = _check_images(images)  # (N, C, H, W) or (N, H, W)
    assert isinstance(max_shift, (int, np.integer)) and max_shift >= 0, f"max_shift must be an int >= 0, got {max_shift!r}"
    rng = np.random.default_rng(rng)
    shifts = rng.integers(-max_shift, max_shift, size=(images.shape[0], 2), endpoint=True)  # (N, 2)
    out = np.empty_like(images)  # same shape and dtype
    for i, (dy, dx) in enumerate(shifts):
        out[i] = _shift(images[i], int(dy), int(dx))
    return out
