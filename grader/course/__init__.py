"""The instructor's semester: a roster, overrides, a late policy and the adjusted scores, similarity
between students, and LMS archives (Canvas's "Download Submissions" zip).

Imports ``grading`` (a batch's results), ``report`` (its writers), ``intake`` and the shared
modules; imported by the doors (``cli``, ``ci``).
"""
