"""The attacks of the security review, each tried by a submission: none may succeed.

Each attack runs inside exercise03's ``conv_output_size`` and returns a wrong answer *if it
worked*, the right one if it was refused: that function's checks passing is the proof that
every call was contained (and ``relu``'s checks passing that the rest of the grading went on).
Class-wide attacks (a classmate's files, the gradebook, killing the run) are tried in a batch.
The full sandbox is what CI has (it installs bubblewrap and runs as root); where it is not
available here these tests skip, and the refusal tests at the end run with and without it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader.sandbox.process import Limits, isolation, tagged_processes

ROOT = Path(__file__).resolve().parents[2]
EX = "exercise03"

full = pytest.mark.skipif(not isolation(True).real,
                          reason=f"the full sandbox is not available here ({isolation(True).missing})")


@pytest.fixture(params=["fresh worker", "warm parent's fork"])
def grade_text(request, grade_text):
    """Each attack on a fresh worker, and on a worker forked by a warm parent (batch grading's)."""
    from grader.sandbox import process

    process.keep_warm(request.param != "fresh worker")
    yield grade_text
    process.keep_warm(False)


def attack(body: str, *, setup: str = "") -> str:
    """A conv_output_size that tries ``body`` (which sets ``worked = True`` on success)."""
    return setup + "\n\n_right = conv_output_size  # the solution's\n\n" \
        "def conv_output_size(n, kernel_size, stride=1, padding=0):\n    worked = False\n" \
        + textwrap.indent(f"try:\n{textwrap.indent(body.strip(), '    ')}\nexcept Exception:\n    pass", "    ") \
        + "\n    return -1 if worked else _right(n, kernel_size, stride, padding)\n"


def assert_contained(grade_text, solution_text, body: str, *, setup: str = "", **kwargs):
    result = grade_text(EX, solution_text(EX) + attack(body, setup=setup), functions=["conv_output_size", "relu"],
                        limits=Limits(call_timeout=5.0, check_timeout=20.0), **kwargs)
    failed = [(c.name, c.message) for c in result.checks if not c.passed]
    assert not failed, failed
    assert result.score == result.max_score > 0
    return result


def _mine() -> set[int]:
    """The live processes this test process's workers started (a warm parent, kept for the next, is not one)."""
    from grader.sandbox.process import warm_parent_pids

    return {pid for pid, parent in tagged_processes().items() if parent == os.getpid()} - warm_parent_pids()


# --------------------------------------------------------------------------- one grading


@full
def test_the_worker_sees_no_other_process_and_cannot_write_into_any_pipe(grade_text, solution_text):
    # forged result: the grader's (or a batch child's) pipes reached through /proc/<pid>/fd
    assert_contained(grade_text, solution_text, r'''
import os
for pid in os.listdir("/proc"):
    if pid.isdigit() and int(pid) != os.getpid():
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                with open(f"/proc/{pid}/fd/{fd}", "wb", buffering=0) as f:
                    f.write(b'{"ok": true, "value": 3}')
                worked = True
            except OSError:
                pass
''')


@full
def test_the_graders_stdout_cannot_be_forged_and_the_grader_not_killed(tmp_path, solution_text):
    forged = '{"score": 999, "tests": []}'
    body = f'''
import os, signal
for pid in range(1, 400):
    if pid == os.getpid():
        continue
    try:
        with open(f"/proc/{{pid}}/fd/1", "w") as f:
            f.write({forged!r})
        worked = True
    except OSError:
        pass
    try:
        os.kill(pid, signal.SIGKILL)
        worked = True
    except OSError:
        pass
'''
    path = tmp_path / "exercise03.py"
    path.write_text(solution_text(EX) + attack(body))
    proc = subprocess.run([sys.executable, "-m", "grader", EX, "--submission", str(path), "--format", "json",
                           "--official"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)  # one genuine JSON object, nothing appended
    assert report["score"] == 17.0 and "999" not in proc.stdout


@full
def test_raw_system_calls_cannot_start_a_daemon_or_signal_another_process(grade_text, solution_text):
    before = _mine()
    assert_contained(grade_text, solution_text, r'''
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for nr in (57, 58):  # fork, vfork (x86_64): a child that would outlive the grading
    pid = libc.syscall(nr)
    if pid == 0:
        libc.syscall(112)  # setsid
        import time
        time.sleep(600)
    if pid > 0:
        worked = True
if libc.syscall(56, 0x11, 0, 0, 0, 0) > 0:  # clone(SIGCHLD): a process, not a thread
    worked = True
if libc.syscall(112) >= 0:  # setsid: out of the process group the grader kills
    worked = True
for pid in (1, os.getppid()):
    if libc.syscall(62, pid, 0) == 0 and pid != os.getpid():  # kill(pid, 0)
        worked = True
if libc.syscall(101, 16, os.getppid(), 0, 0) == 0:  # ptrace(PTRACE_ATTACH, parent)
    worked = True
''')
    assert _mine() - before == set()


@full
def test_the_worker_cannot_read_the_graders_environment_or_memory(grade_text, solution_text, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET_FOR_THE_TEST", "hidden-check-docstring")
    assert_contained(grade_text, solution_text, r'''
import os
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    for name in ("environ", "mem", "cmdline", "maps"):
        try:
            with open(f"/proc/{pid}/{name}", "rb") as f:
                data = f.read(1 << 16)
            if b"GRADER_SECRET_FOR_THE_TEST" in data or b"pytest" in data:
                worked = True
        except (OSError, ValueError):
            pass
''')


@full
def test_the_worker_sees_none_of_the_hosts_files(grade_text, solution_text, tmp_path):
    secret = tmp_path / "instructor" / "solutions.py"
    secret.parent.mkdir()
    secret.write_text("ANSWER = 42\n")
    paths = [str(secret), str(ROOT / "solutions" / "exercise03.py"), str(ROOT / "reference"),
             "/etc/passwd", "/root/.bashrc", "/var", "/home", "/run", str(ROOT.parent / "shared")]
    assert_contained(grade_text, solution_text, f'''
import os
for p in {paths!r}:
    if os.path.exists(p):
        worked = True
''')


@full
def test_the_interpreter_and_its_packages_are_read_only(grade_text, solution_text):
    import numpy
    import site

    targets = [os.path.dirname(numpy.__file__), *site.getsitepackages(), sys.prefix]
    assert_contained(grade_text, solution_text, f'''
import os
for folder in {targets!r}:
    try:
        with open(os.path.join(folder, "zz_planted.pth"), "w") as f:
            f.write("import os\\n")
        worked = True
    except OSError:
        pass
''')
    assert not any(os.path.exists(os.path.join(t, "zz_planted.pth")) for t in targets)


@full
def test_the_worker_runs_as_an_unprivileged_user_with_a_small_private_tmp(grade_text, solution_text):
    assert_contained(grade_text, solution_text, f'''
import os
if os.getuid() == {os.getuid()} and os.getuid() == 0:
    worked = True
try:  # 12 files of 32 MB: each under the file size limit, together over the 256 MB of /tmp
    for i in range(12):
        with open(f"/tmp/big{{i}}", "wb") as f:
            for _ in range(32):
                f.write(b"x" * (1 << 20))
    worked = True
except OSError:
    pass
finally:
    for i in range(12):
        if os.path.exists(f"/tmp/big{{i}}"):
            os.remove(f"/tmp/big{{i}}")
''')


@full
def test_no_socket_reaches_anything_not_even_a_host_unix_socket(grade_text, solution_text, tmp_path):
    import socket

    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path = str(tmp_path / "host.sock")
    server.bind(path)
    server.listen(1)
    try:
        assert_contained(grade_text, solution_text, f'''
import ctypes, socket
libc = ctypes.CDLL(None, use_errno=True)
if libc.socket(1, 1, 0) >= 0:  # AF_UNIX via libc, past the audit hook
    worked = True
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect({path!r})
worked = True
''')
    finally:
        server.close()


def test_a_forbidden_library_used_from_a_thread_breaks_the_rule(grade_text, solution_text):
    text = solution_text(EX) + '''

import threading

def conv2d(image, kernel, bias=0.0, stride=1, padding=0):
    out = {}
    def work():
        mod = __import__("scip" + "y.signal", fromlist=["correlate2d"])
        out["y"] = mod.correlate2d(image, kernel, mode="valid") + bias
    t = threading.Thread(target=work)
    t.start()
    t.join()
    if "y" not in out:
        raise RuntimeError("the helper thread failed")
    return out["y"]
'''
    result = grade_text(EX, text, functions=["conv2d"])
    conv = [c for c in result.checks if c.functions[0] == "conv2d"]
    assert conv and all(c.score == 0 and c.outcome == "rule" for c in conv), [(c.outcome, c.message) for c in conv]
    assert "it uses scipy.signal.correlate2d" in conv[0].message


def test_a_forbidden_library_imported_at_the_top_is_a_stand_in_that_refuses_any_use(grade_text, solution_text):
    text = "import torch\nimport scipy.signal as sig\n" + solution_text(EX) + '''

def relu(x):
    return sig.correlate2d(x, [[1]], mode="valid")
'''
    result = grade_text(EX, text, functions=["relu", "conv_output_size"])
    relu = [c for c in result.checks if c.functions[0] == "relu"]
    assert relu and all(c.outcome == "rule" and c.score == 0 for c in relu)
    assert "exercise03 is written by hand" in relu[0].message and "scipy.signal.correlate2d" in relu[0].message
    assert all(c.passed for c in result.checks if c.functions[0] == "conv_output_size")  # the file still loaded


# --------------------------------------------------------------------------- a class


@pytest.fixture
def hostile_class(tmp_path, solution_text):
    """A class of two: mallory attacks, alice hands in the solution (graded after her)."""
    folder = tmp_path / "class"
    out = tmp_path / "graded"
    (folder / "alice").mkdir(parents=True)
    (folder / "mallory").mkdir()
    alice = folder / "alice" / "exercise03.py"
    alice.write_text(solution_text(EX))
    book = out / "gradebook.sqlite"
    body = f'''
import ctypes, os, signal, sqlite3
try:
    text = open({str(alice)!r}).read()
    worked = True
    open({str(alice)!r}, "w").write("def relu(x):\\n    return 0\\n")
except OSError:
    pass
try:
    db = sqlite3.connect({str(book)!r})
    db.execute("update submissions set score = 999")
    db.commit()
    worked = True
except Exception:
    pass
libc = ctypes.CDLL(None, use_errno=True)
for pid in range(1, 300):
    if pid != os.getpid() and libc.syscall(62, pid, signal.SIGKILL) == 0:
        worked = True
'''
    (folder / "mallory" / "exercise03.py").write_text(solution_text(EX) + attack(body))
    return folder, out, alice


@full
def test_a_classmate_cannot_read_or_change_another_submission_the_gradebook_or_kill_the_run(hostile_class):
    from grader.batch import run_batch
    from grader.batch.gradebook import Gradebook

    folder, out, alice = hostile_class
    original = alice.read_text()
    report = run_batch(EX, folder, out=out, workers=2, progress=False)
    assert alice.read_text() == original
    with Gradebook(report.gradebook) as book:
        rows = {r.student: r for r in book.rows(EX)}
    assert (rows["alice"].status, rows["alice"].score) == ("graded", 18.0)
    assert (rows["mallory"].status, rows["mallory"].score) == ("graded", 18.0)  # every attack refused
    with sqlite3.connect(report.gradebook) as db:
        assert 999 not in [r[0] for r in db.execute("select score from submissions")]


# --------------------------------------------------------------------------- official grading refuses without isolation


def _cli(*args, env_extra: dict, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_extra}
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, timeout=300,
                          env=env, cwd=cwd)


@pytest.mark.parametrize("args", [
    ["exercise03", "--submission", str(ROOT / "solutions" / "exercise03.py"), "--instructor"],
    ["exercise03", "--submission", str(ROOT / "solutions" / "exercise03.py"), "--official", "--format", "json"],
    ["exercise03", "--submission", str(ROOT / "solutions" / "exercise03.py"), "--instructor", "--no-sandbox"],
    ["batch", "exercise03", "CLASS", "--no-progress"],
], ids=["instructor", "official", "instructor without sandbox", "batch"])
def test_official_grading_refuses_without_the_full_sandbox_in_one_line(args, tmp_path, solution_text):
    (tmp_path / "CLASS" / "alice").mkdir(parents=True)
    (tmp_path / "CLASS" / "alice" / "exercise03.py").write_text(solution_text(EX))
    proc = _cli(*args, env_extra={"GRADER_NO_BWRAP": "1"}, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "official grading needs the full sandbox" in proc.stderr
    assert "--allow-unsafe-sandbox" in proc.stderr and "bubblewrap" in proc.stderr
    assert not (tmp_path / "CLASS-exercise03-graded").exists()


def test_with_allow_unsafe_sandbox_it_grades_and_says_the_sandbox_is_reduced(tmp_path):
    proc = _cli("exercise03", "--submission", str(ROOT / "solutions" / "exercise03.py"), "--instructor",
                "--allow-unsafe-sandbox", "--format", "json", env_extra={"GRADER_NO_BWRAP": "1"}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["score"] == 18.0


def test_a_students_own_run_falls_back_with_a_one_line_warning(tmp_path):
    proc = _cli("exercise03", "--submission", str(ROOT / "solutions" / "exercise03.py"), "--format", "json",
                env_extra={"GRADER_NO_BWRAP": "1"}, cwd=tmp_path)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["score"] == 17.0
    assert proc.stderr.startswith("grade: warning: reduced sandbox — bubblewrap") and proc.stderr.count("\n") == 1
