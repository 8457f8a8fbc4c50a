"""Test-only assignment: each test checks that one escape attempt of the submission was blocked."""

import pytest

from grader.api import assert_close, points, probe

ATTEMPTS = ("read_reference", "read_tests", "read_other_submission", "write_submissions",
            "write_home", "network", "secret_in_environ", "secret_in_proc")


@probe
def attempts(ns, device):
    return {name: str(ns.get(name, "not run")) for name in ATTEMPTS}


@points(1)
@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_blocked(observe, attempt):
    """the escape attempt was blocked"""
    got, want = observe(attempts)
    assert_close(got[attempt], want[attempt], what=attempt)
