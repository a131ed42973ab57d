"""The sandbox's tests grade with fresh workers, as a student's own ``grade`` does (the suite
elsewhere forks them from warm parents); test_warm.py and test_attacks.py also try the warm ones."""

import pytest


@pytest.fixture(autouse=True)
def fresh_workers():
    from grader.sandbox import process

    was = process.keeping_warm()
    process.keep_warm(False)
    yield
    process.keep_warm(was)
