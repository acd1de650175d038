"""Pod and container security settings: restrictive by default, each one a field to loosen.

WHY these defaults: they satisfy the Kubernetes "restricted" Pod Security Standard and common
scanners. The image runs as uid 1000 with group 0 and writes only to /home/ipython (+/work) and
/tmp, which get their own volumes, so the root filesystem can be read-only. Nothing in the
pods talks to the Kubernetes API, so no service account token is mounted.

On OpenShift (arbitrary UIDs, restricted SCC) use ``PodSecurity(run_as_user=None,
run_as_group=None, fs_group=None)``: the platform picks the UID and the image still works
because everything it writes is group-0-writable.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import validation


@dataclass(frozen=True)
class PodSecurity:
    """Security settings of every pod a construct creates.

    - ``run_as_user`` (1000, the image's user): None lets the platform choose (OpenShift).
    - ``run_as_group`` (0): the group that owns the image's writable paths; None: image default.
    - ``fs_group`` (0): group of mounted volumes so the workspace PVC is writable; None: unset.
    - ``run_as_non_root`` (True): the kubelet refuses to start a container as uid 0.
    - ``seccomp_profile`` ("RuntimeDefault"): "Unconfined" or None to loosen.
    - ``read_only_root_filesystem`` (True): writable emptyDirs on /tmp and /home/ipython instead.
    - ``allow_privilege_escalation`` (False): no setuid gains.
    - ``drop_capabilities`` (("ALL",)): Linux capabilities removed from every container.
    - ``automount_service_account_token`` (False): no Kubernetes API credentials in the pods.
    """

    run_as_user: int | None = 1000
    run_as_group: int | None = 0
    fs_group: int | None = 0
    run_as_non_root: bool = True
    seccomp_profile: str | None = "RuntimeDefault"
    read_only_root_filesystem: bool = True
    allow_privilege_escalation: bool = False
    drop_capabilities: tuple[str, ...] = ("ALL",)
    automount_service_account_token: bool = False

    def __post_init__(self) -> None:
        for field in ("run_as_user", "run_as_group", "fs_group"):
            value = getattr(self, field)
            if value is not None:
                validation.integer(f"security.{field}", value, minimum=0, maximum=2**31 - 1)
        if self.run_as_non_root and self.run_as_user == 0:
            raise validation.InvalidValue(
                "security.run_as_user", 0, "a non-zero uid while run_as_non_root is True"
            )
        for field in (
            "run_as_non_root",
            "read_only_root_filesystem",
            "allow_privilege_escalation",
            "automount_service_account_token",
        ):
            validation.boolean(f"security.{field}", getattr(self, field))
        if self.seccomp_profile is not None:
            validation.one_of(
                "security.seccomp_profile", self.seccomp_profile, ("RuntimeDefault", "Unconfined")
            )
        if not isinstance(self.drop_capabilities, tuple) or not all(
            isinstance(c, str) and c for c in self.drop_capabilities
        ):
            raise validation.InvalidValue(
                "security.drop_capabilities",
                self.drop_capabilities,
                "a tuple of capability names such as ('ALL',)",
            )


#: The defaults above, for readability at call sites.
RESTRICTED = PodSecurity()


def pod_security_context(security: PodSecurity, module):
    """The pod-level ``security_context`` (``module``: the provider submodule of the workload)."""
    seccomp = (
        module.DeploymentV1SpecTemplateSpecSecurityContextSeccompProfile(type=security.seccomp_profile)
        if security.seccomp_profile
        else None
    )
    return module.DeploymentV1SpecTemplateSpecSecurityContext(
        run_as_non_root=security.run_as_non_root,
        run_as_user=_number(security.run_as_user),
        run_as_group=_number(security.run_as_group),
        fs_group=_number(security.fs_group),
        seccomp_profile=seccomp,
    )


def container_security_context(security: PodSecurity, module):
    capabilities = (
        module.DeploymentV1SpecTemplateSpecContainerSecurityContextCapabilities(
            drop=list(security.drop_capabilities)
        )
        if security.drop_capabilities
        else None
    )
    return module.DeploymentV1SpecTemplateSpecContainerSecurityContext(
        allow_privilege_escalation=security.allow_privilege_escalation,
        privileged=False,
        read_only_root_filesystem=security.read_only_root_filesystem,
        run_as_non_root=security.run_as_non_root,
        capabilities=capabilities,
    )


def _number(value: int | None) -> str | None:
    # The provider declares these ids as strings (they may be 64-bit).
    return None if value is None else str(value)
