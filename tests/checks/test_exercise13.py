"""exercise13's checks judged against the project itself: every typical mistake, correct solutions
written otherwise (captum itself, a Sobel kernel, another small CNN), and what must lose points."""

import importlib.util

import pytest

EX = "exercise13"

# (edits to the solution, function, the mistake's name in MISTAKES)
MISTAKE_EDITS = [
    ([("drop = p - torch.softmax(model(hidden), dim=1)[0, target]", "drop = torch.softmax(model(hidden), dim=1)[0, target]")],
     "occlusion", "probability instead of its drop"),
    ([("p = torch.softmax(model(x), dim=1)[0, target]", "p = model(x)[0, target]"),
      ("drop = p - torch.softmax(model(hidden), dim=1)[0, target]", "drop = p - model(hidden)[0, target]")],
     "occlusion", "drop of the logit"),
    ([("for top in range(0, height, stride):", "for top in range(0, height - patch + 1, stride):"),
      ("for left in range(0, width, stride):", "for left in range(0, width - patch + 1, stride):")],
     "occlusion", "windows skip the last row/column"),
    ([("return x.grad[0].abs().amax(dim=0).numpy()", "return x.grad[0].amax(dim=0).numpy()")],
     "saliency", "saliency without the absolute value"),
    ([("return x.grad[0].abs().amax(dim=0).numpy()", "return x.grad.abs().amax(dim=0).numpy()")],
     "saliency", "saliency over the batch dimension"),
    ([("model(x)[0, target].backward()\n    return x.grad[0].abs()",
       "torch.softmax(model(x), dim=1)[0, target].backward()\n    return x.grad[0].abs()")],
     "saliency", "softmax probability instead of the logit"),
    ([("m.register_full_backward_hook(only_positive)", "m.register_forward_hook(lambda m, i, o: o.clamp(min=0.0))")],
     "guided_backprop", "forward activations clipped instead of the gradients"),
    ([("return (grad_input[0].clamp(min=0.0),)", "return (grad_output[0].clamp(min=0.0),)")],
     "guided_backprop", "forward mask dropped (deconvnet)"),
    ([("cam = torch.relu((weights * activations).sum(dim=1, keepdim=True))",
       "cam = (weights * activations).sum(dim=1, keepdim=True)")], "grad_cam", "Grad-CAM without the ReLU"),
    ([("weights = gradients.mean(dim=(2, 3), keepdim=True)", "weights = gradients.mean(dim=1, keepdim=True)")],
     "grad_cam", "gradients averaged over channels instead of space"),
    ([("module = dict(model.named_modules())[layer]",
       "module = [m for m in model.modules() if isinstance(m, nn.Conv2d)][-1]")], "grad_cam", "wrong layer"),
    ([("logit = model(x)[0, target]", "logit = torch.softmax(model(x), dim=1)[0, target]")],
     "grad_cam", "softmax probability instead of the logit"),
    ([('size=x.shape[-2:], mode="bilinear", align_corners=False)', 'size=x.shape[-2:], mode="nearest")')],
     "grad_cam", "nearest-neighbour upsampling"),
    ([('return kernel if orientation == "vertical" else kernel.T.copy()',
       'return kernel.T.copy() if orientation == "vertical" else kernel')], "edge_kernel", "orientation swapped"),
]


@pytest.mark.parametrize("edits, function, mistake", MISTAKE_EDITS, ids=[f"{m[1]}: {m[2]}" for m in MISTAKE_EDITS])
def test_each_typical_mistake_loses_points_and_is_diagnosed(assert_mistake_diagnosed, edits, function, mistake):
    assert_mistake_diagnosed(EX, edits, function, mistake)


def test_a_mistaken_occlusion_shows_the_network_and_the_call(grade_text, solution_text, mutate):
    text = mutate(solution_text(EX), "drop = p - torch.softmax(model(hidden), dim=1)[0, target]",
                  "drop = torch.softmax(model(hidden), dim=1)[0, target]")
    result = grade_text(EX, text, functions=["occlusion"])
    check = next(c for c in result.checks if c.name == "occlusion_matches_the_reference_when_the_windows_fit")
    ce = check.counterexample
    assert not check.passed and ce.call.startswith("occlusion(") and "patch=" in ce.call
    assert "conv1" in ce.inputs["net"] and ce.inputs["patch"].isdigit() and "weights seed" in ce.inputs["net"]
    assert check.diagnosis.name == "probability instead of its drop"


CAPTUM_SOLUTION = '''
import numpy as np
import torch
from torch import nn
from captum.attr import GuidedBackprop, LayerAttribution, LayerGradCam, Occlusion, Saliency


def occlusion(model, image, target, patch=8, stride=4, fill=0.0):
    x = torch.tensor(image)[None]
    c = x.shape[1]
    probability = lambda z: torch.softmax(model(z), dim=1)
    attr = Occlusion(probability).attribute(x, sliding_window_shapes=(c, patch, patch), strides=(1, stride, stride),
                                            baselines=fill, target=target)
    return attr[0, 0].numpy()


def saliency(model, image, target):
    x = torch.tensor(image)[None]
    return Saliency(model).attribute(x, target=target, abs=True)[0].max(dim=0).values.numpy()


def guided_backprop(model, image, target):
    return GuidedBackprop(model).attribute(torch.tensor(image)[None], target=target)[0].detach().numpy()


def grad_cam(model, image, target, layer):
    x = torch.tensor(image)[None]
    cam = LayerGradCam(model, model.get_submodule(layer)).attribute(x, target=target, relu_attributions=True)
    return LayerAttribution.interpolate(cam, x.shape[-2:], interpolate_mode="bilinear")[0, 0].detach().numpy()


def edge_kernel(orientation="vertical"):
    sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])   # integers, the other contrast: still an edge detector
    return sobel if orientation == "vertical" else sobel.T


def art_style_cnn(kernels=4):
    return nn.Sequential(nn.Conv2d(1, kernels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(4 * kernels, 2))
'''


def test_a_solution_written_with_captum_a_sobel_kernel_and_another_cnn_scores_full_marks(grade_text):
    if importlib.util.find_spec("captum") is None:
        pytest.skip("captum is not installed (pip install captum)")
    result = grade_text(EX, CAPTUM_SOLUTION)
    assert result.score == result.max_score, [(c.name, c.message) for c in result.checks if not c.passed]


def test_an_art_style_cnn_that_cannot_see_edges_loses_the_training_checks(grade_text, solution_text, mutate):
    # a 1×1 first layer cannot tell a stripe's direction: global pooling of per-pixel features is direction-blind
    text = mutate(solution_text(EX), "nn.Conv2d(1, kernels, kernel_size=3),",
                  "nn.Conv2d(1, kernels, kernel_size=3, padding=1), nn.AvgPool2d(16), nn.Upsample(size=3),")
    result = grade_text(EX, text, functions=["art_style_cnn"])
    by_name = {c.name: c for c in result.checks}
    assert by_name["art_style_cnn_maps_grey_16_by_16_images_to_two_logits"].passed
    trained = by_name["the_trained_art_style_cnn_tells_vertical_from_horizontal_stripes"]
    assert not trained.passed and "fresh ones correctly" in trained.message


def test_an_art_style_cnn_with_a_wrong_first_layer_or_too_many_weights_loses_points(grade_text, solution_text, mutate):
    for old, new, words in (("nn.Conv2d(1, kernels, kernel_size=3)", "nn.Conv2d(1, kernels, kernel_size=5)", "(4, 1, 3, 3)"),
                            ("nn.Linear(kernels, 2),", "nn.Linear(kernels, 500), nn.Linear(500, 2),", "1,000")):
        result = grade_text(EX, mutate(solution_text(EX), old, new), functions=["art_style_cnn"])
        first = next(c for c in result.checks if c.name == "art_style_cnn_maps_grey_16_by_16_images_to_two_logits")
        assert not first.passed and words in first.message, first.message


def test_returning_a_tensor_is_one_clear_message(grade_text, solution_text, mutate):
    text = mutate(solution_text(EX), "return x.grad[0].abs().amax(dim=0).numpy()", "return x.grad[0].abs().amax(dim=0)")
    result = grade_text(EX, text, functions=["saliency"])
    failed = [c for c in result.checks if not c.passed]
    assert failed and all(c.score == 0 for c in failed)
    assert ".numpy()" in failed[0].message
