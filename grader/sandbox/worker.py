"""The worker: the only process that runs student code.

Started by ``grader.sandbox.process`` as ``python -I -S worker.py FD_IN FD_OUT CONFIG_JSON``, it
drops to its own uid when the grader runs as root, takes the grader's module search path from
the config (``-S`` skips the site module and the ``.pth`` files it would run: a third of the
start-up), sets its own resource limits, preloads the libraries the exercise needs, makes
itself non-dumpable, loads the seccomp filter (``seccomp.py``: from here on the kernel refuses
new processes, signals to others, sockets, ptrace), turns the libraries the exercise forbids
into stand-ins that refuse any use, installs its in-process guards (an audit hook that blocks
starting processes, networking and reading the grader's files, and an import blocker), then
answers requests on FD_IN with replies on FD_OUT until EOF.

It deliberately imports nothing from the ``grader`` package (only ``protocol.py``,
``probes.py`` and ``seccomp.py``, by path), so that the sandbox can hide the whole
installation from it. Everything it sends is plain data; the grader treats it as untrusted
anyway, since student code shares this process and can tamper with anything here; the
in-process guards are a second line of defence behind the sandbox and the filter.
"""
import functools
import importlib.util
import json
import os
import resource
import sys
import traceback
import types


def _search_path() -> None:
    """Append the grader's module search path (what ``site`` would have added) and site's ``exit``."""
    import builtins

    config = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    for path in config.get("path", []):
        if path not in sys.path:
            sys.path.append(path)
    for name in ("exit", "quit"):  # notebooks end with exit() now and then
        if not hasattr(builtins, name):
            setattr(builtins, name, sys.exit)


_search_path()
_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("_grader_protocol", os.path.join(_here, "protocol.py"))
protocol = importlib.util.module_from_spec(_spec)
sys.modules["_grader_protocol"] = protocol
_spec.loader.exec_module(protocol)

PROCESS_EVENTS = {
    "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.system", "os.exec",
    "subprocess.Popen", "os.kill", "os.killpg", "pty.spawn", "os.startfile",
}
NETWORK_EVENTS = {"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
                  "socket.gethostbyname", "socket.gethostbyaddr"}
DANGEROUS_SYMBOLS = {b"fork", b"vfork", b"clone", b"clone3", b"execve", b"execv", b"execvp", b"system",
                     b"posix_spawn", b"posix_spawnp", b"kill", b"killpg", b"ptrace", b"setsid", b"daemon"}
BLOCKED_IMPORTS = ("grader", "reference", "solutions", "tests", "_grader_protocol")


class State:
    """What the guards need to know about the call in progress."""

    hidden: tuple = ()  # real paths the submission must not read
    monitoring = False  # a rule-bound call is running
    violations: list = []
    forbidden: tuple = ()  # top-level module names a rule forbids during the call
    forbidden_dirs: tuple = ()
    installing_profile = False
    caught = False  # the monitor switched itself off after a finding
    forbidden_modules: tuple = ()  # libraries the exercise's rule forbids: stand-ins that refuse any use
    forbidden_why = "the exercise's rule forbids it"


# --------------------------------------------------------------------------- guards


def _is_hidden(path) -> bool:
    if isinstance(path, int) or not State.hidden:
        return False
    try:
        p = os.path.realpath(os.fsdecode(path))
    except (TypeError, ValueError):
        return False
    return any(p == h or p.startswith(h + os.sep) for h in State.hidden)


def _audit(event, args):
    if event in PROCESS_EVENTS:
        raise PermissionError(f"the grading sandbox does not allow starting or signalling processes ({event})")
    if event in NETWORK_EVENTS:
        raise PermissionError(f"the grading sandbox has no network ({event})")
    if event in ("open", "os.listdir", "os.scandir", "shutil.copyfile", "os.chdir") and args and _is_hidden(args[0]):
        raise PermissionError("the grader's own files are not readable from a submission")
    if event == "ctypes.dlsym" and len(args) > 1:
        name = args[1] if isinstance(args[1], bytes) else str(args[1]).encode()
        if name in DANGEROUS_SYMBOLS:
            raise PermissionError("the grading sandbox does not allow this system call")
    if event == "sys.setprofile" and State.monitoring and not State.installing_profile:
        State.violations.append("switched off the grader's call monitor (sys.setprofile)")


class _ImportBlocker:  # a meta path finder (importlib.abc would cost 20 ms of start-up)
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in BLOCKED_IMPORTS:
            raise ImportError(f"'{name}' belongs to the grader and cannot be imported by a submission")
        if top in State.forbidden_modules:
            return importlib.util.spec_from_loader(name, _ForbiddenLoader, is_package=True)
        return None


class RuleViolation(Exception):
    """Student code touched a library the exercise forbids (reported as a broken rule)."""


class _Forbidden:
    """What a forbidden library is in this worker: importable (a file that imports torch at
    the top still loads), but any use — from any thread, however hidden — raises
    RuleViolation. Nothing of the real library is ever loaded."""

    def __init__(self, name: str):
        object.__setattr__(self, "_name", name)

    def _refuse(self, *args, **kwargs):
        finding = f"it uses {object.__getattribute__(self, '_name')}"
        State.violations.append(finding)  # seen by a rule-bound call even if a thread swallowed the error
        raise RuleViolation(f"{finding}: {State.forbidden_why}")

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return _Forbidden(f"{object.__getattribute__(self, '_name')}.{attr}")

    __call__ = __iter__ = __len__ = __bool__ = __getitem__ = __array__ = __index__ = __float__ = __int__ = _refuse

    def __setattr__(self, attr, value):
        self._refuse()

    def __repr__(self):
        return f"<forbidden {object.__getattribute__(self, '_name')}>"


class _ForbiddenModule(types.ModuleType):
    """A forbidden package or module: its attributes are ``_Forbidden`` stand-ins."""

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return _Forbidden(f"{self.__name__}.{attr}")


class _ForbiddenLoader:
    @staticmethod
    def create_module(spec):
        module = _ForbiddenModule(spec.name)
        module.__path__ = []  # a package: ``import scipy.signal`` finds its submodules here too
        return module

    @staticmethod
    def exec_module(module):
        pass


def _forbid(names: tuple) -> None:
    """Make the exercise's forbidden libraries unusable for the rest of this worker's life."""
    State.forbidden_modules = tuple(names)
    for key in list(sys.modules):
        if key.split(".")[0] in names:
            sys.modules[key] = _ForbiddenLoader.create_module(importlib.util.spec_from_loader(key, None))


def _profile(frame, event, arg):
    """During a rule-bound call: note the first call into a forbidden library, then stop watching."""
    found = None
    if event == "call":
        fn = frame.f_code.co_filename
        for d in State.forbidden_dirs:
            if fn.startswith(d):
                mod = frame.f_globals.get("__name__", "?")
                name = frame.f_code.co_name
                found = f"imports {mod}" if name == "<module>" else f"calls {mod}.{name}"
                break
    elif event == "c_call":
        mod = getattr(arg, "__module__", None)
        if not isinstance(mod, str):
            owner = getattr(arg, "__self__", None)
            mod = getattr(owner, "__name__", None) if isinstance(owner, types.ModuleType) else None
        if isinstance(mod, str) and mod.split(".")[0] in State.forbidden:
            found = f"calls {mod}.{getattr(arg, '__name__', '?')}"
    if found:
        State.violations.append(f"it {found}")
        State.installing_profile = True
        sys.setprofile(None)  # one finding is enough; let the call finish at full speed
        State.installing_profile = False
        State.caught = True


@functools.lru_cache(maxsize=None)
def _module_dirs(names: tuple) -> tuple:
    """Return the folders of the forbidden modules (found once: searching sys.path for six
    modules took longer than a typical call of the function being watched)."""
    dirs = []
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            continue
        for loc in (spec.submodule_search_locations or [os.path.dirname(spec.origin or "") or None]):
            if loc:
                dirs.append(os.path.realpath(loc) + os.sep)
    return tuple(dirs)


# --------------------------------------------------------------------------- the submission


class Worker:
    def __init__(self, config: dict):
        self.config = config
        self.module = types.ModuleType("submission")
        self.module.__dict__["__builtins__"] = __builtins__
        self.filenames: set[str] = set()
        self.handles: dict[int, object] = {}
        self.next_handle = 1
        self.probes = {}

    # ---- helpers

    def make_handle(self, obj) -> dict:
        hid = self.next_handle
        self.next_handle += 1
        self.handles[hid] = obj
        try:
            r = repr(obj)[:300]
        except BaseException:
            r = "?"
        t = type(obj)
        return {"$handle": hid, "type": f"{getattr(t, '__module__', '?')}.{getattr(t, '__qualname__', '?')}", "repr": r}

    def unwrap(self, value):
        return self.handles[value.id] if isinstance(value, protocol.Handle) else value

    def resolve(self, target):
        if isinstance(target, str):
            if target not in self.module.__dict__:
                raise LookupError(target)
            return self.module.__dict__[target]
        if isinstance(target, dict) and "$handle" in target:
            return self.handles[target["$handle"]]
        raise ValueError("bad target")

    def error(self, exc: BaseException, kind: str = "exception") -> dict:
        frames = []
        tb = exc.__traceback__
        for fs in traceback.extract_tb(tb):
            if fs.filename in self.filenames:
                frames.append([fs.filename, fs.lineno, fs.name, (fs.line or "")[:300]])
        try:
            message = str(exc)[:2000]
        except BaseException:
            message = "(the exception's message could not be read)"
        if isinstance(exc, NotImplementedError):
            kind = "not_implemented"
        elif isinstance(exc, RuleViolation):
            kind = "rule"
        elif isinstance(exc, SystemExit):
            kind, message = "exit", f"called sys.exit({exc.code!r})"[:300]
        elif isinstance(exc, KeyboardInterrupt):
            kind = "exit"
        elif isinstance(exc, MemoryError):
            kind = "memory"
        t = type(exc)
        return {"ok": False, "error": {"kind": kind, "type": getattr(t, "__qualname__", "?"),
                                       "module": getattr(t, "__module__", "?"), "message": message,
                                       "frames": frames[-20:]}}

    # ---- operations

    def op_load(self, msg, blobs):
        errors = []
        for cell in msg["cells"]:
            filename = cell["filename"]
            self.filenames.add(filename)
            import linecache

            lines = cell["code"].splitlines(True)
            linecache.cache[filename] = (len(cell["code"]), None, lines, filename)
            try:
                code = compile(cell["code"], filename, "exec", dont_inherit=True)
            except SyntaxError as e:
                errors.append({"cell": cell.get("cell"), "kind": "syntax", "type": "SyntaxError",
                               "message": str(e.msg), "frames": [[filename, e.lineno or 0, "<module>", (e.text or "").rstrip()]]})
                continue
            try:
                exec(code, self.module.__dict__)
            except BaseException as e:  # noqa: BLE001 - student code may raise anything
                err = self.error(e)["error"]
                err["cell"] = cell.get("cell")
                errors.append(err)
        names = {}
        for k, v in list(self.module.__dict__.items()):
            if k.startswith("__"):
                continue
            names[k] = "class" if isinstance(v, type) else "function" if callable(v) else "value"
        return {"ok": True, "names": names, "errors": errors}

    def op_call(self, msg, blobs):
        try:
            fn = self.resolve(msg["target"])
        except LookupError:
            return {"ok": False, "error": {"kind": "missing", "type": "NameError", "module": "builtins",
                                           "message": f"{msg['target']} is not defined", "frames": []}}
        try:
            if msg.get("method"):
                fn = getattr(fn, msg["method"])
            if msg.get("itself"):  # the object, not a call of it: sent back as a handle for probes
                return {"ok": True, "value": fn}
            if msg.get("attribute") is not None:
                return {"ok": True, "value": getattr(fn, msg["attribute"])}
        except BaseException as e:  # noqa: BLE001 - a student's property may raise anything
            return self.error(e)
        args = [self.unwrap(a) for a in protocol.decode(msg.get("args", []), blobs)]
        kwargs = {k: self.unwrap(v) for k, v in protocol.decode(msg.get("kwargs", {"$dict": []}), blobs).items()}
        forbid = tuple(msg.get("forbid") or ())
        if forbid:
            State.forbidden = forbid
            State.forbidden_dirs = _module_dirs(forbid)
            State.violations = []
            State.caught = False
            State.monitoring = True
            State.installing_profile = True
            sys.setprofile(_profile)
            State.installing_profile = False
        try:
            value = fn(*args, **kwargs)
        except BaseException as e:  # noqa: BLE001
            if forbid and State.violations:  # the rule broken, whatever error it led to
                return self._rule_broken()
            return self.error(e)
        finally:
            if forbid:
                still = sys.getprofile() is _profile
                State.installing_profile = True
                sys.setprofile(None)
                State.installing_profile = False
                State.monitoring = False
                if not still and not State.caught and not State.violations:
                    State.violations.append("switched off the grader's call monitor")
        if forbid and State.violations:
            return self._rule_broken()
        return {"ok": True, "value": value}

    @staticmethod
    def _rule_broken() -> dict:
        return {"ok": False, "error": {"kind": "rule", "type": "RuleViolation", "module": "grader",
                                       "message": "; ".join(dict.fromkeys(State.violations))[:1000], "frames": []}}

    def op_release(self, msg, blobs):
        for hid in msg.get("handles", []):
            self.handles.pop(hid, None)
        return {"ok": True, "value": None}

    def load_probes(self):
        """Load the grader's inspection helpers (``probes.py``) before the guards go up."""
        if os.path.exists(os.path.join(_here, "probes.py")):
            self.probes = dict(_load_by_path("_grader_probes", "probes.py").PROBES)

    def op_probe(self, msg, blobs):
        """Run one of the grader's inspection helpers on worker-side objects."""
        probe = self.probes.get(msg["name"])
        if probe is None:
            return {"ok": False, "error": {"kind": "grader", "type": "LookupError", "module": "grader",
                                           "message": f"unknown probe {msg['name']}", "frames": []}}
        args = [self.unwrap(a) for a in protocol.decode(msg.get("args", []), blobs)]
        try:
            value = probe(*args)
        except BaseException as e:  # noqa: BLE001
            return self.error(e)
        return {"ok": True, "value": value}

    def op_ping(self, msg, blobs):
        return {"ok": True, "value": "pong"}


# --------------------------------------------------------------------------- main loop


def _read_exact(fd, n):
    chunks = []
    while n:
        b = os.read(fd, min(n, 1 << 20))
        if not b:
            raise EOFError
        chunks.append(b)
        n -= len(b)
    return b"".join(chunks)


def _read_frame(fd):
    import struct

    head = _read_exact(fd, 12)
    hlen, nblobs = struct.unpack(">QI", head)
    msg = json.loads(_read_exact(fd, hlen))
    blobs = []
    for _ in range(nblobs):
        (blen,) = struct.unpack(">Q", _read_exact(fd, 8))
        blobs.append(_read_exact(fd, blen))
    return msg, blobs


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _reply(worker, fd_out, reply):
    blobs: list = []
    try:
        if "value" in reply:
            reply["value"] = protocol.encode(reply["value"], blobs, worker.make_handle)
        frame = protocol.pack(reply, blobs)
    except BaseException as e:  # noqa: BLE001 - a hostile object may break encoding
        blobs = []
        frame = protocol.pack({"ok": False, "error": {"kind": "encode", "type": type(e).__qualname__, "module": "",
                                                       "message": f"the result could not be sent back: {str(e)[:300]}",
                                                       "frames": []}}, blobs)
    _write_all(fd_out, frame)


def _limit(which, value):
    try:
        soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        pass


def _drop_privileges(uid: int) -> None:
    """Become ``uid`` for good (the grader runs as root; bubblewrap lent this process the
    capability to switch, and switching away from root drops every capability)."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError("the uid did not change")


def _load_by_path(name: str, filename: str):
    spec = importlib.util.spec_from_file_location(name, os.path.join(_here, filename))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _setup_failed(what: str, error: BaseException) -> None:
    """The sandbox cannot be what the grader asked for: say so and stop (exit status 75)."""
    sys.stderr.write(f"grading sandbox: {what} failed: {error}\n")
    sys.stderr.flush()
    os._exit(75)


def _harden(config: dict, seccomp_module=None) -> None:
    """Everything between the libraries being imported and the first line of student code:
    non-dumpable, the seccomp filter, the forbidden libraries' stand-ins, the in-process guards."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: no same-uid access to this process
    except (OSError, AttributeError):
        pass
    if config.get("seccomp"):
        try:
            (seccomp_module or _load_by_path("_grader_seccomp", "seccomp.py")).install()
        except OSError as e:
            _setup_failed("loading the seccomp filter", e)
    State.hidden = tuple(os.path.realpath(p) for p in config.get("hidden", []))
    if config.get("forbidden"):
        State.forbidden_why = str(config.get("forbidden_why") or State.forbidden_why)
        _forbid(tuple(config["forbidden"]))
    sys.meta_path.insert(0, _ImportBlocker())
    sys.addaudithook(_audit)


def _drop_and_limit(config: dict) -> None:
    """Drop to the worker's uid (the grader runs as root) and set the resource limits."""
    if config.get("uid") is not None:
        try:
            _drop_privileges(int(config["uid"]))
        except OSError as e:
            _setup_failed("dropping to an unprivileged uid", e)
    limits = config.get("limits", {})
    if limits.get("memory"):
        _limit(resource.RLIMIT_AS, int(limits["memory"]))
    if limits.get("cpu"):
        _limit(resource.RLIMIT_CPU, int(limits["cpu"]))
    if limits.get("fsize") is not None:
        _limit(resource.RLIMIT_FSIZE, int(limits["fsize"]))
    if limits.get("nproc"):
        _limit(resource.RLIMIT_NPROC, int(limits["nproc"]))
    _limit(resource.RLIMIT_CORE, 0)


def _preload(config: dict) -> None:
    for name in config.get("preload", []):
        try:
            __import__(name)
        except ImportError:
            pass
    import numpy  # noqa: F401 - always preloaded: every exercise sends arrays


def _serve(worker: "Worker", fd_in: int, fd_out: int) -> None:
    """Answer requests until the grader closes the channel, then exit."""
    ops = {"load": worker.op_load, "call": worker.op_call, "release": worker.op_release,
           "probe": worker.op_probe, "ping": worker.op_ping}
    while True:
        try:
            msg, blobs = _read_frame(fd_in)
        except EOFError:
            break
        op = ops.get(msg.get("op"))
        if op is None:
            reply = {"ok": False, "error": {"kind": "grader", "type": "ValueError", "module": "",
                                            "message": "unknown op", "frames": []}}
        else:
            try:
                reply = op(msg, blobs)
            except BaseException as e:  # noqa: BLE001 - never let the loop die quietly
                reply = worker.error(e, kind="worker")
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001 - the submission may have replaced the streams
                pass
        _reply(worker, fd_out, reply)
    os._exit(0)


def main():
    if sys.argv[1] == "--zygote":
        return _zygote(int(sys.argv[2]), json.loads(sys.argv[3]))
    fd_in, fd_out = int(sys.argv[1]), int(sys.argv[2])
    config = json.loads(sys.argv[3])
    _drop_and_limit(config)
    _preload(config)
    worker = Worker(config)
    worker.load_probes()
    _harden(config)
    _serve(worker, fd_in, fd_out)


# --------------------------------------------------------------------------- the warm parent


def _zygote(ctrl: int, config: dict) -> None:
    """Be the warm parent of workers: import the exercise's libraries once, fork one worker per request.

    Started like a worker (the same bubblewrap view, ``process.Zygote``), it imports the
    preloaded libraries (torch: seconds), the probes and the seccomp module, and never runs
    student code itself. Each ``spawn`` request on the control socket (SOCK_SEQPACKET) brings
    the new worker's three pipe ends and its settings; the fork drops to the worker's uid,
    sets the limits and the filter exactly as a fresh worker does, and serves. One worker at
    a time: before the next, the last one is killed and reaped, and whatever it left in the
    writable places of the view (/tmp, /dev/shm) is wiped, so the next submission finds the
    view a fresh worker would. Its exit status goes back on the socket, as ``exited``.
    """
    import signal
    import socket

    _preload(config)
    probes = dict(_load_by_path("_grader_probes", "probes.py").PROBES) if os.path.exists(
        os.path.join(_here, "probes.py")) else {}
    seccomp_module = _load_by_path("_grader_seccomp", "seccomp.py") if config.get("seccomp") else None
    if seccomp_module is not None:
        seccomp_module._library()  # libseccomp mapped now, not read from disk by a worker
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: workers cannot read this process
    except (OSError, AttributeError):
        pass
    sock = socket.socket(fileno=ctrl)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    child: list = []  # [pid, request id] of the worker alive now

    def send(message: dict) -> None:
        try:
            sock.send(json.dumps(message).encode())
        except OSError:
            os._exit(0)  # the grader is gone

    def finish(kill: bool) -> None:
        """Kill (if asked) and reap the worker, wipe what it left, report its exit status."""
        if not child:
            return
        pid, rid = child
        if kill:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, status = os.waitpid(pid, 0)
        del child[:]
        _wipe(config)
        send({"exited": rid, "code": os.waitstatus_to_exitcode(status)})

    import select

    while True:
        ready, _, _ = select.select([sock, wake_r], [], [])
        if wake_r in ready:
            try:
                os.read(wake_r, 4096)
            except BlockingIOError:
                pass
            if not child:
                continue
            done, status = os.waitpid(child[0], os.WNOHANG)
            if done == 0:
                continue  # not the worker (a wipe's fork, reaped by _wipe itself)
            rid = child[1]
            del child[:]
            _wipe(config)
            send({"exited": rid, "code": os.waitstatus_to_exitcode(status)})
            continue
        try:
            data, fds, _, _ = socket.recv_fds(sock, 1 << 16, 4)
        except OSError:
            data, fds = b"", []
        if not data:
            finish(kill=True)
            os._exit(0)
        request = json.loads(data)
        finish(kill=True)  # one worker at a time, and a clean view for the next
        if request.get("op") == "reset":
            for fd in fds:
                os.close(fd)
            send({"reset": True})
            continue
        if request.get("op") != "spawn" or len(fds) != 3:
            for fd in fds:
                os.close(fd)
            send({"error": "bad request"})
            continue
        pid = os.fork()
        if pid == 0:
            try:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                for fd in (sock.fileno(), wake_r, wake_w):
                    os.close(fd)
                _become_worker(request["config"], *fds, probes, seccomp_module)
            finally:
                os._exit(75)
        for fd in fds:
            os.close(fd)
        child[:] = [pid, request.get("id")]
        send({"spawned": request.get("id"), "pid": pid})



def _become_worker(config: dict, fd_in: int, fd_out: int, out: int, probes: dict, seccomp_module) -> None:
    """In the zygote's fork: become exactly what a fresh worker is, then serve."""
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    os.setsid()  # its own session and process group, like a fresh worker (the grader kills the group)
    os.chdir("/tmp")
    _drop_and_limit(config)
    worker = Worker(config)
    worker.probes = dict(probes)
    _harden(config, seccomp_module)
    _serve(worker, fd_in, fd_out)


def _wipe(config: dict) -> None:
    """Remove everything the last worker left in the view's writable places (/tmp, /dev/shm).

    Done as the worker's uid (when the grader runs as root, the only uid that may delete its
    files in a sticky /tmp). If anything is left (a tree too deep to remove), this zygote
    stops: the grader then starts fresh workers, which get a fresh /tmp.
    """
    pid = os.fork()
    if pid == 0:
        try:
            if config.get("uid") is not None:
                _drop_privileges(int(config["uid"]))
            for top in WRITABLE:
                try:
                    names = os.listdir(top)
                except OSError:
                    continue
                for name in names:
                    _remove(os.path.join(top, name))
        except BaseException:  # noqa: BLE001 - whatever is left is found below
            pass
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    for top in WRITABLE:
        try:
            left = os.listdir(top)
        except OSError:
            continue
        if left:
            os._exit(3)


WRITABLE = ("/tmp", "/dev/shm")


def _remove(path: str) -> None:
    import stat

    try:
        st = os.lstat(path)
        if stat.S_ISDIR(st.st_mode):
            os.chmod(path, 0o700)  # a folder the worker made unreadable is still its own
            for name in os.listdir(path):
                _remove(os.path.join(path, name))
            os.rmdir(path)
        else:
            os.unlink(path)
    except (OSError, RecursionError):
        pass


if __name__ == "__main__":
    main()
