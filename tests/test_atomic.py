"""Folders replaced as one unit, and destinations checked by a real write before any work."""

from __future__ import annotations

import errno
import os
import signal
from pathlib import Path

import pytest

import lgrin_edge.atomic as atomic
from lgrin_edge.atomic import check_file_target, check_folder_target, make_stage, staged_folder, swap_in
from lgrin_edge.cli import UserError


def _folder(path: Path, **files: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def _contents(path: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in path.iterdir()}


def _beside(path: Path) -> list[str]:
    """Everything next to ``path`` but ``path`` itself: stages, holders, probes a swap left behind."""
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name)


@pytest.fixture(params=["exchange", "two renames"])
def how(request, monkeypatch) -> str:
    """Each test runs with the one-step exchange and with the two-rename fallback."""
    if request.param == "exchange":
        if atomic._renameat2() is None:
            pytest.skip("this system has no renameat2 (the fallback case covers it)")
    else:
        monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    return request.param


def test_swap_in_replaces_the_folder_and_removes_the_earlier_contents(tmp_path, how):
    out = _folder(tmp_path / "parent" / "out", old="earlier", gone="only in the earlier")
    stage = _folder(make_stage(out), new="whole")
    swap_in(stage, out)
    assert _contents(out) == {"new": "whole"}
    assert _beside(out) == []


def test_swap_in_makes_a_folder_that_did_not_exist(tmp_path, how):
    out = tmp_path / "parent" / "out"
    stage = _folder(make_stage(out), new="whole")
    swap_in(stage, out)
    assert _contents(out) == {"new": "whole"} and _beside(out) == []


def test_the_exchange_is_one_step_on_this_file_system(tmp_path):
    if atomic._renameat2() is None:
        pytest.skip("this system has no renameat2")
    a, b = _folder(tmp_path / "a", x="a"), _folder(tmp_path / "b", x="b")
    assert atomic._exchange(a, b), "renameat2(RENAME_EXCHANGE) is not supported on the test file system"
    assert _contents(a) == {"x": "b"} and _contents(b) == {"x": "a"}


def test_ctrl_c_during_the_swap_is_held_back(tmp_path, how, monkeypatch):
    handler = signal.getsignal(signal.SIGINT)
    out = _folder(tmp_path / "out", old="earlier")
    stage = _folder(make_stage(out), new="whole")
    real_rename = os.rename

    def rename_then_interrupt(src, dst):
        real_rename(src, dst)
        os.kill(os.getpid(), signal.SIGINT)  # between the two renames, or right after the one rename

    real_exchange = atomic._exchange

    def exchange_then_interrupt(a, b):
        done = real_exchange(a, b)
        os.kill(os.getpid(), signal.SIGINT)
        return done

    monkeypatch.setattr(os, "rename", rename_then_interrupt)
    if how == "exchange":
        monkeypatch.setattr(atomic, "_exchange", exchange_then_interrupt)
    swap_in(stage, out)  # no KeyboardInterrupt: once the swap ran, the new folder is whole and in place
    monkeypatch.undo()
    assert _contents(out) == {"new": "whole"} and _beside(out) == []
    assert signal.getsignal(signal.SIGINT) is handler  # Ctrl-C works again


def test_a_failed_second_rename_puts_the_earlier_folder_back(tmp_path, monkeypatch):
    out = _folder(tmp_path / "out", old="earlier")
    stage = _folder(make_stage(out), new="whole")
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    real_rename, calls = os.rename, []

    def rename(src, dst):
        calls.append(src)
        if Path(src) == stage:
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OSError):
        swap_in(stage, out)
    monkeypatch.undo()
    assert len(calls) == 3  # aside, the failed one, back
    assert _contents(out) == {"old": "earlier"} and _contents(stage) == {"new": "whole"}


def test_staged_folder_keeps_the_earlier_folder_on_any_failure(tmp_path, how):
    out = _folder(tmp_path / "out", old="earlier")
    for error in (RuntimeError("failed"), KeyboardInterrupt()):
        with pytest.raises(type(error)), staged_folder(out) as stage:
            (stage / "new").write_text("half")
            raise error
        assert _contents(out) == {"old": "earlier"} and _beside(out) == []
    with staged_folder(out) as stage:
        (stage / "new").write_text("whole")
    assert _contents(out) == {"new": "whole"} and _beside(out) == []


def test_a_link_to_a_folder_replaces_the_folder_it_points_to(tmp_path, how):
    real = _folder(tmp_path / "real", old="earlier")
    link = tmp_path / "link"
    link.symlink_to(real)
    with staged_folder(link) as stage:
        (stage / "new").write_text("whole")
    assert link.is_symlink() and _contents(real) == {"new": "whole"}


def test_a_folder_of_other_files_is_refused(tmp_path):
    out = _folder(tmp_path / "out", mine="notes")
    with pytest.raises(UserError, match=r"holds files that are not a training run \(mine\)"):
        check_folder_target(out, {"config.json"}, True, "training run", "--overwrite")
    run = _folder(tmp_path / "run", **{"config.json": "{}"})
    with pytest.raises(UserError, match="already holds a training run; pass --overwrite"):
        check_folder_target(run, {"config.json"}, False, "training run", "--overwrite")


def test_an_unwritable_destination_is_named_with_the_reason(tmp_path):
    # /proc takes no new entries, even from root, though os.access says root may.
    with pytest.raises(UserError, match=r"cannot create /proc/x/run: /proc is not writable \(it accepts"):
        check_folder_target(Path("/proc/x/run"), set(), False, "training run", "--overwrite")
    with pytest.raises(UserError, match=r"cannot create /proc/f\.npz: /proc is not writable"):
        check_file_target("/proc/f.npz", ".npz")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UserError, match="is a file, not a folder"):
        check_folder_target(blocker / "out", set(), False, "training run", "--overwrite")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # the probes are gone


def test_permission_bits_are_checked_by_a_real_write(tmp_path):
    readonly = _folder(tmp_path / "ro")
    readonly.chmod(0o500)
    try:
        if os.geteuid() == 0:
            pytest.skip("running as root: permission bits do not stop writes (the /proc case runs)")
        with pytest.raises(UserError, match=r"is not writable \(permission denied\)"):
            check_folder_target(readonly / "out", set(), False, "training run", "--overwrite")
    finally:
        readonly.chmod(0o700)


def test_a_mount_point_is_refused(tmp_path):
    mounts = [Path(p) for p in ("/dev/shm", "/dev", "/proc") if os.path.ismount(p)]
    if not mounts:
        pytest.skip("no mount point to test with on this system")
    with pytest.raises(UserError, match="is a mount point"):
        check_folder_target(mounts[0], {p.name for p in mounts[0].iterdir()}, True, "run", "--overwrite")
