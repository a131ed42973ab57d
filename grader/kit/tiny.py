"""A tiny random MobileNetV2-like backbone as plain data, and its forward pass in numpy (float64).

exercise12's checks hand students a backbone built from ``tiny_spec(seed)`` in the worker
(probe ``build_backbone``) and compute what the student's code must produce here, with
``tiny_features``: no torch in the grader process, so its start-up overlaps the worker's torch
import instead of preceding it. ``grader.kit.pretrained.tiny_backbone`` builds the same
network in torch (tests check the two agree).
"""

from __future__ import annotations

import numpy as np

IMAGENET_MEAN = (0.485, 0.456, 0.406)  # torchvision's normalisation, for pixels in [0, 1]
IMAGENET_STD = (0.229, 0.224, 0.225)
BN_EPS = 1e-5  # nn.BatchNorm2d's default


def tiny_spec(seed: int = 0, *, feature_dim: int = 24, n_imagenet: int = 20) -> dict:
    """A small random MobileNetV2-like network as plain data (layers and numpy weights), so the
    grader can build the very same network in the worker (probe ``build_backbone``) and here.

    Its batchnorm statistics are not the identity and its features end with a dropout (a
    stand-in for EfficientNet's drop-connect), so train mode and eval mode differ visibly.
    """
    rng = np.random.default_rng(seed)
    features = [["conv", 3, 8, 3, 2, 1], ["bn", 8], ["relu6"], ["conv", 8, 8, 3, 1, 8], ["bn", 8], ["relu6"],
                ["conv", 8, feature_dim, 1, 1, 1], ["bn", feature_dim], ["relu6"], ["pool"], ["flatten"],
                ["dropout", 0.2]]
    classifier = [["dropout", 0.5], ["linear", feature_dim, n_imagenet]]
    state = {}
    for part, layers in (("features", features), ("classifier", classifier)):
        for i, row in enumerate(layers):
            at = f"{part}.{i}."
            if row[0] == "conv":
                c_in, c_out, k, _, groups = row[1:]
                state[at + "weight"] = rng.normal(0, (2 / (c_in // groups * k * k)) ** 0.5, (c_out, c_in // groups, k, k))
            elif row[0] == "bn":
                c = row[1]
                state.update({at + "weight": rng.uniform(0.5, 1.5, c), at + "bias": rng.normal(0, 0.2, c),
                              at + "running_mean": rng.normal(0, 0.5, c), at + "running_var": rng.uniform(0.5, 2.5, c)})
            elif row[0] == "linear":
                state[at + "weight"] = rng.normal(0, row[1] ** -0.5, (row[2], row[1]))
                state[at + "bias"] = rng.normal(0, 0.1, row[2])
    return {"features": features, "classifier": classifier, "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD),
            "state": {k: v.astype(np.float32) for k, v in state.items()}}


def tiny_features(spec: dict, x) -> np.ndarray:
    """``features`` of the network of ``spec`` in eval mode: float images (N, 3, H, W) -> (N, D), float64."""
    return _run(spec["features"], spec["state"], "features", np.asarray(x, dtype=np.float64))


def tiny_logits(spec: dict, x) -> np.ndarray:
    """The whole network in eval mode: (N, 3, H, W) -> (N, ImageNet classes)."""
    return _run(spec["classifier"], spec["state"], "classifier", tiny_features(spec, x))


def _run(rows, state: dict, part: str, x: np.ndarray) -> np.ndarray:
    for i, row in enumerate(rows):
        at = f"{part}.{i}."
        kind = row[0]
        if kind == "conv":
            x = conv2d(x, state[at + "weight"].astype(np.float64), stride=row[4], groups=row[5])
        elif kind == "bn":
            shape = (1, -1, 1, 1)
            mean, var = state[at + "running_mean"].reshape(shape), state[at + "running_var"].reshape(shape)
            w, b = state[at + "weight"].reshape(shape), state[at + "bias"].reshape(shape)
            x = (x - mean) / np.sqrt(var + BN_EPS) * w + b
        elif kind == "relu6":
            x = np.clip(x, 0.0, 6.0)
        elif kind == "pool":
            x = x.mean(axis=(2, 3), keepdims=True)                       # (N, C, 1, 1)
        elif kind == "flatten":
            x = x.reshape(len(x), -1)
        elif kind == "linear":
            x = x @ state[at + "weight"].astype(np.float64).T + state[at + "bias"]
        else:
            assert kind == "dropout", f"unknown layer {kind!r}"        # eval mode: the identity
    return x


def conv2d(x: np.ndarray, w: np.ndarray, *, stride: int = 1, groups: int = 1) -> np.ndarray:
    """nn.Conv2d without bias, padding (k - 1) // 2: x (N, C, H, W), w (F, C / groups, k, k) -> (N, F, H', W')."""
    n, c, _, _ = x.shape
    f, cg, k, _ = w.shape
    assert c == cg * groups and f % groups == 0, f"channels {c} and weights {w.shape} do not fit {groups} groups"
    p = (k - 1) // 2
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]  # (N, C, H', W', k, k)
    h, wd = win.shape[2:4]
    win = win.reshape(n, groups, cg, h, wd, k, k)
    wg = w.reshape(groups, f // groups, cg, k, k)
    return np.einsum("ngchwab,gocab->ngohw", win, wg).reshape(n, f, h, wd)
