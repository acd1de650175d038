"""The controller process: ``ipcontroller`` with a maximum message size on every ZeroMQ socket.

ZeroMQ reads the length of an incoming message part (a frame) from its header and then buffers
that many bytes, whoever sent it: with IPYTHON_CLUSTER_ENCRYPTION=none anybody who can reach the
controller's ports can send one frame of hundreds of MiB before any signature is checked, and
the hub then logs the whole invalid message. One 200 MiB frame to the registration port took
the controller's peak memory from 45 to 1045 MiB (issue 14). ZMQ_MAXMSGSIZE makes libzmq check
the length in the header: a longer frame is never read, the connection that announced it is
dropped (that peer alone), and the socket goes on serving everybody else. With CurveZMQ a peer
must complete the handshake first, so the limit only matters against key holders there, but it
applies in both modes. It limits each part, not a message: ZeroMQ has no option for the number
of parts, and buffers a multipart message whole before the application sees it, so with
IPYTHON_CLUSTER_ENCRYPTION=none a peer that sends many parts under the limit is still buffered
(see controller).

ipyparallel has no setting for socket options and creates its sockets in several places: the
hub, the queues and the schedulers (threads, with ``IPController.use_threads``) through the
shared ``zmq.Context.instance()``, and the heart monitor (ping and pong ports) in a forked
process through a new ``zmq.Context()``. pyzmq gives every socket a context creates the
context's default options (``Context.sockopts``), so :func:`limit_new_contexts` makes every
context of this process start with ``MAXMSGSIZE`` among them: the shared instance, any new
one, and those of processes forked from this one. That is why :func:`main` pins
multiprocessing's start method to ``fork`` (Linux's default up to Python 3.13; a spawned or
forkserver child would import pyzmq afresh, without the limit).

``python -m ipython_roles.message_limit --max-message-bytes=N [ipcontroller arguments]`` sets the
limit, then runs ipyparallel's controller with the remaining arguments (controller builds this
command from IPYTHON_MAX_MESSAGE_MIB). The limit is per part: ipyparallel sends each large
argument or result (bytes, a NumPy array, anything with a buffer over 1 MiB) as a part of its
own and pickles the rest of a task into one part, so a task whose largest part is over the
limit never reaches an engine (and a result over it never comes back): the controller drops
the connection that sent it, the sender reconnects and the message is lost.

It also raises the process's soft limit of open files to its hard limit
(:func:`raise_open_files_limit`): the hub holds about 7 file descriptors per engine and per
connected client in one process (its sockets), 1,003 with 128 engines (``python -m bench.scale``),
and a container's soft limit can be 1024 (systemd's default, which newer container runtimes pass
on). At the limit the hub can neither accept connections nor write its engine state file: new
engines are not admitted (their registrations are purged) and libzmq retries the pending
connection in a loop, a core at 100%.

Imported only by the controller process, never by the entrypoint (``-m`` would otherwise run a
module already imported).
"""

from __future__ import annotations

import multiprocessing
import resource
import sys
from collections.abc import Sequence

import zmq

from .logs import log

OPTION = "--max-message-bytes="
#: The soft limit asked for when the hard limit is unlimited (Linux's default fs.nr_open).
OPEN_FILES_WHEN_UNLIMITED = 1048576

_limit: int | None = None
_context_init = zmq.Context.__init__


def _limited_init(self: zmq.Context, *args, **kwargs) -> None:
    _context_init(self, *args, **kwargs)
    if _limit is not None:
        self.sockopts[zmq.MAXMSGSIZE] = _limit


def limit_new_contexts(max_bytes: int) -> None:
    """Every socket created from now on by any ``zmq.Context`` of this process (or of a process
    forked from it) refuses incoming message parts longer than ``max_bytes``."""
    global _limit
    if max_bytes < 1:
        raise ValueError(f"max_bytes must be positive, not {max_bytes}")
    _limit = max_bytes
    zmq.Context.__init__ = _limited_init
    shared = zmq.Context._instance  # the instance() of this process, if one was made already
    if shared is not None and not shared.closed:
        shared.setsockopt(zmq.MAXMSGSIZE, max_bytes)


def parse_arguments(argv: Sequence[str]) -> tuple[int, list[str]]:
    """``--max-message-bytes=N`` first, then ipcontroller's own arguments."""
    if not argv or not argv[0].startswith(OPTION) or not argv[0][len(OPTION):].isdigit():
        raise SystemExit(f"usage: python -m ipython_roles.message_limit {OPTION}N [ipcontroller arguments]")
    return int(argv[0][len(OPTION):]), list(argv[1:])


def raise_open_files_limit() -> tuple[int, int]:
    """Soft RLIMIT_NOFILE up to the hard limit; (before, after). Never fails: a limit that cannot
    be raised is left as it was."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = OPEN_FILES_WHEN_UNLIMITED if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass
    return soft, resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def main(argv: Sequence[str] | None = None) -> None:
    max_bytes, arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    multiprocessing.set_start_method("fork")
    limit_new_contexts(max_bytes)
    before, after = raise_open_files_limit()
    if after != before:
        log(f"open files: soft limit raised from {before} to {after} (the hub holds about 7 per engine and client)")
    log(
        f"every socket of the controller drops a peer that sends a message part over {max_bytes // 2**20} MiB "
        f"({max_bytes} bytes, IPYTHON_MAX_MESSAGE_MIB)"
    )
    from ipyparallel.controller.app import main as ipcontroller_main

    sys.argv = [sys.argv[0], *arguments]
    ipcontroller_main(argv=arguments)


if __name__ == "__main__":
    main()
