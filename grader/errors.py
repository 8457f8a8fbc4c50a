"""Errors a user can cause, printed as one line (no traceback)."""


class GraderError(Exception):
    """A mistake in how the grader was called: a bad path, an unknown assignment, a bad option.

    The message says what is wrong and what to do; the command line prints it on one line.
    """
