"""Grading on a Dask cluster: the same warm parent and sandbox, on as many machines as Dask has.

``grade batch … --scheduler tcp://host:8786`` (a running ``dask scheduler``) or
``--scheduler local:N`` (a ``LocalCluster`` of N worker processes on this machine) hands each
submission to a Dask worker as one task. Dask does the distributing, the retrying of tasks
whose worker was lost, and the transport; nothing of it is home-made here.

On a Dask worker a task never grades in the worker's own process, which runs threads (an
event loop, the task threads) and so cannot fork safely. Each task thread keeps a *warm
parent* instead: a plain ``python -m grader.batch.cluster`` subprocess that imports the
exercise once (its PRELOAD: torch) and grades through ``runner.Pool`` exactly as a local
batch does — a fresh forked child per submission, whose student code runs in its own
sandbox worker. The task sends the submission's bytes and gets the outcome back as JSON.

The client (the instructor's ``grade batch``) stays the only writer of the gradebook: results
stream back as tasks finish (``as_completed``) and are recorded one by one, so a run killed
halfway and started again grades only what it had not finished. A submission never runs in
the scheduler or in the client.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from .. import registry
from .runner import Job, Outcome, Pool, Settings

INSTALL = 'pip install "dlcourse-grader[cluster]" (dask and distributed)'


class SchedulerError(RuntimeError):
    """The Dask scheduler cannot be used (not installed, not reachable, a bad address): a usage error."""


@dataclass(frozen=True)
class RemoteSettings:
    """What a Dask worker needs to grade as the instructor asked: plain data, the same on every machine."""

    exercise: str
    timeout: float | None = None
    sandbox: bool = True
    data_dir: str | None = None  # a path on the workers' machines (the datasets are there, or nothing is)
    grace: float | None = None
    warm: bool = True
    secret: str = field(default="", repr=False)  # official examples; to the warm parent by environment, not argv

    @classmethod
    def of(cls, settings: Settings) -> "RemoteSettings":
        return cls(settings.exercise.id, settings.timeout, settings.sandbox,
                   str(settings.data_dir) if settings.data_dir is not None else None, settings.grace, settings.warm,
                   settings.secret)


# --------------------------------------------------------------------------- the client side


def connect(address: str):
    """Return ``(client, cluster)`` for ``tcp://…`` (cluster None) or ``local:N`` (a LocalCluster we own)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SchedulerError(f"--scheduler needs Dask's distributed scheduler: {INSTALL}") from None
    if address.startswith("local:"):
        try:
            n = int(address.split(":", 1)[1])
        except ValueError:
            raise SchedulerError(f"--scheduler {address}: write local:N, N the number of worker processes") from None
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(cluster), cluster
    try:
        _reachable(address)
        return Client(address, timeout="20s"), None
    except (OSError, TimeoutError) as e:
        raise SchedulerError(f"--scheduler {address}: no Dask scheduler answers there ({e}); start one with "
                             "`dask scheduler` and workers with `dask worker ADDRESS --nthreads 1`") from None


def _reachable(address: str) -> None:
    """Fail at once when nothing listens at a tcp:// address (Dask's client would retry for its whole timeout)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address)
    if parts.scheme == "tcp" and parts.hostname and parts.port:
        socket.create_connection((parts.hostname, parts.port), timeout=10).close()


class DaskPool:
    """``DaskPool(settings, address)``; ``run(jobs, on_done, on_tick)`` as ``runner.Pool`` does."""

    def __init__(self, settings: Settings, address: str):
        self.settings, self.address = settings, address
        self.client, self.cluster = connect(address)

    def run(self, jobs: list[Job], on_done: Callable[[Outcome], None], on_tick: Callable[[], None] = lambda: None):
        from distributed import as_completed

        remote = asdict(RemoteSettings.of(self.settings))
        jobs_of = {}
        try:
            for job in jobs:
                data = base64.b64encode(job.path.read_bytes()).decode()
                future = self.client.submit(grade_task, job.student, job.path.name, data, remote,
                                            key=f"grade-{remote['exercise']}-{job.student}-{os.urandom(4).hex()}",
                                            pure=False)
                jobs_of[future] = job
            for future in as_completed(list(jobs_of)):
                on_done(_outcome(future, jobs_of[future]))
                on_tick()
        finally:
            self.close()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _outcome(future, job: Job) -> Outcome:
    """The task's outcome; a task Dask gave up on (its workers kept dying) is the grader's error, not the student's."""
    try:
        return Outcome(**future.result())
    except Exception as e:  # noqa: BLE001 - KilledWorker, a worker without the package, …
        why = f"internal error while grading on the cluster: {type(e).__name__}: {str(e)[:200]}"
        return Outcome(job.student, "error", None, why)


# --------------------------------------------------------------------------- on a Dask worker

_LOCAL = threading.local()  # one warm parent per task thread (a worker with --nthreads N has N)


def grade_task(student: str, name: str, data: str, remote: dict) -> dict:
    """Grade one submission on this Dask worker, through this thread's warm parent; return the Outcome as a dict."""
    key = json.dumps(remote, sort_keys=True)
    parent = getattr(_LOCAL, "parent", None)
    if parent is None or parent.key != key or parent.process.poll() is not None:
        if parent is not None:
            parent.close()
        parent = _LOCAL.parent = WarmParent(remote, key)
    return parent.grade(student, name, data)


class WarmParent:
    """``python -m grader.batch.cluster`` on this machine: a warm ``runner.Pool`` serving one job at a time."""

    def __init__(self, remote: dict, key: str):
        self.key = key
        env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
        remote = dict(remote)
        env["GRADER_SECRET"] = remote.pop("secret", "")  # not on the command line, where ps shows it
        self.process = subprocess.Popen([sys.executable, "-m", "grader.batch.cluster", json.dumps(remote)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
        ready = self.process.stdout.readline()
        if not ready.startswith("ready"):
            self.close()
            raise RuntimeError(f"the warm parent did not start: {ready.strip() or 'no answer'}")

    def grade(self, student: str, name: str, data: str) -> dict:
        self.process.stdin.write(json.dumps({"student": student, "name": name, "data": data}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the warm parent ended while grading")
        return json.loads(line)

    def close(self) -> None:
        try:
            self.process.kill()
            self.process.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            pass


def serve(remote: dict) -> None:
    """The warm parent's loop: requests on stdin, outcomes on the real stdout, one JSON line each."""
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever else prints goes to stderr, never into the channel
    sys.stdout = sys.stderr
    info = registry.find_exercise(remote["exercise"])
    staging = Path(tempfile.mkdtemp(prefix="grade-dask-"))
    settings = Settings(info, workers=1, timeout=remote.get("timeout"), sandbox=remote.get("sandbox", True),
                        hidden_paths=(str(staging),), data_dir=Path(remote["data_dir"]) if remote.get("data_dir") else None,
                        grace=remote.get("grace"), staging=staging, warm=remote.get("warm", True),
                        secret=os.environ.pop("GRADER_SECRET", ""))
    pool = Pool(settings)
    channel.write("ready\n")
    channel.flush()
    for line in sys.stdin:
        request = json.loads(line)
        folder = Path(tempfile.mkdtemp(prefix="submission-", dir=staging))
        path = folder / Path(request["name"]).name
        path.write_bytes(base64.b64decode(request["data"]))
        outcomes: list[Outcome] = []
        pool.run([Job(request["student"], path)], outcomes.append)
        channel.write(json.dumps(asdict(outcomes[0])) + "\n")
        channel.flush()
        path.unlink(missing_ok=True)
        folder.rmdir()


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]))
