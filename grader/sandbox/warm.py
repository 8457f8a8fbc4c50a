"""What the warm server does once, so that no sandbox pays it: import what reading a submission
needs, and (for a large class) move its memory into huge pages, which makes each fork cheaper.
"""

from __future__ import annotations

MADV_HUGEPAGE, MADV_COLLAPSE = 14, 25
HUGE_PAGE = 2 << 20


def huge_pages() -> None:
    """Move this process's heap and its large anonymous mappings (about 150 MB once torch is
    imported) into transparent huge pages: every sandbox is a fork of this process, and a fork
    copies, and an exit frees, one page-table entry per 4 KB page mapped (about 8 ms of CPU each
    on 2 cores, measured) but one per 2 MB huge page. A copy-on-write fault in a sandbox still
    copies 4 KB (the kernel splits the huge page). Best effort: without ``MADV_COLLAPSE`` (Linux
    6.1) or with transparent huge pages turned off nothing changes. About 0.3 s, once."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    try:
        with open("/proc/self/maps") as maps:
            lines = maps.read().splitlines()
    except OSError:
        return
    for line in lines:
        fields = line.split()
        name = fields[5] if len(fields) > 5 else ""
        if name not in ("", "[heap]") or not fields[1].startswith("rw"):
            continue  # files, stacks, read-only: left as they are
        low, high = (int(bound, 16) for bound in fields[0].split("-"))
        start, end = (low + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1), high & ~(HUGE_PAGE - 1)
        if end - start >= HUGE_PAGE:
            libc.madvise(start, end - start, MADV_HUGEPAGE)
            libc.madvise(start, end - start, MADV_COLLAPSE)


def reading(notebooks: bool) -> None:
    """Import here what reading a submission imports (its codec; with ``notebooks``, nbformat's
    and IPython's one-time set-up, about 90 ms), not in every sandbox, where the fallback's student
    may not even read the standard library."""
    from grader.intake.notebook import cells_of

    cells_of(b"x = 1\n", "py", "warm-up.py")
    if notebooks:
        import nbformat

        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%matplotlib inline\nx = 1")])
        cells_of(nbformat.writes(notebook).encode(), "ipynb", "warm-up.ipynb")
