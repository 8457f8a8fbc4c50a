"""The sandbox: where student code runs, never in the process that decides a score.

``pool`` (the judge's side: warm fork servers), ``forkserver`` (the warm process), ``process``
(a sandbox's two processes), ``policy`` (what a sandbox may see), ``filesystem`` (the allow-listed
root), ``isolation`` (namespaces, identity, capabilities, rlimits), ``seccomp`` (refused system
calls), ``cgroups`` (limits on the whole sandbox), ``protocol`` (judge-to-server messages),
``wire`` (how observations travel) and ``child`` (what runs inside). Kept free of imports: a
student's kernel imports ``grader.sandbox.child`` for ``check()``.
"""
