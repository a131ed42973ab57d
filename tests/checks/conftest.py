"""What grading needs beyond the exercise file: exercise11's weights and test images.

exercise11 grades trained weights on a test set. By default both come from the learnable
CIFAR-10 fixture (``learnable_cifar`` in tests/conftest.py): the solution's ``build_model()``
is trained on it for a few seconds, once per session, and graded on its test batch. The
real data (../shared/data) and the lead's trained weights are the slow tests' business.
"""

from __future__ import annotations

import importlib.util
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Exercise11Weights:
    """The solution's model, trained on the learnable fixture and untrained, as weights files' bytes."""

    data_dir: Path  # holds cifar-10-batches-py: 1,000 training images, 500 test images
    safetensors: bytes  # trained
    pt: bytes  # the same trained state dict, torch.save'd
    untrained: bytes  # safetensors of build_model() as it comes (seeded)
    test_accuracy: float  # of the trained model on the fixture's test batch, measured here


def solution_module(exercise: str):
    """Import solutions/<exercise>.py as a module of its own."""
    spec = importlib.util.spec_from_file_location(f"solution_{exercise}", ROOT / "solutions" / f"{exercise}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def exercise11_weights(learnable_cifar) -> Exercise11Weights:
    """Train the solution's build_model() on the learnable fixture: plain Adam, batch 64, 3 epochs, seeded."""
    import numpy as np
    import torch
    from safetensors.torch import save

    from grader.data import load

    solution = solution_module("exercise11")
    train, test = load("cifar10", learnable_cifar)
    torch.manual_seed(0)
    untrained = save(solution.build_model().state_dict())
    model = solution.build_model()
    x, y = solution.preprocess(train.images), torch.as_tensor(train.labels)    # (1000, 3, 32, 32), (1000,)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    for _ in range(3):
        model.train()
        for batch in torch.randperm(len(y), generator=generator).split(64):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        predicted = model(solution.preprocess(test.images)).argmax(dim=1).numpy()  # (500,)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return Exercise11Weights(learnable_cifar, save(model.state_dict()), buffer.getvalue(), untrained,
                             float(np.mean(predicted == test.labels)))


@pytest.fixture(scope="session")
def exercise14_weights(fake_lfw8) -> bytes:
    """The project solution's network for the generated faces, as float16 safetensors like the
    real solution's: MobileNetV2's ImageNet layers (the solution starts from them too) and the
    head fitted to their features of the generated training faces (Adam, computed once, ≈ 4 s).
    A randomly initialised MobileNetV2's pooled features do not tell the generated people apart
    (measured: 0.6 test accuracy), so without the pretrained weights this skips; the real
    solution is graded by the slow test on the real faces."""
    import torch
    from safetensors.torch import save

    from grader.data import load_split
    from grader.kit import pretrained

    if not pretrained.available("mobilenet_v2"):
        pytest.skip(f"the project's solution needs MobileNetV2's ImageNet weights: {pretrained.INSTALL['mobilenet_v2']}")
    solution = solution_module("exercise14")
    train = load_split("lfw8", "train", fake_lfw8)
    model = solution.build_model()
    model.features.load_state_dict(pretrained.load_backbone("mobilenet_v2").features.state_dict())
    model.eval()
    with torch.no_grad():
        x = solution.preprocess(train.images).expand(-1, 3, -1, -1)
        x = torch.nn.functional.interpolate(x, size=(128, 128), mode="bilinear", align_corners=False)
        features = model.features((x - model.mean) / model.std)                    # (N, 1280)
    y = torch.as_tensor(train.labels)
    torch.manual_seed(0)
    optimizer = torch.optim.Adam(model.head.parameters(), lr=1e-2)
    for _ in range(200):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model.head[1](features), y).backward()
        optimizer.step()
    return save({k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in model.state_dict().items()})


@pytest.fixture
def grading_needs(request):
    """Return ``needs(exercise) -> dict``: the ``grade_text`` keywords an exercise needs beyond its
    file — for exercise11 the solution's trained weights beside it and the fixture's test images;
    for exercise14 (the project) the solution's network fitted to generated faces and those faces."""
    def needs(exercise: str) -> dict:
        if exercise == "exercise14":
            return {"files": {"exercise14.safetensors": request.getfixturevalue("exercise14_weights")},
                    "data_dir": request.getfixturevalue("fake_lfw8")}
        if exercise != "exercise11":
            return {}
        weights = request.getfixturevalue("exercise11_weights")
        return {"files": {"exercise11.safetensors": weights.safetensors}, "data_dir": weights.data_dir}
    return needs
