"""The toolkit a checks module is written with: everything it needs, from one place.

    from grader.kit import check, given, st, expect_array, Mistake, float_arrays, ...
    from reference import exercise03 as ref

- declaring: ``check`` (a check and its points), ``Mistake`` (a typical wrong answer),
  ``Verdict`` (a measured share of the points), ``Context`` (``sub.context``);
- judging: ``expect_array`` (also structure-only), ``expect_int``, ``expect_float``,
  ``expect``, ``Mismatch``, ``type_name``;
- inputs: hypothesis' ``given``, ``example``, ``assume`` (in strategies only) and ``st``, and the course's strategies (``float_arrays``…);
- random functions: ``worker_rng`` and the statistical bounds (``hoeffding``, ``dkw``…);
- torch models in the worker: ``expect_module``, ``model_output``, weights files read by the
  grader (``tensor_shapes``, ``structure_of``), and ``TrainedModel``: a trained model on a
  dataset, the whole plumbing of a trained-model exercise (exercise11);
- what crosses from the worker: ``Handle``, ``TensorData``, ``RemoteArraySubclass``,
  ``StudentError`` (the student's function raised), ``CallRecord``.
"""

from hypothesis import assume, example, given
from hypothesis import strategies as st

from grader.sandbox.protocol import Generator, Handle, RemoteArraySubclass, TensorData
from grader.sandbox.proxy import CallRecord, StudentError

from .check import CheckSpec, Context, Exercise, Mistake, Verdict, check
from .expect import FLOAT_RTOL, Mismatch, expect, expect_array, expect_float, expect_int, type_name
from .models import (WeightsFileError, expect_module, model_output, structure_of, tensor_shapes)
from .stats import ALPHA, chernoff_lower, dkw, hoeffding, ks_on_grid, normal_cdf, uniform_cdf, worker_rng
from .strategies import float_arrays, probabilities, sides, small_floats, small_values
from .trained import TrainedModel

__all__ = [
    "assume", "example", "given", "st", "Generator", "Handle", "RemoteArraySubclass", "TensorData", "CallRecord", "StudentError",
    "CheckSpec", "Context", "Exercise", "Mistake", "Verdict", "check",
    "FLOAT_RTOL", "Mismatch", "expect", "expect_array", "expect_float", "expect_int", "type_name",
    "WeightsFileError", "expect_module", "model_output", "structure_of", "tensor_shapes",
    "ALPHA", "chernoff_lower", "dkw", "hoeffding", "ks_on_grid", "normal_cdf", "uniform_cdf", "worker_rng",
    "float_arrays", "probabilities", "sides", "small_floats", "small_values", "TrainedModel",
]
