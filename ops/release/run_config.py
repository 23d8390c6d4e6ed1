"""The per-``up`` release settings, in a throwaway copy of the stack's config file.

``pulumi up --config-file`` reads the whole stack configuration from the given file, so the
pipeline copies ``Pulumi.<stack>.yaml``, adds ``release.rollout`` (which services take this run's
image), ``release.pins`` (a service set to a given release), ``release.faults`` (a onebox
release's fault switch) and ``release.hostRollout`` (whose hosts move) and points the CLI at the
copy.
The committed file is never written: release state stays with the stack (its release pins).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml


class RunConfigError(Exception):
    """The stack's config file cannot be read as a Pulumi stack file."""


def write_run_config(
    project_dir: Path,
    stack: str,
    namespace: str,
    *,
    rollout: Sequence[str],
    pins: Mapping[str, Mapping[str, str]] | None = None,
    faults: Mapping[str, Mapping[str, int]] | None = None,
    host_rollout: Sequence[str] | None = None,
    directory: Path,
) -> Path:
    source = project_dir / f"Pulumi.{stack}.yaml"
    try:
        document: Any = yaml.safe_load(source.read_text()) or {}
    except (OSError, yaml.YAMLError) as err:
        raise RunConfigError(f"cannot read {source}: {err}") from err
    if not isinstance(document, dict):
        raise RunConfigError(f"{source}: not a Pulumi stack file (expected a mapping)")
    config = document.setdefault("config", {}) or {}
    document["config"] = config
    key = f"{namespace}:release"
    release = dict(config.get(key) or {})
    release["rollout"] = list(rollout)
    if pins:
        release["pins"] = {k: dict(v) for k, v in pins.items()}
    else:
        release.pop("pins", None)
    if faults:
        release["faults"] = {k: dict(v) for k, v in faults.items()}
    else:
        release.pop("faults", None)
    if host_rollout is not None:
        release["hostRollout"] = list(host_rollout)
    else:
        release.pop("hostRollout", None)
    config[key] = release
    with tempfile.NamedTemporaryFile(
        "w", suffix=f".Pulumi.{stack}.yaml", dir=directory, delete=False, encoding="utf-8"
    ) as handle:
        yaml.safe_dump(document, handle, sort_keys=False)
    return Path(handle.name)


def read_run_config(path: Path, namespace: str) -> dict[str, Any]:
    """The ``release`` object of a run config (tests and the recording CLI read it back)."""
    document = yaml.safe_load(Path(path).read_text()) or {}
    return dict((document.get("config") or {}).get(f"{namespace}:release") or {})
