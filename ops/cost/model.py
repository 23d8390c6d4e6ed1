"""What an estimate is made of: fixed monthly charges (at the low and high capacity bound) and the
per-unit rates of what grows with traffic."""

from __future__ import annotations

from dataclasses import dataclass, field

# Cost table rows (docs/reference/cost.md), in the order the report shows them.
CATEGORIES = (
    "NAT gateways and public IPv4",
    "VPC interface endpoints",
    "load balancers",
    "web application firewall",
    "container hosts",
    "database",
    "DNS failover",
    "CloudWatch",
    "keys and secrets",
    "storage",
)


@dataclass(frozen=True)
class Charge:
    """`count_min`..`count_max` units of one thing at `unit_monthly` USD a unit a month."""

    category: str
    resource: str
    item: str
    unit_monthly: float
    count_min: float = 1
    count_max: float | None = None

    @property
    def monthly_min(self) -> float:
        return self.unit_monthly * self.count_min

    @property
    def monthly_max(self) -> float:
        upper = self.count_min if self.count_max is None else self.count_max
        return self.unit_monthly * upper


@dataclass(frozen=True)
class UsageRate:
    """A price paid per unit of use (GB, request, LCU), which no synthesis can count."""

    category: str
    item: str
    price: float
    unit: str


@dataclass
class Estimate:
    """Everything one stack costs, as priced from its synthesized resources."""

    stack: str
    region: str
    region_name: str
    compiled: str
    charges: list[Charge] = field(default_factory=list)
    usage: dict[tuple[str, str], UsageRate] = field(default_factory=dict)
    usage_resources: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    free_types: set[str] = field(default_factory=set)
    unpriced_types: set[str] = field(default_factory=set)
    failure_domains: list[tuple[str, float, float, str]] = field(default_factory=list)
    """(item, monthly at minimum, at maximum, how): parts of "container hosts" that per-environment
    capacity and zone headroom add (``ops.cost.failure_domains``)."""

    def add_usage(self, rate: UsageRate, resource: str) -> None:
        key = (rate.category, rate.item)
        self.usage.setdefault(key, rate)
        self.usage_resources.setdefault(key, []).append(resource)

    @property
    def monthly_min(self) -> float:
        return sum(charge.monthly_min for charge in self.charges)

    @property
    def monthly_max(self) -> float:
        return sum(charge.monthly_max for charge in self.charges)

    def by_category(self) -> dict[str, tuple[float, float, list[Charge]]]:
        """Category -> (monthly at minimum, monthly at maximum, its charges), in the docs' order."""
        out: dict[str, tuple[float, float, list[Charge]]] = {}
        for category in CATEGORIES:
            charges = [c for c in self.charges if c.category == category]
            if charges:
                low = sum(c.monthly_min for c in charges)
                high = sum(c.monthly_max for c in charges)
                out[category] = (low, high, charges)
        return out
