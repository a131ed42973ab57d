"""The ``grade`` command: click wiring only; the work is done by plain functions.

    grade list                         the exercises, their points, and whether a file is here
    grade start exercise03             write the exercise file into this folder
    grade exercise03                   grade ./exercise03*.py or ./exercise03*.ipynb
    grade exercise03 --submission F    grade another file (also: --format json|junit)
    grade release [--check]            write exercises/ from solutions/ (course maintainers)

Exit status: 0 all checks passed, 1 some failed, 2 usage error (one line on stderr).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__, registry
from .collect import SubmissionError


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"grade: {message}", err=True)
    sys.exit(code)


class ExerciseGroup(click.Group):
    """A group whose unknown first word is an exercise: ``grade exercise03`` = ``grade check exercise03``."""

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "check", self.commands["check"], args
        return super().resolve_command(ctx, args)

    def format_usage(self, ctx, formatter):
        formatter.write_usage("grade", "EXERCISE [--submission PATH] [--format rich|json|junit] | COMMAND ...")


@click.group(cls=ExerciseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grade")
def main():
    """Grade course exercises with property-based tests.

    Run `grade EXERCISE` in the folder holding your exercise file, e.g. `grade exercise03`
    or `grade convolution`.
    """


@main.command("list")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              help="Where to look for submission files.")
def list_cmd(folder: Path):
    """List the exercises, their points and whether a submission file is found here."""
    from rich.console import Console
    from rich.table import Table

    from .collect import find_submission

    table = Table(box=None, pad_edge=False)
    for col, kw in (("exercise", {}), ("title", {}), ("points", {"justify": "right"}), ("file here", {})):
        table.add_column(col, **kw)
    for info in registry.all_exercises():
        try:
            found = find_submission(info.id, folder).name
        except SubmissionError:
            found = "-"
        table.add_row(info.id, info.title, f"{info.points:g}", found)
    Console().print(table)


@main.command()
@click.argument("exercise")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
def start(exercise: str, force: bool, folder: Path):
    """Write EXERCISE's starting file into this folder."""
    try:
        info = registry.find_exercise(exercise)
    except registry.UnknownExercise as e:
        _fail(str(e))
    target = folder / f"{info.id}.py"
    if target.exists() and not force:
        _fail(f"{target} already exists — grade it with `grade {info.id}`, or use --force to overwrite it")
    folder.mkdir(parents=True, exist_ok=True)
    target.write_text(info.exercise_file(), encoding="utf-8")
    click.echo(f"wrote {target} — implement the functions, then run `grade {info.id}`")


@main.command("check")
@click.argument("exercise")
@click.option("--submission", "-s", type=click.Path(path_type=Path), default=None,
              help="The .py or .ipynb file to grade (default: ./EXERCISE*.py or .ipynb).")
@click.option("--format", "fmt", type=click.Choice(["rich", "json", "junit"]), default="rich",
              help="Report format; json is Gradescope's results.json.")
@click.option("--instructor", is_flag=True, help="Also run hidden checks.")
@click.option("--no-sandbox", is_flag=True, help="Run without bubblewrap (limits and guards stay).")
@click.option("--timeout", type=float, default=None, help="Seconds allowed per check (default 10).")
@click.option("--min-score", type=float, default=None,
              help="Exit 0 when the score reaches this many points, else 1 (default: every check must pass).")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks, sandbox details and printed output.")
def check_cmd(exercise, submission, fmt, instructor, no_sandbox, timeout, min_score, verbose):
    """Grade a submission of EXERCISE."""
    sys.exit(run_grade(exercise, submission, fmt=fmt, instructor=instructor, sandbox=not no_sandbox,
                       timeout=timeout, min_score=min_score, verbose=verbose))


def run_grade(exercise: str, submission: Path | None, *, fmt: str = "rich", instructor: bool = False,
              sandbox: bool = True, timeout: float | None = None, min_score: float | None = None,
              verbose: bool = False) -> int:
    """Grade and print the report; return the exit status (0 passed, 1 failed, 2 usage error)."""
    from .collect import find_submission

    try:
        info = registry.find_exercise(exercise)
        path = submission if submission is not None else find_submission(info.id, Path("."))
        if not Path(path).is_file():
            raise SubmissionError(f"submission file not found: {path}")
    except (registry.UnknownExercise, SubmissionError) as e:
        _fail(str(e))
    from .engine import grade
    from .sandbox.process import Limits

    limits = Limits()
    if timeout is not None:
        limits.check_timeout = limits.call_timeout = timeout
    try:
        result = grade(info, path, instructor=instructor, sandbox=sandbox, limits=limits)
    except SubmissionError as e:
        _fail(str(e))
    except Exception as e:  # the grader's own failure: one line unless -v
        if verbose:
            raise
        _fail(f"internal error while grading ({type(e).__name__}: {e}) — rerun with -v and report it", 3)
    if fmt == "json":
        from .report import gradescope

        click.echo(gradescope.render(result))
    elif fmt == "junit":
        from .report import junit

        click.echo(junit.render(result), nl=False)
    else:
        from rich.console import Console

        from .report import console

        console.render(result, Console(highlight=False), verbose=verbose)
    if min_score is not None:
        return 0 if result.score >= min_score else 1
    return 0 if result.passed else 1


def _data_group():
    from .data.cli import data

    return data


main.add_command(_data_group())


def _reference_group():
    from reference.cli import reference

    return reference


main.add_command(_reference_group())


@main.command()
@click.option("--check", "check_only", is_flag=True, help="Fail (exit 1) if exercises/ is out of date.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              help="The checkout holding solutions/ and exercises/.")
def release(check_only: bool, root: Path):
    """Write exercises/ from the solution markers in solutions/ (course maintainers)."""
    from .release import MarkerError, release as do_release

    if not (root / "solutions").is_dir():
        _fail(f"no solutions/ folder in {root.resolve()} — run this in a checkout of the course package")
    try:
        stale = do_release(root / "solutions", root / "exercises", check=check_only)
    except MarkerError as e:
        _fail(str(e))
    for path in stale:
        click.echo(f"{'out of date' if check_only else 'wrote'}: {path}")
    if check_only and stale:
        _fail("exercises/ is out of date — run `grade release`", 1)
    if not stale:
        click.echo("exercises/ is up to date")
