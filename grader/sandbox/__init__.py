"""The sandbox: where student code runs, never in the process that decides a score.

``pool`` (the judge's side: warm fork servers), ``forkserver`` (the warm process), ``process``
(a sandbox's two processes), ``policy`` (what a sandbox may see), ``filesystem`` (the allow-listed
root), ``isolation`` (namespaces, identity, capabilities, rlimits), ``seccomp`` (refused system
calls), ``cgroups`` (limits on the whole sandbox), ``protocol`` (judge-to-server messages),
``wire`` (how observations travel), ``probes`` (the assignment's probes, loaded in the warm
process), ``selftest`` (each protection measured from inside a real sandbox), ``advice`` (what a
missing protection means and how to get it), ``child`` and ``headless`` (what runs inside: cells,
probes, plots that never wait). Imports ``grader.intake`` and the shared modules; imported by
``grading`` and the doors. Kept free of imports: a student's kernel imports
``grader.sandbox.child`` for ``check()``.
"""
