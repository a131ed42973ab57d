"""Generated face-like data in LFW-8's layout and team submissions for the project (exercise14).

``write_fake_lfw8(folder)`` writes ``folder/lfw8-gray.zip`` holding ``lfw8/<Person>/<Person>_NNNN.jpg``:
250×250 grey JPEGs, as many per person as LFW-8 has divided by ``scale`` (Bush the most). Each
person is a face-shaped ellipse of a tone of their own with a coarse pattern and a stripe
texture of their own inside LFW's face box (a random network's pooled features see the tone),
each image that plus a random brightness, shift and noise: a linear model learns who is who in a
second, chance is 1/8, and always answering Bush is right about 39 % of the time.

Team submissions: ``LINEAR_TEAM`` (a softmax regression on the pixels) with trained, random
or always-Bush weights, its probabilities computed independently of the grader, and
predictions CSVs.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

PEOPLE = {"Ariel_Sharon": 77, "Colin_Powell": 236, "Donald_Rumsfeld": 121, "George_W_Bush": 530,
          "Gerhard_Schroeder": 109, "Hugo_Chavez": 71, "Junichiro_Koizumi": 60, "Tony_Blair": 144}
BUSH = sorted(PEOPLE).index("George_W_Bush")

LINEAR_TEAM = '''"""Team Linear: softmax regression on the pixels."""
import numpy as np
import torch
from torch import nn


def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(64 * 64, 8))


def preprocess(x):
    return torch.as_tensor(np.asarray(x, dtype=np.float32) / 255.0)
'''


def write_fake_lfw8(folder: Path, *, scale: int = 5, seed: int = 0) -> Path:
    """Write ``folder/lfw8-gray.zip`` (see the module docstring); returns its path."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:250, 0:250]
    ellipse = ((yy - 125) / 70.0) ** 2 + ((xx - 125) / 55.0) ** 2 < 1                  # (250, 250) the face
    path = Path(folder) / "lfw8-gray.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("lfw8/", b"")
        for k, (person, count) in enumerate(PEOPLE.items()):
            coarse = rng.uniform(-60, 60, size=(5, 5))
            angle, frequency = np.pi * k / 8, 0.12 + 0.04 * k
            stripes = np.sin(frequency * (xx[:140, :140] * np.cos(angle) + yy[:140, :140] * np.sin(angle)))
            pattern = np.kron(coarse, np.ones((28, 28))) + 60 * stripes                   # (140, 140) own pattern
            mean = np.full((250, 250), 60.0)
            mean[55:195, 55:195] += pattern
            mean[ellipse] += 20 + 15 * k                                                 # a skin tone of their own
            for i in range(max(6, count // scale)):
                dy, dx = rng.integers(-3, 4, size=2)
                image = np.roll(mean, (dy, dx), axis=(0, 1)) * rng.uniform(0.97, 1.03) + rng.normal(0, 15, (250, 250))
                buffer = io.BytesIO()
                Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(buffer, format="JPEG", quality=90)
                zf.writestr(f"lfw8/{person}/{person}_{i + 1:04d}.jpg", buffer.getvalue())
    return path


def linear_weights(data_dir: Path, how: str = "trained", seed: int = 0, *, steps: int = 60) -> bytes:
    """safetensors bytes of LINEAR_TEAM's model: "trained" (Adam, ``steps`` full-batch steps on
    the training faces), "random" (as built, seeded) or "bush" (zero weights, Bush's bias 10)."""
    import torch
    from safetensors.torch import save
    from torch import nn

    from grader.data import load_split

    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64 * 64, 8))
    if how == "trained":
        train = load_split("lfw8", "train", data_dir)
        x, y = torch.as_tensor(train.images.astype(np.float32) / 255.0), torch.as_tensor(train.labels)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(steps):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    elif how == "bush":
        with torch.no_grad():
            model[1].weight.zero_()
            model[1].bias.zero_()
            model[1].bias[BUSH] = 10.0
    else:
        assert how == "random", f"how must be trained, random or bush, got {how!r}"
    return save({k: v.contiguous() for k, v in model.state_dict().items()})


def linear_probabilities(weights: bytes, images: np.ndarray) -> np.ndarray:
    """LINEAR_TEAM's softmax (N, 8), float64, for uint8 faces (N, 1, 64, 64), computed here in
    torch from the weights' bytes: what a team's model says, found without the grader."""
    import torch
    from safetensors.torch import load

    state = load(weights)
    x = torch.as_tensor(images.reshape(len(images), -1).astype(np.float32) / 255.0)          # (N, 4096)
    logits = x @ state["1.weight"].T + state["1.bias"]                                       # (N, 8)
    return torch.softmax(logits.double(), dim=1).numpy()


def predictions_csv(predicted, data_dir: Path, *, by_name: bool = True, delimiter: str = ",") -> bytes:
    """A predictions CSV (header id,person) for the test faces, ``predicted`` in the split's order."""
    from grader.data import load_split
    from grader.data.faces import face_ids

    test = load_split("lfw8", "test", data_dir)
    rows = [f"id{delimiter}person"]
    rows += [f"{face}{delimiter}{test.classes[p] if by_name else p}" for face, p in zip(face_ids(len(test)), predicted)]
    return ("\n".join(rows) + "\n").encode()
