"""Deprecated: import from :mod:`grader.api` (the comparators now live in ``grader.judge.compare``).

Kept so that test files in releases students already hold (``from grader.compare import
assert_close, fail``) go on working.
"""

from grader.judge.compare import Mismatch, assert_close, assert_names_as_asked, fail

__all__ = ["Mismatch", "assert_close", "assert_names_as_asked", "fail"]
