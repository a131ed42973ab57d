"""exercise12's checks judged against the project itself: every typical mistake of the few-labels
pipeline loses points and is named; correct solutions written differently get full marks."""

import pytest

pytest.importorskip("torch")

EX = "exercise12"

# (anchor in the solution, replacement, function, the mistake's name in MISTAKES)
MISTAKE_EDITS = [
    # the list
    ("    backbone.eval()\n", "", "extract_features", "backbone left in train mode"),
    ("        p.requires_grad = False\n", "        p.requires_grad = True\n", "freeze_and_replace_head",
     "gradients flow into the frozen backbone"),
    ("return torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)",
     "return torch.optim.Adam(model.parameters(), lr=lr)", "make_optimizer", "optimizer given all parameters"),
    ("backbone.classifier[-1] = nn.Linear(d, n_classes)", "backbone.classifier[-1] = nn.Linear(1280, n_classes)",
     "freeze_and_replace_head", "head input size wrong"),
    ("mean = torch.as_tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)",
     "mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)", "preprocess",
     "normalisation other than the backbone's"),
    ("rest = np.setdiff1d(np.arange(len(labels)), labelled).astype(np.int64)", "rest = np.arange(len(labels))",
     "few_label_split", "test images among the labelled"),
    ("backbone.features(x[i:i + batch_size])", "backbone(x[i:i + batch_size])", "extract_features",
     "features after the ImageNet classifier"),
    # and the others the checks know
    ("rng.choice(np.flatnonzero(labels == c), size=per_class, replace=False)",
     "np.flatnonzero(labels == c)[:per_class]", "few_label_split", "not random"),
    ("rng = np.random.default_rng(seed)", "rng = np.random.default_rng()", "few_label_split", "seed ignored"),
    ("size=per_class, replace=False)", "size=per_class, replace=True)", "few_label_split", "drawn with replacement"),
    ("x = torch.as_tensor(np.asarray(images)).float() / 255.0", "x = torch.as_tensor(np.asarray(images)).float()",
     "preprocess", "not scaled to [0, 1]"),
    ('mode="bilinear", align_corners=False)', 'mode="nearest")', "preprocess", "resized the wrong way"),
    ("parts = [backbone.features(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]",
     "parts = [backbone.features(x)]", "extract_features", "not batched"),
    ("backbone.classifier[-1] = nn.Linear(d, n_classes)",
     "backbone.classifier[-1] = nn.Linear(d, n_classes).requires_grad_(False)", "freeze_and_replace_head",
     "new head frozen too"),
    ("return int(sum(p.numel() for p in model.parameters() if p.requires_grad))",
     "return int(sum(p.numel() for p in model.parameters()))", "trainable_parameters", "frozen parameters counted"),
    ("    model.features.eval()\n", "", "fine_tune_step", "backbone left in train mode"),
    ("    optimizer.zero_grad()\n", "", "fine_tune_step", "gradients accumulate"),
    ("    optimizer.step()\n", "", "fine_tune_step", "optimizer.step() missing"),
]


@pytest.mark.parametrize("anchor, replacement, function, mistake", MISTAKE_EDITS,
                         ids=[f"{m[2]}: {m[3]}" for m in MISTAKE_EDITS])
def test_each_typical_mistake_loses_points_and_is_diagnosed(assert_mistake_diagnosed, anchor, replacement, function,
                                                             mistake):
    assert_mistake_diagnosed(EX, [(anchor, replacement)], function, mistake)


def test_extraction_with_autograd_on_is_diagnosed(assert_mistake_diagnosed):
    assert_mistake_diagnosed(EX, [("    with torch.no_grad():\n        parts", "    with torch.enable_grad():\n        parts"),
                                  ("torch.cat(parts).numpy()", "torch.cat(parts).detach().numpy()")],
                             "extract_features", "gradients during extraction")


@pytest.mark.parametrize("mean_line, name", [
    ("mean, std = x.mean(dim=(0, 2, 3)).view(1, 3, 1, 1), x.std(dim=(0, 2, 3), unbiased=False).view(1, 3, 1, 1)",
     "normalisation other than the backbone's"),
    ("mean, std = torch.full((1, 3, 1, 1), 0.5), torch.full((1, 3, 1, 1), 0.5)",
     "normalisation other than the backbone's"),
    ("mean, std = torch.zeros(1, 3, 1, 1), torch.ones(1, 3, 1, 1)", "not normalised"),
])
def test_normalising_with_other_statistics_than_the_backbones_is_named(grade_text, solution_text, mutate, mean_line,
                                                                       name):
    text = mutate(solution_text(EX), "    return (x - mean) / std\n", f"    {mean_line}\n    return (x - mean) / std\n")
    result = grade_text(EX, text, functions=["preprocess"])
    assert result.score == 0
    assert {c.diagnosis.name for c in result.checks if c.diagnosis} == {name}


def test_the_split_check_shows_the_leaking_indices(grade_text, solution_text, mutate):
    text = mutate(solution_text(EX), "rest = np.setdiff1d(np.arange(len(labels)), labelled).astype(np.int64)",
                  "rest = np.arange(len(labels))")
    result = grade_text(EX, text, functions=["few_label_split"])
    first = next(c for c in result.checks if c.name == "few_label_split_takes_k_of_every_class_and_keeps_the_rest_apart")
    assert "in both labelled and rest" in first.message and first.counterexample.call.startswith("few_label_split(")


def test_features_from_a_backbone_the_student_built_do_not_count(grade_text, solution_text, mutate):
    """The features must come from the backbone handed in: code ignoring it (a fresh random network of
    the same shape) loses the points although its output has the right shape."""
    text = mutate(solution_text(EX), "    backbone.eval()\n", "    backbone = copy.deepcopy(backbone)\n"
                  "    for p in backbone.parameters():\n        torch.nn.init.normal_(p)\n    backbone.eval()\n")
    result = grade_text(EX, "import copy\n" + text, functions=["extract_features"])
    check = next(c for c in result.checks if c.name.startswith("extract_features_equals"))
    assert check.score == 0 and "values differ" in check.message


def test_a_solution_written_differently_also_scores_full_marks(grade_text):
    text = '''
import numpy as np
import torch
from torch import nn


def few_label_split(labels, per_class, seed=0):
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    chosen = []
    for c in sorted(set(labels.tolist())):
        members = np.where(labels == c)[0]
        chosen.extend(rng.permutation(members)[:per_class].tolist())
    mask = np.zeros(len(labels), dtype=bool)
    mask[chosen] = True
    return np.flatnonzero(mask), np.flatnonzero(~mask)


def preprocess(images, mean, std, size=None):
    x = np.asarray(images, dtype=np.float32) / 255
    t = torch.from_numpy(x)
    if size:
        t = nn.functional.interpolate(t, size=(size, size), mode="bilinear")
    m = torch.tensor(list(mean), dtype=torch.float32)[None, :, None, None]
    s = torch.tensor(list(std), dtype=torch.float32)[None, :, None, None]
    return ((t - m) / s).float()


def extract_features(backbone, x, batch_size=64):
    backbone.train(False)
    x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    out = []
    with torch.inference_mode():
        for batch in torch.split(x, batch_size):
            out.append(backbone.features(batch).numpy())
    return np.concatenate(out).astype(np.float32)


def freeze_and_replace_head(backbone, n_classes):
    backbone.requires_grad_(False)
    old = backbone.classifier[len(backbone.classifier) - 1]
    backbone.classifier[len(backbone.classifier) - 1] = nn.Linear(old.weight.shape[1], n_classes)
    return backbone


def trainable_parameters(model):
    return sum(p.numel() for p in filter(lambda p: p.requires_grad, model.parameters()))


def make_optimizer(model, lr=1e-3):
    return torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=lr, momentum=0.9)


def fine_tune_step(model, optimizer, x, y):
    model.eval()
    model.classifier.train()
    optimizer.zero_grad(set_to_none=True)
    logits = model(torch.as_tensor(x, dtype=torch.float32))
    loss = nn.CrossEntropyLoss()(logits, torch.as_tensor(y).long())
    loss.backward()
    optimizer.step()
    return float(loss)


def fit_shallow(features, labels, seed=0):
    from sklearn.ensemble import RandomForestClassifier
    return RandomForestClassifier(n_estimators=200, random_state=seed).fit(features, labels)
'''
    result = grade_text(EX, text)
    assert result.score == result.max_score, [(c.name, c.message) for c in result.checks if not c.passed]


def test_a_shallow_learner_at_chance_gets_no_points_and_one_near_the_reference_full_marks(grade_text, solution_text,
                                                                                        mutate):
    chance = mutate(solution_text(EX), "    return SoftmaxRegression().fit(features, labels)",
                    "    from sklearn.dummy import DummyClassifier\n    return DummyClassifier().fit(features, labels)")
    result = grade_text(EX, chance, functions=["fit_shallow"])
    check = next(c for c in result.checks if c.name == "fit_shallow_classifies_held_out_features")
    assert check.score == 0 and "test accuracy 0.100" in check.message


def test_the_calibration_of_the_shallow_learner_check_holds():
    """The thresholds' comment: logistic regression 0.94, a random forest 0.87, a nearest neighbour 0.78 — all
    above full marks but the nearest neighbour, which still earns most points; one class gets none."""
    import numpy as np
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.neighbors import KNeighborsClassifier

    from grader.checks import exercise12 as checks
    from grader.reference import exercise12 as ref

    (x, y), (xt, yt) = checks.shallow_data()
    scores = {"logreg": ref.fit_shallow(x, y).score(xt, yt),
              "forest": RandomForestClassifier(100, random_state=0).fit(x, y).score(xt, yt),
              "1-nn": KNeighborsClassifier(1).fit(x, y).score(xt, yt)}
    assert scores["logreg"] >= 0.9 and scores["forest"] >= checks.SHALLOW_FULL, scores
    assert checks.SHALLOW_ZERO + 0.8 * (checks.SHALLOW_FULL - checks.SHALLOW_ZERO) <= scores["1-nn"], scores
    assert np.mean(yt == np.bincount(y).argmax()) <= checks.SHALLOW_ZERO


def test_the_checks_numpy_oracles_equal_the_torch_reference():
    """The grader computes without torch: its preprocess, resize variants and SGD steps must equal
    the reference pipeline and torch's F.interpolate and autograd."""
    import numpy as np
    import torch

    from grader.checks import exercise12 as checks
    from grader.kit import tiny_backbone
    from grader.reference import exercise12 as ref

    rng = np.random.default_rng(0)
    for h, w, size in ((5, 7, 9), (8, 8, 3), (4, 6, 4), (3, 3, 1)):
        images = rng.integers(0, 256, (2, 3, h, w)).astype(np.uint8)
        mean, std = rng.uniform(0.2, 0.8, 3), rng.uniform(0.1, 0.5, 3)
        expected = ref.preprocess(images, mean, std, size).double().numpy()
        assert np.allclose(checks.preprocess_oracle(images, mean, std, size), expected, atol=1e-5)
        x = torch.from_numpy(images.astype(np.float64))
        for how, kw in (("nearest", {"mode": "nearest"}), ("align_corners", {"mode": "bilinear", "align_corners": True})):
            assert np.allclose(checks.resize(images.astype(np.float64), size, how),
                               torch.nn.functional.interpolate(x, size=(size, size), **kw).numpy())
    seed, n = 5, 4
    x = rng.normal(size=(3, 3, 8, 8)).astype(np.float32)
    y = np.array([0, 3, 1])
    w0, b0 = checks._head(seed, n, 24)
    head = torch.nn.Linear(24, n).double()
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(w0))
        head.bias.copy_(torch.from_numpy(b0))
        f = tiny_backbone(seed).features(torch.from_numpy(x)).double()
    opt = torch.optim.SGD(head.parameters(), lr=0.3)
    losses, heads = checks._reference_steps(seed, w0, b0, x, y, 0.3, 2)
    for loss, (w, b) in zip(losses, heads):
        opt.zero_grad()
        out = torch.nn.functional.cross_entropy(head(f), torch.from_numpy(y))
        out.backward()
        opt.step()
        assert abs(out.item() - loss) < 1e-6
        assert np.allclose(head.weight.detach().numpy(), w, atol=1e-6) and np.allclose(head.bias.detach().numpy(), b)


def test_the_grader_process_does_not_import_torch_for_exercise12():
    import subprocess
    import sys

    code = ("import sys\nfrom grader import extras, registry\ninfo = registry.find_exercise('exercise12')\n"
            "extras.require(info)\nimport grader.checks.exercise12\nprint('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
