"""Checks for exercise10 — 1-D causal and dilated convolution.

The oracle is ``reference.exercise10`` (tested in ``tests/reference`` against torch's conv1d
with (k − 1)·d zeros padded on the left). Besides equality with it: causality (output t
must not change when inputs after t change), the impulse response (it shows the taps, so a
flipped kernel or a wrong dilation reads off directly), and the receptive field of a dilated
stack, measured from the student's own outputs and compared with exercise05's formula
(``reference.exercise05.receptive_field``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.kit import check, example, expect, expect_array, float_arrays, given, Mismatch, Mistake, st, type_name

from grader.reference import exercise05
from grader.reference import exercise10 as ref

TITLE = "1D causal and dilated convolution"
ALIASES = ("causal", "causal-conv", "causal_conv1d", "dilated")
MAX_EXAMPLES = 25


@dataclass
class CausalCase:
    x: np.ndarray
    kernel: np.ndarray
    dilation: int = 1

    def kwargs(self) -> dict:
        return {} if self.dilation == 1 else {"dilation": self.dilation}

    def call(self, sub, x=None):
        return sub.causal_conv1d(self.x if x is None else x, self.kernel, **self.kwargs())

    def expected(self, x=None) -> np.ndarray:
        return ref.causal_conv1d(self.x if x is None else x, self.kernel, self.dilation)

    def what(self) -> str:
        d = "" if self.dilation == 1 else f", dilation={self.dilation}"
        return f"causal_conv1d(x, kernel{d})"


@st.composite
def causal_cases(draw, *, max_len: int = 8):
    """Return a CausalCase: x of length 1 … 8, a kernel of 1 … 4 taps (may be longer than x), dilation 1 … 3."""
    x = draw(float_arrays((draw(st.integers(1, max_len)),)))
    kernel = draw(float_arrays((draw(st.integers(1, 4)),)))
    return CausalCase(x, kernel, draw(st.integers(1, 3)))


# --------------------------------------------------------------------------- causal_conv1d (6 points)

WORKED = [(([10, 20, 30], [1, 2]), {}, [20.0, 50.0, 80.0]),
          (([1, 2, 3, 4, 5], [1, 1]), {"dilation": 2}, [1.0, 2.0, 4.0, 6.0, 8.0]),
          (([1, 0, 0, 0, 0, 0], [1, 2, 3]), {"dilation": 2}, [3.0, 0.0, 2.0, 0.0, 1.0, 0.0])]


@check(points=1, functions=("causal_conv1d",))
def causal_conv1d_reproduces_the_worked_examples(sub):
    """[10, 20, 30] with kernel [1, 2] gives [20, 50, 80]; dilation 2 adds x[t − 2]; an impulse shows the taps."""
    for args, kwargs, expected in WORKED:
        call = f"causal_conv1d({args[0]}, {args[1]}" + "".join(f", {k}={v}" for k, v in kwargs.items()) + ")"
        expect_array(sub.causal_conv1d(*args, **kwargs), np.array(expected), what=call, kinds="f")


@check(points=2, functions=("causal_conv1d",))
@given(case=causal_cases())
def causal_conv1d_matches_torch_with_left_padding(sub, case):
    """causal_conv1d equals the reference (= torch's conv1d after (k − 1)·d zeros on the left) on random inputs."""
    expect_array(case.call(sub), case.expected(), what=case.what(), kinds="f")


@dataclass
class FutureChange:
    x: np.ndarray
    kernel: np.ndarray
    dilation: int
    t: int
    changed_x: np.ndarray  # equal to x up to t, different after it

    @property
    def case(self) -> CausalCase:
        return CausalCase(self.x, self.kernel, self.dilation)


@st.composite
def future_changes(draw):
    """Return a FutureChange: a random case, a step t and x with new values after t."""
    case = draw(causal_cases())
    t = draw(st.integers(0, len(case.x) - 1))
    changed = case.x.copy()
    changed[t + 1:] = draw(float_arrays((len(case.x) - t - 1,), min_value=5, max_value=8))  # never the old values
    return FutureChange(case.x, case.kernel, case.dilation, t, changed)


def _expect_sequence(got, n: int, what: str) -> np.ndarray:
    expect(isinstance(got, np.ndarray) and got.dtype.kind == "f", what,
           f"expected a numpy array of floats, got {type_name(got)}", got=got)
    expect(got.shape == (n,), what, f"expected shape ({n},) (as long as x), got {got.shape}", expected=(n,), got=got)
    return got


@check(points=1, functions=("causal_conv1d",))
@given(change=future_changes())
def output_t_does_not_depend_on_inputs_after_t(sub, change):
    """Causality: changing x after step t leaves output[0 … t] unchanged."""
    case, t, new_x = change.case, change.t, change.changed_x
    n = len(case.x)
    before = _expect_sequence(case.call(sub), n, case.what())
    after = _expect_sequence(case.call(sub, new_x), n, case.what() + f" with x[{t + 1}:] changed")
    if not np.allclose(before[: t + 1], after[: t + 1], rtol=1e-9, atol=1e-9):
        i = int(np.argmax(~np.isclose(before[: t + 1], after[: t + 1], rtol=1e-9, atol=1e-9)))
        raise Mismatch(case.what(), "property",
                       f"output[{i}] changed from {before[i]:.6g} to {after[i]:.6g} when only x[{t + 1}:] changed "
                       f"(new values {new_x[t + 1:].tolist()}): output {i} must not look at later inputs",
                       expected=before, got=after)


@st.composite
def impulse_cases(draw):
    """Return a CausalCase whose x is a single 1 (an impulse) at position s."""
    k, d = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    n = draw(st.integers(1, 12))
    x = np.zeros(n)
    x[draw(st.integers(0, n - 1))] = 1.0
    kernel = np.arange(1.0, k + 1.0)  # 1, 2, …, k: every tap visible
    return CausalCase(x, kernel, d)


@check(points=1, functions=("causal_conv1d",))
@given(case=impulse_cases())
def an_impulse_shows_the_taps_reversed_and_dilated(sub, case):
    """An impulse at s gives kernel[j] at s + (k − 1 − j)·d: the last tap on the current step, the others d apart."""
    expect_array(case.call(sub), case.expected(), what=case.what() + "  # x a single 1", kinds="f")


@dataclass
class Stack:
    kernel_sizes: tuple
    dilations: tuple

    def layers(self):
        return [(k, 1, d) for k, d in zip(self.kernel_sizes, self.dilations)]


@st.composite
def stacks(draw):
    n = draw(st.integers(1, 4))
    return Stack(tuple(draw(st.integers(1, 3)) for _ in range(n)), tuple(draw(st.sampled_from([1, 2, 4])) for _ in range(n)))


@check(points=1, functions=("causal_conv1d",))
@given(stack=stacks())
@example(stack=Stack((2, 2, 2, 2), (1, 2, 4, 8)))
def a_dilated_stack_has_the_receptive_field_of_exercise05(sub, stack):
    """A dilated stack looks back r = 1 + Σ(kᵢ − 1)·dᵢ steps, exercise05's receptive field (WaveNet: 16).

    The stack (all-ones kernels) is run on an impulse at step 0: it must reach outputs 0 … r − 1 and no further.
    """
    r = exercise05.receptive_field(stack.layers())
    n = r + 3
    y = np.zeros(n)
    y[0] = 1.0
    for i, (k, d) in enumerate(zip(stack.kernel_sizes, stack.dilations)):
        y = _expect_sequence(sub.causal_conv1d(y, np.ones(k), dilation=d), n,
                             f"layer {i + 1} of the stack: causal_conv1d(y, np.ones({k}), dilation={d})")
    reached = np.flatnonzero(np.abs(y) > 1e-9)
    span = int(reached.max()) + 1 if reached.size else 0
    layers = " → ".join(f"k={k}, d={d}" for k, d in zip(stack.kernel_sizes, stack.dilations))
    expect(reached.size > 0 and reached.min() == 0 and span == r, f"the stack {layers} on an impulse at step 0",
           f"the impulse reaches outputs {reached.tolist()}, so the stack looks back {span} step(s) "
           f"(the current one included); exercise05's receptive_field gives {r}: outputs 0 … {r - 1}",
           expected=r, got=y)


# --------------------------------------------------------------------------- typical mistakes


def flipped_kernel(x, kernel, dilation=1):
    k = np.asarray(kernel, float)
    assert not np.array_equal(k, k[::-1])
    return ref.causal_conv1d(x, k[::-1], dilation)


def same_padding(x, kernel, dilation=1):
    x, w = np.asarray(x, float), np.asarray(kernel, float)
    assert len(w) > 1
    total = (len(w) - 1) * dilation
    before = total // 2
    xp = np.concatenate([np.zeros(before), x, np.zeros(total - before)])
    return np.array([sum(w[j] * xp[t + j * dilation] for j in range(len(w))) for t in range(len(x))])


def same_padding_extra_before(x, kernel, dilation=1):
    """'same' with the odd zero before: ⌈(k − 1)·d / 2⌉ zeros first (the solution edit of the notes)."""
    x, w = np.asarray(x, float), np.asarray(kernel, float)
    assert len(w) > 1
    total = (len(w) - 1) * dilation
    before = (total + 1) // 2
    xp = np.concatenate([np.zeros(before), x, np.zeros(total - before)])
    return np.array([sum(w[j] * xp[t + j * dilation] for j in range(len(w))) for t in range(len(x))])


def padding_at_the_end(x, kernel, dilation=1):
    x, w = np.asarray(x, float), np.asarray(kernel, float)
    assert len(w) > 1
    T = len(x)
    xp = np.concatenate([x, np.zeros((len(w) - 1) * dilation)])
    return sum(w[j] * xp[j * dilation: j * dilation + T] for j in range(len(w))) + np.zeros(T)


def dilation_ignored(x, kernel, dilation=1):
    assert dilation > 1 and len(kernel) > 1
    return ref.causal_conv1d(x, kernel, 1)


def padding_not_dilated(x, kernel, dilation=1):
    k = len(kernel)
    assert dilation > 1 and k > 1 and len(x) > (k - 1) * (dilation - 1)
    return ref.causal_conv1d(x, kernel, dilation)[(k - 1) * (dilation - 1):]


def valid_only(x, kernel, dilation=1):
    assert len(kernel) > 1 and len(x) > (len(kernel) - 1) * dilation
    return ref.causal_conv1d(x, kernel, dilation)[(len(kernel) - 1) * dilation:]


_PAD_HINT = "pad (k − 1)·d zeros before x and none after: y[t] = Σⱼ kernel[j]·x[t − (k − 1 − j)·d]"
MISTAKES = [
    Mistake("flipped kernel", "causal_conv1d",
            "your causal_conv1d puts kernel[0] on the current step (a true convolution); as in every DL framework it "
            "is a cross-correlation: the *last* tap multiplies x[t] ([10, 20, 30] * [1, 2] → [20, 50, 80])",
            "tap j looks back (k − 1 − j)·d steps", wrong=flipped_kernel),
    Mistake("padding at the end", "causal_conv1d",
            "your causal_conv1d pads at the end: output t looks at x[t], x[t + d], … (the future); pad at the start",
            _PAD_HINT, wrong=padding_at_the_end),
    Mistake("centred padding looks into the future", "causal_conv1d",
            "your output is centred ('same' padding): output t uses inputs after t; causal padding puts all "
            "(k − 1)·d zeros at the start", _PAD_HINT, wrong=same_padding),
    Mistake("centred padding looks into the future", "causal_conv1d",
            "your output is centred ('same' padding): output t uses inputs after t; causal padding puts all "
            "(k − 1)·d zeros at the start", _PAD_HINT, wrong=same_padding_extra_before),
    Mistake("dilation ignored", "causal_conv1d",
            "your causal_conv1d ignores the dilation: with dilation d the taps are d steps apart",
            "x[t − (k − 1 − j)·d], not x[t − (k − 1 − j)]", wrong=dilation_ignored),
    Mistake("padding not dilated", "causal_conv1d",
            "your causal_conv1d pads k − 1 zeros, but a dilated kernel spans (k − 1)·d + 1 steps: pad (k − 1)·d "
            "so that the output is as long as x", _PAD_HINT, wrong=padding_not_dilated),
    Mistake("no padding", "causal_conv1d",
            "your output is (k − 1)·d values short ('valid'): causal padding adds (k − 1)·d zeros at the start so "
            "that the output is as long as x", _PAD_HINT, wrong=valid_only),
]
