"""The real program priced per stack, and config changes moving the total by exactly their price."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops.cost import __main__ as cli
from ops.cost.estimate import estimate_stack
from ops.cost.model import Estimate
from ops.cost.price_table import region_prices

REPO = Path(__file__).resolve().parents[3]
P = region_prices("us-east-2")
HOURS = P.hours_per_month


def _project(tmp_path: Path, stack: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the project whose `Pulumi.<stack>.yaml` has `edit` applied (the rest linked)."""
    project = tmp_path / "project"
    project.mkdir()
    for entry in REPO.iterdir():
        if entry.name != f"Pulumi.{stack}.yaml" and not entry.name.startswith("."):
            (project / entry.name).symlink_to(entry)
    config = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
    edit(config["config"])
    (project / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(config))
    return project


@pytest.fixture(scope="module")
def prod() -> Estimate:
    return estimate_stack("prod")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_resource_type_is_priced_or_known_free(stack: str) -> None:
    assert estimate_stack(stack).unpriced_types == set()


def test_single_nat_in_prod_saves_two_gateways_and_their_addresses(
    prod: Estimate, tmp_path: Path
) -> None:
    def single(config: dict[str, Any]) -> None:
        config["steadystate:network"]["natStrategy"] = "single"

    cheaper = estimate_stack("prod", _project(tmp_path, "prod", single))
    saved = 2 * (P.rate("nat_gateway_hour") + P.rate("public_ipv4_hour")) * HOURS
    assert prod.monthly_min - cheaper.monthly_min == pytest.approx(saved)
    assert prod.monthly_max - cheaper.monthly_max == pytest.approx(saved)


def test_a_single_az_database_halves_its_instance_and_storage(prod: Estimate) -> None:
    """Prod's settings refuse a single-AZ database now (rds-multi-az's own rule), so the pricer is
    given prod's resources with the database instance flipped to single-AZ."""
    import asyncio

    from ops.cost.estimate import estimate_records
    from ops.synth.runner import synthesize

    asyncio.set_event_loop(asyncio.new_event_loop())
    try:
        records = synthesize("prod").records
    finally:
        asyncio.get_event_loop().close()
        asyncio.set_event_loop(None)
    for record in records:
        if record.type == "aws:rds/instance:Instance":
            record.inputs["multiAz"] = False
    cheaper = estimate_records(records, region_prices("us-east-2"), "prod")
    db = next(r for r in prod.charges if r.category == "database" and "storage" not in r.item)
    storage = next(r for r in prod.charges if r.category == "database" and "storage" in r.item)
    assert prod.monthly_min - cheaper.monthly_min == pytest.approx(
        (db.monthly_min + storage.monthly_min) / 2
    )


def test_fewer_hosts_at_most_lowers_only_the_maximum(prod: Estimate, tmp_path: Path) -> None:
    def fewer(config: dict[str, Any]) -> None:
        config["steadystate:cluster"]["maxInstances"] = 6

    cheaper = estimate_stack("prod", _project(tmp_path, "prod", fewer))
    host = P.of("ec2_hour", "t3.medium", "") * HOURS + 30 * P.of("ebs_gb_month", "gp3", "")
    assert prod.monthly_min == pytest.approx(cheaper.monthly_min)
    # maxInstances bounds each environment's own group (cluster.capacityPerEnvironment): 2 × 6
    assert prod.monthly_max - cheaper.monthly_max == pytest.approx(2 * 6 * host)


def test_dropping_interface_endpoints_saves_each_endpoint_in_each_zone(
    prod: Estimate, tmp_path: Path
) -> None:
    def no_endpoints(config: dict[str, Any]) -> None:
        config["steadystate:network"]["interfaceEndpoints"] = False

    cheaper = estimate_stack("prod", _project(tmp_path, "prod", no_endpoints))
    endpoints = [c for c in prod.charges if c.category == "VPC interface endpoints"]
    assert len(endpoints) == 6 and all(c.count_min == 3 for c in endpoints)
    saved = 6 * 3 * P.rate("interface_endpoint_az_hour") * HOURS
    assert prod.monthly_min - cheaper.monthly_min == pytest.approx(saved)


def test_cli_json_matches_the_estimate(prod: Estimate, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--stack", "prod", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["monthly"] == {
        "min": round(prod.monthly_min, 2),
        "max": round(prod.monthly_max, 2),
    }
    assert sum(c["min"] for c in document["charges"]) == pytest.approx(prod.monthly_min, abs=0.05)


def test_cli_refuses_a_region_it_has_no_prices_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def elsewhere(config: dict[str, Any]) -> None:
        config["aws:region"] = "ap-south-2"

    project = _project(tmp_path, "dev", elsewhere)
    monkeypatch.setattr(cli, "estimate_stack", lambda stack: estimate_stack(stack, project))
    assert cli.main(["--stack", "dev"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "no price table for region 'ap-south-2'" in err and "us-east-2" in err
    assert "Traceback" not in err


def test_the_gate_report_carries_the_totals_or_says_why_not(prod: Estimate) -> None:
    import asyncio
    from dataclasses import replace

    from ops.gate.check import _cost
    from ops.synth.runner import synthesize

    asyncio.set_event_loop(asyncio.new_event_loop())
    synthesis = synthesize("prod")
    assert synthesis.config is not None
    line, document = _cost(synthesis, synthesis.config)
    assert f"${prod.monthly_min:,.2f} a month at minimum capacity" in line
    assert document["monthly"]["max"] == round(prod.monthly_max, 2)
    elsewhere = replace(
        synthesis.config, values={**synthesis.config.values, "aws:region": "sa-east-1"}
    )
    line, document = _cost(synthesis, elsewhere)
    assert line.startswith("cost: not priced: no price table for region 'sa-east-1'")
    assert "error" in document
