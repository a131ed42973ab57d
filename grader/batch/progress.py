"""The progress bar of a batch run: count, ETA, and a live tally of what went wrong."""

from __future__ import annotations

import time
from collections import Counter

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from .runner import Outcome

TALLY = (("full", "green", "full marks"), ("failed", "red", "lost points"), ("crash", "magenta", "crashed"),
         ("timeout", "yellow", "timed out"), ("problem", "dim", "not graded"), ("error", "bold red", "grader errors"))


def kind(outcome: Outcome) -> str:
    """Which tally an outcome counts in."""
    if outcome.status != "graded":
        return outcome.status
    result = outcome.result or {}
    return "full" if result.get("score", 0) >= result.get("max_score", 0) else "failed"


class BatchProgress:
    """``with BatchProgress(total, console) as p: … p.done(outcome) … p.tick()``.

    Refreshed by the caller's loop (no refresh thread: the grading parent forks and must
    stay single-threaded).
    """

    def __init__(self, total: int, console: Console, enabled: bool = True):
        self.tally: Counter = Counter()
        self.enabled = enabled and total > 0
        self.progress = Progress(
            TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(), TextColumn("•"), TimeElapsedColumn(),
            TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[tally]}"),
            console=console, auto_refresh=False, transient=False, disable=not self.enabled)
        self.task = self.progress.add_task("grading", total=total, tally="")
        self._last = 0.0

    def __enter__(self):
        self.progress.start()
        return self

    def __exit__(self, *exc):
        self.progress.refresh()
        self.progress.stop()

    def done(self, outcome: Outcome) -> None:
        self.tally[kind(outcome)] += 1
        text = "  ".join(f"[{style}]{self.tally[key]} {label}[/]" for key, style, label in TALLY if self.tally[key])
        self.progress.update(self.task, advance=1, tally=text)
        self.tick(force=True)

    def tick(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.enabled and (force or now - self._last > 0.2):
            self._last = now
            self.progress.refresh()
