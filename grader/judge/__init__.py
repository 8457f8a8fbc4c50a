"""The judge: the trusted side that decides a score, as a pytest plugin over observations.

``plugin`` (pytest collects an assignment's tests and feeds them both sides' observations),
``compare`` (the comparators authors call: ``assert_close``, ``fail``) and ``diagnose`` (the likely
mistake behind a mismatch). Never imports student code or the sandbox's running parts; imports
``grader.intake`` and the shared modules. Imported by ``grading``, ``selfcheck`` and ``grader.api``.
"""
