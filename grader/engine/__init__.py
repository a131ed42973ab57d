"""The engine, split by job: ``run`` grades a submission check by check, ``replay`` runs one
check's examples (replayed, or searched with hypothesis when one fails), ``diagnose`` turns a
failure into the counterexample and the typical mistake the report shows.

    from grader.engine import grade
    result = grade("exercise03", "exercise03.py")
"""

from .replay import check_seed, prepare, recorded_examples
from .run import grade

__all__ = ["grade", "prepare", "recorded_examples", "check_seed"]
