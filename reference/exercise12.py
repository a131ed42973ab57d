"""Learning with few labels: a CNN pretrained on ImageNet as a frozen feature extractor, a
shallow learner on its features, and fine-tuning a new head.

With 10 labelled images per class a CNN trained from scratch barely beats chance on CIFAR-10
(the course: 0.23), while the features of a network pretrained on ImageNet separate the
classes well enough for a logistic regression or a random forest (the course: VGG16 + random
forest 0.55). The steps, one function each:

1. ``few_label_split``: k labelled images per class, drawn at random (seeded), the rest kept
   apart: nothing we evaluate on may be among the labelled ones.
2. ``preprocess``: pixels to [0, 1], resized, normalised with the *backbone's* statistics
   (ImageNet's mean and std), since those are what its first layer was trained on.
3. ``extract_features``: the frozen backbone in eval mode (batchnorm uses its stored
   statistics, dropout is off), batch by batch, without gradients; the features are taken
   *before* the ImageNet classifier.
4. ``freeze_and_replace_head``, ``trainable_parameters``, ``make_optimizer``,
   ``fine_tune_step``: fine-tuning trains a new head for our classes while the backbone's
   weights (and its batchnorm statistics) stay exactly as they were.
5. ``fit_shallow``: a logistic regression on standardised features.

A backbone is any module with ``features`` ((N, 3, H, W) -> (N, D)) and ``classifier``
(ending in an ``nn.Linear(D, 1000)``), as ``grader.kit.pretrained.load_backbone`` returns.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


def few_label_split(labels, per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(labelled, rest): sorted int64 indices into ``labels``; ``labelled`` holds ``per_class``
    indices of every class, drawn uniformly without replacement from ``np.random.default_rng(seed)``,
    ``rest`` every other index (the unlabelled images we evaluate on)."""
    labels = np.asarray(labels)
    assert labels.ndim == 1, f"labels should be 1-D, got shape {labels.shape}"
    rng = np.random.default_rng(seed)
    picked = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)                            # (n_c,)
        assert len(members) >= per_class, f"class {c} has {len(members)} examples, {per_class} asked"
        picked.append(rng.choice(members, size=per_class, replace=False))
    labelled = np.sort(np.concatenate(picked)).astype(np.int64)
    rest = np.setdiff1d(np.arange(len(labels)), labelled).astype(np.int64)
    return labelled, rest


def preprocess(images, mean, std, size: int | None = None) -> torch.Tensor:
    """uint8 images (N, 3, H, W) -> float32 tensor (N, 3, size, size): /255, resized bilinearly
    (``F.interpolate``, align_corners=False; ``size`` None keeps H × W), then (x - mean) / std
    per channel with the backbone's ``mean`` and ``std`` (3 numbers each)."""
    x = torch.as_tensor(np.asarray(images)).float() / 255.0             # (N, 3, H, W) in [0, 1]
    assert x.ndim == 4 and x.shape[1] == 3, f"expected (N, 3, H, W) images, got {tuple(x.shape)}"
    if size is not None and tuple(x.shape[-2:]) != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)  # (N, 3, size, size)
    mean = torch.as_tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.as_tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    return (x - mean) / std


def extract_features(backbone: nn.Module, x, batch_size: int = 64) -> np.ndarray:
    """``backbone.features`` of the preprocessed images ``x`` (N, 3, H, W) as a float32 array
    (N, D): eval mode, no gradients, ``batch_size`` images at a time."""
    x = torch.as_tensor(x, dtype=torch.float32)
    backbone.eval()                                                      # stored BN statistics, no dropout
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            out.append(backbone.features(x[i: i + batch_size]))          # (B, D)
    return torch.cat(out).numpy().astype(np.float32)


def freeze_and_replace_head(backbone: nn.Module, n_classes: int) -> nn.Module:
    """Freeze every parameter of ``backbone`` and replace the last layer of its classifier by a
    new, trainable ``nn.Linear(D, n_classes)``; return the backbone (changed in place)."""
    for p in backbone.parameters():
        p.requires_grad_(False)
    old = backbone.classifier[-1]
    assert isinstance(old, nn.Linear), f"the classifier should end in nn.Linear, got {type(old).__name__}"
    backbone.classifier[-1] = nn.Linear(old.in_features, n_classes)      # (N, D) -> (N, n_classes), trainable
    return backbone


def trainable_parameters(model: nn.Module) -> int:
    """The number of parameters the optimizer will change (those with requires_grad)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def make_optimizer(model: nn.Module, lr: float = 1e-3) -> torch.optim.Optimizer:
    """Adam over the trainable parameters only: the frozen ones have no business in it."""
    return torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)


def fine_tune_step(model: nn.Module, optimizer: torch.optim.Optimizer, x, y) -> float:
    """One step of cross-entropy on the batch (x preprocessed (N, 3, H, W), y int labels (N,)):
    the head in train mode, the frozen ``features`` in eval mode (their batchnorm statistics
    must not move); returns the loss as a float."""
    x = torch.as_tensor(x, dtype=torch.float32)
    y = torch.as_tensor(np.asarray(y), dtype=torch.long)
    model.train()
    model.features.eval()
    loss = F.cross_entropy(model(x), y)                                  # (N, n_classes) vs (N,)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return float(loss.item())


def fit_shallow(features, labels, seed: int = 0):
    """A logistic regression on standardised features (scikit-learn), fitted; ``.predict(features)``
    gives classes."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000, random_state=seed))
    return model.fit(np.asarray(features, dtype=np.float64), np.asarray(labels))
