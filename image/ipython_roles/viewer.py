"""The viewer role: a Jupyter server (Notebook 7 UI at /tree, JupyterLab at /lab).

Login is by password only. The password from IPYTHON_USER_PASSWORD is hashed here with argon2
(``jupyter_server.auth.passwd``) and handed to the server as
``PasswordIdentityProvider.hashed_password`` in a JSON config file written 0600 into the
private (0700) Jupyter runtime directory, passed with ``--config``. The clear password is never
written, logged or put in a command line, and the entrypoint removes it from the environment
before exec, so neither the server nor its kernels (which inherit the server's environment)
can read it. Token login is off (``IdentityProvider.token = ""``), so a password is the only
way in; ``GET /api`` answers without login and serves as the health check.

The login is hardened through Jupyter Server's own extension points, named in that config:
``ServerApp.identity_provider_class`` = identity.ViewerIdentityProvider (a
``PasswordIdentityProvider``) and its ``login_handler_class`` (a ``LoginFormHandler``). The
server process is viewer_server.py, which makes them importable (see there). Figures measured
on the 2-core test machine (tests/roles/test_login.py prints them):

* Throttle per client address (login_throttle): 5 wrong passwords in a row are free, the 5th
  locks the address for 1 s, every further one doubles the lock (2, 4, 8 s ...) up to 15 min;
  meanwhile its logins get 429 with ``Retry-After`` and the password is not checked, the right
  one included. A login forgets the address, so does an hour without a failure. One address
  gets about 14 guesses in its first 15 minutes, then 4 an hour: the red team's 300 wrong
  passwords in 32.5 s (the right one then accepted) are now 10 checks and 290 refusals, and the
  right password is refused until the lock runs out. In memory, at most 10,000 addresses; an
  IPv6 client counts by its /64.
* The client address is the TCP peer, unless IPYTHON_TRUSTED_PROXIES names the peer as a
  trusted proxy: then it is the rightmost ``X-Forwarded-For`` entry that is not a trusted proxy
  (else ``X-Real-IP``), see login_throttle.client_address; the config hands the networks to
  ``ViewerIdentityProvider.trusted_proxies``. Without the setting both headers are ignored and
  forging them does not escape the throttle; but behind the Ingress the peer is the ingress
  controller, so all clients share its addresses, and a flood there also throttles the user's
  own logins (not open sessions) until the flood stops and the lock runs out, 15 minutes at
  most. With the ingress controller's pod addresses (or the pod network's CIDR) trusted each
  client is throttled on its own; that is only safe when nothing else can send those headers
  to the viewer's port (docs/security.md, "Login"). ``ServerApp.trust_xheaders`` stays off in
  both cases: tornado then believes the headers of any peer.
* Password checks never run on the event loop (identity.PasswordChecks): argon2 (about 60 ms of
  CPU each) runs in a thread of its own, one check at a time, at nice 10 and busy half of the
  time at most, so a flood of checks costs at most half a core (about 8 checks/s); at most 32
  wait for their turn, more get 503 with ``Retry-After: 1`` at once. A logged-in user hardly
  notices a flood: GET /api/contents p90 6-10 ms in quiet windows, 10-11 ms in the windows
  where 8 clients sent wrong passwords from 32 addresses (four runs at load 6-10 on the shared
  2-core machine; stock Jupyter under the same flood: 6.2 ms -> 1.4 s; the red team measured
  7 ms -> 2.6 s). The gap widens when the machine itself is oversubscribed (load 60 on 2 cores:
  55 -> 146 ms), since the checks then compete for scarce CPU. A refusal (429) costs the event loop about 0.3 ms. The price is paid by logins that
  come at once: one login alone takes about 0.1 s, but 20 at once from 20 addresses took 1.5 s
  at the median and 2.7 s at most (0.7 s median before, on the loop); from one address at most
  5 checks run at once, the others get 429 for 1 s.
* Sessions (login_sessions): every login gets a random session id, in the signed cookie and in
  the server's memory. /logout ends it, so a copied cookie stops working; a restart ends them
  all (everyone logs in again). At most 1,000 sessions of at most 30 days.
* Cookies (cookie_policy): the login and ``_xsrf`` cookies are ``SameSite=Lax``, and ``Secure``
  when the browser came over HTTPS: the server's own TLS, or ``X-Forwarded-Proto: https`` from
  the Ingress, trusted for this decision only since it can only make a cookie stricter. The
  login cookie is ``HttpOnly``.

Kernels start with ``oom_score_adj`` = 1000 (kernel_launcher): at the memory limit the OOM killer
takes a kernel, which Jupyter restarts, not the server. Where the container's cgroup kills all
its processes together (``memory.oom.group``, Kubernetes on cgroup v2) the viewer logs a line at
start saying that this protection does not apply. A kernel that the OOM killer took is named in
a WARNING line of the viewer's log before Jupyter restarts it (kernel_launcher, memory_cgroup).

Idle kernels are shut down after IPYTHON_CULL_IDLE_SECONDS (default 3600; 0 never): a kernel
left running by a closed browser tab holds memory (often a lot, with data loaded) inside the
pod's limit until the pod restarts. Jupyter's ``MappingKernelManager`` does it:
``cull_idle_timeout`` = the setting, ``cull_interval`` = every minute (every timeout/2 when that
is shorter, so a small timeout is honoured closely), ``cull_connected`` = false (a notebook still
open in a browser keeps its kernel however idle), ``cull_busy`` = false (a long computation is
not idle).

nbgitpuller's server extension serves ``/git-pull?repo=URL[&branch=B][&urlpath=...]`` (the links
nbgitpuller's link generator makes): it clones the repository into the workspace, or merges its
new commits into that clone with the same rules as repository_update. Like every page it needs the
login; its event stream ``/git-pull/api`` answers 403 without it.

Without a password the viewer refuses to start, unless IPYTHON_ALLOW_NO_PASSWORD=true: then the
server runs with no authentication at all, an explicit choice for a viewer behind another login.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .logs import log
from .runtime_paths import write_private_json
from .settings import Settings
from .workspace import NOTARY_DIR

CONFIG_FILE = "ipython-roles-viewer-config.json"
#: The script that runs the Jupyter server with ipython_roles importable (see viewer_server).
SERVER_SCRIPT = Path(__file__).with_name("viewer_server.py")
IDENTITY_PROVIDER = "ipython_roles.identity.ViewerIdentityProvider"
KERNEL_MANAGER = "ipython_roles.kernel_launcher.OomFirstKernelManager"


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
        # tornado would take X-Forwarded-For / X-Real-IP from any peer: the login reads them
        # from trusted proxies only (ViewerIdentityProvider.trusted_proxies, see identity);
        # X-Forwarded-Proto is read for cookie flags only (see cookie_policy)
        "trust_xheaders": False,
        "identity_provider_class": IDENTITY_PROVIDER,
        # nbgitpuller's /git-pull?repo=... link (behind the login, as every page); named here,
        # not left to the config file its wheel drops into the venv's etc/jupyter
        "jpserver_extensions": {"nbgitpuller": True},
    }
    if os.geteuid() == 0:
        # only when run as root on a workstation; the image runs as uid 1000 or arbitrary
        server["allow_root"] = True
    config = {
        "ServerApp": server,
        "IdentityProvider": {"token": ""},
        # IPYTHON_TRUSTED_PROXIES: whose forwarded headers name the client the login throttles
        "ViewerIdentityProvider": {"trusted_proxies": list(settings.trusted_proxies)},
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
    # the server's kernel manager (AsyncMappingKernelManager) starts kernels with this class
    config["AsyncMappingKernelManager"] = {"kernel_manager_class": KERNEL_MANAGER}
    return config


def write_viewer_config(runtime_dir: Path, settings: Settings) -> Path:
    from .kernel_launcher import oom_group_note  # imports jupyter_server: not for the other roles

    hashed = hash_password(settings.password) if settings.password else ""
    note = oom_group_note()
    if note:
        log(note)
    return write_private_json(runtime_dir / CONFIG_FILE, viewer_config(settings, hashed))


def viewer_command(config_file: Path) -> list[str]:
    return [sys.executable, "-P", str(SERVER_SCRIPT), f"--config={config_file}"]
