"""Names: symbolic names of errors, matched as whole words."""

from __future__ import annotations

from tests.support import found_keys as keys


def test_python_s_error_for_a_missing_remote_file_is_sftp_s_no_such_file() -> None:
    found = keys("listdir raises FileNotFoundError for a folder the server shows")
    assert ("sftp", "2") in found, f"paramiko raises it for SSH_FX_NO_SUCH_FILE: {found}"


def test_the_posix_name_for_a_missing_file_is_sftp_s_no_such_file() -> None:
    found = keys("get() fails with IOError(errno.ENOENT) on the nightly export")
    assert found == [("sftp", "2")], f"sftp servers map ENOENT to SSH_FX_NO_SUCH_FILE: {found}"
