"""The container's memory cgroup: its memory limit, and its OOM kills said in the container's log.

The limit (``container_memory_limit``) sizes the controller's task records (task_records).

The OOM kills. When the kernel's OOM killer kills the main process of a container, Kubernetes
says so itself (``OOMKilled`` as the last state's reason in ``kubectl describe pod`` and the
pod's status, and a restart count), and so does ``local status``. When it kills another process
of a container that goes on, nothing outside the node tells, and the program that saw the
process die only knows that it died of SIGKILL. The container's memory cgroup counts every OOM
kill of its processes, and any process of the container can read the count:

* cgroup v2: ``/sys/fs/cgroup/memory.events``, the line ``oom_kill N``;
* cgroup v1: ``/sys/fs/cgroup/memory/memory.oom_control``, the line ``oom_kill N`` (Linux 4.13
  and later).

The count starts at 0 with the container and covers all its processes, so a process that died
of SIGKILL while the count went up since the last look (:class:`OomKillWatch`) was, as good as
certainly, OOM-killed. The roles that supervise a process say so where they log its end, which
is what ``kubectl logs`` shows:

* engine: the supervisor's exit line, ``ipengine exited with status -9: OOM-killed (the
  container's memory limit is 256 MiB; 1 OOM kill so far); starting it again in 1.2 s``;
* viewer: a WARNING ``kernel <id> was OOM-killed (...)`` before Jupyter's restarter starts the
  kernel again (kernel_launcher);
* controller: nothing to add. The controller runs as the container's main process (under tini;
  the hub and schedulers are threads of it), so an OOM kill ends the container, and Kubernetes
  reports ``OOMKilled`` for it as for any container (``local status`` says ``OOM-killed``).

Two deaths between two looks are one look's news: the first death seen says "2 OOM kills so
far", the second is logged as a plain SIGKILL. An OOM kill of some other process (a task's
subprocess) followed by a ``kill -9`` of ipengine or a kernel would be called an OOM kill: the
count cannot tell which process it was. The files are read only when a process died of SIGKILL.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")
#: Where the OOM-kill count is, under the cgroup root: v2, then v1.
OOM_KILL_FILES = ("memory.events", "memory/memory.oom_control")
#: cgroup v1 reports "no limit" as a number near 2**63.
_UNLIMITED = 1 << 62


def _own_cgroups(proc_cgroup: Path) -> tuple[str, str]:
    """This process's cgroup paths: (cgroup v2, cgroup v1 memory controller); "/" when unknown."""
    v2 = v1 = "/"
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return v2, v1
    for line in lines:
        number, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if number == "0" and not controllers:
            v2 = path or "/"
        elif "memory" in controllers.split(","):
            v1 = path or "/"
    return v2, v1


def _with_ancestors(folder: Path, path: str) -> list[Path]:
    parts = PurePosixPath(path).parts[1:]
    return [folder.joinpath(*parts[:depth]) for depth in range(len(parts), -1, -1)]


def container_memory_limit(cgroup_root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> int | None:
    """The memory limit of this container (or of this process's cgroup) in bytes: the smallest
    ``memory.max`` (cgroup v2) or ``memory.limit_in_bytes`` (v1) of this process's cgroup and its
    ancestors; None when there is none or it cannot be read. Inside a container the cgroup files
    are usually the container's own at the root; on a host they are found by /proc/self/cgroup."""
    v2, v1 = _own_cgroups(proc_cgroup)
    files = [folder / "memory.max" for folder in _with_ancestors(cgroup_root, v2)]
    files += [folder / "memory.limit_in_bytes" for folder in _with_ancestors(cgroup_root / "memory", v1)]
    limits = []
    for path in files:
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < _UNLIMITED:  # v2 says "max" for no limit
            limits.append(int(text))
    return min(limits, default=None)


def oom_kill_count(path: Path) -> int | None:
    """The ``oom_kill N`` line of a memory.events (v2) or memory.oom_control (v1) file; None
    when the file cannot be read or has no such line."""
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for line in lines:
        key, _, value = line.partition(" ")
        if key == "oom_kill" and value.strip().isdigit():
            return int(value)
    return None


def oom_kills(cgroup_root: Path = CGROUP_ROOT) -> int | None:
    """The OOM kills the container's memory cgroup counted (cgroup v2, else v1); None when
    neither file can be read."""
    for relative in OOM_KILL_FILES:
        count = oom_kill_count(cgroup_root / relative)
        if count is not None:
            return count
    return None


def size_words(size: int) -> str:
    """``256 MiB``, ``1.5 GiB``."""
    unit, factor = ("GiB", 1 << 30) if size >= 1 << 30 else ("MiB", 1 << 20)
    return f"{size / factor:.1f}".removesuffix(".0") + f" {unit}"


def oom_words(count: int, limit: int | None) -> str:
    """``OOM-killed (the container's memory limit is 256 MiB; 1 OOM kill so far)``."""
    kills = f"{count} OOM kill{'' if count == 1 else 's'} so far"
    if limit is None:
        return f"OOM-killed (no memory limit found in the container's cgroup; {kills})"
    return f"OOM-killed (the container's memory limit is {size_words(limit)}; {kills})"


class OomKillWatch:
    """Whether the container's OOM-kill count went up since the last look. The first look is
    when the watch is made: before the process it is about was started."""

    def __init__(self, cgroup_root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP):
        self.cgroup_root = cgroup_root
        self.proc_cgroup = proc_cgroup
        self.seen = oom_kills(cgroup_root) or 0

    def news(self) -> str | None:
        """:func:`oom_words` when the count went up since the last look; None when it did not or
        cannot be read."""
        count = oom_kills(self.cgroup_root)
        if count is None or count <= self.seen:
            return None
        self.seen = count
        return oom_words(count, container_memory_limit(self.cgroup_root, self.proc_cgroup))
