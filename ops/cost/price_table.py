"""The dated price table (`prices.json` beside this module) and look-ups that fail clearly.

The table holds AWS list prices for the regions docs/reference/cost.md names, each figure as published on the
page its `sources` entry points to on the `compiled` date. A region may say `same_as` another when
every figure the estimate uses is the same there.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TABLE_PATH = Path(__file__).resolve().parent / "prices.json"


class PriceError(Exception):
    """A region, instance type or other priced thing the table does not hold."""


@dataclass(frozen=True)
class RegionPrices:
    """Every price the estimate uses, for one region."""

    region: str
    name: str
    values: dict[str, Any]
    hours_per_month: float
    compiled: str
    container_insights_metrics: dict[str, int]

    def rate(self, key: str) -> float:
        """A scalar price such as `nat_gateway_hour`."""
        try:
            return float(self.values[key])
        except KeyError:
            raise PriceError(f"price table has no {key!r} for {self.region}") from None

    def monthly(self, hourly_key: str) -> float:
        """An hourly price over a month of `hours_per_month` hours."""
        return self.rate(hourly_key) * self.hours_per_month

    def of(self, table: str, item: str, what: str) -> float:
        """A price keyed by size or class (`ec2_hour`, `t3.small`), naming the choices if absent."""
        choices: dict[str, float] = self.values.get(table, {})
        if item in choices:
            return float(choices[item])
        near = difflib.get_close_matches(item, list(choices), n=1)
        hint = f"; did you mean {near[0]}?" if near else ""
        raise PriceError(
            f"no list price for {what} {item!r} in {self.region} (ops/cost/prices.json has "
            f"{', '.join(sorted(choices))}){hint} - add it from {table.split('_')[0]} pricing"
        )


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def supported_regions(path: Path = TABLE_PATH) -> list[str]:
    return sorted(_load(path)["regions"])


def region_prices(region: str, path: Path = TABLE_PATH) -> RegionPrices:
    """The prices for `region`, following `same_as`; a PriceError naming the choices otherwise."""
    table = _load(path)
    regions: dict[str, dict[str, Any]] = table["regions"]
    if region not in regions:
        near = difflib.get_close_matches(region, list(regions), n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        raise PriceError(
            f"no price table for region {region!r}{hint}: ops/cost/prices.json covers "
            f"{', '.join(sorted(regions))}; add the region's list prices there to price it"
        )
    entry = regions[region]
    seen = {region}
    values = entry
    while "same_as" in values:
        target = values["same_as"]
        if target in seen or target not in regions:
            raise PriceError(f"prices.json: region {region!r} has a broken same_as chain")
        seen.add(target)
        values = regions[target]
    return RegionPrices(
        region=region,
        name=entry.get("name", region),
        values=values,
        hours_per_month=float(table["hours_per_month"]),
        compiled=table["compiled"],
        container_insights_metrics={
            k: int(v) for k, v in table["container_insights_metrics"].items() if k != "note"
        },
    )
