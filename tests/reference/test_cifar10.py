"""The CIFAR-10 reference models, augmentation, training loop and ladder (reference/cifar10.py, ladder.py)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from grader.reference import cifar10, ladder  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def test_the_base_cnn_has_the_slides_parameter_count():
    assert cifar10.n_parameters(cifar10.base_cnn()) == 1_222_566
    assert cifar10.n_parameters(cifar10.base_cnn(dropout=0.3)) == 1_222_566
    # batchnorm adds a scale and a shift per channel of the four convs: 2 * (16 + 16 + 32 + 32)
    assert cifar10.n_parameters(cifar10.base_cnn(batchnorm=True)) == 1_222_566 + 192


def test_the_base_cnn_maps_images_to_ten_logits():
    out = cifar10.base_cnn(dropout=0.3, batchnorm=True).eval()(torch.zeros(5, 3, 32, 32))
    assert out.shape == (5, 10)


def test_layers_are_initialised_like_keras():
    model = cifar10.base_cnn()
    first = model[0]
    bound = np.sqrt(6 / (3 * 9 + 16 * 9))                     # Glorot uniform: fan_in + fan_out
    w, b = first.weight.detach(), first.bias.detach()
    assert float(w.abs().max()) <= bound
    assert float(w.abs().max()) > 0.9 * bound
    assert float(b.abs().max()) == 0.0


def test_the_exercise11_solution_has_the_all_tricks_architecture():
    path = ROOT / "solutions" / "exercise11.py"
    if not path.exists():
        pytest.skip("solutions/exercise11.py is not written yet")
    spec = importlib.util.spec_from_file_location("solution11", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    theirs = {k: tuple(v.shape) for k, v in module.build_model().state_dict().items()}
    ours = {k: tuple(v.shape) for k, v in cifar10.base_cnn(dropout=0.3, batchnorm=True).state_dict().items()}
    assert theirs == ours


def test_preprocessing_scales_to_the_unit_interval_or_keeps_raw_pixels():
    x = np.array([0, 51, 255], dtype=np.uint8).reshape(1, 1, 1, 3)
    assert cifar10.scale_01(x).flatten().tolist() == pytest.approx([0.0, 0.2, 1.0])
    assert cifar10.raw_pixels(x).flatten().tolist() == [0.0, 51.0, 255.0]
    assert cifar10.scale_01(x).dtype == torch.float32


def _shifted(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """x moved by (dy, dx) pixels with zeros coming in: out[i, j] = x[i - dy, j - dx]."""
    out = torch.zeros_like(x)
    h, w = x.shape[-2:]
    out[..., max(dy, 0): h + min(dy, 0), max(dx, 0): w + min(dx, 0)] = \
        x[..., max(-dy, 0): h - max(dy, 0), max(-dx, 0): w - max(dx, 0)]
    return out


def test_augmentation_without_rotation_is_an_exact_flip_and_shift_of_each_image():
    x = torch.rand(32, 3, 12, 12)
    out = cifar10.augment(x, torch.Generator().manual_seed(1), max_shift=2, max_degrees=0.0)
    assert out.shape == x.shape and out.dtype == x.dtype
    seen = set()
    for img, aug in zip(x, out):
        matches = [(flip, dy, dx) for flip in (False, True) for dy in range(-2, 3) for dx in range(-2, 3)
                   if torch.allclose(_shifted(img.flip(-1) if flip else img, dy, dx), aug, atol=1e-5)]
        assert matches, "an augmented image is not a flip + shift of its source"
        seen.add(matches[0][0])
    assert seen == {False, True}, "flips never (or always) happen"


def test_augmentation_is_reproducible_from_the_generator_seed_and_varies_per_image():
    x = torch.rand(8, 3, 32, 32)
    a = cifar10.augment(x, torch.Generator().manual_seed(3))
    b = cifar10.augment(x, torch.Generator().manual_seed(3))
    c = cifar10.augment(x, torch.Generator().manual_seed(4))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert not torch.allclose(a, x)


def _toy(n, seed):
    """Noise images whose class is the one bright row (rows 0, 3, ..., 27)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = rng.integers(0, 100, (n, 3, 32, 32)).astype(np.uint8)
    x[np.arange(n), :, 3 * y] = 255                            # (n, 3, 32) the class's row
    return x, y


def test_training_learns_a_learnable_toy_problem_and_keeps_the_best_epoch():
    torch.set_num_threads(1)
    x, y = _toy(400, 0)
    xv, yv = _toy(200, 1)
    model = cifar10.base_cnn()
    history = cifar10.train(model, cifar10.scale_01(x), y, cifar10.scale_01(xv), yv,
                            cifar10.Recipe(epochs=3, batch_size=64))
    assert len(history.val_accuracy) == 3
    assert history.val_accuracy[history.best_epoch] == max(history.val_accuracy)
    assert cifar10.accuracy(model, cifar10.scale_01(xv), yv) == pytest.approx(max(history.val_accuracy))
    assert max(history.val_accuracy) > 0.8


def test_training_twice_with_the_same_seed_gives_the_same_weights():
    torch.set_num_threads(1)
    x, y = _toy(128, 0)
    weights = []
    for _ in range(2):
        torch.manual_seed(123)                                 # the init is seeded by the caller
        model = cifar10.base_cnn(dropout=0.3)
        cifar10.train(model, cifar10.scale_01(x), y, cifar10.scale_01(x[:64]), y[:64],
                      cifar10.Recipe(epochs=1, batch_size=32, augment=True))
        weights.append(torch.cat([p.flatten() for p in model.parameters()]))
    assert torch.equal(weights[0], weights[1])


def test_the_ladder_trains_every_rung_on_a_cifar_format_folder_and_writes_its_table(learnable_cifar, tmp_path):
    pytest.importorskip("sklearn")
    settings = ladder.Settings(epochs=2, batch_size=32, n_train=500, n_val=200, n_test=300, trees=10, threads=1)
    out = tmp_path / "table.json"
    weights = tmp_path / "exercise11.safetensors"
    table = ladder.run(learnable_cifar, settings=settings, out=out, export_exercise11=weights)
    assert json.loads(out.read_text()) == table
    rows = {r["name"]: r for r in table["rows"]}
    assert list(rows) == [r.name for r in ladder.RUNGS]
    assert table["splits"] == {"train": 500, "val": 200, "test": 300}
    assert rows["random_forest"]["test_accuracy"] > 0.5        # learnable: far above chance (0.1)
    assert all(r["test_accuracy"] > 0.5 for r in rows.values())
    assert rows["cnn"]["parameters"] == 1_222_566
    from safetensors.torch import load_file

    state = load_file(str(weights))
    assert set(state) == set(cifar10.base_cnn(dropout=0.3, batchnorm=True).state_dict())


def test_the_ladder_refuses_unknown_rungs(learnable_cifar):
    with pytest.raises(ValueError, match="unknown rung"):
        ladder.run(learnable_cifar, only=("cnn_typo",))


def test_rerunning_the_ladder_with_the_same_threads_gives_the_same_table(learnable_cifar):
    pytest.importorskip("sklearn")
    settings = ladder.Settings(epochs=1, batch_size=32, n_train=300, n_val=100, n_test=200, trees=5, threads=1)
    tables = [ladder.run(learnable_cifar, settings=settings, only=("random_forest", "cnn_all")) for _ in range(2)]
    keep = ("name", "test_accuracy", "val_accuracy", "best_epoch", "parameters")
    first, second = ([{k: r[k] for k in keep} for r in t["rows"]] for t in tables)
    assert first == second
