"""Reference for exercise13 — shining light into the black box, and the edge lover (torch).

The oracle the grader compares submissions against, written with plain torch autograd so
that it stays an independent check of captum (``Occlusion``, ``Saliency``,
``GuidedBackprop``, ``LayerGradCam``), which the tests compare it with.

Conventions (the ones captum uses, so that a student can check against it):

- ``model`` is an ``nn.Module`` mapping ``(N, C, H, W)`` images to ``(N, K)`` logits;
  ``image`` is one ``(C, H, W)`` image (array or tensor), ``target`` a class index;
- every map is a float64 numpy array; the score explained is the target's **logit** (before
  softmax) for the gradient methods, and the target's **probability** for occlusion, whose
  map holds the drop ``p(original) − p(occluded)`` (captum's ``Occlusion`` with a
  probability as forward function);
- occlusion: a ``patch × patch`` window over all channels, filled with ``fill``, starts at
  rows 0, stride, 2·stride, … until a window reaches the last row (the last one may stick
  out and is cut at the border, so the last row and column are always covered — captum's
  rule); every pixel gets the mean drop of the windows that covered it, ``(H, W)``;
- saliency: ``max`` over channels of ``|∂ logit_target / ∂ x|``, ``(H, W)`` (Simonyan et al.);
- guided backpropagation: the gradient of the logit with every ReLU's backward pass letting
  only positive gradients through (where the ReLU's input was positive too), ``(C, H, W)``,
  signed;
- Grad-CAM for the layer named ``layer`` (``dict(model.named_modules())[layer]``): channel
  weights α_k = spatial mean of ∂ logit / ∂ A_k, map ReLU(Σ_k α_k A_k) at the layer's
  resolution, then upsampled to (H, W) with ``F.interpolate(mode="bilinear",
  align_corners=False)`` (captum's ``LayerAttribution.interpolate`` with that mode).

The "art-style lover" (the course's first CNN notebook): a 3×3 kernel designed by hand
detects vertical edges (each row sums to zero: blind to flat regions and horizontal edges);
a small CNN trained to tell vertical from horizontal stripes learns such kernels itself.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


# --------------------------------------------------------------------------- helpers


def as_batch(image) -> torch.Tensor:
    """One (C, H, W) image as a float64 batch (1, C, H, W)."""
    x = torch.as_tensor(np.asarray(image, dtype=np.float64))
    assert x.ndim == 3, f"image must be (C, H, W), got shape {tuple(x.shape)}"
    return x[None]  # (1, C, H, W)


def double(model: nn.Module) -> nn.Module:
    """The model in float64 and eval mode (the oracle's precision; dropout off)."""
    return model.double().eval()


def probability(model: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
    """p(target | x) for a batch x (N, C, H, W) -> (N,)."""
    return torch.softmax(model(x), dim=1)[:, target]  # (N,)


# --------------------------------------------------------------------------- occlusion


def window_starts(n: int, patch: int, stride: int) -> list[int]:
    """Starts of the windows along one axis: 0, s, 2s, … until a window reaches the end.

    ceil((n − patch) / stride) + 1 windows (captum's count); the last may stick out.
    """
    assert 1 <= patch <= n, f"patch must be between 1 and {n}, got {patch}"
    assert 1 <= stride <= patch, f"stride must be between 1 and the patch ({patch}), got {stride}"
    return [i * stride for i in range(math.ceil((n - patch) / stride) + 1)]


@torch.no_grad()
def occlusion(model: nn.Module, image, target: int, patch: int = 8, stride: int = 4, fill: float = 0.0) -> np.ndarray:
    """Mean drop of p(target) over the windows covering each pixel, (H, W)."""
    x = as_batch(image)  # (1, C, H, W)
    _, _, h, w = x.shape
    model = double(model)
    p0 = probability(model, x, target)[0]
    total = torch.zeros(h, w, dtype=torch.float64)  # (H, W) sum of drops
    count = torch.zeros(h, w, dtype=torch.float64)  # (H, W) windows per pixel
    for top in window_starts(h, patch, stride):
        for left in window_starts(w, patch, stride):
            occluded = x.clone()
            occluded[:, :, top:top + patch, left:left + patch] = fill  # cut at the border
            drop = p0 - probability(model, occluded, target)[0]
            total[top:top + patch, left:left + patch] += drop
            count[top:top + patch, left:left + patch] += 1
    assert bool((count > 0).all()), "every pixel is covered by a window"
    return (total / count).numpy()


# --------------------------------------------------------------------------- gradients


def input_gradient(model: nn.Module, image, target: int) -> torch.Tensor:
    """∂ logit_target / ∂ x for one image, (C, H, W)."""
    x = as_batch(image).requires_grad_(True)  # (1, C, H, W)
    logit = double(model)(x)[0, target]
    (grad,) = torch.autograd.grad(logit, x)
    return grad[0]  # (C, H, W)


def saliency(model: nn.Module, image, target: int) -> np.ndarray:
    """max over channels of |∂ logit_target / ∂ x|, (H, W)."""
    return input_gradient(model, image, target).abs().amax(dim=0).numpy()  # (H, W)


def _guide(module, grad_input, grad_output):
    """A ReLU's backward hook: keep its own mask (in grad_input) and pass only positive gradients."""
    return (grad_input[0].clamp(min=0.0),)


def guided_backprop(model: nn.Module, image, target: int) -> np.ndarray:
    """The logit's gradient with only positive gradients through every nn.ReLU, (C, H, W)."""
    model = double(model)
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    handles = [m.register_full_backward_hook(_guide) for m in relus]
    try:
        return input_gradient(model, image, target).numpy()  # (C, H, W)
    finally:
        for h in handles:
            h.remove()


# --------------------------------------------------------------------------- Grad-CAM


def layer_activation_and_gradient(model: nn.Module, image, target: int, layer: str):
    """The named layer's output A (K, h, w) and ∂ logit_target / ∂ A (K, h, w)."""
    model = double(model)
    modules = dict(model.named_modules())
    assert layer in modules, f"no layer named {layer!r}; the model has {[n for n in modules if n]}"
    seen = {}
    hook = modules[layer].register_forward_hook(lambda m, i, out: seen.setdefault("A", out))
    try:
        logit = model(as_batch(image))[0, target]
    finally:
        hook.remove()
    a = seen["A"]  # (1, K, h, w)
    (grad,) = torch.autograd.grad(logit, a)
    return a[0].detach(), grad[0]  # (K, h, w), (K, h, w)


def upsample(cam: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A (h, w) map bilinearly resized to size (align_corners=False), (H, W)."""
    return F.interpolate(cam[None, None], size=size, mode="bilinear", align_corners=False)[0, 0]


def grad_cam(model: nn.Module, image, target: int, layer: str) -> np.ndarray:
    """ReLU(Σ_k α_k A_k) with α_k the spatial mean of ∂ logit / ∂ A_k, upsampled to (H, W)."""
    a, grad = layer_activation_and_gradient(model, image, target, layer)  # (K, h, w) each
    assert a.ndim == 3, f"layer {layer!r} must output (N, K, h, w) maps, got {tuple(a.shape)} per image"
    alpha = grad.mean(dim=(1, 2))  # (K,)
    cam = torch.relu((alpha[:, None, None] * a).sum(dim=0))  # (h, w)
    h, w = np.asarray(image).shape[-2:]
    return upsample(cam, (h, w)).numpy()  # (H, W)


# --------------------------------------------------------------------------- the art-style lover


def edge_kernel(orientation: str = "vertical") -> np.ndarray:
    """Prewitt's 3×3 edge detector: dark→bright from left to right gives a positive response.

    Vertical: every row is [-1, 0, 1] (rows sum to 0: flat regions and horizontal edges give
    0); horizontal is its transpose.
    """
    assert orientation in ("vertical", "horizontal"), f"orientation must be 'vertical' or 'horizontal', got {orientation!r}"
    k = np.array([[-1.0, 0.0, 1.0]] * 3)  # (3, 3)
    return k if orientation == "vertical" else k.T.copy()


def stripes(n: int, size: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n striped images (n, 1, size, size) float32 in [0, 1] and labels (n,): 0 vertical, 1 horizontal.

    Each image has stripes of a random period (3…size/2 pixels), phase and duty cycle, a
    random contrast and gaussian noise: only the direction of the edges tells the classes apart.
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=n)  # (n,)
    coords = np.arange(size)
    images = np.empty((n, 1, size, size), dtype=np.float32)
    for i, label in enumerate(labels):
        period = rng.integers(3, size // 2 + 1)
        on = rng.integers(1, period)
        profile = ((coords + rng.integers(0, period)) % period < on).astype(np.float64)  # (size,)
        low, high = np.sort(rng.uniform(0.0, 1.0, size=2))
        high = max(high, low + 0.3)
        pattern = low + (high - low) * profile  # (size,)
        img = np.tile(pattern, (size, 1)) if label == 0 else np.tile(pattern[:, None], (1, size))  # (size, size)
        images[i, 0] = np.clip(img + rng.normal(0.0, 0.05, size=(size, size)), 0.0, 1.0)
    return images, labels.astype(np.int64)


def art_style_cnn(kernels: int = 4) -> nn.Module:
    """conv 3×3 (1→kernels) → ReLU → global max-pool → linear (kernels→2): a stripe's direction
    can only come from the first layer's kernels, which must become edge detectors."""
    return nn.Sequential(
        nn.Conv2d(1, kernels, kernel_size=3),  # (N, kernels, H-2, W-2)
        nn.ReLU(),
        nn.AdaptiveMaxPool2d(1),  # (N, kernels, 1, 1)
        nn.Flatten(),  # (N, kernels)
        nn.Linear(kernels, 2),  # (N, 2) logits
    )


def train(model: nn.Module, images: np.ndarray, labels: np.ndarray, *, epochs: int = 15, lr: float = 0.02,
          batch: int = 32, seed: int = 0) -> nn.Module:
    """Adam on the cross-entropy, shuffled mini-batches; returns the model in eval mode."""
    torch.manual_seed(seed)
    x, y = torch.as_tensor(images, dtype=torch.float32), torch.as_tensor(labels)  # (N, 1, H, W), (N,)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(y), generator=generator).split(batch):
            optimizer.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            optimizer.step()
    return model.eval()


@torch.no_grad()
def accuracy(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    """Share of images whose argmax logit is the label."""
    predicted = model(torch.as_tensor(images, dtype=torch.float32)).argmax(dim=1).numpy()  # (N,)
    return float(np.mean(predicted == labels))


def first_layer_kernels(model: nn.Module) -> np.ndarray:
    """The first Conv2d's kernels, (K, kh, kw) for a one-channel input."""
    conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    return conv.weight.detach().double().numpy()[:, 0]  # (K, kh, kw)


def edge_kernels() -> dict[str, np.ndarray]:
    """The hand-designed 3×3 edge detectors a learned kernel is compared with: per orientation,
    Prewitt's centred difference and the two one-pixel steps (upper/left and lower/right)."""
    vertical = {"vertical": edge_kernel("vertical"),
                "vertical step, left": np.array([[-1.0, 1.0, 0.0]] * 3),
                "vertical step, right": np.array([[0.0, -1.0, 1.0]] * 3)}
    horizontal = {name.replace("vertical", "horizontal").replace("left", "top").replace("right", "bottom"): k.T.copy()
                  for name, k in vertical.items()}
    return vertical | horizontal


def edge_correlation(kernel: np.ndarray) -> dict[str, float]:
    """Pearson correlation of a 3×3 kernel with each hand-designed edge kernel (sign kept: −1 is
    the same edge detector for the opposite contrast)."""
    k = np.asarray(kernel, dtype=np.float64).ravel()
    kc = k - k.mean()
    out = {}
    for name, e in edge_kernels().items():
        ec = e.ravel() - e.mean()
        out[name] = float(kc @ ec / (np.linalg.norm(kc) * np.linalg.norm(ec) + 1e-12))
    return out


def best_edge_match(kernel: np.ndarray) -> tuple[str, float]:
    """The hand-designed edge kernel a kernel resembles most, and |correlation| with it."""
    name, r = max(edge_correlation(kernel).items(), key=lambda item: abs(item[1]))
    return name, abs(r)


def edge_lover(n_train: int = 512, n_test: int = 512, size: int = 16, kernels: int = 4, seed: int = 0) -> dict:
    """Train the art-style CNN on stripes; return its test accuracy and its kernels' edge correlations."""
    torch.manual_seed(seed)
    model = art_style_cnn(kernels)
    x, y = stripes(n_train, size, seed=seed)
    train(model, x, y, seed=seed)
    xt, yt = stripes(n_test, size, seed=seed + 1)
    learned = first_layer_kernels(model)  # (K, 3, 3)
    return {"model": model, "accuracy": accuracy(model, xt, yt), "kernels": learned,
            "correlations": [edge_correlation(k) for k in learned]}
