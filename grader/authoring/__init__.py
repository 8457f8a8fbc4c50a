"""The author's tools: ``assign`` (an assignment from a solution notebook; ``assign_files`` writes its
files), ``audit`` (mutants of the reference must fail; ``mutants`` makes them), ``release`` (the
student's folder: starter, public tests, public observations) and ``public_tests`` (the public part
of a test file). Imports ``course``, ``grading``, ``report`` and below; imported by the doors.
"""
