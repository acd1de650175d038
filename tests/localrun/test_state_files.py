"""The local state on a file system that fails, for real: a file that is no state, one that
cannot be read, a read-only directory (a read-only mount), a full disk (a 64 KiB tmpfs) and a
lock held by a running `local up`.

Every failure is one line, ``local: error: <what> <file>: <the cause in words>``, exit status
1, and leaves no file behind (a write goes to a temporary file in the same directory that is
renamed into place, or removed). ``status`` only reads: it needs no lock, creates nothing and
works on a read-only directory and while another command holds the lock.

The mounts need root (skipped otherwise) and are unmounted by their fixture, also on failure.
A stack without Deployments (a random_password and an output) is enough to make `up` read and
write the state: no container is started.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.deployment import Local
from tests.e2e.synthesis import REPO, clean_environ
from tests.e2e.tiny_apps import stack, write_app

WORKSPACE = "issue14-state"
NAMESPACE = "issue14-state"
AFRESH = "; move it away to start afresh (new passwords, keys and labels)"
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounts a tmpfs (root only)")
#: `up` and `status` ask the engine once the state is read (no container is made).
needs_engine = pytest.mark.container


@pytest.fixture
def app(tmp_path) -> Path:
    return write_app(tmp_path / "app", {"key-stack": stack(NAMESPACE, {})})


@pytest.fixture
def state_dir(tmp_path) -> Path:
    directory = tmp_path / "state"
    directory.mkdir(mode=0o700)
    return directory


def _mount_tmpfs(directory: Path, size: str) -> None:
    directory.mkdir(mode=0o700, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(directory)], check=True)


def _unmount(directory: Path) -> None:
    if subprocess.run(["umount", str(directory)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(directory)], check=False, capture_output=True)


@pytest.fixture
def tmpfs_state(tmp_path):
    """A state directory on a tmpfs of 64 KiB, unmounted at the end."""
    directory = tmp_path / "tmpfs-state"
    _mount_tmpfs(directory, "64k")
    try:
        yield directory
    finally:
        _unmount(directory)


def _files(directory: Path) -> list[str]:
    return sorted(os.listdir(directory)) if directory.exists() else []


def _one_error_line(result: subprocess.CompletedProcess, message: str) -> None:
    assert (result.returncode, result.stdout) == (1, ""), result.stderr
    assert result.stderr.splitlines()[-1] == f"local: error: {message}", result.stderr
    assert "Traceback" not in result.stderr, result.stderr


# -- a file that is no state, or cannot be read -----------------------------------------------
BROKEN = [
    pytest.param(b"", "it is empty", id="empty"),
    pytest.param(b'{"version": 1, "workspaces": {', "it is not valid JSON (expecting property name enclosed in "
                 "double quotes at line 1, column 31)", id="cut short"),
    pytest.param(b"\xff\xfe\x00garbage", "it is not text (not UTF-8)", id="binary"),
    pytest.param(b"[]", "it is not a local state of version 1", id="a list"),
    pytest.param(b'{"version": 1, "workspaces": {"w": []}}', "it is not a local state of version 1", id="bad workspace"),
    pytest.param(b'{"version": 7, "workspaces": {}}', "it is not a local state of version 1", id="other version"),
]
COMMANDS = {
    "status": lambda app: ["status", "--workspace", WORKSPACE],
    "down": lambda app: ["down", "--workspace", WORKSPACE],
    "up": lambda app: ["up", "--workspace", WORKSPACE, "--from", str(app)],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize(("content", "words"), BROKEN)
def test_a_state_file_that_is_no_state_is_one_line_naming_it(app, state_dir, command, content, words):
    path = state_dir / "state.json"
    path.write_bytes(content)
    result = Local(state_dir)(*COMMANDS[command](app))
    _one_error_line(result, f"cannot read the local state {path}: {words}{AFRESH}")
    assert result.stderr.count("\n") == 1, result.stderr  # nothing was done before
    assert path.read_bytes() == content
    assert _files(state_dir) == (["state.json"] if command == "status" else ["state.json", "state.lock"])


def test_a_state_path_that_is_a_directory_is_named(state_dir):
    (state_dir / "state.json").mkdir()
    result = Local(state_dir)("status", "--workspace", WORKSPACE)
    _one_error_line(result, f"cannot read the local state {state_dir / 'state.json'}: is a directory")


def _without_file_access(state_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """`local` as root without the capabilities that let root read and write any file: the file
    permissions then apply to it as to anyone (the engine's socket is still root's)."""
    return subprocess.run(
        ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--",
         sys.executable, "-m", "localrun", *args, "--state-dir", str(state_dir)],
        cwd=REPO, env=clean_environ(), capture_output=True, text=True, timeout=120,
    )


@as_root
def test_a_state_file_without_read_permission_is_named(state_dir):
    path = state_dir / "state.json"
    path.write_text('{"version": 1, "workspaces": {}}')
    path.chmod(0)
    result = _without_file_access(state_dir, "status", "--workspace", WORKSPACE)
    _one_error_line(result, f"cannot read the local state {path}: permission denied")
    assert _files(state_dir) == ["state.json"]


@as_root
def test_a_state_directory_without_write_permission_is_named(app, tmp_path):
    directory = tmp_path / "someone-elses"
    directory.mkdir(mode=0o700)
    os.chown(directory, 65534, 65534)  # nobody's
    result = _without_file_access(directory, "up", "--workspace", WORKSPACE, "--from", str(app))
    _one_error_line(result, f"cannot open the lock of the local state {directory / 'state.lock'}: permission denied")
    assert _files(directory) == []


# -- a read-only directory, a full disk ----------------------------------------------------------
@needs_engine
@as_root
def test_a_read_only_state_directory_stops_up_and_down_in_one_line_and_status_still_reads_it(app, tmp_path):
    directory = tmp_path / "read-only-state"
    _mount_tmpfs(directory, "1m")
    try:
        Local(directory).ok("up", "--workspace", WORKSPACE, "--from", str(app))
        content = (directory / "state.json").read_bytes()
        subprocess.run(["mount", "-o", "remount,ro", str(directory)], check=True)
        local = Local(directory)
        for args in (("up", "--workspace", WORKSPACE, "--from", str(app)), ("down", "--workspace", WORKSPACE)):
            result = local(*args)
            _one_error_line(result, f"cannot open the lock of the local state {directory / 'state.lock'}: "
                                    "read-only file system")
        status = local("status", "--workspace", WORKSPACE)
        assert (status.returncode, status.stdout, status.stderr) == (0, f"workspace {WORKSPACE}: key-stack\n", "")
        assert (directory / "state.json").read_bytes() == content
        assert _files(directory) == ["state.json", "state.lock"]
    finally:
        _unmount(directory)


def _fill(directory: Path) -> None:
    """Take every free block of the file system of ``directory``."""
    with open(directory / "filler", "wb", buffering=0) as filler:
        try:
            while True:
                filler.write(b"\0" * 1024)
        except OSError:
            pass
    with pytest.raises(OSError):
        (directory / "probe").write_bytes(b"\0" * 1024)
    (directory / "probe").unlink()


@needs_engine
@as_root
def test_a_full_disk_during_up_from_is_one_line_and_keeps_the_old_state(app, tmpfs_state):
    local = Local(tmpfs_state)
    local.ok("up", "--workspace", WORKSPACE, "--from", str(app))
    before = (tmpfs_state / "state.json").read_bytes()
    _fill(tmpfs_state)

    result = local("up", "--workspace", f"{WORKSPACE}-2", "--from", str(app))
    _one_error_line(result, f"cannot write the local state {tmpfs_state / 'state.json'}: no space left on device")
    assert (tmpfs_state / "state.json").read_bytes() == before
    assert _files(tmpfs_state) == ["filler", "state.json", "state.lock"]  # no temporary file left

    result = local("down", "--workspace", WORKSPACE)  # fails before it removes anything
    _one_error_line(result, f"cannot write the local state {tmpfs_state / 'state.json'}: no space left on device")
    assert (tmpfs_state / "state.json").read_bytes() == before
    assert _files(tmpfs_state) == ["filler", "state.json", "state.lock"]


@needs_engine
def test_a_temporary_file_of_a_killed_writer_is_removed_by_the_next_one(app, state_dir):
    stray = state_dir / ".state.json.k1ll3d.tmp"
    stray.write_text('{"version": 1, "wor')
    (state_dir / "state.tmp").write_text("")  # the name used before
    Local(state_dir).ok("up", "--workspace", WORKSPACE, "--from", str(app))
    assert _files(state_dir) == ["state.json", "state.lock"]


# -- status reads without the lock ----------------------------------------------------------------
#: What `up` does to the state while it runs: it holds the lock and writes the file again and
#: again (here as fast as it can, each time a different size).
WRITER = """
import sys, time
from pathlib import Path
from localrun.state import locked_state

with locked_state(Path(sys.argv[1])) as state:
    state.set_applied(sys.argv[2], "key-stack", {"objects": [], "outputs": {}})
    state.save()
    print("locked", flush=True)
    n = 0
    while True:
        n += 1
        state.set_random_values(sys.argv[2], "key-stack", "random_string.pad", {"n": n}, {"result": "x" * (n % 20000)})
        state.save()
"""


@needs_engine
def test_status_answers_while_up_holds_the_lock_and_writes_the_state(state_dir):
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(state_dir), WORKSPACE], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline() == "locked\n", writer.stderr.read()
        local = Local(state_dir)
        started = time.monotonic()
        for _ in range(8):
            result = local("status", "--workspace", WORKSPACE, timeout=60)
            assert (result.returncode, result.stdout, result.stderr) == (0, f"workspace {WORKSPACE}: key-stack\n", "")
        assert writer.poll() is None, writer.stderr.read()  # it was writing all along
        print(f"\n8 status while the state was rewritten: {time.monotonic() - started:.1f} s", file=sys.stderr)
        busy = local("down", "--workspace", WORKSPACE)
        _one_error_line(busy, f"another `local up` or `local down` is running on {state_dir} (lock state.lock)")
    finally:
        writer.kill()
        writer.wait(timeout=30)


@needs_engine
def test_status_creates_nothing(tmp_path):
    directory = tmp_path / "never-made"
    result = Local(directory)("status", "--workspace", WORKSPACE)
    assert (result.returncode, result.stdout, result.stderr) == (0, "nothing is up\n", "")
    assert not directory.exists()
