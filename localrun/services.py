"""Services and Ingresses: names inside the network, one address outside it.

WHY network aliases: a Service in Kubernetes is a name that leads to the pods its selector
matches; on a container network the same is an alias that every matching container carries
(``ipcluster-<cluster>``, ``ipcluster-<cluster>.<ns>``, ``….svc.cluster.local``), so the
engines and viewers find their controller by the name the Terraform gives them. A Service that
maps a port to another target port cannot be expressed by a name alone and is an error.

WHY publish from the Ingress: the viewer is what a person opens; its Ingress rule leads to a
Service and a port, and that port of the matching pod is published on 127.0.0.1 (TLS and host
names are left out: see ``catalog.IGNORED_PARTS``). Without an Ingress, a Service of type
NodePort or LoadBalancer is published instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import LocalRunError
from .objects import KubeObject, Namespaces, block, blocks


def selects(service: KubeObject, pod_labels: Mapping[str, str]) -> bool:
    selector = service.spec.get("selector") or {}
    return bool(selector) and all(pod_labels.get(k) == v for k, v in selector.items())


def dns_names(service: str, namespace: str) -> list[str]:
    return [service, f"{service}.{namespace}", f"{service}.{namespace}.svc", f"{service}.{namespace}.svc.cluster.local"]


def _container_port(target: Any, containers: Sequence[Mapping[str, Any]]) -> int | None:
    for container in containers:
        for port in blocks(container.get("port")):
            if str(target) in (str(port.get("container_port")), str(port.get("name"))):
                return int(port["container_port"])
    return int(target) if str(target).isdigit() else None


def aliases_for(pod_labels: Mapping[str, str], namespace: str, namespaces: Namespaces,
                containers: Sequence[Mapping[str, Any]]) -> list[str]:
    """The network names of a pod: those of every Service of its namespace that selects it."""
    names: list[str] = []
    for service in sorted(namespaces.of_kind("Service", namespace), key=lambda s: s.name):
        if not selects(service, pod_labels):
            continue
        for port in blocks(service.spec.get("port")):
            target = port.get("target_port") or port.get("port")
            number = _container_port(target, containers)
            if number is None:
                raise LocalRunError(f"{service.describe()}: target_port {target!r} names no port of the selected containers")
            if number != int(port["port"]):
                raise LocalRunError(
                    f"{service.describe()}: port {port['port']} -> target port {number}: the local run gives a "
                    f"Service name to its pods but cannot map one port to another"
                )
        names.extend(dns_names(service.name, namespace))
    return names


@dataclass(frozen=True)
class Route:
    """What to publish on 127.0.0.1: a port of the first pod of a Deployment."""

    key: str  # stable id of the route, for the remembered local port
    source: KubeObject  # the Ingress or Service
    service: KubeObject
    deployment: KubeObject
    container: str
    container_port: int
    path: str


def _backend_deployment(service: KubeObject, namespaces: Namespaces) -> KubeObject | None:
    for deployment in namespaces.of_kind("Deployment", service.namespace):
        if selects(service, deployment.pod_template.labels):
            return deployment
    return None


def _route(source: KubeObject, service_name: str, port_ref: Mapping[str, Any], path: str, namespaces: Namespaces) -> Route:
    service = namespaces.get("Service", source.namespace, service_name)
    if service is None:
        raise LocalRunError(f"{source.describe()}: backend Service {source.namespace}/{service_name} does not exist")
    wanted = port_ref.get("number") if port_ref.get("number") is not None else port_ref.get("name")
    for port in blocks(service.spec.get("port")):
        if str(wanted) in (str(port.get("port")), str(port.get("name"))):
            target = port.get("target_port") or port.get("port")
            break
    else:
        raise LocalRunError(f"{source.describe()}: Service {service.name} has no port {wanted!r}")
    deployment = _backend_deployment(service, namespaces)
    if deployment is None:
        raise LocalRunError(f"{source.describe()}: Service {service.name} selects no Deployment's pods")
    containers = deployment.pod_template.containers
    for container in containers:
        number = _container_port(target, [container])
        if number is not None and any(int(p["container_port"]) == number for p in blocks(container.get("port"))):
            return Route(f"{source.kind}/{source.namespace}/{source.name}", source, service, deployment,
                         container["name"], number, path)
    number = _container_port(target, containers)
    if number is None:
        raise LocalRunError(f"{source.describe()}: target port {target!r} of Service {service.name} is no container port")
    return Route(f"{source.kind}/{source.namespace}/{source.name}", source, service, deployment,
                 containers[0]["name"], number, path)


def routes(objects: Sequence[KubeObject], namespaces: Namespaces) -> list[Route]:
    """The routes of the objects of this run: each Ingress rule path, or exposed Services."""
    found: list[Route] = []
    for ingress in (o for o in objects if o.kind == "Ingress"):
        spec = ingress.spec
        default = block(spec.get("default_backend"))
        if default and block(default.get("service")):
            service = block(default["service"])
            found.append(_route(ingress, service["name"], block(service.get("port")) or {}, "/", namespaces))
        for rule in blocks(spec.get("rule")):
            http = block(rule.get("http")) or {}
            for path in blocks(http.get("path")):
                service = block((block(path.get("backend")) or {}).get("service"))
                if service:
                    found.append(_route(ingress, service["name"], block(service.get("port")) or {},
                                        path.get("path") or "/", namespaces))
                    break  # one address per Ingress: its first path
            if found and found[-1].source is ingress:
                break
    if not found:
        for service in (o for o in objects if o.kind == "Service"):
            if service.spec.get("type") in ("NodePort", "LoadBalancer"):
                first = block(service.spec.get("port")) or {}
                found.append(_route(service, service.name, {"number": first.get("port")}, "/", namespaces))
    return found
