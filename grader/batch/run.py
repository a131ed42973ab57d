"""``run_batch``: discover, grade what is new, export, summarize — the whole batch run.

A student is graded again only when their files changed (sha256), the grader changed (its
version, or the exercise's checks or reference), the last attempt was the grader's own
error, or the instructor asks (``regrade``). Everything else comes from the gradebook, so
a run killed halfway and started again grades only the students it had not finished.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

from rich.console import Console

from .. import __version__, extras, registry
from ..collect import SubmissionError
from ..sandbox.process import require_isolation
from . import ensemble, export, leaderboard
from .discover import Discovery, Student, discover
from .gradebook import Gradebook, Row
from .progress import BatchProgress
from .runner import Job, Outcome, Pool, Settings
from .summary import ClassSummary, render, summarize


@dataclass
class BatchReport:
    """What a run did (also what ``grade batch`` prints last)."""

    exercise: str
    out: Path
    gradebook: Path
    students: int
    graded: int  # in this run
    kept: int  # unchanged since an earlier run: taken from the gradebook
    elapsed: float
    summary: ClassSummary
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def default_out(submissions: Path, exercise: str) -> Path:
    """``class/`` or ``class.zip`` → ``class-exercise03-graded/`` beside it."""
    stem = submissions.name[:-4] if submissions.name.lower().endswith(".zip") else submissions.name
    return submissions.resolve().parent / f"{stem}-{exercise}-graded"


def grader_version(info: registry.ExerciseInfo, secret: str = "") -> str:
    """The package version plus a digest of what decides a verdict: the exercise's checks and
    reference, the shared strategies and helpers, the engine (seeds, replay, shrinking) and the
    course's secret (its examples). Editing any of them (or adding a hidden check, or changing
    the secret) means grading again, without a release."""
    digest = hashlib.sha256(secret.encode())
    for module in (f"grader.checks.{info.id}", f"grader.reference.{info.id}", "grader.engine.run", "grader.engine.replay",
                   "grader.engine.diagnose", "grader.kit.check",
                   "grader.kit.expect", "grader.kit.strategies", "grader.kit.stats", "grader.kit.models",
                   "grader.kit.trained", "grader.sandbox.probes", "grader.sandbox.worker", "grader.sandbox.protocol"):
        spec = importlib.util.find_spec(module)
        if spec is not None and spec.origin and os.path.isfile(spec.origin):
            digest.update(Path(spec.origin).read_bytes())
    return f"{__version__}+{digest.hexdigest()[:10]}"


def run_batch(exercise: str | registry.ExerciseInfo, submissions: str | Path, *, out: str | Path | None = None,
              workers: int | None = None, timeout: float | None = None, regrade: Iterable[str] = (),
              regrade_all: bool = False, sandbox: bool = True, gradebook: str | Path | None = None,
              data_dir: str | Path | None = None, console: Console | None = None, progress: bool = True,
              verbose: bool = False, allow_unsafe_sandbox: bool = False,
              options: export.Options = export.Options(), similarity: bool = True,
              scheduler: str | None = None, warm: bool = True, secret: str | None = None) -> BatchReport:
    """Grade every submission in ``submissions`` (a folder or .zip) and write the exports.

    Raises ``registry.UnknownExercise`` or ``SubmissionError`` for usage errors (no such
    exercise, no such folder, an unknown student in ``regrade``), ``extras.MissingDependency``
    when the exercise needs a library this machine lacks (torch), and ``IsolationError``
    when this machine cannot give the workers the full sandbox (batch grades are official)
    and ``allow_unsafe_sandbox`` is not set. ``options`` says how to write the exports (and
    which platforms' files, besides those of the download's own platform); ``similarity``
    lists suspiciously similar pairs in the summary. ``scheduler`` (``tcp://host:port`` of a
    running Dask scheduler, or ``local:N``) grades on Dask workers instead of this machine's
    forks (``cluster.DaskPool``); raises ``cluster.SchedulerError`` when it cannot be used.
    ``warm`` forks the sandboxed workers from warm parents that imported the exercise's
    libraries once (``sandbox.process.Zygote``); off, each starts afresh. ``secret`` seeds the
    official examples (None: the course's, ``grader.secret.official_secret``).
    """
    started = time.monotonic()
    info = exercise if isinstance(exercise, registry.ExerciseInfo) else registry.find_exercise(exercise)
    extras.require(info)
    _check_platform_files(options, info)
    require_isolation(sandbox, allow_unsafe=allow_unsafe_sandbox)
    if secret is None:
        from ..secret import official_secret

        secret = official_secret()[0]
    submissions = Path(submissions)
    out = Path(out) if out is not None else default_out(submissions, info.id)
    console = console or Console(stderr=True, highlight=False)
    workdir = Path(tempfile.mkdtemp(prefix="grade-batch-"))
    try:
        found = discover(submissions, info, workdir)
        out.mkdir(parents=True, exist_ok=True)
        book_path = Path(gradebook) if gradebook is not None else out / "gradebook.sqlite"
        with Gradebook(book_path) as book:
            version = grader_version(info, secret)
            todo = _to_grade(found, book, info.id, version, set(regrade), regrade_all)
            by_id = {s.id: s for s in found.students}
            for student in todo:
                if student.problem:
                    book.record(_problem_row(info, student, version))
            jobs = [s for s in todo if not s.problem]
            if jobs:
                settings = Settings(info, workers=workers or _cores(), timeout=timeout, sandbox=sandbox,
                                    hidden_paths=_hidden(submissions, out, workdir, book_path),
                                    data_dir=Path(data_dir) if data_dir else None, verbose=verbose,
                                    staging=workdir, warm=warm, secret=secret)
                if scheduler:
                    from .cluster import DaskPool

                    pool = DaskPool(settings, scheduler)
                else:
                    pool = Pool(settings)
                with BatchProgress(len(jobs), console, enabled=progress) as bar:
                    def done(outcome: Outcome) -> None:
                        book.record(_row(info.id, by_id[outcome.student], version, outcome))
                        bar.done(outcome)

                    try:
                        pool.run([Job(s.id, s.file) for s in jobs], done, bar.tick)
                    finally:
                        pool.close()
            rows = book.rows(info.id, [s.id for s in found.students])
        summary = summarize(rows, info.id, info.title)
        folder = out / info.id
        notes = list(found.notes)
        if similarity and importlib.util.find_spec("copydetect") is None:
            notes.append('similar submissions not looked for: pip install "dlcourse-grader[instructor]" (copydetect)')
        elif similarity:
            from . import similarity as similar

            summary.similar = similar.similar_pairs([s for s in found.students if s.file], info)
            similar.write_pages(summary.similar, folder / "similarity")
        options = replace(options, moodle=options.moodle or "moodle" in found.platforms,
                          canvas=options.canvas or "canvas" in found.platforms)
        files = export.write_all(rows, summary, folder, workers=workers or _cores(), options=options)
        team_ensemble, note = ensemble.of_batch(rows, info.id, data_dir)  # where the teams' models kept probabilities
        notes += [note] if note else []
        files += leaderboard.write(rows, info.id, folder, book_path, team_ensemble)  # where checks report halves
        more, missing = export.write_platforms(rows, info, folder, options)
        return BatchReport(info.id, out, book_path, len(found.students), len(jobs), len(found.students) - len(todo),
                           round(time.monotonic() - started, 1), summary, files + more, notes + missing)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _check_platform_files(options: export.Options, info: registry.ExerciseInfo) -> None:
    """Read the platform files given before anything is graded: a wrong file is a usage error now,
    not after an hour of grading."""
    from . import canvas, moodle

    if options.moodle_worksheet is not None:
        moodle.read_worksheet(options.moodle_worksheet)
    if options.canvas_gradebook is not None:
        canvas.assignment_column(canvas.read_gradebook(options.canvas_gradebook), info, options.canvas_assignment)


def _to_grade(found: Discovery, book: Gradebook, exercise: str, version: str, regrade: set[str],
              regrade_all: bool) -> list[Student]:
    """The students whose row is missing or stale, or who are to be graded again anyway."""
    names = {s.name.lower(): s.id for s in found.students if s.name}
    wanted = set()
    for who in regrade:
        sid = who if any(s.id == who for s in found.students) else names.get(who.lower())
        if sid is None:
            raise SubmissionError(f"--regrade {who}: no such student in the submissions (ids are folder or file "
                                  "names, or Moodle's participant numbers)")
        wanted.add(sid)
    return [s for s in found.students if regrade_all or s.id in wanted or not _fresh(book.get(exercise, s.id), s, version)]


def _fresh(row: Row | None, student: Student, version: str) -> bool:
    """Is the gradebook's row still what grading ``student`` would give?"""
    if row is None or row.sha256 != student.sha256 or row.grader_version != version:
        return False
    if student.problem:
        return row.status == "problem" and row.message == student.problem
    return row.status not in ("problem", "error") and row.file == student.source


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _hidden(submissions: Path, out: Path, workdir: Path, book: Path) -> tuple[str, ...]:
    """What a submission's worker must not see: every hand-in, the outputs, the gradebook.

    A zip is hidden with its folder, unless that folder holds Python itself (the worker
    needs it): then the unpacked copy is hidden, and the zip stays readable.
    """
    needed = [os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path) if p]
    paths = [submissions if submissions.is_dir() else submissions.parent, out, workdir, book.parent]
    keep = []
    for p in dict.fromkeys(os.path.realpath(p) for p in paths):
        if not any(n == p or n.startswith(p + os.sep) for n in needed):
            keep.append(p)
    return tuple(keep)


def _problem_row(info: registry.ExerciseInfo, student: Student, version: str) -> Row:
    """Not graded: no points of the exercise's (all of them, hidden included: a batch grades as the instructor)."""
    return Row(info.id, student.id, student.name, student.source, student.sha256, version, "problem", 0.0,
               info.points + info.hidden_points, student.problem, late=student.late)


def _row(exercise: str, student: Student, version: str, outcome: Outcome) -> Row:
    result = outcome.result or {}
    return Row(exercise, student.id, student.name, student.source, student.sha256, version, outcome.status,
               float(result.get("score", 0.0)), float(result.get("max_score", 0.0)), outcome.message,
               outcome.result, duration=outcome.duration, late=student.late)


def print_report(report: BatchReport, console: Console) -> None:
    """The end of ``grade batch``: the class summary, then where everything went."""
    render(report.summary, console)
    for note in report.notes:
        console.print(f"[dim]note: {note}[/]")
    console.print(f"\ngraded {report.graded} of {report.students} students in {report.elapsed:g} s"
                  f" ({report.kept} unchanged, from the gradebook)" if report.kept else
                  f"\ngraded {report.graded} of {report.students} students in {report.elapsed:g} s")
    console.print(f"gradebook: {report.gradebook}\nfeedback, grades.csv, summary.md: {report.out / report.exercise}")
    for path in report.files:
        if path.name in ("moodle-worksheet.csv", "moodle-feedback.zip", "canvas-grades.csv"):
            console.print(f"for the platform: {path}")
