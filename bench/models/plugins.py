"""Models from other packages: the `stance_bench.models` entry-point group and `--plugin MODULE`.

An installed distribution declares, in its packaging metadata,

    [project.entry-points."stance_bench.models"]
    my-models = "my_package.models:register_all"

where the object is a callable that calls `bench.register(...)` (or returns ModelSpec objects), or a
`ModelSpec` itself. A local module given with `--plugin my_module` registers on import. Every model a
plugin adds remembers where it came from (distribution name and version, module file), so manifests and
leaderboard records name the plugin, and editing the plugin's file makes its saved models stale.
"""
from __future__ import annotations

import hashlib
import importlib
import inspect
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .artifacts import ModelError

GROUP = "stance_bench.models"


class PluginError(ModelError):
    """A plugin that cannot be imported or registers nothing usable (one line, no traceback)."""


@dataclass(frozen=True)
class Origin:
    """Where a plugin model came from."""

    package: str
    version: str | None
    module: str
    files: tuple[str, ...]
    entry_point: str | None = None

    def record(self) -> dict[str, Any]:
        out = {"package": self.package, "version": self.version, "module": self.module}
        return out | ({"entry_point": self.entry_point} if self.entry_point else {})


ORIGINS: dict[str, Origin] = {}
_entry_points_loaded = False


def _distribution(module: str) -> tuple[str, str | None]:
    """(distribution name, version) that provides a top-level module; the module name if none does."""
    from importlib.metadata import PackageNotFoundError, packages_distributions, version

    top = module.split(".")[0]
    for dist in packages_distributions().get(top, []):
        try:
            return dist, version(dist)
        except PackageNotFoundError:
            continue
    return top, None


def _files(module: str, specs: Iterable[Any]) -> tuple[str, ...]:
    """The plugin module's file and the files defining its factories (what the code hash covers)."""
    found = {getattr(sys.modules.get(module), "__file__", None)}
    for spec in specs:
        for fn in (spec.factory, spec.prepare):
            try:
                found.add(inspect.getsourcefile(fn) if fn is not None else None)
            except TypeError:
                pass
    package = Path(__file__).resolve().parent.parent
    return tuple(sorted(f for f in found if f and not Path(f).resolve().is_relative_to(package)))


def _adopt(before: dict[str, Any], returned: Any, where: str) -> list[str]:
    """Register ModelSpecs a plugin returned; the names it added or replaced."""
    from .registry import REGISTRY, ModelSpec

    items = returned if isinstance(returned, (list, tuple)) else [returned] if returned is not None else []
    for spec in items:
        if isinstance(spec, ModelSpec):
            REGISTRY[spec.name] = spec
    added = [n for n, s in REGISTRY.items() if before.get(n) is not s]
    if not added:
        raise PluginError(f"{where}: registered no model (call bench.register(...) or return a ModelSpec)")
    return added


def _note(names: list[str], module: str, dist: tuple[str, str | None], entry_point: str | None = None) -> None:
    from .registry import REGISTRY

    files = _files(module, [REGISTRY[n] for n in names])
    for n in names:
        ORIGINS[n] = Origin(dist[0], dist[1], module, files, entry_point)


def load_module(module: str) -> list[str]:
    """Import a local plugin module (the working directory is searched first, as `python -m` does);
    returns the model names it registered."""
    from .registry import REGISTRY

    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    before = dict(REGISTRY)
    try:
        mod = importlib.import_module(module) if module not in sys.modules else importlib.reload(sys.modules[module])
    except Exception as exc:  # noqa: BLE001 - any failure of foreign code becomes one line
        raise PluginError(f"plugin {module!r}: cannot import it: {type(exc).__name__}: {exc}") from None
    names = _adopt(before, getattr(mod, "MODELS", None), f"plugin {module!r}")
    _note(names, module, _distribution(module))
    return names


def load_modules(modules: Iterable[str] | None) -> list[str]:
    """Every model name registered by the given `--plugin` modules."""
    return [n for m in modules or [] for n in load_module(m)]


def load_entry_points(force: bool = False) -> list[str]:
    """Load every installed `stance_bench.models` entry point once; returns the names they registered."""
    global _entry_points_loaded
    from importlib.metadata import entry_points

    from .registry import REGISTRY

    if _entry_points_loaded and not force:
        return []
    _entry_points_loaded = True
    names: list[str] = []
    for ep in entry_points(group=GROUP):
        where = f"plugin entry point {ep.name!r} ({ep.value}) of {ep.dist.name if ep.dist else 'an unknown distribution'}"
        before = dict(REGISTRY)
        try:
            obj = ep.load()
            returned = obj() if callable(obj) and not hasattr(obj, "factory") else obj
        except Exception as exc:  # noqa: BLE001
            raise PluginError(f"{where}: {type(exc).__name__}: {exc}") from None
        added = _adopt(before, returned, where)
        dist = (ep.dist.name, ep.dist.version) if ep.dist else _distribution(ep.module)
        _note(added, ep.module, dist, f"{GROUP}:{ep.name}")
        names += added
    return names


def provenance(name: str | None) -> dict[str, Any]:
    """`{"plugin": {...}}` for a plugin model (empty for a built-in one), to put in manifests and records."""
    origin = ORIGINS.get(name or "")
    return {"plugin": origin.record()} if origin else {}


def files_hash(name: str | None) -> str | None:
    """sha256 of a plugin model's files, or None for a built-in model."""
    origin = ORIGINS.get(name or "")
    if origin is None:
        return None
    h = hashlib.sha256()
    for f in origin.files:
        h.update(Path(f).name.encode() + b"\0" + Path(f).read_bytes())
    return h.hexdigest()[:12]
