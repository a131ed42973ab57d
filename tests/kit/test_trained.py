"""The trained-model kind's pieces that need no model: orders, scores, weights files read by the grader."""

import io

import numpy as np
import pytest

from grader.kit import TrainedModel, WeightsFileError, structure_of, tensor_shapes

MODEL = TrainedModel(exercise="exerciseXX", dataset="cifar10", dataset_title="CIFAR-10", input_shape=(3, 32, 32),
                     n_classes=3, max_parameters=1000, thresholds=(0.4, 0.8), baseline="the random forest")


def test_the_secret_order_is_a_fresh_permutation_in_a_fixed_number_of_chunks():
    orders = [MODEL.secret_order(10_000) for _ in range(3)]
    for order, bounds in orders:
        assert sorted(order.tolist()) == list(range(10_000))
        sizes = np.diff(bounds)
        assert len(sizes) == 10 and sizes.sum() == 10_000 and sizes.min() >= 500 and sizes.max() <= 1500
    assert not np.array_equal(orders[0][0], orders[1][0]) and orders[0][1] != orders[1][1]


def test_points_scale_linearly_between_the_thresholds_and_details_name_the_baseline():
    assert [MODEL.share_of_points(v) for v in (0.1, 0.4, 0.6, 0.8, 0.9)] == pytest.approx([0, 0, 0.5, 1, 1])
    details = MODEL.classification_details(np.array([0, 0, 0, 1, 2]), np.array([0, 0, 1, 1, 1]), ["a", "b", "c"])
    assert details["accuracy"] == 0.6 and details["per_class_accuracy"] == [round(2 / 3, 4), 1.0, 0.0]
    assert details["confusion_matrix"] == [[2, 1, 0], [0, 1, 0], [0, 1, 0]]
    assert details["thresholds"] == {"random_forest": 0.4, "full_marks": 0.8} and "balanced_accuracy" not in details


def test_balanced_accuracy_weighs_every_class_alike():
    import dataclasses

    balanced = dataclasses.replace(MODEL, measure="balanced_accuracy")
    # 8 of class 0 all right, 2 of class 1 all wrong: accuracy 0.8, balanced accuracy 0.5
    labels, predicted = np.array([0] * 8 + [1] * 2), np.zeros(10, dtype=np.int64)
    details = balanced.classification_details(labels, predicted, ["a", "b", "c"])
    assert details["accuracy"] == 0.8 and details["balanced_accuracy"] == 0.5  # class c has no images: left out


def _state_dict():
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Flatten(),
                                torch.nn.Dropout(0.5), torch.nn.Linear(4, 2))
    return torch, model.state_dict(), sum(p.numel() for p in model.parameters())


def test_the_grader_counts_parameters_and_batchnorm_layers_in_safetensors_and_pt_files_without_torch():
    torch, state, params = _state_dict()
    from safetensors.torch import save

    buffer = io.BytesIO()
    torch.save(state, buffer)
    for data, kind in ((save(state), "safetensors"), (buffer.getvalue(), "pt")):
        shapes = tensor_shapes(data, kind)
        assert shapes["0.weight"] == (4, 3, 3, 3) and shapes["1.running_mean"] == (4,)
        assert structure_of(shapes) == {"params": params, "batchnorms": 1}


def test_a_pickled_model_or_garbage_is_refused_without_running_anything():
    torch, _, _ = _state_dict()
    buffer = io.BytesIO()
    torch.save(torch.nn.Linear(2, 2), buffer)  # a whole module: its class would be imported and built
    with pytest.raises(WeightsFileError, match="Unsupported global: GLOBAL torch.nn.modules.linear.Linear"):
        tensor_shapes(buffer.getvalue(), "pt")
    for data, kind in ((b"garbage" * 10, "pt"), (b"\x08\x00\x00\x00\x00\x00\x00\x00{not json", "safetensors"),
                       (b"\xff" * 16, "safetensors")):
        with pytest.raises(WeightsFileError):
            tensor_shapes(data, kind)
