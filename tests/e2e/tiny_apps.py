"""Small hand-written synth outputs (``cdktf.out``) for the local runner's own tests.

WHY not the project's stacks: these tests are about what ``local`` does with containers that
stop, run out of memory or share a namespace, not about Jupyter; a container of the project's
image running a few lines of Python starts in a second and stops at once, where a viewer takes
tens of seconds of a 2-core machine. Each test names its own namespace and workspace, so
sessions sharing the engine never meet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .deployment import IMAGE

#: Sleeps until stopped; tini passes SIGTERM on, so it stops at once.
SLEEP = ["tini", "--", "sleep", "3600"]
#: A web server on port 8000 answering / (the readiness probe's path).
SERVE = ["tini", "--", "python", "-m", "http.server", "8000", "--directory", "/tmp"]
#: Takes memory until the kernel OOM-kills it, the first time only (a marker in the pod's
#: emptyDir): restarted in the same pod, it then sleeps.
HOG_ONCE = (
    "import pathlib, time\n"
    "marker = pathlib.Path('/scratch/hogged')\n"
    "if not marker.exists():\n"
    "    marker.write_text('once')\n"
    "    print('taking memory', flush=True)\n"
    "    hog = []\n"
    "    while True:\n"
    "        hog.append(bytearray(1 << 20))\n"
    "print('restarted; sleeping', flush=True)\n"
    "time.sleep(3600)\n"
)
#: Takes memory until the kernel OOM-kills it, every time.
HOG = "hog = []\nwhile True:\n    hog.append(bytearray(1 << 20))\n"


def deployment(name: str, namespace: str, command: list[str], *, memory: str | None = None,
               port: int | None = None, scratch: bool = False, init: list[str] | None = None) -> dict[str, Any]:
    """A Deployment of one replica running ``command`` in the project's image (after ``init``
    in an init container, when given); ``memory``: the limit of both."""
    container: dict[str, Any] = {"name": "main", "image": IMAGE, "command": command}
    if port:
        container["port"] = [{"container_port": port, "name": "http"}]
        container["readiness_probe"] = {"http_get": {"path": "/", "port": "http"}}
    spec: dict[str, Any] = {"container": [container], "termination_grace_period_seconds": 1}
    if init:
        spec["init_container"] = [{"name": "prepare", "image": IMAGE, "command": init}]
    for each in [container, *spec.get("init_container", [])]:
        if memory:
            each["resources"] = {"limits": {"memory": memory}}
        if scratch:
            each["volume_mount"] = [{"name": "scratch", "mount_path": "/scratch"}]
    if scratch:
        spec["volume"] = [{"name": "scratch", "empty_dir": {}}]
    return {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": 1,
            "selector": {"match_labels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": spec},
        },
    }


def stack(namespace: str, deployments: dict[str, dict[str, Any]], *, published: str | None = None) -> dict[str, Any]:
    """A stack of these Deployments; ``published``: the one a NodePort Service publishes on
    127.0.0.1 (port 8000, as a viewer is). A random_password makes the state worth keeping."""
    resources: dict[str, Any] = {"random_password": {"key": {"length": 16, "special": False}}}
    if deployments:
        resources["kubernetes_deployment_v1"] = deployments
    if published:
        resources["kubernetes_service_v1"] = {published: {
            "metadata": {"name": published, "namespace": namespace},
            "spec": {"type": "NodePort", "selector": {"app": published}, "port": [{"port": 8000, "target_port": "http"}]},
        }}
    return {"resource": resources, "output": {"key_length": {"value": "${length(random_password.key.result)}"}}}


def write_app(outdir: Path, stacks: dict[str, dict[str, Any]]) -> Path:
    """A ``cdktf.out`` holding these stacks, for ``local up --from``."""
    manifest = {}
    for name, content in stacks.items():
        (outdir / "stacks" / name).mkdir(parents=True)
        (outdir / "stacks" / name / "cdk.tf.json").write_text(json.dumps(content))
        manifest[name] = {"synthesizedStackPath": f"stacks/{name}/cdk.tf.json", "workingDirectory": f"stacks/{name}",
                          "dependencies": []}
    (outdir / "manifest.json").write_text(json.dumps({"stacks": manifest}))
    return outdir
