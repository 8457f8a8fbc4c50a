"""The CI door: ``grader ci`` grades one submission and writes machine-readable results.

``runner`` (grade one submission, exit code), ``formats`` (JUnit, Gradescope JSON, GitHub
annotations and job summary), ``classroom50`` (GitHub Classroom's result.json) and ``gradescope``
(the Gradescope autograder bundle and ``grader export``). Imports ``authoring``, ``course``,
``grading``, ``report`` and below; imported by ``cli``.
"""
