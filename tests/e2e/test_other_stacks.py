"""The local run follows what any stack declares, not this project's wiring: a hand-written
synth output (as a changed construct would produce) with init containers, two replicas, an
emptyDir shared by a pod's containers, a ConfigMap through env_from, a Secret filled from a
random_string, a fieldRef, $(VAR) expansion in args and a Service reached by its cluster name."""

from __future__ import annotations

import json
import time

import pytest

from .deployment import IMAGE, owned

WORKSPACE = "e2e-probe"
NAMESPACE = "probe"
MAIN = (
    "import os, sys, pathlib\n"
    "print('args', sys.argv[1:], 'init wrote', pathlib.Path('/shared/from-init').read_text(), flush=True)\n"
    "os.execvp('python', ['python', '-m', 'http.server', '8000', '--directory', '/shared'])\n"
)
STACK = {
    "variable": {"replicas": {"type": "number", "default": 2}},
    "locals": {"greeting": "${lower(\"HELLO\")}"},
    "resource": {
        "random_string": {"suffix": {"length": 6, "special": False, "upper": False}},
        "kubernetes_config_map_v1": {
            "settings": {"metadata": {"name": "probe-settings", "namespace": NAMESPACE}, "data": {"GREETING": "${local.greeting}"}},
        },
        "kubernetes_secret_v1": {
            "token": {"metadata": {"name": "probe-token", "namespace": NAMESPACE},
                      "data": {"token": "t-${random_string.suffix.result}"}},
        },
        "kubernetes_deployment_v1": {
            "probe": {
                "metadata": {"name": "probe", "namespace": NAMESPACE},
                "spec": {
                    "replicas": "${var.replicas}",
                    "selector": {"match_labels": {"app": "probe"}},
                    "template": {
                        "metadata": {"labels": {"app": "probe"}},
                        "spec": {
                            "init_container": [{
                                "name": "prepare",
                                "image": IMAGE,
                                "command": ["python", "-c", "import os; open('/shared/from-init', 'w').write(os.environ['POD'])"],
                                "env": [{"name": "POD", "value_from": {"field_ref": {"field_path": "metadata.name"}}}],
                                "volume_mount": [{"name": "shared", "mount_path": "/shared"}],
                            }],
                            "container": [{
                                "name": "main",
                                "image": IMAGE,
                                "command": ["python", "-c", MAIN],
                                "args": ["$(GREETING)", "$(TOKEN)", "$$(GREETING)"],
                                "env_from": [{"config_map_ref": {"name": "probe-settings"}}],
                                "env": [{"name": "TOKEN", "value_from": {"secret_key_ref": {"name": "probe-token", "key": "token"}}}],
                                "port": [{"container_port": 8000, "name": "http"}],
                                "volume_mount": [{"name": "shared", "mount_path": "/shared"}],
                            }],
                            "volume": [{"name": "shared", "empty_dir": {}}],
                            # python is PID 1 here and ignores SIGTERM: stop after 1 s, not 10
                            "termination_grace_period_seconds": 1,
                        },
                    },
                },
            },
        },
        "kubernetes_service_v1": {
            "probe": {"metadata": {"name": "probe", "namespace": NAMESPACE},
                      "spec": {"selector": {"app": "probe"}, "port": [{"port": 8000, "target_port": "http"}]}},
        },
    },
    "output": {"suffix": {"value": "${random_string.suffix.result}"}},
}

FETCH = (
    "import urllib.request\n"
    "print(urllib.request.urlopen('http://probe.probe.svc.cluster.local:8000/from-init', timeout=10).read().decode())\n"
)


@pytest.fixture(scope="module")
def probe_app(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("probe") / "cdktf.out"
    (outdir / "stacks" / "probe-stack").mkdir(parents=True)
    (outdir / "stacks" / "probe-stack" / "cdk.tf.json").write_text(json.dumps(STACK))
    (outdir / "manifest.json").write_text(json.dumps({"stacks": {"probe-stack": {
        "synthesizedStackPath": "stacks/probe-stack/cdk.tf.json", "workingDirectory": "stacks/probe-stack",
        "dependencies": []}}}))
    return outdir


@pytest.fixture(scope="module")
def probe(local, probe_app, engine_client):
    try:
        result = local.ok("up", "--workspace", WORKSPACE, "--from", str(probe_app), "--json", timeout=900)
        yield json.loads(result.stdout), result.stderr
    finally:
        local("down", "--workspace", WORKSPACE)


def _pods(client):
    containers = client.containers.list(filters={"label": [f"io.ipython-k8s.local.workspace={WORKSPACE}"]})
    return {c.labels["io.ipython-k8s.local.pod"]: c for c in containers}


def test_a_stack_without_an_ingress_publishes_nothing(probe):
    printed, progress = probe
    assert printed == []
    assert "local: running init container prepare of probe-0" in progress


def test_init_containers_fill_the_pods_empty_dir_and_the_environment_is_resolved(probe, local, engine_client):
    pods = _pods(engine_client)
    assert sorted(pods) == ["probe-0", "probe-1"]
    state = json.loads((local.state_dir / "state.json").read_text())
    suffix = state["workspaces"][WORKSPACE]["stacks"]["probe-stack"]["applied"]["outputs"]["suffix"]
    for name, container in pods.items():
        expected = f"args ['hello', 't-{suffix}', '$(GREETING)'] init wrote {name}"
        deadline = time.monotonic() + 60  # `up` waits for published viewers only: these start on their own
        while expected not in (log := container.logs().decode()) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert expected in log, log


def test_the_service_name_leads_to_the_pods(probe, engine_client):
    pods = _pods(engine_client)
    deadline = time.monotonic() + 60
    while (result := pods["probe-0"].exec_run(["python", "-c", FETCH])).exit_code != 0 and time.monotonic() < deadline:
        time.sleep(0.5)  # the servers start after `up` returns
    assert result.exit_code == 0, result.output
    assert result.output.decode().strip() in ("probe-0", "probe-1")


def test_down_removes_the_pods_volumes_and_the_namespace_network(probe, local, engine_client):
    local.ok("down", "--workspace", WORKSPACE)
    assert owned(engine_client, workspace=WORKSPACE) == {"containers": [], "volumes": [], "networks": []}
    assert not engine_client.networks.list(names=[f"ipython-k8s-local-{NAMESPACE}"])
