"""Builders for the plain Kubernetes objects: Secret, Service, PersistentVolumeClaim, Ingress."""

from __future__ import annotations

from constructs import Construct

from .provider_import import kubernetes


def secret(scope: Construct, id: str, *, name: str, namespace: str, labels: dict[str, str], data: dict[str, str]):
    """An Opaque Secret; ``data`` values are plain (the provider encodes them) and may be tokens."""
    m = kubernetes("secret_v1")
    return m.SecretV1(
        scope,
        id,
        metadata=m.SecretV1Metadata(name=name, namespace=namespace, labels=labels),
        data=data,
        type="Opaque",
    )


def cluster_ip_service(
    scope: Construct,
    id: str,
    *,
    name: str,
    namespace: str,
    labels: dict[str, str],
    selector: dict[str, str],
    ports: list[tuple[str, int]],
):
    """A ClusterIP Service; each port forwards to the same container port number."""
    m = kubernetes("service_v1")
    return m.ServiceV1(
        scope,
        id,
        metadata=m.ServiceV1Metadata(name=name, namespace=namespace, labels=labels),
        spec=m.ServiceV1Spec(
            type="ClusterIP",
            selector=selector,
            port=[
                m.ServiceV1SpecPort(name=port_name, port=number, target_port=str(number), protocol="TCP")
                for port_name, number in ports
            ],
        ),
    )


def workspace_claim(
    scope: Construct,
    id: str,
    *,
    name: str,
    namespace: str,
    labels: dict[str, str],
    size: str,
    storage_class: str | None,
    access_mode: str = "ReadWriteOnce",
):
    """A claim (ReadWriteOnce unless ``access_mode`` says otherwise: a cluster's shared volume is
    ReadWriteMany), its own resource so that it outlives any re-deploy of the Deployments.

    ``wait_until_bound`` is off: with ``WaitForFirstConsumer`` storage classes a claim binds only
    once the pod that mounts it is scheduled, which Terraform creates afterwards.
    """
    m = kubernetes("persistent_volume_claim_v1")
    return m.PersistentVolumeClaimV1(
        scope,
        id,
        metadata=m.PersistentVolumeClaimV1Metadata(name=name, namespace=namespace, labels=labels),
        spec=m.PersistentVolumeClaimV1Spec(
            access_modes=[access_mode],
            resources=m.PersistentVolumeClaimV1SpecResources(requests={"storage": size}),
            storage_class_name=storage_class,
        ),
        wait_until_bound=False,
    )


def tls_ingress(
    scope: Construct,
    id: str,
    *,
    name: str,
    namespace: str,
    labels: dict[str, str],
    annotations: dict[str, str],
    host: str,
    tls_secret_name: str,
    ingress_class: str | None,
    service: str,
    port: int,
):
    """An Ingress serving ``host`` over TLS (certificate in ``tls_secret_name``) to ``service:port``."""
    m = kubernetes("ingress_v1")
    return m.IngressV1(
        scope,
        id,
        metadata=m.IngressV1Metadata(
            name=name, namespace=namespace, labels=labels, annotations=annotations or None
        ),
        spec=m.IngressV1Spec(
            ingress_class_name=ingress_class,
            tls=[m.IngressV1SpecTls(hosts=[host], secret_name=tls_secret_name)],
            rule=[
                m.IngressV1SpecRule(
                    host=host,
                    http=m.IngressV1SpecRuleHttp(
                        path=[
                            m.IngressV1SpecRuleHttpPath(
                                path="/",
                                path_type="Prefix",
                                backend=m.IngressV1SpecRuleHttpPathBackend(
                                    service=m.IngressV1SpecRuleHttpPathBackendService(
                                        name=service,
                                        port=m.IngressV1SpecRuleHttpPathBackendServicePort(number=port),
                                    )
                                ),
                            )
                        ]
                    ),
                )
            ],
        ),
    )
