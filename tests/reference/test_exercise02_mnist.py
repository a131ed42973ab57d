"""The solution's default fcNN on the course's real MNIST subset (skips without ../shared/data).

The course trains on mnist_4000[0:2400] and validates on [2400:3000] (≈ 0.92 with a
784-500-50-10 net). Here: the solution's default fcnn() (sigmoid, 784-500-50-10), a few
epochs of Adam — enough to show the course's accuracy is within reach (≥ 0.85), and that the
same net on pixels shuffled by one fixed permutation reaches the same accuracy within 2 points.
"""

import gzip
import importlib.util
import pickle
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "mnist" / "mnist_4000.pkl.gz"

pytestmark = pytest.mark.skipif(not DATA.exists(), reason=f"needs the course's MNIST subset at {DATA}")


def _solution():
    spec = importlib.util.spec_from_file_location("solution_02_mnist", ROOT / "solutions" / "exercise02.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _train_and_validate(sol, x_train, y_train, x_val, y_val, seed=0, epochs=12) -> float:
    torch.manual_seed(seed)
    model = sol.fcnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(x_train), generator=g).split(64):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        return (model(x_val).argmax(1) == y_val).float().mean().item()


@pytest.fixture(scope="module")
def mnist():
    with gzip.open(DATA) as f:
        x, y = pickle.load(f, encoding="latin1")  # the course's own file, not student data
    x = torch.tensor(np.asarray(x, np.float32))  # (4000, 1, 28, 28), standardized per pixel
    y = torch.tensor(np.asarray(y, np.int64))
    return x[:2400], y[:2400], x[2400:3000], y[2400:3000]


def test_the_default_fcnn_reaches_the_courses_validation_accuracy(mnist):
    torch.set_num_threads(2)
    acc = _train_and_validate(_solution(), *mnist)
    assert acc >= 0.85, f"validation accuracy {acc:.3f}"


def test_shuffled_pixels_give_the_same_accuracy_within_two_points(mnist):
    torch.set_num_threads(2)
    sol = _solution()
    x_train, y_train, x_val, y_val = mnist
    perm = np.random.default_rng(42).permutation(28 * 28)
    shuffle = lambda x: torch.tensor(sol.permute_pixels(x.numpy(), perm))  # noqa: E731
    plain = _train_and_validate(sol, x_train, y_train, x_val, y_val)
    shuffled = _train_and_validate(sol, shuffle(x_train), y_train, shuffle(x_val), y_val)
    assert abs(plain - shuffled) <= 0.02, f"plain {plain:.3f}, shuffled {shuffled:.3f}"
