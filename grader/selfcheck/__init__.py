"""The student's door: ``grader check`` and ``check()`` in a notebook, from a release.

``runner`` (the check: sandboxed where the machine allows, the judge process for a kernel),
``plain`` (the fallback without a sandbox, for macOS and Windows), ``results`` (the table a student
reads) and ``platforms`` (whether this machine can sandbox). Imports ``authoring`` (releases),
``grading`` and below; imported by ``cli`` and by ``grader.check``.
"""
