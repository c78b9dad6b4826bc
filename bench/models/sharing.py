"""Sharing models as skops files: loadable without running arbitrary code, given trusted types."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from . import artifacts
from ..data.outputs import output_file
from ..data.store import atomic_write, models_dir


def export_skops(name: str, task: str, split: str = "document", output: str | Path | None = None,
                 models: str | Path | None = None) -> tuple[Path, list[str]]:
    """Write a verified model as skops; returns the path and the types a loader must trust."""
    import zipfile

    import skops.io as sio

    from .registry import require

    require(name, task)
    mod = models_dir(models)
    est, _ = artifacts.load(artifacts.model_path(mod, name, task, split))
    path = Path(output) if output else mod / "export" / f"{name}-{task}-{split}.skops"
    data = sio.dumps(est, compression=zipfile.ZIP_DEFLATED)
    with output_file(path, "the skops file"):
        atomic_write(path, data)
    return path, list(sio.get_untrusted_types(data=data))


def load_skops(path: str | Path, trusted: list[str]) -> Any:
    """Load a skops file, trusting only the listed types (skops refuses anything else)."""
    import skops.io as sio

    return sio.load(path, trusted=trusted)
