"""Exercise 11 — a CNN for CIFAR-10 (tricks of the trade)

Train a convolutional network on CIFAR-10 — 32×32 colour photos of 10 classes (airplane,
automobile, bird, cat, deer, dog, frog, horse, ship, truck) — with the tricks of the trade
from the lectures: inputs scaled to [0, 1], dropout, batch normalization (and, if you like,
data augmentation). Then hand in the trained model. The grader does not train: it grades
your weights.

What you hand in, in one folder:

- this file, with ``build_model()`` and ``preprocess(x)``;
- the trained weights beside it: ``exercise11.safetensors`` (preferred), or
  ``exercise11.pt``, a state dict saved with ``torch.save(model.state_dict(), "exercise11.pt")``.
  Save them after training with::

      from safetensors.torch import save_file
      save_file(model.state_dict(), "exercise11.safetensors")

The grader builds your model with ``build_model()``, loads the weights with
``model.load_state_dict(..., strict=True)`` — so the file must match the architecture
exactly — and classifies the 10,000 CIFAR-10 test images with ``model(preprocess(x))`` in
eval mode. What it checks:

- ``model(preprocess(x))`` maps uint8 images (N, 3, 32, 32) to logits (N, 10) (no softmax
  needed: the predicted class is the argmax);
- at most 2,000,000 parameters (the course's base CNN has 1,222,566);
- at least one dropout layer (``nn.Dropout``, p > 0) and one batch normalization layer
  (``nn.BatchNorm2d`` or ``nn.BatchNorm1d``);
- in eval mode the same images always give the same logits;
- ``preprocess`` takes any uint8 images and returns a float torch tensor;
- the accuracy on the test images: 0 points at or below 0.385 (a random forest on raw
  pixels, the course's baseline), full marks at or above 0.62 (a CNN with dropout or
  batchnorm), linearly in between. Both numbers come from the course's models retrained in
  PyTorch on these splits (``grade reference cifar10``): random forest 0.385, base CNN on
  /255 input 0.587, + dropout 0.632, + batchnorm 0.623.

The course's setup (use it, so that results compare): train on 10,000 training images,
validate on 10,000 others, and touch the 10,000 test images only at the very end::

    from grader.data import course_splits, load
    train, val, test = course_splits(*load("cifar10"))   # after `grade data download cifar10`
    # train.images: uint8 (10000, 3, 32, 32), train.labels: int64 (10000,)

Adam (learning rate 1e-3), batch size 64–128, 10–20 epochs; keep the weights of the epoch
with the best validation accuracy. Call ``model.train()`` while training and ``model.eval()``
to evaluate: dropout and batchnorm behave differently in the two modes. Course results
(test accuracy): random forest 0.39; base CNN on raw 0–255 input 0.50–0.57, on /255 input
0.59; + dropout 0.58–0.62; + batchnorm 0.60–0.64; + augmentation 0.62–0.68.

Check your work with:  grade exercise11      (--plots DIR adds a confusion-matrix picture)

Points: build_model 16 · preprocess 1 (total 17)
"""

import numpy as np
import torch
from torch import nn


def build_model():
    """Return the CNN as a torch.nn.Module: preprocessed images (N, 3, 32, 32) → logits (N, 10).

    The course's base CNN, with batch normalization after every convolution and dropout 0.3
    before the first three dense layers:

        conv 3×3 16 → BN → ReLU → conv 3×3 16 → BN → ReLU → max-pool 2      (N, 16, 16, 16)
        conv 3×3 32 → BN → ReLU → conv 3×3 32 → BN → ReLU → max-pool 2      (N, 32, 8, 8)
        flatten → dropout → dense 500 → ReLU → dropout → dense 300 → ReLU
                → dropout → dense 100 → ReLU → dense 10                      (N, 10)

    Convolutions use padding 1, so only the pooling layers shrink the images. Your weights
    file must be the state_dict() of exactly the model this function returns.

    >>> model = build_model()
    >>> model(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 10])
    """
    raise NotImplementedError


def preprocess(x):
    """Turn uint8 images (a numpy array (N, 3, 32, 32), values 0…255) into the model's input.

    Return a float torch tensor — the same preprocessing you trained with. Scaling to [0, 1]
    (divide by 255) is the course's choice; raw 0…255 inputs train worse.

    >>> preprocess(np.full((1, 3, 32, 32), 255, dtype=np.uint8)).max()
    tensor(1.)
    """
    raise NotImplementedError
