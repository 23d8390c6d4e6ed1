"""The deliberately insecure program through the full path: synthesis -> the REAL pack over gRPC.

Stack `prod` (policy/config/prod.json: every rule mandatory, prod-only rules on) must trip nearly
every policy of the pack; stack `dev` still fails. Skipped (with the reason) while
`policy/__main__.py` is missing or its rules do not import.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ops.gate import check

REPO = Path(__file__).resolve().parents[3]
PACK = REPO / "policy"
INSECURE = REPO / "tests" / "fixtures" / "insecure"

# Rules the insecure program breaks on purpose; each one the pack has must fire.
EXPECTED = (
    "security-group-no-world-admin-ingress",
    "rds-not-publicly-accessible",
    "rds-storage-encrypted",
    "rds-managed-master-password",
    "iam-no-admin-wildcard",
    "containers-not-privileged",
    "containers-no-plaintext-secrets",
    "log-group-retention",
    "lb-access-logs-enabled",
    "lb-http-redirects-to-https",
    "autoscaling-target-value-range",
    "alarms-notify-topic-in-stack",
    "iam-service-trust-source-account",
    "vpc-endpoint-policy-scoped",
    "s3-bucket-server-access-logging",
    # second wave (issue 12)
    "security-group-no-world-high-risk-ports",
    "hosts-no-public-ip",
    "hosts-encrypted-volumes",
    "containers-non-root-user",
    "containers-no-added-capabilities",
    "containers-image-pinned-by-digest",
    "sns-topic-encrypted",
    "kms-key-rotation",
    "s3-public-access-block-on",
    "iam-role-trust-not-public",
    "iam-no-privileged-action-on-all-resources",
    "iam-no-service-wildcard-on-all-resources",
    "rds-force-tls",
    "rds-auto-minor-version-upgrade",
    "rds-isolated-subnets",
    "dns-health-check-detection-within-target",
    "dns-alarm-health-check-unhealthy-on-missing-data",
    "connectivity-alarm-detection-within-target",
    "autoscaling-scale-out-cooldown",
    "ecs-service-prod-minimum-healthy-percent",
    "ecs-service-deployment-alarms-roll-back",
    "capacity-provider-asg-scale-in-protection",
    "alarm-topics-have-subscriber",
    "rds-instance-event-subscription",
    "rds-parameter-group-event-subscription",
    "rds-event-subscription-delivers",
    "dns-public-zone-query-logging",
    "ecs-exec-encrypted",
    # chaos as a practice (issue 11)
    "fis-template-alarm-stop-condition",
    "fis-template-logs",
    "fis-template-bounded-targets",
    "chaos-schedule-cadence",
    "chaos-schedule-enabled-in-prod",
    "fis-templates-scheduled-in-prod",
    "lambda-permission-not-public",
    "lambda-supported-runtime",
    # a first `pulumi up` that works (issue 19)
    "ecs-service-placement-allows-scale-in",
    "s3-bucket-aborts-incomplete-uploads",
    # failures kept (issue 19)
    "chaos-schedule-failures-kept",
    "lambda-async-failures-kept",
    "lb-internet-facing-waf",
    "waf-web-acl-logging",
    "waf-web-acl-managed-rules",
    "db-app-secret-rotation",
    # zonal shift (issue 21)
    "lb-zonal-shift-enabled",
    "lb-zonal-autoshift-practised",
    # failure domains (issue 21)
    "ecs-environments-own-capacity",
    "zone-loss-static-stability",
)


def _pack_policies() -> list[str]:
    if not (PACK / "__main__.py").is_file():
        pytest.skip("policy/__main__.py does not exist yet")
    try:
        guardrails = importlib.import_module("policy.guardrails.registry")
        return [p.name for p in guardrails.all_policies()]
    except Exception as err:  # the pack is being written by someone else
        pytest.skip(f"the real policy pack does not import: {type(err).__name__}: {err}")


@pytest.fixture(scope="module")
def real_pack_policies() -> list[str]:
    return _pack_policies()


@pytest.fixture(scope="module")
def insecure_json(real_pack_policies) -> tuple[int, dict]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ops.gate.check",
            "--stack",
            "prod",
            "--project-dir",
            str(INSECURE),
            "--json",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)


def test_insecure_stack_fails_the_gate(insecure_json) -> None:
    code, doc = insecure_json
    assert code == doc["exitCode"] == 1, doc.get("error") or doc.get("errors")
    assert doc["status"] == "violations"
    assert doc["policyPack"]["name"] == "steadystate-guardrails"
    assert doc["policyConfig"] == str(PACK / "config" / "prod.json")
    assert doc["summary"]["mandatory"] > 0
    assert doc["errors"] == []


def test_insecure_stack_trips_most_policies(insecure_json, real_pack_policies) -> None:
    _, doc = insecure_json
    violated = {v["policy"] for v in doc["violations"]}
    assert violated <= set(real_pack_policies)
    missing = [name for name in EXPECTED if name in real_pack_policies and name not in violated]
    assert not missing, f"the insecure program no longer trips {missing}"
    coverage = len(violated) / len(real_pack_policies)
    assert coverage >= 0.9, (
        f"only {len(violated)}/{len(real_pack_policies)} policies fire; silent: "
        f"{sorted(set(real_pack_policies) - violated)}"
    )
    for v in doc["violations"]:
        assert v["resource"]["name"] and v["resource"]["type"] and v["message"]


@pytest.mark.usefixtures("fresh_loop")
def test_insecure_stack_text_report(capsys, real_pack_policies) -> None:
    code = check.main(["--stack", "dev", "--project-dir", str(INSECURE)])
    out, _ = capsys.readouterr()
    assert code == 1
    assert out.startswith("pulumi:pulumi:Stack  insecure-dev\n")
    assert "\nmandatory (" in out
    summary = out.rstrip().splitlines()[-1]
    assert re.fullmatch(
        rf"steadystate-guardrails: {len(real_pack_policies)} policies, \d+ resources, "
        r"[1-9]\d* mandatory, \d+ advisory",
        summary,
    ), summary
