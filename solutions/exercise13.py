"""Exercise 13 — shining light into the black box, and the edge lover.

Which part of an image made the network say "African elephant"? Implement four ways of
asking a CNN, and then watch a small CNN invent the edge detector you design by hand.

Every explanation function takes ``model`` (an ``nn.Module`` mapping ``(N, C, H, W)``
images to ``(N, K)`` logits; call ``model.eval()`` is not needed, it comes in eval mode),
one ``image`` of shape ``(C, H, W)`` (a numpy array: ``torch.as_tensor(image,
dtype=torch.float32)`` turns it into a tensor; add the batch axis with ``x[None]``) and
``target``, the class to explain. Each returns a float numpy array (``t.detach().numpy()``).
The conventions are captum's (``captum.attr``), so you can compare your maps with its
``Occlusion``, ``Saliency``, ``GuidedBackprop`` and ``LayerGradCam``:

- the gradient methods explain the target's **logit** (the model's output before softmax);
  occlusion explains its **probability** (softmax of the logits);
- ``occlusion``: a ``patch × patch`` window (over all channels) filled with ``fill`` slides
  over the image; its top-left corner takes the rows 0, stride, 2·stride, … until a window
  reaches the last row (that window may stick out of the image and is simply cut at the
  border, so the last row is always covered), and the same for the columns. For each window
  the drop p(original) − p(occluded) of the target's probability is added to every pixel the
  window covered; return the sum divided by the number of windows that covered the pixel,
  ``(H, W)``. (A positive value: hiding this part lowers the probability — it mattered.)
- ``saliency``: the gradient of the target's logit with respect to the pixels, absolute
  value, maximum over the channels: ``(H, W)``.
- ``guided_backprop``: the same gradient, but every ``nn.ReLU`` of the model lets only
  **positive gradients** flow backwards (where its input was positive, as always); hook the
  ReLUs with ``register_full_backward_hook`` returning the clamped gradient, remove the hooks
  afterwards. Signed, ``(C, H, W)``.
- ``grad_cam``: for the layer named ``layer`` (``dict(model.named_modules())[layer]``, e.g.
  ``"conv2"``) record its output A, ``(K, h, w)`` for K channels, with a forward hook; the
  weight of channel k is the spatial mean of ∂ logit / ∂ A_k; the map is ReLU(Σ_k α_k A_k),
  ``(h, w)``, upsampled to the image's ``(H, W)`` with
  ``F.interpolate(cam[None, None], size=(H, W), mode="bilinear", align_corners=False)``.

The art-style lover (the course's first CNN notebook):

- ``edge_kernel(orientation)``: a 3×3 kernel you design that detects vertical edges (or
  horizontal ones): it answers a vertical edge, and gives 0 on flat regions and on
  horizontal edges (vertical: every row sums to 0). Return a float numpy array (3, 3).
- ``art_style_cnn(kernels)``: a small CNN for 16×16 grey images ``(N, 1, 16, 16)`` → 2 logits
  (class 0: vertical stripes, class 1: horizontal stripes) whose first layer is
  ``nn.Conv2d(1, kernels, 3)``. The grader trains it from torch's default initialisation
  (Adam, learning rate 0.02, 15 epochs of 512 striped images in batches of 32, seeded), expects ≥ 0.95 accuracy on fresh stripes,
  and looks at the first layer's kernels: the ones the classifier uses should have become
  edge detectors like yours. Keep it small (≤ 1,000 parameters): a stripe's direction is
  one edge detector away.

Check your work with:  grade exercise13

Points: occlusion 4 · saliency 3 · guided_backprop 3 · grad_cam 4 · edge_kernel 2 · art_style_cnn 3 (total 19)
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def occlusion(model, image, target, patch=8, stride=4, fill=0.0):
    """Return the (H, W) map of the mean drop of p(target) when a patch × patch window hides a part.

    ``stride`` is at most ``patch`` (every pixel is covered); windows start at 0, stride,
    2·stride, … until one reaches the last row/column (that one is cut at the border).
    """
    # BEGIN SOLUTION
    x = torch.as_tensor(image, dtype=torch.float32)[None]  # (1, C, H, W)
    _, _, height, width = x.shape
    total = torch.zeros(height, width)
    count = torch.zeros(height, width)
    with torch.no_grad():
        p = torch.softmax(model(x), dim=1)[0, target]
        for top in range(0, height, stride):
            for left in range(0, width, stride):
                hidden = x.clone()
                hidden[:, :, top:top + patch, left:left + patch] = fill
                drop = p - torch.softmax(model(hidden), dim=1)[0, target]
                total[top:top + patch, left:left + patch] += drop
                count[top:top + patch, left:left + patch] += 1
                if left + patch >= width:
                    break
            if top + patch >= height:
                break
    return (total / count).numpy()
    # END SOLUTION


def saliency(model, image, target):
    """Return max over channels of |∂ logit_target / ∂ pixel|, shape (H, W)."""
    # BEGIN SOLUTION
    x = torch.as_tensor(image, dtype=torch.float32)[None].requires_grad_(True)  # (1, C, H, W)
    model(x)[0, target].backward()
    return x.grad[0].abs().amax(dim=0).numpy()
    # END SOLUTION


def guided_backprop(model, image, target):
    """Return the gradient of the target's logit with only positive gradients through the ReLUs, (C, H, W)."""
    # BEGIN SOLUTION
    def only_positive(module, grad_input, grad_output):
        return (grad_input[0].clamp(min=0.0),)

    hooks = [m.register_full_backward_hook(only_positive) for m in model.modules() if isinstance(m, nn.ReLU)]
    try:
        x = torch.as_tensor(image, dtype=torch.float32)[None].requires_grad_(True)  # (1, C, H, W)
        model(x)[0, target].backward()
    finally:
        for hook in hooks:
            hook.remove()
    return x.grad[0].numpy()
    # END SOLUTION


def grad_cam(model, image, target, layer):
    """Return the Grad-CAM map of the layer named ``layer``, upsampled to the image's (H, W)."""
    # BEGIN SOLUTION
    seen = {}
    module = dict(model.named_modules())[layer]
    hook = module.register_forward_hook(lambda m, inputs, output: seen.update(A=output))
    try:
        x = torch.as_tensor(image, dtype=torch.float32)[None]  # (1, C, H, W)
        logit = model(x)[0, target]
    finally:
        hook.remove()
    activations = seen["A"]  # (1, K, h, w)
    (gradients,) = torch.autograd.grad(logit, activations)  # (1, K, h, w)
    weights = gradients.mean(dim=(2, 3), keepdim=True)  # (1, K, 1, 1)
    cam = torch.relu((weights * activations).sum(dim=1, keepdim=True))  # (1, 1, h, w)
    cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)
    return cam[0, 0].detach().numpy()
    # END SOLUTION


def edge_kernel(orientation="vertical"):
    """Return a 3×3 float kernel that detects "vertical" (or "horizontal") edges."""
    # BEGIN SOLUTION
    kernel = np.array([[-1.0, 0.0, 1.0],
                       [-1.0, 0.0, 1.0],
                       [-1.0, 0.0, 1.0]])
    return kernel if orientation == "vertical" else kernel.T.copy()
    # END SOLUTION


def art_style_cnn(kernels=4):
    """Return the art-style lover: (N, 1, 16, 16) grey images -> (N, 2) logits, first layer Conv2d(1, kernels, 3)."""
    # BEGIN SOLUTION
    return nn.Sequential(
        nn.Conv2d(1, kernels, kernel_size=3),
        nn.ReLU(),
        nn.AdaptiveMaxPool2d(1),
        nn.Flatten(),
        nn.Linear(kernels, 2),
    )
    # END SOLUTION
