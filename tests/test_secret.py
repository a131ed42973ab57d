"""Official grading draws its examples from the course's secret (grader.secret): a submission
that answers the public examples from a lookup table passes a student's own run and fails
every property check of an official one, and one secret always gives the same verdicts."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from grader import registry
from grader.engine import grade
from grader.engine.replay import check_seed, is_search, recorded_examples
from grader.reference import exercise03 as ref
from grader.secret import SecretError, fingerprint, official_secret

ROOT = Path(__file__).resolve().parents[1]
KEY = textwrap.dedent('''
    import hashlib
    import numpy as np

    def _key(name, args, kwargs):
        """The same call, the same key: arrays by value, everything else by repr."""
        h = hashlib.sha256(name.encode())
        for value in list(args) + sorted(kwargs.items()):
            if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
                h.update(value[0].encode())
                value = value[1]
            if isinstance(value, (np.ndarray, list)):
                a = np.asarray(value, dtype=np.float64)
                h.update(repr(a.shape).encode() + a.round(9).tobytes())
            else:
                h.update(repr(value).encode())
        return h.hexdigest()
''')


class _Recorder:
    """Stands in for the submission while a check's body runs: answers with the reference and remembers."""

    def __init__(self, namespace: dict, table: dict):
        self.namespace, self.table = namespace, table

    def __getattr__(self, name):
        def call(*args, **kwargs):
            result = getattr(ref, name)(*args, **kwargs)
            self.table[self.namespace["_key"](name, args, kwargs)] = np.asarray(result).tolist()
            return result
        return call


def lookup_table_submission(exercise: str = "exercise03") -> str:
    """A submission that knows nothing of convolutions: it answers every call a public check
    makes with the public seeds from a table (what a student could build from the student
    edition by running its checks), and anything else with zeros."""
    namespace: dict = {}
    exec(KEY, namespace)
    table: dict = {}
    ex = registry.load(registry.find_exercise(exercise))
    fake = _Recorder(namespace, table)
    for spec in ex.checks:
        if spec.hidden:
            continue
        if not is_search(spec):
            try:
                spec.fn(fake)
            except Exception:  # noqa: BLE001 - a check that needs more than calls; its calls are in
                pass
            continue
        inner = spec.fn.hypothesis.inner_test
        for kwargs in recorded_examples(ex.id, spec, spec.max_examples or ex.max_examples):
            try:
                inner(fake, **kwargs)
            except Exception:  # noqa: BLE001
                pass
    functions = sorted({f for spec in ex.checks for f in spec.functions})
    body = KEY + f"\nTABLE = {json.dumps(table)}\n"
    for name in functions:
        body += textwrap.dedent(f'''
            def {name}(*args, **kwargs):
                found = TABLE.get(_key("{name}", args, kwargs))
                if found is None:
                    return np.zeros((1, 1))
                return np.asarray(found) if isinstance(found, list) else found
        ''')
    return body


def _verdicts(result) -> dict:
    return {c.name: c.score for c in result.checks}


def _without_times(data):
    if isinstance(data, dict):
        return {k: _without_times(v) for k, v in data.items() if k not in ("duration", "execution_time")}
    if isinstance(data, list):
        return [_without_times(v) for v in data]
    return data


def test_a_secret_changes_every_seed_and_the_same_secret_gives_the_same_seed():
    assert check_seed("exercise03", "c", "s1") == check_seed("exercise03", "c", "s1")
    assert check_seed("exercise03", "c", "s1") != check_seed("exercise03", "c")
    assert check_seed("exercise03", "c", "s1") != check_seed("exercise03", "c", "s2")
    assert check_seed("exercise03", "c", "") == check_seed("exercise03", "c")


def test_the_secret_comes_from_the_environment_first_then_the_instructors_file(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", "from-env")
    assert official_secret() == ("from-env", "$GRADER_SECRET")
    monkeypatch.delenv("GRADER_SECRET")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("GRADER_SECRET_FILE", raising=False)
    first, where = official_secret()
    assert len(first) == 32 and where.startswith(str(tmp_path))
    assert (tmp_path / "dlcourse-grader" / "secret").stat().st_mode & 0o077 == 0  # the owner's alone
    assert official_secret()[0] == first  # created once, then read
    assert fingerprint(first) != first[:8] and fingerprint("") == "public"
    monkeypatch.setenv("GRADER_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(SecretError, match="no secret file"):
        official_secret()


@pytest.fixture(scope="module")
def table_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("table") / "exercise03.py"
    path.write_text(lookup_table_submission())
    return path


def test_a_lookup_table_of_the_public_examples_passes_a_students_own_run(table_file):
    result = grade("exercise03", table_file)
    public = [c for c in result.checks if not c.hidden]
    assert public and all(c.score == c.max_score for c in public), [(c.name, c.message) for c in public
                                                                    if c.score < c.max_score]


def test_the_lookup_table_loses_every_property_checks_points_under_official_grading(table_file):
    ex = registry.load(registry.find_exercise("exercise03"))
    searched = {s.name for s in ex.checks if is_search(s)}
    result = grade("exercise03", table_file, instructor=True, secret="term-2026-12")
    scores = _verdicts(result)
    assert searched and all(scores[name] == 0 for name in searched), {n: scores[n] for n in searched}
    # the slides' worked examples are public, as they are in the slides
    assert scores["conv2d_reproduces_the_lecture_examples"] == 2


def test_one_secret_gives_the_same_official_json_and_the_solution_full_marks():
    path = ROOT / "solutions" / "exercise03.py"
    first = grade("exercise03", path, instructor=True, secret="term-2026-12")
    second = grade("exercise03", path, instructor=True, secret="term-2026-12")
    assert _without_times(first.to_dict()) == _without_times(second.to_dict())
    assert first.score == sum(c.max_score for c in first.checks)
