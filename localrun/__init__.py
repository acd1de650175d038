"""localrun: run the synthesized stacks on a local Docker-API engine, and build the image they use.

Re-exports only; see the modules (image_build: building image/ with extra CA certificates).
The re-exports are resolved on first use (PEP 562) so that ``python -m localrun.image_build``
does not import its own module twice.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ImageBuildError", "build_image"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import image_build

        return getattr(image_build, name)
    raise AttributeError(f"module 'localrun' has no attribute {name!r}")
