"""The human report: a rich table of checks, then what went wrong and how to fix it."""

from __future__ import annotations

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..results import CheckResult, ExerciseResult
from .confusion import confusion_table, has_classes
from .fmt import also_costs, also_explains, clip, failure_groups, hidden_line, not_implemented, points, verdict
from .maps import has_maps, maps_view

def summary_table(result: ExerciseResult) -> Table:
    """Return the one-row-per-check table with the total as its footer."""
    table = Table(title=f"{result.exercise} — {result.title}", title_justify="left", show_footer=True,
                  expand=False, pad_edge=False, box=None)
    table.add_column("", width=1)
    table.add_column("check", footer="total", ratio=1)
    table.add_column("points", justify="right",
                     footer=Text(f"{points(result.score)}/{points(result.max_score)}",
                                 style="bold green" if result.passed else "bold red"))
    for c in result.checks:
        icon, style = c.outcome.icon
        title = Text(c.title)
        if c.hidden:
            title.append(" (hidden)", style="dim")
        if not c.passed and c.outcome != "failed":  # ✘ says failed; the others say what happened
            title.append(f"  {c.outcome.label}", style=style)
        table.add_row(Text(icon, style=style), title, f"{points(c.score)}/{points(c.max_score)}")
    return table


def failure_panel(c: CheckResult, verbose: bool = False, others: list[CheckResult] = ()) -> Panel:
    """Return the details of one failed check: counterexample, expected vs got, diagnosis, hint;
    and the ``others`` that failed of the same cause, named once."""
    parts: list = [Text(clip(c.message))]
    if c.frames:
        frames = c.frames if verbose else c.frames[-1:]
        for fname, lineno, func, line in frames:
            where = f"{escape(clip(fname, 300))}, line {escape(clip(lineno, 20))}, in {escape(clip(func, 300))}"
            parts.append(Text.from_markup(f"  [dim]at[/] {where}"))
            if line:
                parts.append(Text(f"      {clip(line)}", style="cyan"))
    ce = c.counterexample
    if ce is not None:
        parts.append(Text(f"\n{ce.heading}:", style="bold"))
        for name, value in ce.inputs.items():
            parts.append(_labelled(name, value))
        if ce.call:
            parts.append(_labelled("call", ce.call))
        if ce.expected is not None:
            parts.append(_labelled("expected", ce.expected, "green"))
        if ce.got is not None:
            parts.append(_labelled("got", ce.got, "red"))
    if c.diagnosis is not None:
        parts.append(Text.assemble(("\nlikely mistake: ", "bold yellow"), (c.diagnosis.message, "yellow")))
        parts.extend(Text(line, style="yellow") for line in also_explains(c.diagnosis))
        if c.diagnosis.hint:
            parts.append(Text.assemble(("hint: ", "bold"), c.diagnosis.hint))
    if others:
        parts.append(Text(f"\n{also_costs(c, others)}", style="bold"))
    style = "yellow" if c.outcome in ("not_implemented", "data_missing") else "red"
    icon = "?" if c.outcome == "data_missing" else "✘"  # the grader lacks data: not the student's failure
    return Panel(Group(*parts), title=f"{icon} {escape(c.title)}", title_align="left", border_style=style)


def _labelled(name: str, value: str, style: str = "") -> Text:
    lines = clip(value).splitlines() or [""]
    pad = " " * (len(name) + 4)
    text = Text(f"  {name}: ", style="bold")
    text.append(lines[0], style=style)
    for line in lines[1:]:
        text.append(f"\n{pad}{line}", style=style)
    return text


def render(result: ExerciseResult, console: Console | None = None, verbose: bool = False) -> None:
    """Print the report for one exercise."""
    console = console or Console()
    console.print(summary_table(result))
    for note in result.notes:
        console.print(Text.assemble(("note: ", "bold yellow"), clip(note)))
    for c in result.checks:
        if has_classes(c.details):
            console.print(Text(""), confusion_table(c.details))
    if todo := not_implemented(result):
        console.print(Text.assemble(("\nnot implemented yet: ", "bold yellow"), ", ".join(todo)))
    for shown, others in failure_groups(result):
        console.print(failure_panel(shown, verbose, others))
        if has_maps(shown.details) and console.color_system is not None:  # pictures where the terminal draws colour
            console.print(maps_view(shown.details))
    if verbose:
        console.print(Text(f"sandbox: {result.sandbox}", style="dim"))
        if result.output:
            console.print(Panel(Text(result.output[-4000:]), title="what your code printed", border_style="dim"))
    graded = f"graded {result.submission}"
    if verbose:
        graded += (f" in {result.duration:.2f} s by grader {result.grader_version}; "
                   f"submission sha256 {result.sha256[:12]}")
    console.print(Text(f"\n{graded}", style="dim"))
    console.print(Text(verdict(result), style="bold green" if result.passed else "bold"))
    if hidden := hidden_line(result):
        console.print(Text(hidden, style="dim"))
