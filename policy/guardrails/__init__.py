"""The steadystate guardrails, grouped by resource family.

``registry.all_policies()`` is what ``policy/__main__.py`` hands to ``PolicyPack``; each rule
module lists its policies in ``POLICIES``. Thresholds live in :mod:`.limits` (pure, shared with the
program's settings validator). This ``__init__`` imports nothing, so importing ``limits`` stays
cheap and free of pulumi-policy.
"""
