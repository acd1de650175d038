"""The viewer role: a Jupyter server (Notebook 7 UI at /tree, JupyterLab at /lab).

Login is by password only. The password from IPYTHON_USER_PASSWORD is hashed here with argon2
(``jupyter_server.auth.passwd``) and handed to the server as
``PasswordIdentityProvider.hashed_password`` in a JSON config file written 0600 into the
private (0700) Jupyter runtime directory, passed with ``--config``. The clear password is never
written, logged or put in a command line, and the entrypoint removes it from the environment
before exec, so neither the server nor its kernels (which inherit the server's environment)
can read it. Token login is off (``IdentityProvider.token = ""``), so a password is the only
way in; ``GET /api`` answers without login and serves as the health check.

Idle kernels are shut down after IPYTHON_CULL_IDLE_SECONDS (default 3600; 0 never): a kernel
left running by a closed browser tab holds memory (often a lot, with data loaded) inside the
pod's limit until the pod restarts. Jupyter's ``MappingKernelManager`` does it:
``cull_idle_timeout`` = the setting, ``cull_interval`` = every minute (every timeout/2 when that
is shorter, so a small timeout is honoured closely), ``cull_connected`` = false (a notebook still
open in a browser keeps its kernel however idle), ``cull_busy`` = false (a long computation is
not idle).

Without a password the viewer refuses to start, unless IPYTHON_ALLOW_NO_PASSWORD=true: then the
server runs with no authentication at all, an explicit choice for a viewer behind another login.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .runtime_paths import write_private_json
from .settings import Settings
from .workspace import NOTARY_DIR

CONFIG_FILE = "ipython-roles-viewer-config.json"


def hash_password(password: str) -> str:
    from jupyter_server.auth.security import passwd

    return passwd(password, algorithm="argon2")


#: How often idle kernels are looked for, at most (Jupyter's default is 300 s).
CULL_INTERVAL_SECONDS = 60


def culling_config(idle_seconds: int) -> dict:
    """The MappingKernelManager settings for IPYTHON_CULL_IDLE_SECONDS (empty: never cull)."""
    if idle_seconds == 0:
        return {}
    return {
        "cull_idle_timeout": idle_seconds,
        "cull_interval": max(1, min(CULL_INTERVAL_SECONDS, idle_seconds // 2)),
        "cull_connected": False,
        "cull_busy": False,
    }


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
    config = {
        "ServerApp": server,
        "IdentityProvider": {"token": ""},
        "PasswordIdentityProvider": {
            "hashed_password": hashed_password,
            "password_required": bool(hashed_password),
            "allow_password_change": False,
        },
    }
    # Trust (signatures of notebooks the user ran) lives with the notebooks, not in HOME
    config["NotebookNotary"] = {"data_dir": str(settings.notebook_dir / NOTARY_DIR)}
    culling = culling_config(settings.cull_idle_seconds)
    if culling:
        config["MappingKernelManager"] = culling
    return config


def write_viewer_config(runtime_dir: Path, settings: Settings) -> Path:
    hashed = hash_password(settings.password) if settings.password else ""
    return write_private_json(runtime_dir / CONFIG_FILE, viewer_config(settings, hashed))


def viewer_command(config_file: Path) -> list[str]:
    return [sys.executable, "-m", "notebook", f"--config={config_file}"]
