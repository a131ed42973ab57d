"""The toolkit's expectations judged on plain values: type, dtype and shape before values."""

import numpy as np
import pytest

from grader.kit import Mismatch, RemoteArraySubclass, TensorData, expect, expect_array, expect_float, expect_int


def reason(fn, *args, **kwargs) -> str:
    with pytest.raises(Mismatch) as e:
        fn(*args, **kwargs)
    return e.value.reason


def test_expect_array_checks_type_then_dtype_then_shape_then_values():
    expected = np.array([[1.0, 2.0]])
    assert reason(expect_array, [[1.0, 2.0]], expected, what="f(x)") == "type"
    assert reason(expect_array, np.array([["a", "b"]]), expected, what="f(x)") == "dtype"
    assert reason(expect_array, np.array([1.0, 2.0]), expected, what="f(x)") == "shape"
    assert reason(expect_array, np.array([[1.0, 2.5]]), expected, what="f(x)") == "value"
    assert expect_array(np.array([[1.0, 2.0]]), expected, what="f(x)").shape == (1, 2)


def test_expect_array_refuses_subclasses_tensors_and_nan_where_a_finite_array_is_expected():
    expected = np.zeros(2)
    assert reason(expect_array, RemoteArraySubclass(np.zeros(2), "m.Liar"), expected) == "type"
    assert reason(expect_array, TensorData(np.zeros(2), "torch.float32", False, None), expected) == "type"
    assert reason(expect_array, np.array([0.0, np.nan]), expected) == "value"


def test_float32_results_get_float32_rounding_and_lists_only_when_allowed():
    expected = np.array([1 / 3, 2 / 3])
    expect_array(expected.astype(np.float32), expected)  # within float32's tolerance
    with pytest.raises(Mismatch):
        expect_array(expected.astype(np.float32) + 1e-3, expected)
    expect_array([1 / 3, 2 / 3], expected, allow_list=True)


def test_the_structure_only_mode_checks_type_dtype_and_shape_with_free_sizes():
    assert expect_array(np.ones((3, 10)), shape=(None, 10), kinds="f").shape == (3, 10)
    assert reason(expect_array, np.ones((3, 9)), shape=(None, 10)) == "shape"
    assert reason(expect_array, np.ones((3, 10), dtype=np.int64), shape=(None, 10), kinds="f") == "dtype"
    with pytest.raises(Mismatch, match=r"expected shape \(any, 10\), got shape \(10,\)"):
        expect_array(np.ones(10), shape=(None, 10))
    with pytest.raises(TypeError):
        expect_array(np.ones(2))


def test_a_mismatch_without_what_reads_as_its_detail_alone():
    with pytest.raises(Mismatch) as e:
        expect_int(3.0, 3)
    assert e.value.what is None and str(e.value).startswith("expected an int, got float")
    with pytest.raises(Mismatch) as e:
        expect_int(4, 3, what="f(2)")
    assert str(e.value) == "f(2): expected 3, got 4"


def test_expect_int_float_and_expect_accept_what_is_right_and_name_what_is_not():
    assert expect_int(np.int64(3), 3) == 3
    assert reason(expect_int, True, 1) == "type"
    assert expect_float(np.float32(0.1), 0.1) == pytest.approx(0.1)
    assert reason(expect_float, "0.1", 0.1) == "type"
    assert reason(expect_float, float("inf"), 1.0) == "value"
    expect(True, "f", "never shown")
    assert reason(expect, False, "f", "a property failed") == "property"
