"""An estimate as text (`make cost`), JSON (`--json`), a one-line summary (`make check`) and the
cost table in docs/reference/cost.md (`make docs`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ops.cost.model import CATEGORIES, Estimate


def money(value: float) -> str:
    return f"${value:,.2f}"


def unit_price(value: float) -> str:
    """A unit price with the digits it has ($0.045, $0.01)."""
    text = f"{value:.4f}".rstrip("0")
    return "$" + (text if len(text.split(".")[1]) >= 2 else f"{value:.2f}")


def _range(low: float, high: float) -> str:
    return money(low) if round(low, 2) == round(high, 2) else f"{money(low)} – {money(high)}"


def summary(estimate: Estimate) -> str:
    """One line for the gate's report."""
    return (
        f"cost: {money(estimate.monthly_min)} a month at minimum capacity, "
        f"{money(estimate.monthly_max)} at maximum, before traffic "
        f"({estimate.region} list prices of {estimate.compiled}; `make cost STACK={estimate.stack}` "
        "itemizes)"
    )


def render_text(estimate: Estimate, *, detail: bool = False) -> str:
    head = (
        f"steadystate/{estimate.stack}: monthly cost in {estimate.region} ({estimate.region_name}), "
        f"list prices compiled {estimate.compiled} (ops/cost/prices.json)"
    )
    width = 72 if detail else 40
    lines = [head, "", f"{'':{width}}{'at minimum':>14}{'at maximum':>14}"]
    for category, (low, high, charges) in estimate.by_category().items():
        lines.append(f"{category:{width}}{money(low):>14}{money(high):>14}")
        if detail:
            for c in charges:
                count = (
                    f"{c.count_min:g}"
                    if c.count_max in (None, c.count_min)
                    else (f"{c.count_min:g}-{c.count_max:g}")
                )
                label = f"  {c.resource}: {c.item} ×{count} @ {unit_price(c.unit_monthly)}"
                lines.append(f"{label:{width}}{money(c.monthly_min):>14}{money(c.monthly_max):>14}")
    lines.append(
        f"{'total, before traffic':{width}}{money(estimate.monthly_min):>14}"
        f"{money(estimate.monthly_max):>14}"
    )
    if estimate.failure_domains:
        lines += ["", "of the container hosts, the failure domains add:"]
        for item, low, high, how in estimate.failure_domains:
            lines.append(f"{'  ' + item:{width}}{money(low):>14}{money(high):>14}")
            lines.append(f"    {how}")
    if estimate.usage:
        lines += ["", "grows with traffic (per unit, not in the total):"]
        for key, rate in sorted(estimate.usage.items()):
            count = len(estimate.usage_resources[key])
            lines.append(
                f"  {rate.item}: {unit_price(rate.price)} per {rate.unit} ({count} resource"
                f"{'s' if count != 1 else ''})"
            )
    if estimate.unpriced_types:
        lines += [
            "",
            "NOT PRICED (no pricer, not known to be free): "
            + ", ".join(sorted(estimate.unpriced_types)),
        ]
    return "\n".join(lines)


def to_json(estimate: Estimate) -> dict[str, Any]:
    return {
        "stack": estimate.stack,
        "region": estimate.region,
        "pricesCompiled": estimate.compiled,
        "currency": "USD",
        "monthly": {"min": round(estimate.monthly_min, 2), "max": round(estimate.monthly_max, 2)},
        "categories": [
            {"category": category, "min": round(low, 2), "max": round(high, 2)}
            for category, (low, high, _) in estimate.by_category().items()
        ],
        "charges": [
            {
                "category": c.category,
                "resource": c.resource,
                "item": c.item,
                "unitMonthly": round(c.unit_monthly, 4),
                "countMin": c.count_min,
                "countMax": c.count_min if c.count_max is None else c.count_max,
                "min": round(c.monthly_min, 2),
                "max": round(c.monthly_max, 2),
            }
            for c in estimate.charges
        ],
        "usage": [
            {
                "category": r.category,
                "item": r.item,
                "price": r.price,
                "unit": r.unit,
                "resources": estimate.usage_resources[key],
            }
            for key, r in sorted(estimate.usage.items())
        ],
        "unpriced": sorted(estimate.unpriced_types),
        "failureDomains": [
            {"item": item, "min": round(low, 2), "max": round(high, 2), "how": how}
            for item, low, high, how in estimate.failure_domains
        ],
    }


def readme_table(estimates: Mapping[str, Estimate]) -> str:
    """The docs' cost table (docs/reference/cost.md): one column a stack, each cell minimum – maximum capacity."""
    stacks = list(estimates)
    first = next(iter(estimates.values()))
    lines = [
        f"Monthly, {first.region} list prices compiled {first.compiled}, from minimum to maximum "
        "capacity (the autoscaling bounds), before traffic. Generated by `make docs` from "
        "`make cost`.",
        "",
        "| item | " + " | ".join(stacks) + " |",
        "|---|" + "---:|" * len(stacks),
    ]
    categories = [c for c in CATEGORIES if any(c in e.by_category() for e in estimates.values())]
    for category in categories:
        cells = []
        for estimate in estimates.values():
            found = estimate.by_category().get(category)
            cells.append(_range(found[0], found[1]) if found else "—")
        lines.append(f"| {category} | " + " | ".join(cells) + " |")
    totals = [f"**{_range(e.monthly_min, e.monthly_max)}**" for e in estimates.values()]
    lines.append("| **total** | " + " | ".join(totals) + " |")
    rates: dict[str, str] = {}
    for estimate in estimates.values():
        for usage in estimate.usage.values():
            rates.setdefault(usage.item, f"{unit_price(usage.price)} per {usage.unit}")
    lines += [
        "",
        "Grows with traffic: " + "; ".join(f"{k} {v}" for k, v in sorted(rates.items())) + ".",
    ]
    return "\n".join(lines) + "\n"
