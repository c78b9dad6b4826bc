"""The models stage: the registry of baselines, training and search, saved artifacts, plugins, prediction.

`from bench.models import register` keeps working: the registry's public names are looked up lazily,
so importing a sibling module does not import scikit-learn.
"""
from __future__ import annotations

from typing import Any

_REGISTRY_NAMES = ("register", "REGISTRY", "ModelSpec", "get", "require", "available")


def __getattr__(name: str) -> Any:
    if name in _REGISTRY_NAMES:
        from . import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'bench.models' has no attribute {name!r}")
