"""The feedback's shortcuts give the pages they gave before: the file mode read once a process."""

import os
import stat

from grader import files


def test_new_files_get_the_umask_mode_and_a_changed_umask_once_cleared(tmp_path):
    mask = os.umask(0o077)
    try:
        files.new_file_mode.cache_clear()
        files.atomic_write(tmp_path / "private.txt", "x")
        assert stat.S_IMODE((tmp_path / "private.txt").stat().st_mode) == 0o600
    finally:
        os.umask(mask)
        files.new_file_mode.cache_clear()
    files.atomic_write(tmp_path / "shared.txt", "x")
    assert stat.S_IMODE((tmp_path / "shared.txt").stat().st_mode) == 0o666 & ~mask
    assert files.new_file_mode() == 0o666 & ~mask and files.new_file_mode.cache_info().hits
