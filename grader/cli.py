"""The ``grade`` command: click wiring only; the work is done by plain functions.

    grade list                         the exercises, their points, and whether a file is here
    grade start exercise03             write the exercise file into this folder
    grade exercise03                   grade the file here named like it (exercise03.py, Exercise 3.ipynb …)
    grade exercise03 --submission F    grade another file (also: --format json|junit|markdown, -o FILE)
    grade release [--check]            write exercises/ from solutions/ (course maintainers)
    grade release --gradescope EX -o F a Gradescope autograder zip for one exercise
    grade ci-template                  a GitHub Actions workflow grading a submissions repository
    grade batch exercise03 SUBMISSIONS grade a class (folder, .zip, Moodle or Canvas download): gradebook, feedback,
                                       grades for Moodle (--moodle-worksheet) and Canvas (--canvas-gradebook)

Exit status: 0 all checks passed, 1 some failed, 2 usage error (one line on stderr).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import click

from . import __version__, extras, registry
from .collect import SubmissionError
from .sandbox import IsolationError


FORMATS = ("rich", "json", "junit", "markdown")
SUFFIX_FORMATS = {".xml": "junit", ".json": "json", ".md": "markdown", ".txt": "rich"}


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"grade: {message}", err=True)
    sys.exit(code)


class ExerciseGroup(click.Group):
    """A group whose unknown first word is an exercise: ``grade exercise03`` = ``grade check exercise03``,
    under the name typed (its help reads ``Usage: grade exercise03 [OPTIONS]``)."""

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            try:
                registry.find_exercise(args[0])  # a typo is one line suggesting the exercise, also with --help
            except registry.UnknownExercise as e:
                _fail(str(e))
            return args[0], self.commands["check"], args
        return super().resolve_command(ctx, args)

    def format_usage(self, ctx, formatter):
        formatter.write_usage("grade", "EXERCISE [--submission PATH] [--format rich|json|junit|markdown] "
                                       "[-o FILE] | COMMAND ...")


class GradeCommand(click.Command):
    """``grade check EXERCISE``; called as ``grade exercise03``, its usage and help speak of that
    exercise, whose name is then the command, not an argument."""

    def collect_usage_pieces(self, ctx):
        if ctx.info_name == self.name:
            return super().collect_usage_pieces(ctx)
        return [self.options_metavar] + [piece for p in self.get_params(ctx) if p.name != "exercise"
                                         for piece in p.get_usage_pieces(ctx)]

    def format_help_text(self, ctx, formatter):
        if ctx.info_name == self.name:
            return super().format_help_text(ctx, formatter)
        info = registry.find_exercise(ctx.info_name)
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text(f"Grade your submission of {info.id} ({info.title}): the file given with "
                                 f"--submission, else the one here named like {info.id}.")


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
            found = find_submission(info, folder).name
        except SubmissionError:
            found = "-"
        hidden = f" +{info.hidden_points:g} hidden" if info.hidden_points else ""
        table.add_row(info.id, info.title, f"{info.points:g}{hidden}", found)
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


@main.command("check", cls=GradeCommand)
@click.argument("exercise")
@click.option("--submission", "-s", type=click.Path(path_type=Path), default=None,
              help="The .py or .ipynb file to grade (default: the one here named like the exercise: exercise03.py, "
                   "Exercise 3.ipynb, ex3.py, convolution.py).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="rich",
              help="Report format; json is Gradescope's results.json.")
@click.option("--output", "-o", "outputs", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the report to this file, in the format of its suffix (.xml JUnit, .json, .md "
                   "Markdown, .txt text; else --format's); the terminal then shows the rich report. Repeatable.")
@click.option("--instructor", is_flag=True, help="Also run hidden checks (official: needs the full sandbox).")
@click.option("--official", is_flag=True,
              help="This grade counts (CI, Gradescope): refuse to grade without the full sandbox.")
@click.option("--no-sandbox", is_flag=True, help="Run without bubblewrap (limits and guards stay).")
@click.option("--allow-unsafe-sandbox", is_flag=True,
              help="Grade officially even without the full sandbox (a submission could then forge its grade).")
@click.option("--timeout", type=float, default=None, help="Seconds allowed per check (default 10).")
@click.option("--min-score", default=None,
              help="Exit 0 when the score reaches this many points (12) or this share of the points (80%), "
                   "else 1 (default: every check must pass).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where checks find their datasets (exercise11: the CIFAR-10 test images); default "
                   "$DLCOURSE_DATA, else the user cache folder (see `grade data info`).")
@click.option("--plots", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write pictures of the results into this folder as PNG (exercise11: the confusion matrix and "
                   "the accuracy per class; exercise13: each wrong map beside the expected one; needs matplotlib).")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks, sandbox details and printed output.")
def check_cmd(exercise, submission, fmt, outputs, instructor, official, no_sandbox, allow_unsafe_sandbox, timeout,
              min_score, data_dir, plots, verbose):
    """Grade a submission of EXERCISE."""
    sys.exit(run_grade(exercise, submission, fmt=fmt, instructor=instructor, sandbox=not no_sandbox,
                       timeout=timeout, min_score=min_score, verbose=verbose, outputs=outputs, data_dir=data_dir,
                       plots=plots, official=official or instructor, allow_unsafe_sandbox=allow_unsafe_sandbox))


def run_grade(exercise: str, submission: Path | None, *, fmt: str = "rich", instructor: bool = False,
              sandbox: bool = True, timeout: float | None = None, min_score: float | str | None = None,
              verbose: bool = False, outputs: tuple[Path, ...] = (), data_dir: Path | None = None,
              plots: Path | None = None, official: bool = False, allow_unsafe_sandbox: bool = False) -> int:
    """Grade and print the report; return the exit status (0 passed, 1 failed, 2 usage error).

    An ``official`` grade (``--instructor``, ``--official``) refuses to run without the full
    sandbox unless ``allow_unsafe_sandbox``; a student's own run falls back with a warning.

    With ``outputs`` the report also goes to those files (CI keeps them), and the terminal
    shows the rich report for the person reading the log. ``data_dir`` is where checks find
    datasets; ``plots`` a folder for PNG pictures of per-class results.
    """
    from .collect import find_submission
    from .results import min_points
    from .secret import SecretError, official_secret

    try:
        info = registry.find_exercise(exercise)
        extras.require(info)  # torch missing: say so, never grade (a student would read it as their failure)
        if min_score is not None:
            min_points(min_score, 1.0)  # a usage error before the grading, not after
        path = submission if submission is not None else find_submission(info, Path("."))
        if not Path(path).is_file():
            raise SubmissionError(f"submission file not found: {path}")
        if plots is not None and importlib.util.find_spec("matplotlib") is None:
            raise ValueError("--plots needs matplotlib: pip install 'dlcourse-grader[plots]'")
        _check_isolation(sandbox, official, allow_unsafe_sandbox)
        secret = official_secret()[0] if official or instructor else ""  # official examples: the course's own
    except (registry.UnknownExercise, extras.MissingDependency, SubmissionError, ValueError, IsolationError,
            SecretError) as e:
        _fail(str(e))
    from .engine import grade
    from .sandbox.process import Limits

    limits = Limits()
    if timeout is not None:
        limits.check_timeout = limits.call_timeout = timeout
    try:
        result = grade(info, path, instructor=instructor, sandbox=sandbox, limits=limits, data_dir=data_dir,
                       secret=secret)
    except SubmissionError as e:
        _fail(str(e))
    except Exception as e:  # the grader's own failure: one line unless -v
        if verbose:
            raise
        _fail(f"internal error while grading ({type(e).__name__}: {e}) — rerun with -v and report it", 3)
    _warn_if_reduced(sandbox, official)
    from .report import render_text

    for path in outputs:
        _write_text(path, render_text(result, SUFFIX_FORMATS.get(path.suffix.lower(), fmt), verbose=verbose))
    if fmt == "rich" or outputs:
        from rich.console import Console

        from .report import console

        console.render(result, Console(highlight=False), verbose=verbose)
    else:
        click.echo(render_text(result, fmt, verbose=verbose), nl=False)
    if plots is not None:
        _write_plots(result, plots, err=fmt != "rich" and not outputs)
    if min_score is not None:
        return 0 if result.score >= min_points(min_score, result.max_score) else 1
    return 0 if result.passed else 1


def _check_isolation(sandbox: bool, official: bool, allow_unsafe: bool) -> None:
    """Refuse an official grade without real isolation (a usage error, before any grading)."""
    from .sandbox.process import require_isolation

    if official:
        require_isolation(sandbox, allow_unsafe=allow_unsafe)


def _warn_if_reduced(sandbox: bool, official: bool) -> None:
    """Tell a student whose own run fell back to the reduced sandbox, once it has graded (a usage
    error found while reading the file stays the only line on stderr)."""
    from .sandbox.process import isolation

    if sandbox and not official and not (iso := isolation(sandbox)).real:
        click.echo(f"grade: warning: reduced sandbox — {iso.missing}", err=True)


def _write_plots(result, folder: Path, *, err: bool) -> None:
    """Write a PNG for every check that measured per-class results, and for every wrong map
    with the expected one beside it (--plots); say where, on stderr when stdout carries a
    machine-readable report."""
    from .report import confusion, maps

    measured = [c for c in result.checks if confusion.has_classes(c.details)]
    drawn = [c for c in result.checks if maps.has_maps(c.details)]
    if not measured and not drawn:
        click.echo(f"grade: nothing to plot — no check of {result.exercise} measured per-class results or found a "
                   "map wrong", err=True)
    plots = [(c, "confusion" if len(measured) == 1 else c.name, confusion.write_png) for c in measured]
    plots += [(c, c.name, maps.write_png) for c in drawn]
    for c, name, write_png in plots:
        target = folder / f"{result.exercise}-{name}.png"
        try:
            write_png(c.details, target, title=f"{result.exercise} — {result.submission}")
        except OSError as e:
            _fail(f"cannot write the plot to {target}: {e.strerror or e}")
        click.echo(f"wrote {target}", err=err)


def _write_text(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        _fail(f"cannot write {path}: {e.strerror or e}")


@main.command("ci-template")
@click.option("--exercise", "-e", "exercises", multiple=True,
              help="An exercise the workflow grades (repeatable; default: every exercise).")
@click.option("--min-score", default=None,
              help="Fail the job when an exercise scores below this: points (12) or a share (80%) "
                   "(default: when any check fails).")
@click.option("--python", "python_version", default="3.11", show_default=True, help="The Python version of the job.")
@click.option("--package", default=None,
              help="What pip installs: dlcourse-grader==VERSION, or 'dlcourse-grader @ git+https://…' "
                   "(default: a placeholder the job refuses until you set it).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the workflow to this file, e.g. .github/workflows/grade.yml (default: print it).")
@click.option("--force", is_flag=True, help="Overwrite an existing --output file.")
def ci_template(exercises, min_score, python_version, package, output, force):
    """Print a GitHub Actions workflow that grades a submissions repository on every push.

    The job grades each exercise file it finds, uploads the JUnit and Markdown reports,
    writes the report to the run's summary page, posts the points to GitHub Classroom and
    fails below --min-score.
    """
    from .ci import workflow

    try:
        chosen = [registry.find_exercise(e) for e in exercises]
        text = workflow(chosen, min_score=min_score, python=python_version, package=package)
    except (registry.UnknownExercise, ValueError) as e:  # ValueError: ci.TemplateError, a bad --min-score
        _fail(str(e))
    if output is None:
        click.echo(text, nl=False)
        return
    if output.exists() and not force:
        _fail(f"{output} already exists — use --force to overwrite it")
    _write_text(output, text)
    click.echo(f"wrote {output} — commit it to the submissions repository")


@main.command("secret")
@click.option("--new", "make_new", is_flag=True, help="Write a new random secret (official examples change: grade again).")
@click.option("--show", is_flag=True, help="Print the secret itself (to copy it to another grading machine).")
def secret_cmd(make_new: bool, show: bool):
    """Where official grading's secret is (the seed of its examples), and its fingerprint."""
    from .secret import ENV, SecretError, fingerprint, new_secret, official_secret, secret_path

    try:
        if make_new:
            new_secret()
        value, where = official_secret()
    except (SecretError, OSError) as e:
        _fail(str(e))
    click.echo(value if show else f"official examples from {where} (fingerprint {fingerprint(value)}); the same secret "
               f"on every grading machine gives the same grades — copy {secret_path()} or set ${ENV}")


def _data_group():
    from .data.cli import data

    return data


main.add_command(_data_group())


def _reference_group():
    from grader.reference.cli import reference

    return reference


main.add_command(_reference_group())


@main.command()
@click.option("--check", "check_only", is_flag=True, help="Fail (exit 1) if exercises/ is out of date.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              help="The checkout holding solutions/ and exercises/.")
@click.option("--gradescope", "gradescope_exercise", metavar="EXERCISE", default=None,
              help="Instead, build a Gradescope autograder zip for EXERCISE (with -o FILE.zip).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The autograder zip to write (--gradescope; default: EXERCISE-gradescope.zip).")
@click.option("--allow-unsafe-sandbox", is_flag=True,
              help="--gradescope: grade in the reduced sandbox where bubblewrap cannot run (else such a "
                   "container grades nothing and says why).")
def release(check_only: bool, root: Path, gradescope_exercise: str | None, output: Path | None,
            allow_unsafe_sandbox: bool):
    """Write exercises/ from the solution markers in solutions/ (course maintainers); with
    --gradescope, build a Gradescope autograder instead."""
    from .release import MarkerError, release as do_release

    if gradescope_exercise is not None:
        _gradescope_bundle(gradescope_exercise, output, root, allow_unsafe_sandbox)
        return
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


def _gradescope_bundle(exercise: str, output: Path | None, root: Path, allow_unsafe: bool) -> None:
    from .autograder import BundleError, build

    try:
        info = registry.find_exercise(exercise)
        built = build(info.id, output or Path(f"{info.id}-gradescope.zip"), root=root,
                      allow_unsafe_sandbox=allow_unsafe)
    except (registry.UnknownExercise, BundleError) as e:
        _fail(str(e))
    torch = f", CPU torch {built['torch']}" if built["torch"] else ""
    click.echo(f"wrote {output or Path(f'{info.id}-gradescope.zip')} ({built['bytes'] / 1e6:.1f} MB: {built['wheel']}, "
               f"{len(built['requirements'])} pinned requirements{torch}, Python {built['python']}) — upload it "
               "on Gradescope's Configure Autograder page")


@main.command("batch")
@click.argument("exercise")
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the gradebook and exports (default: SUBMISSIONS-EXERCISE-graded beside it).")
@click.option("--workers", "-j", type=click.IntRange(min=1), default=None,
              help="Submissions graded at once (default: the number of cores).")
@click.option("--timeout", type=click.FloatRange(min=1), default=None,
              help="Seconds for one whole submission (default: the exercise's limit, 300 s).")
@click.option("--regrade", multiple=True, metavar="STUDENT", help="Grade this student again (id or name; repeatable).")
@click.option("--regrade-all", is_flag=True, help="Grade every student again.")
@click.option("--gradebook", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The SQLite gradebook (default: OUT/gradebook.sqlite).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Datasets for checks that need them (default: $DLCOURSE_DATA, else the user cache folder).")
@click.option("--no-sandbox", is_flag=True, help="Run without bubblewrap (limits and guards stay).")
@click.option("--allow-unsafe-sandbox", is_flag=True,
              help="Grade even without the full sandbox (a submission could then forge its grade).")
@click.option("--no-progress", is_flag=True, help="No progress bar (logs, CI).")
@click.option("--moodle-worksheet", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Moodle's grading worksheet to fill in (OUT/EXERCISE/moodle-worksheet.csv).")
@click.option("--canvas-gradebook", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Canvas's gradebook export to fill in (OUT/EXERCISE/canvas-grades.csv).")
@click.option("--canvas-assignment", metavar="NAME", default=None,
              help="The gradebook's assignment column (default: the one named like the exercise).")
@click.option("--excel", is_flag=True, help="CSV files with a UTF-8 byte-order mark, for Excel.")
@click.option("--publish-hidden", is_flag=True, help="Name and explain the hidden checks in the students' feedback.")
@click.option("--no-similarity", is_flag=True, help="Do not look for similar submissions.")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Grade on a Dask cluster: tcp://HOST:PORT of a running `dask scheduler`, or local:N "
                   "(N worker processes here).")
@click.option("--fresh-workers", is_flag=True,
              help="Start every sandboxed worker afresh instead of forking it from a warm parent that has "
                   "imported the exercise's libraries (slower: torch's import for each submission).")
@click.option("-v", "--verbose", is_flag=True, help="Tracebacks of the grader's own errors.")
def batch_cmd(exercise, submissions, out, workers, timeout, regrade, regrade_all, gradebook, data_dir, no_sandbox,
              allow_unsafe_sandbox, no_progress, moodle_worksheet, canvas_gradebook, canvas_assignment, excel,
              publish_hidden, no_similarity, scheduler, fresh_workers, verbose):
    """Grade every submission in SUBMISSIONS (a folder, a .zip, or a Moodle download) with the
    instructor's settings; write a gradebook, grades.csv, feedback per student and a summary."""
    from rich.console import Console

    from .batch import print_report, run_batch
    from .batch.cluster import SchedulerError
    from .batch.export import Options

    options = Options(excel=excel, publish_hidden=publish_hidden, moodle_worksheet=moodle_worksheet,
                      canvas_gradebook=canvas_gradebook, canvas_assignment=canvas_assignment)
    try:
        report = run_batch(exercise, submissions, out=out, workers=workers, timeout=timeout, regrade=regrade,
                           regrade_all=regrade_all, gradebook=gradebook, data_dir=data_dir, sandbox=not no_sandbox,
                           progress=not no_progress, verbose=verbose, console=Console(stderr=True, highlight=False),
                           allow_unsafe_sandbox=allow_unsafe_sandbox, options=options, similarity=not no_similarity,
                           scheduler=scheduler, warm=not fresh_workers)
    except (registry.UnknownExercise, extras.MissingDependency, SubmissionError, IsolationError, SchedulerError) as e:
        _fail(str(e))
    except KeyboardInterrupt:
        _fail("interrupted — every student graded so far is in the gradebook; run the same command to go on", 130)
    except Exception as e:  # the grader's own failure: one line unless -v
        if verbose:
            raise
        _fail(f"internal error in the batch run ({type(e).__name__}: {e}) — rerun with -v and report it", 3)
    print_report(report, Console(highlight=False))
