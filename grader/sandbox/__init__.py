"""The worker sandbox: the only place student code runs (see ``process.py``)."""


class IsolationError(Exception):
    """Official grading was asked for on a machine without real isolation (a usage error)."""
