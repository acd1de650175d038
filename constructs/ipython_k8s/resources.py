"""CPU and memory requests and limits of a container.

WHY both: requests let the scheduler place pods where they fit; limits keep one runaway kernel
or engine from starving the node. The defaults fit a 2-core, 8 GiB node running one viewer, a
controller and two engines; raise them for real work.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import validation


@dataclass(frozen=True)
class Resources:
    """Requests and limits, as Kubernetes quantities (``"500m"``, ``"1Gi"``)."""

    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str

    def __post_init__(self) -> None:
        for field in ("cpu_request", "memory_request", "cpu_limit", "memory_limit"):
            validation.quantity(f"resources.{field}", getattr(self, field))

    def requests(self) -> dict[str, str]:
        return {"cpu": self.cpu_request, "memory": self.memory_request}

    def limits(self) -> dict[str, str]:
        return {"cpu": self.cpu_limit, "memory": self.memory_limit}


#: The notebook server plus its kernels: the one place users run code interactively.
VIEWER_RESOURCES = Resources(
    cpu_request="100m", memory_request="512Mi", cpu_limit="2", memory_limit="2Gi"
)
#: The ipyparallel hub and schedulers: mostly idle, short bursts when tasks are submitted.
CONTROLLER_RESOURCES = Resources(
    cpu_request="100m", memory_request="256Mi", cpu_limit="1", memory_limit="1Gi"
)
#: One engine runs one task at a time: a core's worth.
ENGINE_RESOURCES = Resources(
    cpu_request="250m", memory_request="256Mi", cpu_limit="1", memory_limit="1Gi"
)
