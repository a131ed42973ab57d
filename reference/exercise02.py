"""Reference for exercise02 — fully connected networks (torch for the model, numpy otherwise).

The oracle the grader compares submissions against.

Conventions (PyTorch, not Keras):

- a dense layer is ``nn.Linear(n_in, n_out)``: weight ``W`` of shape ``(n_out, n_in)``,
  bias ``(n_out,)``, ``y = W @ x + b`` (Keras stores the kernel transposed, ``(n_in, n_out)``,
  and computes ``x @ K + b`` — same count, n_in·n_out + n_out);
- the model returns **logits**: no softmax at the end (``nn.CrossEntropyLoss`` applies
  log-softmax itself; Keras' slides end with ``Activation('softmax')``);
- images are ``(N, 1, 28, 28)`` (channels first) or already flat ``(N, 784)``.

Worked numbers: 784→500→50→10 has 392,500 + 25,050 + 510 = 418,060 parameters,
784→100→50→10 has 84,060, Dense(10) on 784 inputs 7,850.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def dense_params(n_in: int, n_out: int, bias: bool = True) -> int:
    """Weights of a dense layer: an n_in×n_out matrix plus one bias per output unit."""
    assert _is_int(n_in) and n_in >= 1, f"n_in must be an int >= 1, got {n_in!r}"
    assert _is_int(n_out) and n_out >= 1, f"n_out must be an int >= 1, got {n_out!r}"
    return int(n_in) * int(n_out) + (int(n_out) if bias else 0)


def fcnn(n_inputs: int = 784, hidden=(500, 50), n_classes: int = 10, activation: str = "sigmoid") -> nn.Module:
    """Flatten → [Linear → activation] per hidden size → Linear to n_classes logits.

    hidden=() is multinomial logistic regression (one Linear). The first nn.Linear in
    ``model.modules()`` is the input layer, whose columns are the pixels.
    """
    assert activation in ACTIVATIONS, f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}"
    sizes = [n_inputs, *hidden, n_classes]
    assert all(_is_int(s) and s >= 1 for s in sizes), f"layer sizes must be ints >= 1, got {sizes}"
    layers: list[nn.Module] = [nn.Flatten()]  # (N, ...) -> (N, n_inputs)
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(int(a), int(b)))
        if i < len(sizes) - 2:  # no activation after the output layer: logits
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def collapse_linear(W1, b1, W2, b2) -> tuple[np.ndarray, np.ndarray]:
    """The single linear layer equal to Linear(W1, b1) followed by Linear(W2, b2).

    W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2): without an activation in between, depth
    adds nothing. W1 (H, D), b1 (H,), W2 (K, H), b2 (K,) -> W (K, D), b (K,).
    """
    W1, b1, W2, b2 = (np.asarray(a, dtype=np.float64) for a in (W1, b1, W2, b2))
    assert W1.ndim == 2 and W2.ndim == 2, "W1 and W2 must be matrices (out, in)"
    H, D = W1.shape
    K = W2.shape[0]
    assert W2.shape == (K, H), f"W2 must be ({K}, {H}) to follow W1 {W1.shape}, got {W2.shape}"
    assert b1.shape == (H,) and b2.shape == (K,), f"biases must be ({H},) and ({K},), got {b1.shape}, {b2.shape}"
    W = W2 @ W1  # (K, D)
    b = W2 @ b1 + b2  # (K,)
    return W, b


def permute_pixels(images, permutation) -> np.ndarray:
    """Shuffle the pixels of every image with the same permutation ("shuffled MNIST").

    images (N, ...) -> same shape and dtype, with out[n].ravel() = images[n].ravel()[permutation].
    An fcNN does not care: permuting the columns of its first weight matrix the same way
    gives exactly the same outputs, so it learns shuffled images as well as the originals.
    """
    x = np.asarray(images)
    perm = np.asarray(permutation)
    assert x.ndim >= 1, "images must have a leading batch axis (N, ...)"
    n_pixels = math.prod(x.shape[1:])
    assert perm.ndim == 1 and perm.shape[0] == n_pixels, f"permutation must have shape ({n_pixels},), got {perm.shape}"
    assert np.issubdtype(perm.dtype, np.integer), f"permutation must hold integers, got dtype {perm.dtype}"
    assert (np.sort(perm) == np.arange(n_pixels)).all(), "permutation must contain every pixel index exactly once"
    flat = x.reshape(x.shape[0], n_pixels)  # (N, P)
    return flat[:, perm].reshape(x.shape)  # (N, ...)


def first_linear(model: nn.Module) -> nn.Linear:
    """The input layer: the first nn.Linear in model.modules() order."""
    for m in model.modules():
        if isinstance(m, nn.Linear):
            return m
    raise AssertionError("the model has no nn.Linear")


def count_params(model: nn.Module) -> int:
    """Trainable parameters of a torch model, as Keras' summary counts them."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@torch.no_grad()
def permute_first_layer(model: nn.Module, permutation) -> nn.Module:
    """Reorder the input columns of the first Linear: W[:, j] <- W[:, permutation[j]] (in place).

    Then model(permute_pixels(x, permutation)) == old_model(x): input j of the new layer is
    pixel permutation[j], and it meets the weight column that pixel had before.
    """
    lin = first_linear(model)
    perm = torch.as_tensor(np.asarray(permutation), dtype=torch.long)
    lin.weight.copy_(lin.weight[:, perm])  # (H, D)
    return model
