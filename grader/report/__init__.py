"""Turning an ``ExerciseResult`` into text: rich for the terminal, JSON, JUnit XML, Markdown."""

from __future__ import annotations

import io

from ..results import ExerciseResult


def render_text(result: ExerciseResult, fmt: str, *, verbose: bool = False, width: int = 100) -> str:
    """Return the report in ``fmt`` ("rich", "json", "junit" or "markdown") as text ending in a newline.

    "rich" gives the terminal report without colours, for a file or a CI log kept as text.
    """
    if fmt == "json":
        from . import gradescope

        return gradescope.render(result) + "\n"
    if fmt == "junit":
        from . import junit

        return junit.render(result)
    if fmt == "markdown":
        from . import markdown

        return markdown.render(result)
    if fmt != "rich":
        raise ValueError(f"unknown report format {fmt!r}")
    from rich.console import Console

    from . import console

    buffer = io.StringIO()
    console.render(result, Console(file=buffer, width=width, color_system=None, highlight=False), verbose=verbose)
    return buffer.getvalue()
