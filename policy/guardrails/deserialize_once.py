"""Convert each resource's properties once per analyzer call instead of once per policy.

pulumi-policy 1.21.0's servicer (``pulumi_policy/policy.py``, ``_PolicyAnalyzerServicer``)
converts a resource's properties inside its loop over the policies: ``Analyze`` runs
``deserialize_properties(json_format.MessageToDict(request.properties))``, and the same for the
provider's properties (``_get_provider_resource``), once for every resource policy; ``AnalyzeStack``
converts every resource of the stack again for every stack policy. With this pack's ~90 resource
and ~30 stack policies, ``make check STACK=prod`` converted the same Structs ~63,000 times: two
thirds of the pack's time.

:func:`install` makes the three steps (``MessageToDict``, ``deserialize_properties``,
``unknown_checking_proxy``) remember their result for the duration of one ``Analyze`` or
``AnalyzeStack`` call (per thread: the SDK serves calls on a thread pool), so the policies of one
call share one read-only view of each resource; so do the servicer's ``_get_resource_options``
and ``_get_provider_resource`` (a resource's options and provider, also built once per policy).
That is safe because the steps are pure and nothing writes to that view: the SDK only reads it,
and every guardrail reads it through ``framework`` (``plain()`` makes each check its own deep
copy, on first read). Outside those two calls (``Configure``, ``Remediate``, tests calling the
SDK's functions directly) nothing changes.

A cache entry keeps a reference to the message or dict it was computed from, so its ``id`` cannot
be reused by another object while the entry exists.

If the SDK's internals are not the ones described above (another pulumi-policy release), install
does nothing: the pack is only slower, never different.
"""

from __future__ import annotations

import functools
import threading
import types
from collections.abc import Callable
from typing import Any

_LOCAL = threading.local()
_MEMOIZED_CALLS = ("Analyze", "AnalyzeStack")
# The servicer's per-resource helpers, also run once per policy: a resource's options and its
# provider (whose properties it converts). They read only the request message.
_MEMOIZED_HELPERS = ("_get_resource_options", "_get_provider_resource")
_INSTALLED_MARK = "_steadystate_deserialize_once"


def _cache() -> dict[tuple[int, Any], tuple[object, Any]] | None:
    return getattr(_LOCAL, "cache", None)


def _recall(anchor: object, key: Any, compute: Callable[[], Any]) -> Any:
    """`compute()` once per open cache for `anchor` (kept in the entry, so its id stays its own)."""
    cache = _cache()
    if cache is None:
        return compute()
    entry = (id(anchor), key)
    hit = cache.get(entry)
    if hit is not None and hit[0] is anchor:
        return hit[1]
    result = compute()
    cache[entry] = (anchor, result)
    return result


def _remembered(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function(value, *flags)` remembered by the identity of `value` while a cache is open."""

    @functools.wraps(function)
    def wrapper(value: Any, *flags: Any, **options: Any) -> Any:
        if options:
            return function(value, *flags, **options)
        return _recall(value, flags, lambda: function(value, *flags))

    return wrapper


def _remembered_per_request(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    """The servicer helper `name`, `method(self, request)`, remembered by the request's identity."""

    @functools.wraps(method)
    def wrapper(self: Any, request: Any) -> Any:
        return _recall(request, name, lambda: method(self, request))

    return wrapper


def _one_cache_per_call(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: Any, request: Any, context: Any) -> Any:
        outer = _cache()
        _LOCAL.cache = {} if outer is None else outer
        try:
            return method(self, request, context)
        finally:
            _LOCAL.cache = outer

    return wrapper


def install() -> bool:
    """Patch pulumi_policy's servicer as described above; False when its internals differ."""
    from google.protobuf import json_format
    from pulumi_policy import policy as sdk

    servicer = getattr(sdk, "_PolicyAnalyzerServicer", None)
    if servicer is None or getattr(sdk, "json_format", None) is not json_format:
        return getattr(servicer, _INSTALLED_MARK, False)
    deserialize = getattr(sdk, "deserialize_properties", None)
    proxy = getattr(sdk, "unknown_checking_proxy", None)
    if (
        deserialize is None
        or proxy is None
        or not all(
            callable(getattr(servicer, m, None)) for m in _MEMOIZED_CALLS + _MEMOIZED_HELPERS
        )
    ):
        return False
    shim = types.ModuleType(json_format.__name__, json_format.__doc__)
    shim.__dict__.update(vars(json_format))
    shim.MessageToDict = _remembered(json_format.MessageToDict)  # type: ignore[attr-defined]
    sdk.json_format = shim  # type: ignore[attr-defined]
    sdk.deserialize_properties = _remembered(deserialize)  # type: ignore[attr-defined]
    sdk.unknown_checking_proxy = _remembered(proxy)  # type: ignore[attr-defined]
    for name in _MEMOIZED_HELPERS:
        setattr(servicer, name, _remembered_per_request(name, getattr(servicer, name)))
    for name in _MEMOIZED_CALLS:
        setattr(servicer, name, _one_cache_per_call(getattr(servicer, name)))
    setattr(servicer, _INSTALLED_MARK, True)
    return True
