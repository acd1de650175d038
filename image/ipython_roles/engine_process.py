"""ipengine as the engine role runs it: ipyparallel's ``IPEngine`` whose nanny is its supervisor.

Run as ``python -m ipython_roles.engine_process`` with ipengine's own arguments. The only change
to ipyparallel's ipengine is ``start_nanny``: where the supervisor handed over a socket
(engine_nanny.NANNY_FD_VARIABLE), ipengine asks it for the nanny's URL instead of starting a
nanny process (see engine_nanny for why and what the nanny does). Without that socket it is
ipyparallel's ipengine, nanny process included.

The socket's variable and this package's folder on PYTHONPATH are removed from the environment
before anything else runs, so that tasks, and what they start, see neither; the socket is not
inherited by what ipengine starts.
"""

from __future__ import annotations

import os
import socket

from ipyparallel.engine import app

from .engine_nanny import NANNY_FD_VARIABLE, PACKAGE_PATH_VARIABLE, nanny_request

_supervisor: socket.socket | None = None


def take_supervisor_socket(environ: dict | os._Environ = os.environ) -> socket.socket | None:
    """The inherited socket to the supervisor (None without one), its variable removed, the
    socket no longer inheritable; and this package's folder off PYTHONPATH again."""
    package = environ.pop(PACKAGE_PATH_VARIABLE, None)
    if package is not None:
        paths = [path for path in environ.get("PYTHONPATH", "").split(os.pathsep) if path and path != package]
        if paths:
            environ["PYTHONPATH"] = os.pathsep.join(paths)
        else:
            environ.pop("PYTHONPATH", None)
    descriptor = environ.pop(NANNY_FD_VARIABLE, None)
    if descriptor is None:
        return None
    channel = socket.socket(fileno=int(descriptor))
    channel.set_inheritable(False)
    return channel


class IPEngine(app.IPEngine):
    """ipyparallel's IPEngine (same name: the same log lines and configuration section); its
    supervisor, when it has one, is its nanny."""

    def start_nanny(self, control_url):
        global _supervisor
        channel, _supervisor = _supervisor, None  # one nanny per process
        if channel is None:
            return super().start_nanny(control_url)
        self.log.info("Asking the engine supervisor to be the nanny")
        channel.sendall(nanny_request(
            engine_id=self.id, identity=self.bident, control_url=control_url,
            registration_url=self.registration_url, curve_serverkey=self.curve_serverkey,
            curve_publickey=self.curve_publickey, curve_secretkey=self.curve_secretkey,
        ))
        with channel.makefile("rb") as answers:
            answer = answers.readline().decode("utf-8", "replace").strip()
        if not answer.startswith("tcp://"):
            channel.close()
            raise RuntimeError(f"nanny failed: {answer or 'the supervisor closed the socket'}")
        # kept open for ipengine's life, as ipyparallel keeps its nanny's pipe: its end tells the nanny
        return answer, channel


def main() -> None:
    global _supervisor
    _supervisor = take_supervisor_socket()
    IPEngine.launch_instance()


if __name__ == "__main__":
    main()
