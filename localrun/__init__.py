"""localrun: run the synthesized stacks on a local Docker-API engine, and build the image they use.

Re-exports only; see the modules (image_build: building image/ with extra CA certificates).
The re-exports are resolved on first use (PEP 562) so that ``python -m localrun.image_build``
does not import its own module twice.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "ImageBuildError": "image_build",
    "build_image": "image_build",
    "main": "cli",
    "up": "apply",
    "UpOptions": "apply",
    "Viewer": "apply",
    "down": "teardown",
    "DownOptions": "teardown",
    "LocalRunError": "errors",
    "UsageError": "errors",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'localrun' has no attribute {name!r}")
