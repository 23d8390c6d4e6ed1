"""Smoke test after an ``up``: ``/health`` answers 200 and ``/version`` reports the new version from
the environment just updated.

Through the load balancer a onebox gets only its listener weight of the requests (1 % in prod), so
after a onebox ``up`` the test samples ``/version`` until the new version answers (at most
``samples`` requests; at 1 % weight, 600 samples miss it with probability 0.24 %) and every answer
must be the new version or the fleet's; after a fleet ``up`` every answer must be the new version.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ops.release.http_probe import Fetch, http_get, join


@dataclass
class SmokeResult:
    ok: bool
    reason: str
    url: str
    versions: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "reason": self.reason,
            "url": self.url,
            "versions": dict(self.versions),
        }


def _version(body: bytes) -> str | None:
    try:
        value = json.loads(body).get("version")
    except (ValueError, AttributeError):
        return None
    return str(value) if value is not None else None


def smoke_test(
    base_url: str,
    new_version: str,
    *,
    every: bool,
    also_allowed: Iterable[str] = (),
    samples: int = 600,
    health_attempts: int = 5,
    timeout: float = 5.0,
    fetch: Fetch = http_get,
    sleep: Callable[[float], None] = time.sleep,
) -> SmokeResult:
    """``every``: each ``/version`` answer must be ``new_version`` (``min(samples, 20)`` looks);
    otherwise it must show up at least once among ``samples``, the rest in ``also_allowed``."""
    health = join(base_url, "/health")
    last = "no answer"
    for attempt in range(health_attempts):
        try:
            status, _ = fetch(health, timeout)
            if status == 200:
                break
            last = f"HTTP {status}"
        except OSError as err:
            last = f"{type(err).__name__}: {err}"
        if attempt + 1 < health_attempts:
            sleep(2.0)
    else:
        return SmokeResult(False, f"{health} {last} after {health_attempts} tries", base_url)

    url = join(base_url, "/version")
    allowed = {new_version, *also_allowed}
    seen: Counter[str] = Counter()
    looks = min(samples, 20) if every else samples
    for _ in range(looks):
        try:
            status, body = fetch(url, timeout)
        except OSError as err:
            return SmokeResult(False, f"{url}: {type(err).__name__}: {err}", base_url, seen)
        version = _version(body) if status == 200 else None
        if version is None:
            return SmokeResult(
                False, f"{url} answered HTTP {status} without a version", base_url, seen
            )
        seen[version] += 1
        if version not in allowed if not every else version != new_version:
            want = new_version if every else " or ".join(sorted(allowed))
            return SmokeResult(False, f"{url} reports {version!r}, expected {want}", base_url, seen)
        if not every and version == new_version:
            return SmokeResult(True, f"/health 200, /version {new_version} seen", base_url, seen)
    if every:
        return SmokeResult(True, f"/health 200, /version {new_version} ×{looks}", base_url, seen)
    return SmokeResult(
        False, f"{url} never reported {new_version!r} in {looks} requests", base_url, seen
    )
