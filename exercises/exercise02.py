"""Exercise 02 — fully connected networks

A fully connected network (fcNN) for MNIST: count its weights, build it in PyTorch, see why
two linear layers without an activation are just one linear layer, and why an fcNN does not
care when the pixels of every image are shuffled the same way (the "shuffled MNIST"
experiment of the course).

Conventions that matter here:

- PyTorch's ``nn.Linear(n_in, n_out)`` stores its weight as ``(n_out, n_in)`` and computes
  ``y = W @ x + b``; Keras' ``Dense`` stores the kernel transposed, ``(n_in, n_out)``, and
  computes ``x @ K + b``. The parameter count is the same: n_in·n_out + n_out.
- Models return **logits** (no softmax at the end): ``nn.CrossEntropyLoss`` applies the
  log-softmax itself. The slides' Keras models end with ``Activation('softmax')``.
- Images are PyTorch-style ``(N, 1, 28, 28)`` (the slides print Keras' ``(N, 28, 28, 1)``)
  or already flat ``(N, 784)``; your network must accept both.

Course results with these models (test accuracy on MNIST, for your own experiments; the
grader does not train): ≈ 0.93 without a hidden layer, ≈ 0.97 with two hidden layers, and
≈ 0.97 on shuffled pixels too — while a CNN drops from ≈ 0.99 to ≈ 0.95 when the pixels
are shuffled.

Check your work with:  grade exercise02

Points: dense_params 2 · fcnn 5 · collapse_linear 3 · permute_pixels 3 (total 13)
"""

import numpy as np
import torch
from torch import nn


def dense_params(n_in, n_out, bias=True):
    """Number of parameters of a dense (fully connected) layer, as an int.

    Every one of the n_out units has one weight per input, plus one bias if bias=True.

    The course's network 784 → 500 → 50 → 10 has 392,500 + 25,050 + 510 = 418,060:

    >>> dense_params(784, 500), dense_params(500, 50), dense_params(50, 10)
    (392500, 25050, 510)
    >>> dense_params(784, 10)
    7850
    >>> dense_params(784, 10, bias=False)
    7840
    """
    raise NotImplementedError


def fcnn(n_inputs=784, hidden=(500, 50), n_classes=10, activation="sigmoid"):
    """Build a fully connected classifier as a torch.nn.Module.

    The model first flattens its input, so both (N, 1, 28, 28) images and flat (N, 784)
    vectors work (in general (N, ...) with n_inputs numbers per example). Then, for every
    size in `hidden`, a Linear layer followed by the activation ("sigmoid", "relu" or
    "tanh"), and finally a Linear layer to n_classes outputs. It returns the logits,
    shape (N, n_classes) — no softmax at the end.

    hidden=() gives a network without hidden layer: multinomial logistic regression.
    Use nn.Linear for the dense layers and create them in order, so that the first
    nn.Linear in model.modules() is the input layer (the grader permutes its columns).

    >>> model = fcnn()
    >>> sum(p.numel() for p in model.parameters())
    418060
    >>> model(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    >>> sum(p.numel() for p in fcnn(hidden=(100, 50), activation="relu").parameters())
    84060
    >>> sum(p.numel() for p in fcnn(hidden=()).parameters())
    7850
    """
    raise NotImplementedError


def collapse_linear(W1, b1, W2, b2):
    """The single linear layer that equals two stacked linear layers without activation.

    Layer 1 maps x to h = W1 @ x + b1, layer 2 maps h to y = W2 @ h + b2 (the convention of
    nn.Linear). W1 has shape (H, D), b1 (H,), W2 (K, H), b2 (K,). Return the numpy arrays
    (W, b) with W of shape (K, D) and b of shape (K,) such that y = W @ x + b for every x.
    This is why an fcNN needs non-linear activations: without them, depth adds nothing.

    >>> W, b = collapse_linear(np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]),
    ...                        np.array([1.0, 0.0, -1.0]),
    ...                        np.array([[1.0, 1.0, 1.0]]), np.array([0.5]))
    >>> W
    array([[2., 3.]])
    >>> b
    array([0.5])
    """
    raise NotImplementedError


def permute_pixels(images, permutation):
    """Shuffle the pixels of every image with the same permutation.

    images: numpy array (N, ...) — e.g. (N, 1, 28, 28) or (N, 784); permutation: 1-D integer
    array containing every pixel index 0..P-1 once, where P is the number of pixels per
    image (the product of the trailing shape). Return an array of the same shape and dtype
    where, for every n, out[n].ravel() == images[n].ravel()[permutation].

    >>> images = np.arange(8).reshape(2, 1, 2, 2)
    >>> permute_pixels(images, np.array([3, 2, 1, 0]))[1]
    array([[[7, 6],
            [5, 4]]])
    >>> permute_pixels(np.array([[10, 20, 30]]), np.array([1, 2, 0]))
    array([[20, 30, 10]])
    """
    raise NotImplementedError
