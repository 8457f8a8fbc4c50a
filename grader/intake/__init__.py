"""Reading what comes in: a submission (its entry notebook or module, helper modules, data files) and
an assignment (``assignment.toml``, its tests, data).

``submissions`` (what a student handed in), ``notebook`` (a notebook's code cells, IPython syntax
transformed), ``scripts`` (a ``.py`` split into cells: ``# %%``, marimo, top-level statements) and
``assignment`` (finding and loading an assignment). Imports only the shared modules
(``grader.model``, ``grader.errors``, ``grader.version``); everything above imports it. Kept free of
imports here: the sandbox's child imports ``grader.intake.notebook`` in a student's process.
"""
