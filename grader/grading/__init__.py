"""A batch: every submission of a class run in sandboxes and judged, with a crash-safe journal.

``batch`` (``grade``: options, the reference's observations, the batch loop), ``runs`` (one
submission's sandbox run and its frames), ``journal`` (what is already graded, append-only) and
``executors`` (the one executor interface; ``dask_executor``, Dask distributed past one machine).
Imports ``judge``, ``sandbox``, ``intake`` and the shared modules; imported by ``report``,
``course``, ``authoring`` and the doors.
"""
