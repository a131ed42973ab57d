"""The course's CIFAR-10 CNNs, data augmentation with plain torch ops, and the training loop.

This is the oracle for exercise11 and the engine of the results ladder (``reference/ladder.py``):
the slides' table (random forest 0.39, base CNN 0.59, + dropout / batchnorm / augmentation
0.60-0.68) reproduced in PyTorch on the course's splits (10k train, 10k validation, the 10k
test images). The course used TF-Keras, so layers are initialised the Keras way (Glorot
uniform weights, zero biases); PyTorch's default init would change the raw-input row most.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


# -----------------------------------------------------------------------------
# models

def base_cnn(*, dropout: float = 0.0, batchnorm: bool = False) -> nn.Sequential:
    """The course's base CNN: conv 16-16-pool-32-32-pool, dense 500-300-100-10 (1,222,566 params).

    ``dropout`` > 0 puts a Dropout before each of the first three dense layers; ``batchnorm``
    adds a BatchNorm2d after every conv. With both it is exercise11's solution architecture
    (same module order, so the same state-dict keys).
    """
    def conv(c_in, c_out):
        layers = [nn.Conv2d(c_in, c_out, 3, padding=1)]
        if batchnorm:
            layers.append(nn.BatchNorm2d(c_out))
        return layers + [nn.ReLU()]

    def dense(n_in, n_out):
        return ([nn.Dropout(dropout)] if dropout > 0 else []) + [nn.Linear(n_in, n_out), nn.ReLU()]

    model = nn.Sequential(
        *conv(3, 16), *conv(16, 16), nn.MaxPool2d(2),   # (N, 16, 16, 16)
        *conv(16, 32), *conv(32, 32), nn.MaxPool2d(2),  # (N, 32, 8, 8)
        nn.Flatten(),                                   # (N, 2048)
        *dense(2048, 500), *dense(500, 300), *dense(300, 100),
        nn.Linear(100, 10),                             # (N, 10) logits
    )
    keras_init(model)
    return model


def keras_init(model: nn.Module) -> None:
    """Glorot-uniform weights and zero biases, as Keras initialises Conv2D and Dense."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


def n_parameters(model: nn.Module) -> int:
    """Trainable parameters, the number the slides quote."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# -----------------------------------------------------------------------------
# preprocessing

def scale_01(x: np.ndarray) -> torch.Tensor:
    """uint8 (N, 3, 32, 32) → float32 in [0, 1]: the course's "/255" input."""
    assert x.dtype == np.uint8 and x.ndim == 4, f"expected uint8 (N, C, H, W), got {x.dtype} {x.shape}"
    return torch.from_numpy(x.astype(np.float32) / 255.0)


def raw_pixels(x: np.ndarray) -> torch.Tensor:
    """uint8 → float32 0..255 unchanged: the slides' "raw input" row, which trains worse."""
    assert x.dtype == np.uint8 and x.ndim == 4, f"expected uint8 (N, C, H, W), got {x.dtype} {x.shape}"
    return torch.from_numpy(x.astype(np.float32))


# -----------------------------------------------------------------------------
# augmentation (torch ops only: torchvision has no CPU build here)

def augment(x: torch.Tensor, generator: torch.Generator, *, max_shift: int = 4,
            max_degrees: float = 10.0) -> torch.Tensor:
    """A random horizontal flip, shift by up to ``max_shift`` pixels and rotation by up to
    ``max_degrees`` per image, as one affine resampling (zeros come in at the borders, like
    Keras' ImageDataGenerator with fill_mode="constant").

    Flips and integer shifts alone would be exact; the rotation makes it bilinear.
    """
    n, _, h, w = x.shape                                                  # (N, C, H, W)
    flip = torch.rand(n, generator=generator) < 0.5
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(max_degrees)
    shift = torch.randint(-max_shift, max_shift + 1, (n, 2), generator=generator).float()
    cos, sin = torch.cos(angle), torch.sin(angle)
    sx = torch.where(flip, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)                                          # (N, 2, 3) output → input
    theta[:, 0, 0], theta[:, 0, 1] = cos * sx, -sin
    theta[:, 1, 0], theta[:, 1, 1] = sin * sx, cos
    theta[:, 0, 2] = shift[:, 0] * 2 / w                                  # pixels → [-1, 1] units
    theta[:, 1, 2] = shift[:, 1] * 2 / h
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)       # (N, H, W, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


# -----------------------------------------------------------------------------
# training

@dataclass
class Recipe:
    """How one model of the ladder is trained: the course's Adam, batch 128, fixed epochs."""
    epochs: int = 15
    batch_size: int = 128
    lr: float = 1e-3
    augment: bool = False
    seed: int = 0


@dataclass
class History:
    """Per-epoch numbers and the epoch whose weights were kept (best validation accuracy)."""
    train_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    best_epoch: int = -1
    seconds: float = 0.0


def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> np.ndarray:
    """Class indices (N,) for preprocessed images, in eval mode and without gradients."""
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            out.append(model(x[i: i + batch_size]).argmax(dim=1))       # (B,)
    return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.int64)


def accuracy(model: nn.Module, x: torch.Tensor, y: np.ndarray) -> float:
    return float(np.mean(predict(model, x) == y))


def train(model: nn.Module, x_train: torch.Tensor, y_train: np.ndarray, x_val: torch.Tensor,
          y_val: np.ndarray, recipe: Recipe, *,
          on_step: Callable[[int, int, float], None] | None = None) -> History:
    """Train with Adam and cross-entropy; keep the weights of the epoch with the best
    validation accuracy (the course's ModelCheckpoint(save_best_only=True)).

    Deterministic for a given seed and thread count: the shuffling and augmentation draw from
    one seeded generator, and dropout from torch's seeded global generator.
    ``on_step(epoch, step, loss)`` is called after every batch (progress bars).
    """
    assert x_train.shape[0] == len(y_train), "images and labels differ in length"
    torch.manual_seed(recipe.seed)
    gen = torch.Generator().manual_seed(recipe.seed)
    y_t = torch.as_tensor(np.asarray(y_train), dtype=torch.long)
    opt = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    history = History()
    best_state, best_acc = None, -1.0
    started = time.perf_counter()
    for epoch in range(recipe.epochs):
        model.train()
        order = torch.randperm(len(y_t), generator=gen)
        losses = []
        for step, i in enumerate(range(0, len(order), recipe.batch_size)):
            idx = order[i: i + recipe.batch_size]
            xb, yb = x_train[idx], y_t[idx]                              # (B, 3, 32, 32), (B,)
            if recipe.augment:
                xb = augment(xb, gen)
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if on_step is not None:
                on_step(epoch, step, losses[-1])
        history.train_loss.append(float(np.mean(losses)))
        acc = accuracy(model, x_val, y_val)
        history.val_accuracy.append(acc)
        if acc > best_acc:
            best_acc, history.best_epoch = acc, epoch
            best_state = copy.deepcopy(model.state_dict())
    if best_state is not None:
        model.load_state_dict(best_state)
    history.seconds = time.perf_counter() - started
    return history
