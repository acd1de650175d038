"""Load single submodules of the prebuilt provider bindings without their package ``__init__``.

WHY: ``import cdktf_cdktf_provider_kubernetes`` executes a package ``__init__`` that imports all
~112 resource submodules (tens of thousands of generated lines, and a jsii type registration for
each) although a stack uses a handful of them: about 8 s of every synth on a small machine.
The generated submodules need nothing from the package ``__init__`` except the ``_jsii``
submodule (which loads the jsii assembly), so we put a bare package module into ``sys.modules``
(same name, same ``__path__``, its ``__init__`` not executed) and import only the submodules we
use. The synthesized Terraform is byte-identical to the one made with the plain import (a test
proves it).

The bare package stays usable by code that runs later: attribute access (``pkg.pod_v1``) and
``from pkg import *`` import submodules on demand. If the plain package was imported before, it
is used as it is.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from types import ModuleType

KUBERNETES_PACKAGE = "cdktf_cdktf_provider_kubernetes"
RANDOM_PACKAGE = "cdktf_cdktf_provider_random"

#: Marks a package module created here, so tests and callers can tell it from the plain import.
BARE_PACKAGE_MARKER = "__ipython_k8s_bare_package__"


def _submodule_names(package: ModuleType) -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_")
    )


def _bare_package(name: str) -> ModuleType:
    """Return the package module ``name``, creating it without running its ``__init__``."""
    existing = sys.modules.get(name)
    if existing is not None:
        return existing
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None:
        raise ModuleNotFoundError(f"{name} is not an installed package", name=name)
    package = importlib.util.module_from_spec(spec)
    setattr(package, BARE_PACKAGE_MARKER, True)

    def load_on_demand(attribute: str) -> ModuleType:
        # PEP 562: called for attributes the module does not have, e.g. `pkg.pod_v1`.
        if attribute.startswith("__") or attribute not in package.__all__:
            raise AttributeError(f"module {name!r} has no attribute {attribute!r}")
        return importlib.import_module(f"{name}.{attribute}")

    package.__getattr__ = load_on_demand  # type: ignore[method-assign]
    package.__all__ = _submodule_names(package)  # type: ignore[attr-defined]
    sys.modules[name] = package
    # The one thing every submodule needs from the package: the loaded jsii assembly.
    importlib.import_module(f"{name}._jsii")
    return package


def provider_submodule(package: str, submodule: str) -> ModuleType:
    """Import ``package.submodule`` (e.g. ``deployment_v1``) without the package's ``__init__``."""
    _bare_package(package)
    return importlib.import_module(f"{package}.{submodule}")


def kubernetes(submodule: str) -> ModuleType:
    """A submodule of ``cdktf_cdktf_provider_kubernetes``, e.g. ``kubernetes("deployment_v1")``."""
    return provider_submodule(KUBERNETES_PACKAGE, submodule)


def random(submodule: str) -> ModuleType:
    """A submodule of ``cdktf_cdktf_provider_random``, e.g. ``random("password")``."""
    return provider_submodule(RANDOM_PACKAGE, submodule)
