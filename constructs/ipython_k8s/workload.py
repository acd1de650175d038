"""One builder for the Deployments of all three roles (viewer, controller, engine).

WHY one builder: the roles differ in environment, ports and probes, not in how a secure pod is
put together; building every pod here keeps the security settings, the volumes for the writable
paths and the probe timings identical across roles.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from . import validation
from .defaults import HOME_DIR, TMP_DIR
from .provider_import import kubernetes
from .placement import NO_PLACEMENT, Placement, pod_spec_placement
from .resources import Resources
from .scanner_skips import annotate, image_skips
from .security import PodSecurity, container_security_context, pod_security_context

#: emptyDir size limits: enough for a pip-installed requirements.txt under HOME, and bounded so
#: that one pod cannot fill the node's disk.
HOME_SIZE_LIMIT = "4Gi"
TMP_SIZE_LIMIT = "1Gi"


@dataclass(frozen=True)
class Env:
    """An environment variable: a plain value, or a key of a Secret (``secret``, ``key``)."""

    name: str
    value: str | None = None
    secret: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class Probes:
    """Health checks of a role: HTTP GET ``path`` on ``port``, a TCP connect to ``port`` when
    path is None, or, for a role that serves no port (the engine), ``command`` run in the
    container (an exec probe; exit 0 is healthy).

    The startup probe gives a pod up to 5 minutes (cloning a repository, installing its
    requirements) before liveness checks may restart it.
    """

    port: int | None = None
    path: str | None = None
    command: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Volume:
    """A writable path: an emptyDir (``claim`` None) or a PersistentVolumeClaim."""

    name: str
    mount_path: str
    claim: str | None = None
    size_limit: str | None = None


def scratch_volumes() -> list[Volume]:
    """The writable paths every role needs under a read-only root filesystem."""
    return [
        Volume("home", HOME_DIR, size_limit=HOME_SIZE_LIMIT),
        Volume("tmp", TMP_DIR, size_limit=TMP_SIZE_LIMIT),
    ]


@dataclass(frozen=True)
class PodPlan:
    name: str
    namespace: str
    labels: dict[str, str]
    selector: dict[str, str]
    replicas: int
    strategy: str
    container: str
    image: str
    image_pull_policy: str | None
    env: list[Env]
    ports: list[tuple[str, int]]
    volumes: list[Volume]
    resources: Resources
    security: PodSecurity
    wait_for_rollout: bool
    probes: Probes | None = None
    placement: Placement = NO_PLACEMENT


def check_workload_props(
    *,
    id: str,
    namespace: object,
    image: object,
    image_pull_policy: object,
    security: object,
    wait_for_rollout: object,
    output_prefix: object,
) -> str:
    """The props every construct with pods shares; returns the output prefix (default: the id)."""
    validation.dns_label("namespace", namespace)
    validation.image("image", image)
    if image_pull_policy is not None:
        validation.one_of("image_pull_policy", image_pull_policy, validation.IMAGE_PULL_POLICIES)
    validation.instance("security", security, PodSecurity, "a PodSecurity")
    validation.boolean("wait_for_rollout", wait_for_rollout)
    return validation.terraform_identifier(
        "output_prefix", id if output_prefix is None else output_prefix
    )


def _env(entry: Env, m):
    if entry.secret is None:
        return m.DeploymentV1SpecTemplateSpecContainerEnv(name=entry.name, value=entry.value)
    return m.DeploymentV1SpecTemplateSpecContainerEnv(
        name=entry.name,
        value_from=m.DeploymentV1SpecTemplateSpecContainerEnvValueFrom(
            secret_key_ref=m.DeploymentV1SpecTemplateSpecContainerEnvValueFromSecretKeyRef(
                name=entry.secret, key=entry.key
            )
        ),
    )


def _probe(kind: str, probes: Probes, m, *, period: int, failures: int):
    prefix = f"DeploymentV1SpecTemplateSpecContainer{kind}Probe"
    if probes.command is not None:
        target = {"exec": getattr(m, prefix + "Exec")(command=list(probes.command))}
    elif probes.path is not None:
        target = {"http_get": getattr(m, prefix + "HttpGet")(path=probes.path, port=str(probes.port))}
    else:
        target = {"tcp_socket": [getattr(m, prefix + "TcpSocket")(port=str(probes.port))]}
    return getattr(m, prefix)(
        period_seconds=period, failure_threshold=failures, timeout_seconds=5, **target
    )


def _volume(volume: Volume, m):
    if volume.claim is not None:
        return m.DeploymentV1SpecTemplateSpecVolume(
            name=volume.name,
            persistent_volume_claim=m.DeploymentV1SpecTemplateSpecVolumePersistentVolumeClaim(
                claim_name=volume.claim
            ),
        )
    return m.DeploymentV1SpecTemplateSpecVolume(
        name=volume.name,
        empty_dir=m.DeploymentV1SpecTemplateSpecVolumeEmptyDir(size_limit=volume.size_limit),
    )


def _structs(prefix: str, value, m):
    """The provider's struct classes for a plain nested value (jsii converts a dict into a struct
    only at the top; deeper ones must be the classes): a dict under the key ``some_key`` becomes
    ``<prefix>SomeKey``, a list holds such structs; a dict without a class (a string map such as
    ``match_labels``) stays a dict."""
    if isinstance(value, list):
        return [_structs(prefix, item, m) for item in value]
    struct = getattr(m, prefix, None)
    if not isinstance(value, dict) or struct is None:
        return value
    return struct(**{
        key: _structs(prefix + "".join(part.capitalize() for part in key.split("_")), item, m)
        for key, item in value.items()
    })


def deployment(scope: Construct, id: str, plan: PodPlan):
    """A ``kubernetes_deployment_v1`` for ``plan``."""
    m = kubernetes("deployment_v1")
    probes = plan.probes
    container = m.DeploymentV1SpecTemplateSpecContainer(
        name=plan.container,
        image=plan.image,
        image_pull_policy=plan.image_pull_policy,
        env=[_env(entry, m) for entry in plan.env],
        port=[
            m.DeploymentV1SpecTemplateSpecContainerPort(
                name=name, container_port=number, protocol="TCP"
            )
            for name, number in plan.ports
        ]
        or None,
        volume_mount=[
            m.DeploymentV1SpecTemplateSpecContainerVolumeMount(
                name=volume.name, mount_path=volume.mount_path
            )
            for volume in plan.volumes
        ],
        resources=m.DeploymentV1SpecTemplateSpecContainerResources(
            requests=plan.resources.requests(), limits={**plan.resources.limits(), **plan.placement.limits()}
        ),
        security_context=container_security_context(plan.security, m),
        startup_probe=_probe("Startup", probes, m, period=5, failures=60) if probes else None,
        readiness_probe=_probe("Readiness", probes, m, period=10, failures=3) if probes else None,
        liveness_probe=_probe("Liveness", probes, m, period=20, failures=3) if probes else None,
    )
    resource = m.DeploymentV1(
        scope,
        id,
        metadata=m.DeploymentV1Metadata(
            name=plan.name, namespace=plan.namespace, labels=plan.labels
        ),
        wait_for_rollout=plan.wait_for_rollout,
        spec=m.DeploymentV1Spec(
            replicas=str(plan.replicas),
            strategy=m.DeploymentV1SpecStrategy(type=plan.strategy),
            selector=m.DeploymentV1SpecSelector(match_labels=plan.selector),
            template=m.DeploymentV1SpecTemplate(
                metadata=m.DeploymentV1SpecTemplateMetadata(labels=plan.labels),
                spec=m.DeploymentV1SpecTemplateSpec(
                    automount_service_account_token=plan.security.automount_service_account_token,
                    enable_service_links=False,
                    security_context=pod_security_context(plan.security, m),
                    container=[container],
                    volume=[_volume(volume, m) for volume in plan.volumes],
                    **{key: _structs("DeploymentV1SpecTemplateSpec" + "".join(
                        part.capitalize() for part in key.split("_")), value, m)
                       for key, value in pod_spec_placement(plan.placement, plan.selector).items()},
                ),
            ),
        ),
    )
    annotate(resource, image_skips(plan.image, plan.image_pull_policy))
    return resource
