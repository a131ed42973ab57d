"""Inspection helpers the grader runs *inside* the worker, on objects that must stay there.

Loaded by the worker from this file before its guards go up; each probe takes worker-side
objects (handles resolved) and plain data, and returns plain data. Import torch lazily: most
exercises never need it.
"""


def type_name(obj):
    """Return the qualified name of the object's class."""
    t = type(obj)
    return f"{t.__module__}.{t.__qualname__}"


PROBES = {
    "type_name": type_name,
}
