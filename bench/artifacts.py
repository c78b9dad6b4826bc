"""Saved models and their manifests.

A joblib file runs code when it is loaded, so a model is only loaded when the manifest beside it
vouches for it: the file's sha256 and the versions of the libraries that pickled it must match.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

VERSIONED = ("scikit-learn", "numpy", "scipy", "joblib")


class ModelError(RuntimeError):
    """A model file that is missing, tampered with, or built by other library versions."""


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in (*VERSIONED, "stance-bench", "datasets", "torch"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def model_path(models: Path, name: str, task: str, split: str) -> Path:
    return Path(models) / split / task / f"{name}.joblib"


def manifest_path(path: Path) -> Path:
    return path.with_suffix(".json")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save(estimator: Any, path: Path, meta: dict[str, Any]) -> dict[str, Any]:
    import joblib

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    joblib.dump(estimator, tmp, compress=3)
    os.replace(tmp, path)
    manifest = {**meta, "file": path.name, "sha256": sha256_file(path), "versions": versions(),
                "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    manifest_path(path).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def read_manifest(path: Path) -> dict[str, Any] | None:
    mp = manifest_path(path)
    return json.loads(mp.read_text()) if mp.exists() else None


def problems(path: Path, manifest: dict[str, Any] | None) -> list[str]:
    """Why a model file cannot be trusted (empty when it can)."""
    if manifest is None:
        return [f"{manifest_path(path)} is missing"]
    if not path.exists():
        return [f"{path} is missing"]
    out = []
    if sha256_file(path) != manifest.get("sha256"):
        out.append(f"{path}: sha256 does not match its manifest (the file was changed after training)")
    now = versions()
    for pkg in ("python", *VERSIONED):
        if manifest.get("versions", {}).get(pkg) != now.get(pkg):
            out.append(f"{path}: trained with {pkg} {manifest.get('versions', {}).get(pkg)}, running {now.get(pkg)}")
    return out


def current_manifest(path: Path, data_fingerprint: str, seed: int) -> dict[str, Any] | None:
    """The manifest if the model is trustworthy and was trained on this data with this seed."""
    m = read_manifest(path)
    if m is None or problems(path, m) or m.get("data_fingerprint") != data_fingerprint or m.get("seed") != seed:
        return None
    return m


def load(path: Path) -> tuple[Any, dict[str, Any]]:
    """Load a model only after its manifest vouches for it; raises ModelError with how to fix it."""
    import joblib

    manifest = read_manifest(path)
    issues = problems(path, manifest)
    if issues:
        assert manifest is None or isinstance(manifest, dict)
        how = "retrain it: stance-bench train"
        if manifest:
            how += f" --model {manifest['model']} --task {manifest['task']} --split {manifest['split']} --force"
        raise ModelError("refusing to load an unverified model:\n  " + "\n  ".join(issues) + f"\n{how}")
    return joblib.load(path), manifest  # type: ignore[return-value]
