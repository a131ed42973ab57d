"""The celebrity-faces project's models, training loop and ensemble measures.

The project (8 people, LFW-8's grey 64×64 faces, ``grader.data.faces``) is graded on balanced
accuracy: one person has 530 images and another 60, so guessing the first is right 39 % of
the time and says nothing. The ladder (``reference/faces_ladder.py``) trains the course's
models on the fixed split; this module holds what they are built from:

- ``fcnn``: the course's fully connected network (exercise02's, ReLU, on the flattened pixels);
- ``cnn``: a small CNN with batchnorm after every convolution and dropout before the dense
  layers (the course's "tricks of the trade");
- ``FineTuned``: a pretrained ImageNet network (``grader.kit.pretrained``) with a new head,
  fed the grey faces as three equal channels at the backbone's normalisation;
- ``fit``: Adam, cross-entropy, flips and small shifts, the epoch with the best validation
  balanced accuracy kept (the course's ModelCheckpoint on the measure that counts);
- ``nll``, ``ece`` and ``ensemble`` (from ``reference.measures``, numpy only): how deep
  ensembles (the last week) are judged.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .measures import N_CLASSES, confusion, ece, ensemble, nll, scores  # noqa: F401 - the ladder's names


# -----------------------------------------------------------------------------
# models

def fcnn(side: int = 64) -> nn.Sequential:
    """The course's fcNN on the flattened grey face: side² -> 500 -> 50 -> 8, ReLU (exercise02's)."""
    from .exercise02 import fcnn as course_fcnn

    return course_fcnn(side * side, (500, 50), N_CLASSES, "relu")


def cnn(*, dropout: float = 0.5, width: int = 16) -> nn.Sequential:
    """Four conv-batchnorm-ReLU-pool blocks (width, 2w, 4w, 4w channels), then dropout and two
    dense layers: 64×64 grey faces -> 8 logits (≈ 0.2 M parameters at width 16)."""
    def block(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]

    w = width
    return nn.Sequential(
        *block(1, w), *block(w, 2 * w),               # (N, 2w, 16, 16)
        *block(2 * w, 4 * w), *block(4 * w, 4 * w),   # (N, 4w, 4, 4)
        nn.Flatten(),                                 # (N, 64w)
        nn.Dropout(dropout), nn.Linear(64 * w, 128), nn.ReLU(),
        nn.Dropout(dropout), nn.Linear(128, N_CLASSES),  # (N, 8) logits
    )


class FineTuned(nn.Module):
    """A pretrained backbone's features and a new linear head. Takes faces scaled to [0, 1]
    (N, 1, H, W): repeats the grey channel three times, resizes to ``size`` and normalises
    with the backbone's ImageNet mean and std, so the backbone sees images like its own."""

    def __init__(self, features: nn.Module, feature_dim: int, mean, std, size: int, dropout: float = 0.2):
        super().__init__()
        self.features, self.size = features, int(size)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(feature_dim, N_CLASSES))
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))

    def backbone_input(self, x: torch.Tensor) -> torch.Tensor:
        x = x.expand(-1, 3, -1, -1)                                               # (N, 3, H, W)
        if x.shape[-1] != self.size:
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return (x - self.mean) / self.std                                         # (N, 3, size, size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(self.backbone_input(x)))                   # (N, 8)


def n_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# -----------------------------------------------------------------------------
# input and training

def scale_01(images: np.ndarray) -> torch.Tensor:
    """uint8 faces (N, 1, H, W) -> float32 in [0, 1]."""
    assert images.dtype == np.uint8 and images.ndim == 4, f"expected uint8 (N, C, H, W), got {images.dtype} {images.shape}"
    return torch.from_numpy(images.astype(np.float32) / 255.0)


def jitter(x: torch.Tensor, generator: torch.Generator, max_shift: int = 4) -> torch.Tensor:
    """A random horizontal flip and a shift of up to ``max_shift`` pixels per face (edge pixels
    repeated): faces are left-right symmetric and the alignment is off by a few pixels."""
    n, _, h, w = x.shape                                                          # (N, C, H, W)
    flip = torch.rand(n, generator=generator) < 0.5
    x = torch.where(flip.view(n, 1, 1, 1), x.flip(-1), x)
    padded = F.pad(x, (max_shift,) * 4, mode="replicate")                         # (N, C, H+2s, W+2s)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, n), generator=generator)
    rows = (dy.view(n, 1) + torch.arange(h)).view(n, 1, h, 1).expand(n, x.shape[1], h, w + 2 * max_shift)
    shifted = padded.gather(2, rows)                                              # (N, C, H, W+2s)
    cols = (dx.view(n, 1) + torch.arange(w)).view(n, 1, 1, w).expand(n, x.shape[1], h, w)
    return shifted.gather(3, cols)                                                # (N, C, H, W)


@dataclass
class Recipe:
    """How one network is trained."""
    epochs: int = 40
    batch_size: int = 32
    lr: float = 1e-3
    backbone_lr: float | None = None   # a smaller step for pretrained layers (None: one lr for all)
    weight_decay: float = 0.0
    augment: bool = True
    seed: int = 0


@dataclass
class History:
    val_balanced_accuracy: list[float] = field(default_factory=list)
    best_epoch: int = -1
    seconds: float = 0.0


def probabilities(model: nn.Module, x: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """Softmax outputs (N, 8) in eval mode, without gradients."""
    model.eval()
    with torch.no_grad():
        out = [F.softmax(model(x[i: i + batch_size]), dim=1) for i in range(0, len(x), batch_size)]
    return torch.cat(out).numpy().astype(np.float64)


def fit(model: nn.Module, x_train: torch.Tensor, y_train: np.ndarray, x_val: torch.Tensor, y_val: np.ndarray,
        recipe: Recipe, *, on_step: Callable[[int, float], None] | None = None) -> History:
    """Adam on cross-entropy; keeps the weights of the epoch with the best validation balanced
    accuracy. Deterministic for a seed and a thread count (one seeded generator for the order
    and the augmentation, torch's seeded global one for dropout)."""
    assert len(x_train) == len(y_train), "images and labels differ in length"
    torch.manual_seed(recipe.seed)
    gen = torch.Generator().manual_seed(recipe.seed)
    y = torch.as_tensor(np.asarray(y_train), dtype=torch.long)
    head = [p for n, p in model.named_parameters() if not n.startswith("features.")]
    body = [p for n, p in model.named_parameters() if n.startswith("features.")]
    groups = [{"params": head, "lr": recipe.lr}]
    if body:
        groups.append({"params": body, "lr": recipe.backbone_lr or recipe.lr})
    opt = torch.optim.AdamW(groups, weight_decay=recipe.weight_decay) if recipe.weight_decay else torch.optim.Adam(groups)
    history, best_state, best = History(), None, -1.0
    started = time.perf_counter()
    for epoch in range(recipe.epochs):
        model.train()
        for idx in torch.randperm(len(y), generator=gen).split(recipe.batch_size):
            xb = jitter(x_train[idx], gen) if recipe.augment else x_train[idx]  # (B, 1, H, W)
            loss = F.cross_entropy(model(xb), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if on_step is not None:
                on_step(epoch, float(loss.item()))
        value = scores(y_val, probabilities(model, x_val).argmax(axis=1))["balanced_accuracy"]
        history.val_balanced_accuracy.append(value)
        if value > best:
            best, history.best_epoch, best_state = value, epoch, copy.deepcopy(model.state_dict())
    if best_state is not None:
        model.load_state_dict(best_state)
    history.seconds = time.perf_counter() - started
    return history
