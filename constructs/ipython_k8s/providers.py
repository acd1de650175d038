"""Provider configuration the constructs need.

WHY ``ensure_random_provider``: the generated labels, passwords and keys use the ``random``
provider, which needs no settings; adding it on demand (once per stack) spares every user a
line. The ``kubernetes`` provider does need settings (which cluster), so the caller adds it,
for instance with ``add_kubernetes_provider``.
"""

from __future__ import annotations

from cdktf import TerraformStack

from constructs import Construct

from .provider_import import kubernetes, random

RANDOM_PROVIDER_ID = "random"


def ensure_random_provider(scope: Construct):
    """The stack's ``RandomProvider``, created with id ``random`` if the stack has none yet."""
    provider_class = random("provider").RandomProvider
    stack = TerraformStack.of(scope)
    for child in stack.node.children:
        if isinstance(child, provider_class):
            return child
    return provider_class(stack, RANDOM_PROVIDER_ID)


def add_kubernetes_provider(
    scope: Construct,
    id: str = "kubernetes",
    *,
    config_path: str | None = None,
    config_context: str | None = None,
):
    """A ``KubernetesProvider`` reading a kubeconfig file.

    ``config_path`` None: the provider's own defaults apply at plan time (``KUBE_CONFIG_PATH``
    and friends), nothing machine-specific is written into the synthesized files.
    ``config_context`` None: the kubeconfig's current context.
    """
    return kubernetes("provider").KubernetesProvider(
        scope, id, config_path=config_path, config_context=config_context
    )
