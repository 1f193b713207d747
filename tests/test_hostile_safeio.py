"""safeio on real hostile files: FIFOs, devices, symlinks, oversize and growing files, foreign owners."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from memory_syncd import safeio
from memory_syncd.errors import Refused

NOBODY = 65534


def can_drop_privileges() -> bool:
    return os.geteuid() == 0 and shutil.which("setpriv") is not None


def test_a_regular_file_is_read_and_a_missing_one_is_none(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"abc")
    assert safeio.read(tmp_path / "f", limit=3) == b"abc"
    assert safeio.read(tmp_path / "nope", limit=3) is None


@pytest.mark.parametrize(("make", "reason"), [
    (lambda p: os.mkfifo(p), "not_regular"),
    (lambda p: p.symlink_to("/dev/zero"), "symlink"),
    (lambda p: p.symlink_to(p.parent / "missing"), "symlink"),
    (lambda p: p.mkdir(), "not_regular"),
    (lambda p: p.write_bytes(b"x" * 11), "too_big"),
])
def test_hostile_files_are_refused_at_once(tmp_path: Path, make: object, reason: str) -> None:
    path = tmp_path / "sessions.json"
    make(path)  # type: ignore[operator]
    with pytest.raises(Refused) as info:
        safeio.read(path, limit=10)
    assert info.value.reason == reason
    assert str(path) in str(info.value)
    assert info.value.exit_code == 78


def test_a_device_is_refused_even_when_following(tmp_path: Path) -> None:
    (tmp_path / "zero").symlink_to("/dev/zero")
    with pytest.raises(Refused) as info:
        safeio.read(tmp_path / "zero", limit=10, follow=True)
    assert info.value.reason == "not_regular" and "character device" in str(info.value)


def test_follow_reads_through_a_link_to_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "real").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert safeio.read(tmp_path / "link", limit=10, follow=True) == b"x"


def test_a_file_whose_size_lies_is_still_capped() -> None:
    with pytest.raises(Refused) as info:
        safeio.read("/proc/self/status", limit=16, follow=True)  # st_size is 0 in /proc
    assert info.value.reason == "too_big"


def test_dir_fd_reads_relative_to_an_opened_dir(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_bytes(b"1")
    fd = safeio.open_dir(tmp_path / "d")
    try:
        assert safeio.read("f", limit=1, dir_fd=fd) == b"1"
    finally:
        os.close(fd)


@pytest.mark.parametrize("make", [lambda p: p.symlink_to("/tmp"), lambda p: p.symlink_to("/nonexistent"),
                                  lambda p: p.write_text("")])
def test_open_dir_refuses_links_and_files(tmp_path: Path, make: object) -> None:
    path = tmp_path / "memory"
    make(path)  # type: ignore[operator]
    with pytest.raises(Refused) as info:
        safeio.open_dir(path)
    assert info.value.reason in ("symlink", "not_dir")


def test_open_dir_of_a_missing_dir_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        safeio.open_dir(tmp_path / "nope")


def test_private_refuses_a_file_open_to_others(tmp_path: Path) -> None:
    path = tmp_path / "env"
    path.write_text("ANTHROPIC_API_KEY=x\n")
    path.chmod(0o644)
    with pytest.raises(Refused) as info:
        safeio.read(path, limit=100, private=True)
    assert info.value.reason == "exposed" and f"chmod 600 {path}" in str(info.value)
    path.chmod(0o600)
    assert safeio.read(path, limit=100, private=True) == b"ANTHROPIC_API_KEY=x\n"


def test_private_refuses_a_foreign_owned_file(tmp_path: Path) -> None:
    if not can_drop_privileges():
        pytest.skip("needs root and setpriv to own a file as another user")
    path = tmp_path / "env"
    path.write_text("x")
    os.chown(path, NOBODY, NOBODY)
    path.chmod(0o600)
    with pytest.raises(Refused) as info:
        safeio.read(path, limit=100, private=True)
    assert info.value.reason == "foreign" and "uid 65534" in str(info.value)

