"""The course's secret: the seed of official grading's examples.

Every property check draws its examples from a seed made of the exercise's and the check's
names (``engine.replay.check_seed``), so a student's own run meets the same examples on every
machine. Official grading (``grade EX --instructor``, ``grade batch``, the Gradescope bundle)
mixes in a secret the instructor keeps: its examples are ones no student has seen, so a
submission that answers the public examples from a table does not pass them, while the same
secret still gives the same verdicts on every run and machine.

Where the secret comes from, first found wins: ``$GRADER_SECRET``, the file
``$GRADER_SECRET_FILE``, the instructor's own file (``secret_path()``), created with a random
secret the first time an official grade needs one. ``grade secret`` prints where it is.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ENV, ENV_FILE = "GRADER_SECRET", "GRADER_SECRET_FILE"


class SecretError(Exception):
    """The secret cannot be read (one line, with what to do)."""


def secret_path() -> Path:
    """The instructor's own secret file (the user configuration folder)."""
    from platformdirs import user_config_dir

    return Path(user_config_dir("dlcourse-grader")) / "secret"


def official_secret(*, create: bool = True) -> tuple[str, str]:
    """Return the secret of official grading and where it came from (for the user, never the secret)."""
    value = os.environ.get(ENV, "").strip()
    if value:
        return value, f"${ENV}"
    named = os.environ.get(ENV_FILE, "").strip()
    path = Path(named).expanduser() if named else secret_path()
    try:
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        if named or not create:
            raise SecretError(f"no secret file at {path} — write one (grade secret --new) or unset ${ENV_FILE}") from None
        value = new_secret(path)
    except OSError as e:
        raise SecretError(f"cannot read the secret file {path} ({e.strerror}) — fix its permissions or set ${ENV}") from None
    if not value:
        raise SecretError(f"the secret file {path} is empty — write a secret into it (grade secret --new)")
    return value, str(path)


def new_secret(path: Path | None = None) -> str:
    """Write a new random secret to ``path`` (only the owner may read it) and return it."""
    path = path or secret_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(16)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value + "\n")
    return value


def fingerprint(secret: str) -> str:
    """A short name of a secret, to tell two gradings' secrets apart without showing either."""
    import hashlib

    return hashlib.sha256(f"fingerprint\0{secret}".encode()).hexdigest()[:8] if secret else "public"
