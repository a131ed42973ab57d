"""Checks for exercise13 — shining light into the black box (occlusion, saliency, guided
backpropagation, Grad-CAM) and the art-style lover (edge kernels, a CNN that learns them).

The oracle is ``reference.exercise13`` (plain torch autograd, itself tested against captum's
``Occlusion``, ``Saliency``, ``GuidedBackprop`` and ``LayerGradCam``). The models are small
random CNNs drawn by hypothesis as plain data (``Net``: layers and seeded weights); the worker
builds each one with the probe ``build_net`` right before the student's call and the grader
builds the very same network here, in float64, for the expected map. A fresh model per call:
hooks a student's function leaves behind cannot leak into the next call. The student's map
is judged here; nothing the worker says about the model is trusted.

Besides equality with the oracle, metamorphic properties: a model that looks only at one
region (a 1×1 convolution and a linear head with zero weights elsewhere) has zero saliency
and zero occlusion drop away from it; a model invariant to a left-right flip (mirror-symmetric
kernels, global average pooling) gives flipped maps for flipped images.

The art-style CNN is trained in the worker by the grader's own loop (probe ``fit``: Adam,
the task's settings) on striped images the grader draws; the test stripes' labels stay here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from grader.kit import (
    build_net, check, expect, expect_array, expect_module, given, Handle, Mismatch, Mistake, model_output, record_map,
    st, StudentError, TensorData, type_name)

from grader.reference import exercise13 as ref

TITLE = "Shining light into the black box"
ALIASES = ("xai", "saliency", "grad-cam", "gradcam", "occlusion", "explain")
PRELOAD = ("torch",)
MAX_EXAMPLES = 8
# every model here has a few hundred weights and every image ≤ 8×8: a map takes milliseconds;
# the art-style CNN's training (512 images, 15 epochs) takes under a second of CPU
LIMITS = {"call_timeout": 20.0}
RTOL = 1e-4  # the worker's model is float32, the oracle float64


# --------------------------------------------------------------------------- small CNNs as plain data


@dataclass(repr=False)
class Net:
    """A small CNN: ``channels`` input channels, conv layers of ``widths`` channels (3×3,
    padding 1, each followed by a ReLU; a 2×2 average pooling after the first if ``pool``),
    a ``head`` ("gap": global average pooling, "flatten": all positions) and a linear layer to
    ``classes`` logits; weights drawn from ``seed``. ``mirror``: kernels symmetric left-right
    (with "gap", the model is invariant to a horizontal flip)."""

    channels: int
    side: tuple[int, int]
    widths: tuple[int, ...]
    pool: bool
    head: str
    classes: int
    seed: int
    mirror: bool = False

    def rows(self) -> list[list]:
        rows, c = [], self.channels
        for i, width in enumerate(self.widths, start=1):
            rows += [[f"conv{i}", "conv", c, width, 3, 1], [f"relu{i}", "relu"]]
            if i == 1 and self.pool:
                rows.append(["pool", "avgpool", 2])
            c = width
        h, w = self.side
        if self.pool:
            h, w = h // 2, w // 2
        n_in = c if self.head == "gap" else c * h * w
        rows += [["gap", "gap"]] if self.head == "gap" else []
        return rows + [["flatten", "flatten"], ["fc", "linear", n_in, self.classes]]

    def spec(self) -> dict:
        rng = np.random.default_rng(self.seed)
        state = {}
        for row in self.rows():
            if row[1] == "conv":
                c_in, c_out = row[2], row[3]
                w = rng.normal(0.0, (2.0 / (9 * c_in)) ** 0.5, (c_out, c_in, 3, 3))
                state[f"{row[0]}.weight"] = (w + w[..., ::-1]) / 2 if self.mirror else w
                state[f"{row[0]}.bias"] = rng.uniform(-0.1, 0.3, c_out)
            elif row[1] == "linear":
                state[f"{row[0]}.weight"] = rng.normal(0.0, 2.0 / row[2] ** 0.5, (row[3], row[2]))
                state[f"{row[0]}.bias"] = rng.normal(0.0, 0.1, row[3])
        return {"layers": self.rows(), "state": {k: v.astype(np.float32) for k, v in state.items()}}

    def layers(self) -> list[str]:
        return [row[0] for row in self.rows()]

    def __repr__(self) -> str:
        parts = []
        for row in self.rows():
            name, kind = row[0], row[1]
            parts.append(f"{name} {row[2]}→{row[3]} 3×3" if kind == "conv" else
                         f"{name} {row[2]}→{row[3]}" if kind == "linear" else name)
        mirror = ", kernels mirror-symmetric" if self.mirror else ""
        return f"{' · '.join(parts)} (weights seed {self.seed}{mirror})"


@dataclass
class Case:
    """One explanation call: a net, an image (C, H, W), the class to explain."""

    net: Net
    image: np.ndarray
    target: int


@st.composite
def nets(draw, *, min_side: int = 4, max_side: int = 8, min_convs: int = 1, head: str | None = None,
         mirror: bool = False, pool: bool | None = None):
    """Return a strategy for a small CNN (see ``Net``) on images of side min_side…max_side."""
    channels = draw(st.integers(1, 3))
    side = (draw(st.integers(min_side, max_side)), draw(st.integers(min_side, max_side)))
    widths = tuple(draw(st.lists(st.integers(1, 3), min_size=min_convs, max_size=2)))
    pool = draw(st.booleans()) if pool is None else pool
    head = head or draw(st.sampled_from(["gap", "flatten"]))
    return Net(channels, side, widths, pool, head, draw(st.integers(2, 4)), draw(st.integers(0, 999)), mirror)


@st.composite
def cases(draw, **net_options):
    """Return a strategy for a Case: a net (``nets(**net_options)``), an image of values in [-2, 2], a target."""
    net = draw(nets(**net_options))
    c, (h, w) = net.channels, net.side
    values = draw(st.lists(st.sampled_from([0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 1.5, 0.25]),
                           min_size=c * h * w, max_size=c * h * w))
    return Case(net, np.array(values, dtype=np.float32).reshape(c, h, w), draw(st.integers(0, net.classes - 1)))


# the grader's copy of each model handed to the student (its handle -> the torch model here), so
# that the typical mistakes can be replayed on the same network
_LOCAL: dict[Handle, torch.nn.Module] = {}


def handed_model(sub, spec: dict) -> Handle:
    """Build the network in the worker (a fresh one per call) and keep the grader's float64 twin."""
    if len(_LOCAL) > 2000:
        _LOCAL.clear()
    model = sub.probe("build_net", spec)
    if not isinstance(model, Handle):
        raise Mismatch(None, "error", "the grader could not build its model in the worker (was torch replaced?)")
    _LOCAL[model] = build_net(spec).double()
    return model


def local(model) -> torch.nn.Module:
    """The grader's twin of a model handed to the student (mistakes replay on it)."""
    return _LOCAL[model]


def as_map(sub, got, expected: np.ndarray, what: str) -> np.ndarray:
    """The student's map, compared with the oracle (a float array of its shape, within RTOL); a
    wrong map is kept with the expected one for the report's pictures."""
    if isinstance(got, TensorData):
        raise Mismatch(what, "type", "returned a torch.Tensor; return a numpy array (t.detach().numpy())",
                       expected=expected, got=got)
    try:
        return expect_array(got, expected, what=what, rtol=RTOL, kinds="f")
    except Mismatch:
        if isinstance(got, np.ndarray) and got.dtype.kind == "f" and got.shape == np.shape(expected):
            record_map(sub, what, got, expected)
        raise


# --------------------------------------------------------------------------- occlusion (4 points)


@dataclass
class OcclusionCase(Case):
    patch: int
    stride: int
    fill: float


@st.composite
def occlusion_cases(draw, *, fit: bool):
    """Return a strategy for an occlusion call; ``fit``: the windows tile the image exactly
    ((side − patch) divisible by stride), else at least one window sticks out."""
    case = draw(cases())
    h, w = case.net.side
    patch = draw(st.integers(1, min(h, w) - 1))
    options = [s for s in range(1, patch + 1) if ((h - patch) % s == 0 and (w - patch) % s == 0) == fit]
    if not options:  # no stride sticks out for this patch: a patch of 2 with stride 2 on an odd side does
        h2, w2 = h | 1, w | 1
        case = Case(dataclasses.replace(case.net, side=(h2, w2)), np.pad(case.image, ((0, 0), (0, h2 - h), (0, w2 - w))), case.target)
        patch, options = 2, [2]
    return OcclusionCase(case.net, case.image, case.target, patch, draw(st.sampled_from(options)),
                         draw(st.sampled_from([0.0, 0.5, -1.0])))


def call_occlusion(sub, oc: OcclusionCase):
    model = handed_model(sub, oc.net.spec())
    return sub.occlusion(model, oc.image, oc.target, patch=oc.patch, stride=oc.stride, fill=oc.fill)


def expected_occlusion(oc: OcclusionCase) -> np.ndarray:
    return ref.occlusion(build_net(oc.net.spec()), oc.image, oc.target, oc.patch, oc.stride, oc.fill)


@check(points=2, functions=("occlusion",))
@given(oc=occlusion_cases(fit=True))
def occlusion_matches_the_reference_when_the_windows_fit(sub, oc):
    """occlusion equals the reference (= captum's Occlusion on the probability) when the windows tile the image."""
    as_map(sub, call_occlusion(sub, oc), expected_occlusion(oc),
           "occlusion(model, image, target, patch, stride, fill)")


@check(points=1, functions=("occlusion",))
@given(oc=occlusion_cases(fit=False))
def occlusion_covers_the_last_row_and_column(sub, oc):
    """When (side − patch) is no multiple of the stride, the last window sticks out and still covers the last row/column."""
    as_map(sub, call_occlusion(sub, oc), expected_occlusion(oc),
           "occlusion(model, image, target, patch, stride, fill)")


def region_net(channels: int, side: tuple[int, int], region: tuple[int, int, int, int], classes: int, seed: int):
    """A model that looks only at ``region`` (top, bottom, left, right; end exclusive): a 1×1
    convolution and ReLU keep every pixel apart, and the linear head's weights are zero at
    every position outside the region. Returns (spec, mask (H, W) of the region)."""
    h, w = side
    rng = np.random.default_rng(seed)
    mask = np.zeros((h, w), dtype=bool)
    top, bottom, left, right = region
    mask[top:bottom, left:right] = True
    fc = rng.normal(0.0, 1.0, (classes, 2, h, w)) * mask  # (K, 2, H, W): zero outside the region
    state = {"conv1.weight": rng.normal(0.0, 1.0, (2, channels, 1, 1)), "conv1.bias": rng.uniform(0.0, 0.5, 2),
             "fc.weight": fc.reshape(classes, -1), "fc.bias": rng.normal(0.0, 0.1, classes)}
    layers = [["conv1", "conv", channels, 2, 1, 0], ["relu1", "relu"], ["flatten", "flatten"],
              ["fc", "linear", 2 * h * w, classes]]
    return {"layers": layers, "state": {k: v.astype(np.float32) for k, v in state.items()}}, mask


@dataclass
class RegionCase:
    channels: int
    image: np.ndarray
    region: tuple[int, int, int, int]
    target: int
    seed: int

    def spec(self):
        return region_net(self.channels, self.image.shape[1:], self.region, 3, self.seed)


@st.composite
def region_cases(draw):
    """Return a strategy for a model looking at one rectangle of a (C, 6…8, 6…8) image."""
    c, h, w = draw(st.integers(1, 3)), draw(st.integers(6, 8)), draw(st.integers(6, 8))
    top, left = draw(st.integers(0, h - 2)), draw(st.integers(0, w - 2))
    region = (top, draw(st.integers(top + 1, min(h, top + 3))), left, draw(st.integers(left + 1, min(w, left + 3))))
    image = np.random.default_rng(draw(st.integers(0, 99))).uniform(-1, 1, (c, h, w)).astype(np.float32)
    return RegionCase(c, image, region, draw(st.integers(0, 2)), draw(st.integers(0, 999)))


def _far(mask: np.ndarray, patch: int, stride: int) -> np.ndarray:
    """Pixels whose every covering window misses the region."""
    h, w = mask.shape
    near = np.zeros_like(mask)
    for top in ref.window_starts(h, patch, stride):
        for left in ref.window_starts(w, patch, stride):
            if mask[top:top + patch, left:left + patch].any():
                near[top:top + patch, left:left + patch] = True
    return ~near


@check(points=1, functions=("occlusion",))
@given(rc=region_cases(), patch=st.integers(1, 3))
def occlusion_is_zero_where_the_model_does_not_look(sub, rc, patch):
    """For a model that looks at one rectangle only, hiding parts away from it changes nothing: the drop is 0 there."""
    spec, mask = rc.spec()
    model = handed_model(sub, spec)
    what = f"occlusion(model, image, target, patch={patch}, stride=1, fill=0.0) for a model looking only at rows " \
           f"{rc.region[0]}…{rc.region[1] - 1}, columns {rc.region[2]}…{rc.region[3] - 1}"
    got = sub.occlusion(model, rc.image, rc.target, patch=patch, stride=1, fill=0.0)
    expected = ref.occlusion(build_net(spec), rc.image, rc.target, patch, 1, 0.0)
    far = _far(mask, patch, 1)
    if isinstance(got, np.ndarray) and got.shape == mask.shape and got.dtype.kind == "f" and far.any():
        expect(bool(np.all(np.abs(got[far]) <= 1e-6)), what,
               f"the map should be 0 wherever no window touches the region; it is not at "
               f"{np.argwhere(far & (np.abs(got) > 1e-6))[:3].tolist()} …", expected=expected, got=got)
    as_map(sub, got, expected, what)


# --------------------------------------------------------------------------- saliency (3 points)


def call(sub, function: str, case: Case, *extra):
    model = handed_model(sub, case.net.spec())
    return getattr(sub, function)(model, case.image, case.target, *extra)


@check(points=2, functions=("saliency",))
@given(case=cases())
def saliency_matches_the_reference(sub, case):
    """saliency equals max over channels of |∂ logit / ∂ x| (= captum's Saliency, abs=True, max over channels)."""
    as_map(sub, call(sub, "saliency", case), ref.saliency(build_net(case.net.spec()), case.image, case.target),
           "saliency(model, image, target)")


@check(points=1, functions=("saliency",))
@given(rc=region_cases())
def saliency_is_zero_where_the_model_ignores_the_input(sub, rc):
    """For a model that looks at one rectangle only, the saliency is 0 outside it (and equals the reference)."""
    spec, mask = rc.spec()
    got = sub.saliency(handed_model(sub, spec), rc.image, rc.target)
    what = f"saliency(model, image, target) for a model looking only at rows {rc.region[0]}…{rc.region[1] - 1}, " \
           f"columns {rc.region[2]}…{rc.region[3] - 1}"
    expected = ref.saliency(build_net(spec), rc.image, rc.target)
    if isinstance(got, np.ndarray) and got.shape == mask.shape and got.dtype.kind == "f":
        expect(bool(np.all(got[~mask] == 0)), what, "the saliency should be exactly 0 where the model ignores the "
                                                     "image", expected=expected, got=got)
    as_map(sub, got, expected, what)


# --------------------------------------------------------------------------- guided backprop (3 points)


@check(points=2, functions=("guided_backprop",))
@given(case=cases())
def guided_backprop_matches_the_reference(sub, case):
    """guided_backprop equals the gradient with only positive gradients through the ReLUs (= captum's GuidedBackprop)."""
    as_map(sub, call(sub, "guided_backprop", case), ref.guided_backprop(build_net(case.net.spec()), case.image, case.target),
           "guided_backprop(model, image, target)")


def flipped(case: Case) -> Case:
    return Case(case.net, np.ascontiguousarray(case.image[..., ::-1]), case.target)


def expect_flip_equivariant(sub, function: str, case: Case, *extra) -> None:
    """function(flip(x)) is flip(function(x)) for a model invariant to the flip (and both equal the reference)."""
    oracle = getattr(ref, function)
    what = f"{function}(model, image, target{', ' + repr(extra[0]) if extra else ''})"
    got = as_map(sub, call(sub, function, case, *extra),
                 oracle(build_net(case.net.spec()), case.image, case.target, *extra), what)
    mirrored = flipped(case)
    got_flipped = as_map(sub, call(sub, function, mirrored, *extra),
                         oracle(build_net(case.net.spec()), mirrored.image, case.target, *extra),
                         f"{what} on the image flipped left-right")
    expect(bool(np.allclose(got_flipped, got[..., ::-1], rtol=RTOL, atol=RTOL)), what,
           "the model gives the same logits for an image and its mirror image, so the map of the flipped image "
           "should be the flipped map", expected=got[..., ::-1], got=got_flipped)


@check(points=1, functions=("guided_backprop",))
@given(case=cases(head="gap", mirror=True, pool=False))
def guided_backprop_flips_with_the_image_for_a_mirror_invariant_model(sub, case):
    """For a model invariant to a left-right flip, guided_backprop of the flipped image is the flipped map."""
    expect_flip_equivariant(sub, "guided_backprop", case)


# --------------------------------------------------------------------------- Grad-CAM (4 points)


@dataclass
class CamCase(Case):
    layer: str


@st.composite
def cam_cases(draw, *, last: bool = True, **net_options):
    """Return a strategy for a grad_cam call: the last conv layer (or its ReLU) when ``last``, else the first.
    Two conv layers; with ``last`` a pooling between them, so the map is upsampled from (H/2, W/2)."""
    if last:
        net_options.setdefault("pool", True)
    case = draw(cases(min_convs=2, **net_options))
    n = len(case.net.widths)
    layer = draw(st.sampled_from([f"conv{n}", f"relu{n}"])) if last else "conv1"
    return CamCase(case.net, case.image, case.target, layer)


def expected_cam(cc: CamCase) -> np.ndarray:
    return ref.grad_cam(build_net(cc.net.spec()), cc.image, cc.target, cc.layer)


@check(points=2, functions=("grad_cam",))
@given(cc=cam_cases())
def grad_cam_matches_the_reference_for_the_last_conv_layer(sub, cc):
    """grad_cam of the last conv layer equals the reference (= captum's LayerGradCam, upsampled bilinearly)."""
    as_map(sub, call(sub, "grad_cam", cc, cc.layer), expected_cam(cc), f"grad_cam(model, image, target, {cc.layer!r})")


@check(points=1, functions=("grad_cam",))
@given(cc=cam_cases(last=False))
def grad_cam_uses_the_layer_it_is_given(sub, cc):
    """grad_cam(…, "conv1") explains with the first conv layer's maps, not the last one's."""
    as_map(sub, call(sub, "grad_cam", cc, cc.layer), expected_cam(cc), f"grad_cam(model, image, target, {cc.layer!r})")


@check(points=1, functions=("grad_cam",))
@given(cc=cam_cases(head="gap", mirror=True, pool=False))
def grad_cam_flips_with_the_image_for_a_mirror_invariant_model(sub, cc):
    """For a model invariant to a left-right flip, Grad-CAM of the flipped image is the flipped map."""
    expect_flip_equivariant(sub, "grad_cam", cc, cc.layer)


# --------------------------------------------------------------------------- edge_kernel (2 points)


def _response(kernel: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Cross-correlation of a (H, W) image with a 3×3 kernel, valid positions."""
    h, w = image.shape
    return np.array([[float(np.sum(image[i:i + 3, j:j + 3] * kernel)) for j in range(w - 2)] for i in range(h - 2)])


EDGE_TESTS = {  # name -> image (8×8) that a vertical edge detector answers (True) or not (False)
    "a flat image": (np.full((8, 8), 0.7), False),
    "horizontal stripes": (np.tile(np.array([0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0])[:, None], (1, 8)), False),
    "a horizontal edge": (np.tile((np.arange(8) >= 4).astype(float)[:, None], (1, 8)), False),
    "a vertical edge": (np.tile((np.arange(8) >= 4).astype(float), (8, 1)), True),
}


def expect_edge_kernel(sub, orientation: str) -> None:
    what = f"edge_kernel({orientation!r})"
    got = sub.edge_kernel(orientation)
    kernel = expect_array(got, shape=(3, 3), what=what, kinds="iuf")
    expect(bool(np.isfinite(kernel).all()), what, "the kernel holds nan or inf", got=got)
    for name, (image, answers) in EDGE_TESTS.items():
        image = image if orientation == "vertical" else image.T
        name = name if orientation == "vertical" else name.replace("horizontal", "§").replace("vertical", "horizontal") \
            .replace("§", "vertical")
        response = _response(kernel.astype(np.float64), image)
        strongest = float(np.max(np.abs(response)))
        if answers:
            expect(strongest >= 0.5, what, f"a {orientation} edge detector must answer {name} (0 → 1 in brightness); "
                                           f"the strongest response is {strongest:.3g}", got=got)
        else:
            expect(strongest <= 1e-9, what, f"a {orientation} edge detector gives 0 on {name}, this one gives up to "
                                            f"{strongest:.3g} — for {orientation} edges every "
                                            f"{'row' if orientation == 'vertical' else 'column'} must sum to 0",
                   got=got)


@check(points=1, functions=("edge_kernel",))
def edge_kernel_detects_vertical_edges_only(sub):
    """edge_kernel("vertical") answers a vertical edge and gives 0 on flat regions, horizontal edges and stripes."""
    expect_edge_kernel(sub, "vertical")


@check(points=1, functions=("edge_kernel",))
def edge_kernel_detects_horizontal_edges_only(sub):
    """edge_kernel("horizontal") answers a horizontal edge and gives 0 on flat regions, vertical edges and stripes."""
    expect_edge_kernel(sub, "horizontal")


# --------------------------------------------------------------------------- art_style_cnn (3 points)

STRIPES_TRAIN, STRIPES_TEST, STRIPES_SEED = 512, 256, 13
MIN_ACCURACY = 0.95
MIN_CORRELATION = 0.8  # mean |r| of the kernels that carry weight with their closest hand-designed edge kernel


def build_cnn(sub, kernels: int) -> tuple[Handle, dict]:
    what = f"art_style_cnn({kernels})"
    model = sub.art_style_cnn(kernels)
    info = expect_module(sub, model, "art_style_cnn", what)
    try:
        first = sub.probe("first_conv", model)
    except StudentError as e:
        raise Mismatch(what, "error", f"the model's first nn.Conv2d could not be read: {e.message}", got=model) from None
    if not (isinstance(first, dict) and first.get("shape") is not None):
        raise Mismatch(what, "value", "the model has no nn.Conv2d layer: the first layer should be "
                                      f"nn.Conv2d(1, {kernels}, 3)", got=model)
    shape = first["shape"]
    if not (isinstance(shape, list) and shape == [kernels, 1, 3, 3]):
        raise Mismatch(what, "value", f"the first nn.Conv2d has weights of shape {tuple(shape)}, expected "
                                      f"({kernels}, 1, 3, 3): nn.Conv2d(1, {kernels}, 3)", got=model)
    if info["params"] > 1000:
        raise Mismatch(what, "value", f"the model has {info['params']:,} parameters; keep it at most 1,000 — an edge "
                                      "detector and a small classifier suffice", got=model)
    return model, info


@check(points=1, functions=("art_style_cnn",))
def art_style_cnn_maps_grey_16_by_16_images_to_two_logits(sub):
    """art_style_cnn(k) starts with nn.Conv2d(1, k, 3), has ≤ 1,000 parameters and maps (N, 1, 16, 16) to (N, 2)."""
    for kernels in (4, 6):
        model, _ = build_cnn(sub, kernels)
        for n in (1, 5):
            x = np.zeros((n, 1, 16, 16), dtype=np.float32)
            out = model_output(sub, "forward", model, x, what=f"art_style_cnn({kernels})(x), x of shape {x.shape}")
            if out.shape != (n, 2):
                raise Mismatch(f"art_style_cnn({kernels})", "shape", f"on images of shape {x.shape} the model should "
                                                                    f"return ({n}, 2) logits, got {out.shape}", got=model)


def trained_cnn(sub) -> Handle:
    """art_style_cnn(4) trained in the worker by the grader's loop on the grader's stripes."""
    model, _ = build_cnn(sub, 4)
    images, labels = ref.stripes(STRIPES_TRAIN, 16, seed=STRIPES_SEED)
    try:
        sub.probe("fit", model, images, labels, 15, 0.02, 32, STRIPES_SEED)
    except StudentError as e:
        raise Mismatch("art_style_cnn(4)", "error", f"training the model failed: {e.error_type}: {e.message}",
                       got=model) from None
    return model


@check(points=1, functions=("art_style_cnn",))
def the_trained_art_style_cnn_tells_vertical_from_horizontal_stripes(sub):
    """Trained by the grader (Adam, lr 0.02, 15 epochs on 512 stripes), the CNN classifies ≥ 95 % of fresh stripes."""
    model = trained_cnn(sub)
    images, labels = ref.stripes(STRIPES_TEST, 16, seed=STRIPES_SEED + 1)  # labels stay here
    out = model_output(sub, "forward", model, images, what="the trained art_style_cnn(4) on test stripes")
    if out.shape != (len(labels), 2):
        raise Mismatch("art_style_cnn(4)", "shape", f"expected ({len(labels)}, 2) logits, got {out.shape}", got=model)
    accuracy = float(np.mean(out.argmax(axis=1) == labels))
    sub.context.details["accuracy"] = accuracy
    if accuracy < MIN_ACCURACY:
        raise Mismatch("art_style_cnn(4)", "value", f"trained on 512 striped images, the model classifies "
                                                    f"{accuracy:.1%} of 256 fresh ones correctly; at least "
                                                    f"{MIN_ACCURACY:.0%} expected (the reference gets 99 %)", got=model)


@check(points=1, functions=("art_style_cnn",))
def the_trained_art_style_cnn_learns_edge_detectors(sub):
    """After training, the first layer's strong kernels correlate (mean |r| ≥ 0.8) with hand-designed edge kernels."""
    model = trained_cnn(sub)
    first = sub.probe("first_conv", model)
    weights = first.get("weight") if isinstance(first, dict) else None
    if not (isinstance(weights, np.ndarray) and weights.shape == (4, 1, 3, 3) and np.isfinite(weights).all()):
        raise Mismatch("art_style_cnn(4)", "value", "the trained model's first nn.Conv2d weights could not be read "
                                                    "as finite (4, 1, 3, 3) numbers", got=model)
    kernels = weights[:, 0].astype(np.float64)  # (4, 3, 3)
    norms = np.linalg.norm(kernels.reshape(4, -1), axis=1)
    strong = [k for k, n in zip(kernels, norms) if n >= 0.5 * norms.max()]
    matches = [ref.best_edge_match(k) for k in strong]
    mean_r = float(np.mean([r for _, r in matches]))
    sub.context.details["edge_correlations"] = [[name, round(r, 3)] for name, r in matches]
    if mean_r < MIN_CORRELATION:
        shown = ", ".join(f"{name} {r:.2f}" for name, r in matches)
        raise Mismatch("art_style_cnn(4)", "value", f"the trained first layer's strong kernels correlate with the "
                                                    f"hand-designed edge kernels by |r| = {mean_r:.2f} on average "
                                                    f"({shown}); at least {MIN_CORRELATION} expected: the stripes' "
                                                    "direction should be read by the first layer's edge detectors",
                       got=model)


# --------------------------------------------------------------------------- typical mistakes
# Each wrong variant replays the mistake on the grader's twin of the model the student got.


def _with_softmax(model: torch.nn.Module) -> torch.nn.Module:
    """The model followed by a softmax: its "logit" is the probability."""
    return torch.nn.Sequential(model, torch.nn.Softmax(dim=1))


def _occlusion(model, image, target, patch, stride, fill, *, score: str = "drop", skip_last: bool = False,
               uncovered: float = np.nan) -> np.ndarray:
    """Occlusion with a mistake: score "probability" (of the occluded image), "logit" (drop of
    the logit) or "rise" (p(occluded) − p(original)); ``skip_last``: windows only where they fit."""
    x = ref.as_batch(image)  # (1, C, H, W)
    _, _, h, w = x.shape
    model = ref.double(model)
    value = (lambda z: model(z)[0, target]) if score == "logit" else (lambda z: ref.probability(model, z, target)[0])
    starts = (lambda n: list(range(0, n - patch + 1, stride))) if skip_last else \
        (lambda n: ref.window_starts(n, patch, stride))
    total, count = np.zeros((h, w)), np.zeros((h, w))
    with torch.no_grad():
        v0 = float(value(x))
        for top in starts(h):
            for left in starts(w):
                hidden = x.clone()
                hidden[:, :, top:top + patch, left:left + patch] = fill
                v = float(value(hidden))
                total[top:top + patch, left:left + patch] += {"probability": v, "rise": v - v0}.get(score, v0 - v)
                count[top:top + patch, left:left + patch] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), uncovered)


def occlusion_wrong(**mistake):
    def wrong(model, image, target, patch=8, stride=4, fill=0.0):
        return _occlusion(local(model), image, target, patch, stride, fill, **mistake)
    return wrong


def occlusion_skips_the_last_windows(model, image, target, patch=8, stride=4, fill=0.0):
    assert (image.shape[1] - patch) % stride or (image.shape[2] - patch) % stride
    return _occlusion(local(model), image, target, patch, stride, fill, skip_last=True)


def occlusion_skips_the_last_windows_zero(model, image, target, patch=8, stride=4, fill=0.0):
    assert (image.shape[1] - patch) % stride or (image.shape[2] - patch) % stride
    return _occlusion(local(model), image, target, patch, stride, fill, skip_last=True, uncovered=0.0)


def saliency_signed(model, image, target):
    return ref.input_gradient(local(model), image, target).amax(dim=0).numpy()


def saliency_of_the_probability(model, image, target):
    return ref.saliency(_with_softmax(local(model)), image, target)


def saliency_over_the_batch(got, model, image, target):
    """The (1, C, H, W) gradient reduced over its batch axis (→ (C, H, W)) or not reduced at all."""
    g = ref.input_gradient(local(model), image, target)  # (C, H, W)
    arr = got.array if isinstance(got, TensorData) else got
    if not isinstance(arr, np.ndarray) or arr.dtype.kind != "f":
        return False
    for candidate in (g.abs(), g.abs()[None], g.abs().amax(dim=0)[None], g):
        if arr.shape == tuple(candidate.shape) and arr.shape != image.shape[1:]:
            return bool(np.allclose(arr, candidate.numpy(), rtol=1e-3, atol=1e-5))
    return False


def _guided(model, image, target, *, gradient_mask: bool = True, forward_mask: bool = True, score_model=None):
    """Backprop through the ReLUs keeping the forward mask and/or clamping the gradient."""
    model = ref.double(local(model))
    relus = [m for m in model.modules() if isinstance(m, torch.nn.ReLU)]

    def hook(module, grad_input, grad_output):
        g = grad_input[0] if forward_mask else grad_output[0]
        return (g.clamp(min=0.0) if gradient_mask else g,)

    handles = [m.register_full_backward_hook(hook) for m in relus]
    try:
        return ref.input_gradient(score_model(model) if score_model else model, image, target).numpy()
    finally:
        for h in handles:
            h.remove()


def guided_plain_gradient(model, image, target):
    return _guided(model, image, target, gradient_mask=False)


def guided_deconvnet(model, image, target):
    return _guided(model, image, target, forward_mask=False)


def guided_of_the_probability(model, image, target):
    return _guided(model, image, target, score_model=_with_softmax)


def guided_absolute(model, image, target):
    return np.abs(ref.guided_backprop(local(model), image, target))


def _cam(model, image, target, layer, *, relu: bool = True, weights: str = "space", mode: str = "bilinear",
         softmax: bool = False) -> np.ndarray:
    """Grad-CAM with a mistake: no ReLU, weights averaged over "channels", "nearest" upsampling, softmax score."""
    net = local(model)
    if softmax:
        net, layer = _with_softmax(net), f"0.{layer}"
    a, grad = ref.layer_activation_and_gradient(net, image, target, layer)  # (K, h, w) each
    cam = (grad.mean(dim=(1, 2))[:, None, None] * a).sum(dim=0) if weights == "space" else \
        (grad.mean(dim=0, keepdim=True) * a).sum(dim=0)  # (h, w)
    cam = torch.relu(cam) if relu else cam
    h, w = np.asarray(image).shape[-2:]
    if mode == "bilinear":
        return ref.upsample(cam, (h, w)).numpy()
    return torch.nn.functional.interpolate(cam[None, None], size=(h, w), mode=mode)[0, 0].numpy()


def cam_wrong(**mistake):
    def wrong(model, image, target, layer):
        return _cam(model, image, target, layer, **mistake)
    return wrong


def cam_wrong_layer(got, model, image, target, layer):
    """Grad-CAM of another layer of the model than the one named."""
    arr = got.array if isinstance(got, TensorData) else got
    if not isinstance(arr, np.ndarray) or arr.shape != np.asarray(image).shape[1:]:
        return False
    others = [name for name, m in local(model).named_modules()
              if name and name != layer and isinstance(m, (torch.nn.Conv2d, torch.nn.ReLU, torch.nn.AvgPool2d))]
    return any(np.allclose(arr, _cam(model, image, target, other), rtol=1e-3, atol=1e-5) for other in others)


def edge_kernel_turned(got, orientation="vertical"):
    """A detector of the other orientation: its columns (not rows) sum to 0 for "vertical"."""
    arr = np.asarray(got, dtype=np.float64) if isinstance(got, np.ndarray) and got.shape == (3, 3) else None
    if arr is None or not np.isfinite(arr).all() or not np.any(arr):
        return False
    along = 0 if orientation == "vertical" else 1  # the axis whose sums vanish for the other orientation
    return bool(np.allclose(arr.sum(axis=along), 0) and not np.allclose(arr.sum(axis=1 - along), 0))


MISTAKES = [
    Mistake("orientation swapped", "edge_kernel",
            "your kernel detects edges of the other orientation: a vertical edge is a change from left to right, so "
            "a vertical edge detector differs along the row (like [-1, 0, 1] in every row)",
            "vertical: every row sums to 0; horizontal: every column sums to 0", matches=edge_kernel_turned),
    Mistake("probability instead of its drop", "occlusion",
            "your map holds the probability of the occluded image, not how much it dropped",
            "add p(original) − p(occluded) to the window's pixels", wrong=occlusion_wrong(score="probability")),
    Mistake("drop of the logit", "occlusion",
            "your map measures the drop of the logit; occlusion here measures the drop of the probability",
            "p = torch.softmax(model(x), dim=1)[0, target]", wrong=occlusion_wrong(score="logit")),
    Mistake("rise instead of drop", "occlusion",
            "your map is p(occluded) − p(original): the sign is flipped — a part that mattered should be positive",
            "drop = p(original) − p(occluded)", wrong=occlusion_wrong(score="rise")),
    Mistake("windows skip the last row/column", "occlusion",
            "your windows stop where a whole patch still fits, so the last rows/columns are never covered",
            "keep going until a window reaches the last row (top + patch >= H); that window is cut at the border",
            wrong=occlusion_skips_the_last_windows),
    Mistake("windows skip the last row/column", "occlusion",
            "your windows stop where a whole patch still fits, so the last rows/columns are never covered (0 there)",
            "keep going until a window reaches the last row (top + patch >= H); that window is cut at the border",
            wrong=occlusion_skips_the_last_windows_zero),
    Mistake("saliency without the absolute value", "saliency",
            "your saliency keeps the gradient's sign: a strongly negative gradient matters as much as a positive one",
            "take .abs() of the gradient before the maximum over channels", wrong=saliency_signed),
    Mistake("saliency over the batch dimension", "saliency",
            "your map still has the batch axis, or was reduced over it instead of over the channels",
            "x.grad is (1, C, H, W): take x.grad[0].abs().amax(dim=0) → (H, W)", matches=saliency_over_the_batch),
    Mistake("softmax probability instead of the logit", "saliency",
            "your gradient is that of the softmax probability; saliency explains the class's logit (before softmax)",
            "backpropagate model(x)[0, target], not its softmax", wrong=saliency_of_the_probability),
    Mistake("forward activations clipped instead of the gradients", "guided_backprop",
            "your guided backprop is the plain gradient: the ReLUs' backward pass must also drop negative gradients",
            "a full backward hook on every nn.ReLU returning (grad_input[0].clamp(min=0),)",
            wrong=guided_plain_gradient),
    Mistake("forward mask dropped (deconvnet)", "guided_backprop",
            "your ReLUs pass every positive gradient back, also where their input was negative: that is the "
            "deconvnet rule; guided backprop keeps the ReLU's own mask too",
            "clamp grad_input[0] (which has the mask), not grad_output[0]", wrong=guided_deconvnet),
    Mistake("softmax probability instead of the logit", "guided_backprop",
            "your gradient is that of the softmax probability; guided backprop explains the class's logit",
            "backpropagate model(x)[0, target], not its softmax", wrong=guided_of_the_probability),
    Mistake("absolute value taken", "guided_backprop",
            "your map is the absolute value: guided backprop's map is signed", "return the gradient as it is",
            wrong=guided_absolute),
    Mistake("Grad-CAM without the ReLU", "grad_cam",
            "your map keeps negative values: Grad-CAM applies a ReLU to the weighted sum (only what speaks for "
            "the class)", "cam = torch.relu((weights * activations).sum(dim=1))", wrong=cam_wrong(relu=False)),
    Mistake("gradients averaged over channels instead of space", "grad_cam",
            "your channel weights average the gradients over the channels; each channel's weight is the mean of its "
            "gradient over the positions (h, w)", "weights = gradients.mean(dim=(2, 3), keepdim=True)",
            wrong=cam_wrong(weights="channels")),
    Mistake("wrong layer", "grad_cam",
            "your map is Grad-CAM of another layer than the one named by `layer`",
            "dict(model.named_modules())[layer] is the layer to hook", matches=cam_wrong_layer),
    Mistake("softmax probability instead of the logit", "grad_cam",
            "your gradients are those of the softmax probability; Grad-CAM uses the class's score before softmax",
            "backpropagate model(x)[0, target]", wrong=cam_wrong(softmax=True)),
    Mistake("nearest-neighbour upsampling", "grad_cam",
            "your map is upsampled with mode 'nearest'; the task (and captum's comparison) uses bilinear",
            "F.interpolate(cam, size=(H, W), mode='bilinear', align_corners=False)", wrong=cam_wrong(mode="nearest")),
]
