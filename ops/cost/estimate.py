"""Price a synthesized stack: every record through its pricer, plus the stack-wide lines."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

from ops.cost.failure_domains import failure_domain_costs
from ops.cost.model import Estimate
from ops.cost.price_table import RegionPrices, region_prices
from ops.cost.pricers import FREE_TYPES, PRICERS, StackView, prober_metrics
from ops.synth.mocks import ResourceRecord
from ops.synth.runner import PROJECT_DIR, synthesize
from settings import Settings, load_settings

DEFAULT_REGION = "us-east-2"


def estimate_records(
    records: Iterable[ResourceRecord], prices: RegionPrices, stack: str = ""
) -> Estimate:
    """The estimate for `records` (custom resources only; components are free groupings)."""
    view = StackView(records)
    estimate = Estimate(stack, prices.region, prices.name, prices.compiled)
    for record in view.records:
        pricer = PRICERS.get(record.type)
        if pricer is None:
            (estimate.free_types if record.type in FREE_TYPES else estimate.unpriced_types).add(
                record.type
            )
            continue
        priced = pricer(record, view, prices)
        estimate.charges.extend(priced.charges)
        for rate in priced.usage:
            estimate.add_usage(rate, record.name)
    estimate.charges.extend(prober_metrics(view, prices))
    return estimate


def estimate_stack(stack: str, project_dir: Path = PROJECT_DIR) -> Estimate:
    """Synthesize `stack` under mocks and price it for the region its config names."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        synthesis = synthesize(stack, project_dir)
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    values = synthesis.config.values if synthesis.config else {}
    region = values.get("aws:region", DEFAULT_REGION)
    prices = region_prices(region)
    estimate = estimate_records(synthesis.records, prices, stack)
    if values:
        estimate.failure_domains = failure_domain_lines(load_settings(values), prices)
    return estimate


def failure_domain_lines(s: Settings, prices: RegionPrices) -> list[tuple[str, float, float, str]]:
    """What per-environment capacity and zone headroom add, priced as the stack's hosts (the
    instance and its root volume, as the Auto Scaling group's pricer counts them)."""
    host = prices.of("ec2_hour", s.cluster.instance_type, "instance type") * prices.hours_per_month
    volume = s.cluster.root_volume_gib * prices.of("ebs_gb_month", "gp3", "EBS volume type")
    return [
        (c.item, c.monthly_min, c.monthly_max, c.how)
        for c in failure_domain_costs(s, host + volume)
    ]
