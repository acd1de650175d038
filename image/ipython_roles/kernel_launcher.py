"""Kernels are the OOM killer's first choice, so memory pressure kills a kernel, not the server.

When the viewer's container reaches its memory limit, the kernel's OOM killer kills the process
with the highest ``oom_score``: roughly the largest, unless ``oom_score_adj`` (-1000..1000)
says otherwise. A notebook that loads too much data is usually the largest, but not always
(several kernels, or a server grown large), and losing the server loses every kernel and every
open connection at once. A process that is not root cannot lower its own ``oom_score_adj``, but
any process can raise it; so every kernel starts with 1000 (``OOM_SCORE_ADJ``), inherited by
whatever the kernel starts (subprocesses, multiprocessing workers), while the server keeps the
container's default (0). The kernel then always goes first; Jupyter's restarter notices the
dead kernel within seconds and starts it again (the notebook shows "kernel restarting"; the
variables are lost, the server and the other kernels are not).

How: ``MappingKernelManager.kernel_manager_class`` = :class:`OomFirstKernelManager`, a
``ServerKernelManager`` whose ``format_kernel_cmd`` (the kernel spec's argv, filled in) is run
through ``/bin/sh -c 'echo 1000 > /proc/self/oom_score_adj; exec "$@"'``. The shell ``exec``s
the kernel, so the kernel keeps the pid Jupyter knows (signals, interrupts, shutdown); it costs
about a millisecond per kernel start and works for every kernel spec, also ones a derived image
adds. If the file cannot be written (no /proc) the kernel still starts and says so on stderr,
which ends up in the viewer's log. Restarts go through the same command.

Limit: on cgroup v2, Kubernetes (1.28+) sets ``memory.oom.group`` = 1 on containers, so the OOM
killer kills every process of the container together, whatever their ``oom_score_adj``; only a
kubelet with ``singleProcessOOMKill: true`` (1.32+) or cgroup v1 keeps the choice to one process.
:func:`oom_group_note` reads that file so the viewer can say so in its log.

The log: Jupyter only says "restarting kernel" when a kernel died, whatever killed it. Before
its restarter restarts a dead kernel (``restart_kernel``), :class:`OomFirstKernelManager` looks
at how the kernel ended: killed by SIGKILL while the container's OOM-kill count went up since
the last look (memory_cgroup, one watch for the whole server) is one WARNING in the viewer's log,
``kernel <id> was OOM-killed (the container's memory limit is 512 MiB; 1 OOM kill so far)``, in
``kubectl logs`` on Kubernetes. A restart the user asks for, of a live kernel, looks at nothing.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from jupyter_server.services.kernels.kernelmanager import ServerKernelManager

from .memory_cgroup import OomKillWatch

OOM_SCORE_ADJ = 1000
SHELL = "/bin/sh"
_SCRIPT = (
    f"{{ echo {OOM_SCORE_ADJ} > /proc/self/oom_score_adj; }} 2>/dev/null"
    f" || echo 'ipython_roles: could not set oom_score_adj={OOM_SCORE_ADJ} for this kernel' >&2;"
    ' exec "$@"'
)
OOM_GROUP_FILE = Path("/sys/fs/cgroup/memory.oom.group")
#: How a kernel killed by SIGKILL ends: its own status, or a wrapping shell's (128 + 9).
KILLED_STATUSES = (-signal.SIGKILL, 128 + signal.SIGKILL)
#: The container's OOM-kill count, looked at when a kernel is found killed (one for the server).
OOM_KILLS = OomKillWatch()


def oom_first_command(kernel_command: list[str]) -> list[str]:
    """``kernel_command`` started with oom_score_adj = OOM_SCORE_ADJ (same pid, via exec)."""
    return [SHELL, "-c", _SCRIPT, "ipython-kernel", *kernel_command]


class OomFirstKernelManager(ServerKernelManager):
    """Jupyter Server's kernel manager; every kernel it starts (and restarts) is OOM-first."""

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return oom_first_command(super().format_kernel_cmd(extra_arguments))

    async def restart_kernel(self, *args: Any, **kwargs: Any) -> None:
        # Jupyter's restarter calls this once it found the kernel dead; the process's status is
        # still there to read (a live kernel, restarted on request, has none)
        status = await self.provisioner.poll() if self.provisioner is not None else None
        if status in KILLED_STATUSES and (news := OOM_KILLS.news()):
            self.log.warning("kernel %s was %s", self.kernel_id, news)
        return await super().restart_kernel(*args, **kwargs)


def oom_group_note(path: Path = OOM_GROUP_FILE) -> str | None:
    """A log line when this container's cgroup kills all its processes together on OOM."""
    try:
        value = path.read_text().strip()
    except OSError:
        return None
    if value != "1":
        return None
    return (
        f"{path} is 1: an out-of-memory kill takes every process of this container together, "
        f"so the kernels' oom_score_adj={OOM_SCORE_ADJ} cannot spare the server "
        "(Kubernetes on cgroup v2: the kubelet's singleProcessOOMKill: true changes that)"
    )
