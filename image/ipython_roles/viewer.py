"""The viewer role: a Jupyter server (Notebook 7 UI at /tree, JupyterLab at /lab).

Login is by password only. The password from IPYTHON_USER_PASSWORD is hashed here with argon2
(``jupyter_server.auth.passwd``) and handed to the server as
``PasswordIdentityProvider.hashed_password`` in a JSON config file written 0600 into the
private (0700) Jupyter runtime directory, passed with ``--config``. The clear password is never
written, logged or put in a command line, and the entrypoint removes it from the environment
before exec, so neither the server nor its kernels (which inherit the server's environment)
can read it. Token login is off (``IdentityProvider.token = ""``), so a password is the only
way in; ``GET /api`` answers without login and serves as the health check.

Without a password the viewer refuses to start, unless IPYTHON_ALLOW_NO_PASSWORD=true: then the
server runs with no authentication at all, an explicit choice for a viewer behind another login.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .runtime_paths import write_private_json
from .settings import Settings

CONFIG_FILE = "ipython-roles-viewer-config.json"


def hash_password(password: str) -> str:
    from jupyter_server.auth.security import passwd

    return passwd(password, algorithm="argon2")


def viewer_config(settings: Settings, hashed_password: str) -> dict:
    server = {
        "ip": "0.0.0.0",
        "port": settings.viewer_port,
        # fail instead of silently moving to another port the Service does not point at
        "port_retries": 0,
        "open_browser": False,
        "root_dir": str(settings.notebook_dir),
        # reached through a Service / Ingress, so the Host header is never "localhost"
        "allow_remote_access": True,
    }
    if os.geteuid() == 0:
        # only when run as root on a workstation; the image runs as uid 1000 or arbitrary
        server["allow_root"] = True
    return {
        "ServerApp": server,
        "IdentityProvider": {"token": ""},
        "PasswordIdentityProvider": {
            "hashed_password": hashed_password,
            "password_required": bool(hashed_password),
            "allow_password_change": False,
        },
    }


def write_viewer_config(runtime_dir: Path, settings: Settings) -> Path:
    hashed = hash_password(settings.password) if settings.password else ""
    return write_private_json(runtime_dir / CONFIG_FILE, viewer_config(settings, hashed))


def viewer_command(config_file: Path) -> list[str]:
    return [sys.executable, "-m", "notebook", f"--config={config_file}"]
