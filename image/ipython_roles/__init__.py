"""Role-switching entrypoint of the IPython notebook image: viewer, controller, engine.

One concept per module: settings (the environment, validated), connection_info (the
controller's ports and connection files, computed rather than copied), curve_keys (CurveZMQ),
viewer (+ viewer_server, the server process; identity, its login, with login_throttle,
login_sessions and cookie_policy; kernel_launcher, kernels the OOM killer's first choice),
controller (+ message_limit, which runs the controller process with a maximum message size;
task_records, the hub's task records, and task_bounds, the rest of its memory per task),
engine (+ controller_watch and registration_watch, both a subscription_watch), workspace
and requirements_install (IPYTHON_NOTEBOOK_REPOSITORY), workspace_seed (notebooks baked into the
image), assemble (S2I), healthcheck, memory_cgroup (the container's memory limit, and its OOM
kills in the roles' logs),
ipython_parallel_shim / shim_install (``IPython.parallel``), secret_handoff (no secret in any
process's initial environment), pycache_seed (the start path's byte-code, linked in by
entrypoint.py), cli.
"""

from .cli import main
from .errors import ConfigError
from .settings import Settings, load_settings

__all__ = ["ConfigError", "Settings", "load_settings", "main"]
