"""The instructor's semester: a roster, overrides, a late policy and the adjusted scores, similarity
between students, and the LMS: Canvas's "Download Submissions" zip read (``lms_archive``) and its
gradebook import written (``canvas_export``, ``grader export canvas``).

Imports ``grading`` (a batch's results), ``report`` (its writers), ``intake`` and the shared
modules; imported by the doors (``cli``, ``ci``).
"""
