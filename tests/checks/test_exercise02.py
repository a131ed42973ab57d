"""exercise02's checks judged against the project itself: solution, exercise file, typical mistakes.

(Training the solution's fcNN on the course's MNIST subset is tests/reference/test_exercise02_mnist.py.)
"""

import pytest

EX = "exercise02"
_RET = "return nn.Sequential(*layers)"

# (edits of the solution as (old, new) pairs, function, the mistake's name in MISTAKES)
MISTAKE_EDITS = [
    ([("n += n_out", "n += 0")], "dense_params", "bias forgotten"),
    ([("n += n_out", "n += n_in")], "dense_params", "one bias per input"),
    ([(_RET, "return nn.Sequential(*layers, nn.Softmax(dim=1))")], "fcnn", "softmax in the model"),
    ([(_RET, "return nn.Sequential(*layers, activations[activation]())")], "fcnn", "activation on the output"),
    ([("layers = [nn.Flatten()]", "layers = []")], "fcnn", "no flatten"),
    ([("layers.append(activations[activation]())", "layers.append(nn.Sigmoid())")], "fcnn",
     "activation argument ignored"),
    ([("W = W2 @ W1", "W = W1.T @ W2.T")], "collapse_linear", "Keras convention (W transposed)"),
    ([("b = W2 @ b1 + b2", "b = b2")], "collapse_linear", "b1 not pushed through W2"),
    ([("b = W2 @ b1 + b2", "b = W2 @ b1")], "collapse_linear", "b2 forgotten"),
    ([("out[n] = flat[permutation].reshape(images.shape[1:])",
       "out[n] = flat[np.argsort(permutation)].reshape(images.shape[1:])")], "permute_pixels", "inverse permutation"),
]


@pytest.mark.parametrize("edits, function, mistake", MISTAKE_EDITS, ids=[f"{m[1]}: {m[2]}" for m in MISTAKE_EDITS])
def test_each_typical_mistake_loses_points_and_is_diagnosed(assert_mistake_diagnosed, edits, function, mistake):
    assert_mistake_diagnosed(EX, edits, function, mistake)


def test_a_softmax_at_the_end_keeps_the_counts_and_shapes_but_not_the_logits(grade_text, solution_text, mutate):
    text = mutate(solution_text(EX), _RET, "return nn.Sequential(*layers, nn.Softmax(dim=1))")
    result = grade_text(EX, text, functions=["fcnn"])
    by_name = {c.name: c for c in result.checks}
    assert by_name["fcnn_builds_the_lectures_networks"].passed
    assert by_name["fcnn_parameter_count_matches_the_torch_reference"].passed
    logits = by_name["fcnn_returns_n_by_classes_logits_for_flat_and_image_inputs"]
    assert not logits.passed and "sums to 1" in logits.message
    assert logits.counterexample.call.startswith("fcnn(")


@pytest.mark.parametrize("body, says", [
    ("return [nn.Flatten(), nn.Linear(n_inputs, n_classes)]", "nn.Sequential(*layers)"),
    ("return nn.Sequential", "that is a class"),
    ("return None", "return statement"),
], ids=["list of layers", "the class", "None"])
def test_fcnn_returning_no_module_gets_a_clear_message(grade_text, solution_text, body, says):
    text = solution_text(EX) + f'''

def fcnn(n_inputs=784, hidden=(500, 50), n_classes=10, activation="sigmoid"):
    {body}
'''
    result = grade_text(EX, text, functions=["fcnn"])
    assert result.score == 0
    for c in result.checks:
        assert "fcnn should return a torch.nn.Module" in c.message and says in c.message, c.message


def test_an_nn_module_subclass_with_its_own_forward_scores_full_marks(grade_text, solution_text):
    text = solution_text(EX) + '''

class FCNN(nn.Module):
    def __init__(self, sizes, act):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.act = act

    def forward(self, x):
        x = x.reshape(x.shape[0], -1)
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = self.act(x)
        return x


def fcnn(n_inputs=784, hidden=(500, 50), n_classes=10, activation="sigmoid"):
    act = {"sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh}[activation]
    return FCNN([n_inputs, *hidden, n_classes], act)
'''
    result = grade_text(EX, text, functions=["fcnn"])
    assert result.score == result.max_score, [c.message for c in result.checks if not c.passed]


def test_a_model_whose_first_linear_is_not_the_input_layer_fails_the_shuffle_check(grade_text, solution_text):
    text = solution_text(EX) + '''

class Backwards(nn.Module):
    def __init__(self, n_inputs, hidden, n_classes, act):
        super().__init__()
        self.out = nn.Linear(hidden, n_classes)  # registered first: modules() lists it first
        self.inp = nn.Linear(n_inputs, hidden)
        self.act = act

    def forward(self, x):
        return self.out(self.act(self.inp(x.flatten(1))))


def fcnn(n_inputs=784, hidden=(500, 50), n_classes=10, activation="sigmoid"):
    return Backwards(n_inputs, 8, n_classes, nn.Sigmoid())
'''
    result = grade_text(EX, text, functions=["fcnn"])
    shuffle = next(c for c in result.checks
                   if c.name == "fcnn_gives_the_same_outputs_on_shuffled_pixels_with_shuffled_first_layer_columns")
    assert not shuffle.passed and "input layer" in shuffle.message
