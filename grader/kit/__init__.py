"""The toolkit a checks module is written with: everything it needs, from one place.

    from grader.kit import check, given, st, expect_array, Mistake, float_arrays, ...
    from grader.reference import exercise03 as ref

- declaring: ``check`` (a check and its points), ``Mistake`` (a typical wrong answer),
  ``Verdict`` (a measured share of the points), ``Context`` (``sub.context``), ``record_map``
  (a 2-D map and its expected one, drawn in the report);
- judging: ``expect_array`` (also structure-only), ``expect_oracle`` (the oracle's result
  within the rounding error of the answer's precision: ``rounding_tolerance``), ``expect_int``,
  ``expect_float``, ``expect``, ``Mismatch``, ``type_name``;
- inputs: hypothesis' ``given``, ``example``, ``assume`` (in strategies only) and ``st``, and the course's strategies (``float_arrays``…);
- random functions: ``worker_rng`` and the statistical bounds (``hoeffding``, ``dkw``…);
- torch models in the worker: ``expect_module``, ``model_output``, weights files read by the
  grader (``tensor_shapes``, ``structure_of``), and ``TrainedModel``: a trained model on a
  dataset, the whole plumbing of a trained-model exercise (exercise11);
- pretrained ImageNet backbones, offline (``load_backbone``), and a tiny stand-in built from
  plain data in the worker, with its numpy twin for the grader (``tiny_spec``, ``tiny_features``;
  in torch ``tiny_backbone``; exercise12);
- what crosses from the worker: ``Handle``, ``TensorData``, ``RemoteArraySubclass``,
  ``StudentError`` (the student's function raised), ``CallRecord``.
"""

import importlib

from .check import CheckSpec, Context, Exercise, Mistake, Verdict, check, record_map  # light: numpy only (the registry's)
from .expect import FLOAT_RTOL, Mismatch, expect, expect_array, expect_float, expect_int, expect_oracle, type_name

# name -> the module it comes from, imported when first asked for (PEP 562): ``grader.kit.check``
# stays light for the registry and the engine, which start the worker before hypothesis and
# torch-facing helpers are imported (``grade`` answers sooner)
_WHERE = {
    **dict.fromkeys(("assume", "example", "given"), "hypothesis"),
    "st": "hypothesis.strategies",
    **dict.fromkeys(("Generator", "Handle", "RemoteArraySubclass", "TensorData"), "grader.sandbox.protocol"),
    **dict.fromkeys(("CallRecord", "StudentError"), "grader.sandbox.proxy"),
    **dict.fromkeys(("WeightsFileError", "expect_module", "model_output", "structure_of", "tensor_shapes"),
                    "grader.kit.models"),
    **dict.fromkeys(("ALPHA", "chernoff_lower", "dkw", "hoeffding", "ks_on_grid", "normal_cdf", "uniform_cdf",
                     "worker_rng"), "grader.kit.stats"),
    **dict.fromkeys(("float_arrays", "probabilities", "sides", "small_floats", "small_values"),
                    "grader.kit.strategies"),
    "TrainedModel": "grader.kit.trained",
    **dict.fromkeys(("load_backbone", "tiny_backbone"), "grader.kit.pretrained"),
    **dict.fromkeys(("tiny_spec", "tiny_features", "tiny_logits"), "grader.kit.tiny"),
    **dict.fromkeys(("result_dtype", "rounding_tolerance"), "grader.kit.tolerance"),
    "build_net": "grader.sandbox.probes",  # a small named CNN from plain data, built alike here and in the worker
}


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'grader.kit' has no attribute {name!r}")
    module = importlib.import_module(_WHERE[name])
    value = module if name == "st" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + list(_WHERE))


__all__ = [
    "assume", "example", "given", "st", "Generator", "Handle", "RemoteArraySubclass", "TensorData", "CallRecord", "StudentError",
    "CheckSpec", "Context", "Exercise", "Mistake", "Verdict", "check", "record_map",
    "FLOAT_RTOL", "Mismatch", "expect", "expect_array", "expect_float", "expect_int", "expect_oracle", "type_name",
    "WeightsFileError", "expect_module", "model_output", "structure_of", "tensor_shapes",
    "ALPHA", "chernoff_lower", "dkw", "hoeffding", "ks_on_grid", "normal_cdf", "uniform_cdf", "worker_rng",
    "float_arrays", "probabilities", "sides", "small_floats", "small_values", "TrainedModel",
    "result_dtype", "rounding_tolerance", "build_net",
    "load_backbone", "tiny_backbone", "tiny_spec", "tiny_features", "tiny_logits",
]
