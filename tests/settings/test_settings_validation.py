"""Bad stack configuration stops the program before any resource exists, naming every problem."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from ops.synth.runner import PROJECT_DIR, synthesize
from settings import Settings, SettingsError, choose_zones, load_settings, pin_zones_advice

#: Prod over the default two zones that rides out a zone's loss (settings/loader.py
#: zone_loss_group): two hosts, managed scaling and the CPU target at most half.
ZONE_SAFE_CLUSTER = {"minInstances": 2, "targetCapacityPercent": 50}


def raw(**groups: object) -> dict[str, str]:
    """A config map as Pulumi passes it: `steadystate:<key>` → string (JSON for non-strings)."""
    return {
        f"steadystate:{key}": value if isinstance(value, str) else json.dumps(value)
        for key, value in groups.items()
    }


# What prod's mandatory policies need beside the settings' defaults (dev's): the settings refuse a
# prod stack without them (tests/settings/test_settings_policy_agreement.py).
PROD_NEEDS = {
    "cluster": {**ZONE_SAFE_CLUSTER, "managedTerminationProtection": True},
    "loadBalancer": {"deletionProtection": True, "certificateDomain": "api.example.com"},
}


def problems(**groups: object) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings(raw(**groups))
    return [str(p) for p in caught.value.problems]


# Each case: config groups, and the exact line the user must see.
BAD_INPUTS = {
    "out of range": (
        {"service": {"cpuTarget": 120}},
        "steadystate:service.cpuTarget = 120: must be between 10 and 90 (got 120)",
    ),
    "wrong type": (
        {"network": {"availabilityZones": "two"}},
        "steadystate:network.availabilityZones = two: must be an integer, got a string",
    ),
    "boolean is not a number": (
        {"service": {"minTasks": True}},
        "steadystate:service.minTasks = true: must be an integer, got a boolean",
    ),
    "unknown enum value": (
        {"network": {"natStrategy": "double"}},
        "steadystate:network.natStrategy = double: must be one of none, single, perAz",
    ),
    "typo in a field": (
        {"service": {"cpuTraget": 70}},
        "steadystate:service.cpuTraget = 70: unknown key; did you mean cpuTarget?",
    ),
    "typo in a group": (
        {"netwrok": {"cidr": "10.0.0.0/16"}},
        'steadystate:netwrok = {"cidr": "10.0.0.0/16"}: unknown key; did you mean network?',
    ),
    "min above max": (
        {"service": {"minTasks": 5, "maxTasks": 3}},
        "steadystate:service.minTasks = 5: must not exceed service.maxTasks (3)",
    ),
    "overlapping CIDRs": (
        {"network": {"cidr": "10.0.0.0/16", "avoidCidrs": ["10.0.128.0/20"]}},
        "steadystate:network.cidr = 10.0.0.0/16: overlaps 10.0.128.0/20 listed in network.avoidCidrs",
    ),
    "VPC over the Docker bridge": (
        {"network": {"cidr": "172.17.0.0/16"}},
        "steadystate:network.cidr = 172.17.0.0/16: overlaps 172.17.0.0/16 (the Docker bridge network on every container host); pick e.g. 10.20.0.0/16",
    ),
    "not a CIDR": (
        {"network": {"cidr": "10.0.0.300/16"}},
        "steadystate:network.cidr = 10.0.0.300/16: must be an IPv4 network in CIDR notation like 10.0.0.0/16",
    ),
    "group is not an object": (
        {"cluster": [1, 2]},
        "steadystate:cluster = [1, 2]: must be an object, got a list",
    ),
    "onebox share too large": (
        {"release": {"onebox": True, "oneboxWeight": 30, "fleetWeight": 70}},
        "steadystate:release.oneboxWeight = 30: ",
    ),
    "prod minimum capacity": (
        {
            "stage": "prod",
            "service": {"minTasks": 1, "cpuTarget": 50},
            "cluster": ZONE_SAFE_CLUSTER,
            "connectivity": {"alarmEmails": ["o@x.io"]},
        },
        "steadystate:service.minTasks = 1: ",
    ),
    "prod onebox of one task": (
        {
            "stage": "prod",
            "service": {"minTasks": 2, "cpuTarget": 50},
            "cluster": ZONE_SAFE_CLUSTER,
            "release": {"onebox": True},
            "connectivity": {"alarmEmails": ["o@x.io"]},
        },
        "steadystate:release.oneboxTasks = 1: ",
    ),
    "backup retention below the guardrail": (
        {"database": {"backupRetentionDays": 3}},
        "steadystate:database.backupRetentionDays = 3: ",
    ),
    "arm64 host for an amd64 image": (
        {"cluster": {"instanceType": "t4g.small"}},
        "steadystate:cluster.instanceType = t4g.small: is an arm64 (Graviton) type",
    ),
    "no NAT and no endpoints": (
        {"network": {"natStrategy": "none", "interfaceEndpoints": False}},
        "steadystate:network.interfaceEndpoints = false: must be true when network.natStrategy is none",
    ),
    "primary not an environment": (
        {"environments": ["blue", "green"], "dns": {"primary": "red"}},
        "steadystate:dns.primary = red: must be one of environments: blue, green",
    ),
    "bad email": (
        {"connectivity": {"alarmEmails": ["ops-at-example.com"]}},
        "steadystate:connectivity.alarmEmails = [\"ops-at-example.com\"]: item 0 ('ops-at-example.com') is not an email address",
    ),
    "prod alarms that notify nobody": (
        {
            "stage": "prod",
            "service": {"minTasks": 2, "cpuTarget": 50},
            "cluster": ZONE_SAFE_CLUSTER,
        },
        "steadystate:connectivity.alarmEmails = []: must list at least one address in prod",
    ),
    "webhook over plain HTTP": (
        {"connectivity": {"alarmWebhooks": ["http://hooks.example.com/alerts"]}},
        'steadystate:connectivity.alarmWebhooks = ["http://hooks.example.com/alerts"]: item 0 '
        "must be an https:// URL",
    ),
    "webhook that is not a URL": (
        {"connectivity": {"alarmWebhooks": ["hooks.example.com"]}},
        'steadystate:connectivity.alarmWebhooks = ["hooks.example.com"]: item 0 must be an https://',
    ),
    "retention CloudWatch does not offer": (
        {"service": {"logRetentionDays": 45}},
        "steadystate:service.logRetentionDays = 45: ",
    ),
    "health check timeout not below interval": (
        {"service": {"healthCheck": {"interval": 5, "timeout": 5}}},
        "steadystate:service.healthCheck.timeout = 5: must be less than service.healthCheck.interval (5)",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_reported_with_key_value_and_rule(case: str) -> None:
    groups, expected = BAD_INPUTS[case]
    found = problems(**groups)
    assert any(line.startswith(expected) for line in found), found


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        service={"cpuTarget": 5, "memory": "lots"}, network={"natStrategy": "x"}, typo=1
    )
    assert len(found) == 4, found


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_min_above_max_is_one_message(stage: str) -> None:
    """The cross-key rule and the capacity guardrail both see minTasks > maxTasks: say it once."""
    found = problems(
        stage=stage,
        service={"minTasks": 5, "maxTasks": 3, "cpuTarget": 50},
        connectivity={"alarmEmails": ["o@x.io"]},
        **PROD_NEEDS,
    )
    assert found == ["steadystate:service.minTasks = 5: must not exceed service.maxTasks (3)"]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_max_above_the_cap_is_filed_under_max_tasks(stage: str) -> None:
    """The guardrail's problem with the maximum names service.maxTasks and its value."""
    found = problems(
        stage=stage,
        service={"minTasks": 2, "maxTasks": 50, "cpuTarget": 50},
        connectivity={"alarmEmails": ["o@x.io"]},
        **PROD_NEEDS,
    )
    assert found == ["steadystate:service.maxTasks = 50: max capacity must be at most 20 (got 50)"]


def test_each_bound_names_its_own_key_when_both_are_wrong() -> None:
    found = problems(
        stage="prod",
        service={"minTasks": 1, "maxTasks": 50, "cpuTarget": 50},
        connectivity={"alarmEmails": ["o@x.io"]},
        **PROD_NEEDS,
    )
    assert found == [
        "steadystate:service.minTasks = 1: min capacity must be at least 2 in prod (got 1)",
        "steadystate:service.maxTasks = 50: max capacity must be at most 20 (got 50)",
    ]


def test_defaults_are_valid_and_complete() -> None:
    settings = load_settings({})
    assert settings == Settings()
    assert settings.service.cpu_target == 80  # the autoscaling tutorial's service target


def test_unrelated_namespaces_are_ignored() -> None:
    settings = load_settings(
        {
            "aws:region": "us-east-2",
            "steadystate:stage": "prod",
            "steadystate:service": json.dumps({"minTasks": 2, "cpuTarget": 50}),
            "steadystate:cluster": json.dumps(ZONE_SAFE_CLUSTER),
            "steadystate:connectivity": json.dumps({"alarmEmails": ["oncall@example.com"]}),
            **raw(**PROD_NEEDS),
        }
    )
    assert settings.is_prod and settings.service.min_tasks == 2


@pytest.mark.parametrize(
    "connectivity",
    [
        {"alarmEmails": ["oncall@example.com"]},
        {"alarmWebhooks": ["https://hooks.example.com/alerts"]},
    ],
)
def test_prod_with_a_subscriber_loads(connectivity: dict) -> None:
    settings = load_settings(
        raw(
            stage="prod",
            service={"minTasks": 2, "cpuTarget": 50},
            connectivity=connectivity,
            **PROD_NEEDS,
        )
    )
    assert settings.connectivity.alarm_emails or settings.connectivity.alarm_webhooks


def test_dev_may_have_no_subscriber() -> None:
    assert load_settings(raw(stage="dev")).connectivity.alarm_emails == []


NAMES = ["us-east-2a", "us-east-2b", "us-east-2c"]
IDS = ["use2-az1", "use2-az2", "use2-az3"]


def test_more_zones_than_the_region_has() -> None:
    settings = load_settings(raw(network={"availabilityZones": 4}))
    with pytest.raises(SettingsError) as caught:
        choose_zones(settings, NAMES, IDS)
    assert str(caught.value.problems[0]) == (
        "steadystate:network.availabilityZones = 4: the region has only 3 zones "
        "(us-east-2a, us-east-2b, us-east-2c)"
    )


def test_zones_are_chosen_in_name_order() -> None:
    settings = load_settings(raw(network={"availabilityZones": 2}))
    assert choose_zones(settings, ["us-east-2c", "us-east-2a", "us-east-2b"], IDS) == [
        "us-east-2a",
        "us-east-2b",
    ]


def test_pinned_zones_resolve_ids_and_names_to_names_in_the_pinned_order() -> None:
    settings = load_settings(
        raw(network={"availabilityZones": 3, "zones": ["use2-az3", "us-east-2a", "use2-az2"]})
    )
    assert choose_zones(settings, NAMES, IDS) == ["us-east-2c", "us-east-2a", "us-east-2b"]
    assert pin_zones_advice(settings, NAMES, NAMES, IDS, "prod") is None


def test_a_pinned_zone_the_region_lacks_names_the_key_and_the_region_zones() -> None:
    settings = load_settings(
        raw(network={"availabilityZones": 2, "zones": ["use2-az1", "use1-az4"]})
    )
    with pytest.raises(SettingsError) as caught:
        choose_zones(settings, NAMES, IDS)
    assert str(caught.value.problems[0]).startswith(
        'steadystate:network.zones = ["use2-az1", "use1-az4"]: item 1 (\'use1-az4\') is not a zone '
        "of this region; its zones (name (ID)): us-east-2a (use2-az1), us-east-2b (use2-az2), "
        "us-east-2c (use2-az3)"
    )


def test_a_zone_pinned_by_name_and_by_id_is_refused() -> None:
    settings = load_settings(
        raw(network={"availabilityZones": 2, "zones": ["use2-az1", "us-east-2a"]})
    )
    with pytest.raises(SettingsError, match="names the same zone twice"):
        choose_zones(settings, NAMES, IDS)


@pytest.mark.parametrize(
    ("network", "message"),
    [
        ({"zones": []}, "must name at least one zone"),
        ({"zones": ["us-east-2a", "us-east-2a"]}, "must not repeat a zone"),
        ({"zones": ["2a", "us-east-2b"]}, "item 0 ('2a') is not a zone ID like use2-az1"),
        ({"availabilityZones": 3, "zones": ["use2-az1", "use2-az2"]}, "names 2 zones but"),
    ],
)
def test_bad_zone_pins_are_refused_naming_the_key(network: dict, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(raw(network={"availabilityZones": 2, **network}))
    assert "steadystate:network.zones" in str(caught.value)
    assert message in str(caught.value)


def test_an_unpinned_stack_is_told_the_command_that_pins_its_zones_by_id() -> None:
    settings = load_settings(raw(network={"availabilityZones": 2}))
    advice = pin_zones_advice(settings, ["us-east-2a", "us-east-2b"], NAMES, IDS, "prod")
    assert advice is not None
    assert advice.endswith(
        "pulumi config set-all --stack prod --path "
        "--plaintext 'steadystate:network.zones[0]'=use2-az1 "
        "--plaintext 'steadystate:network.zones[1]'=use2-az2"
    )


@pytest.fixture
def project_with_stack(tmp_path: Path):
    """A copy of the project files with an extra stack whose config a test writes."""
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")

    def write(config: dict) -> Path:
        (tmp_path / "Pulumi.bad.yaml").write_text(yaml.safe_dump({"config": config}))
        return tmp_path

    return write


@pytest.mark.parametrize(
    "config",
    [
        {"steadystate:service": {"cpuTarget": 120}},
        {"steadystate:network": {"availabilityZones": 5}},
        {"steadystate:stage": "staging"},
        {"steadystate:clustr": {"minInstances": 1}},
    ],
    ids=["range", "zones-vs-region", "enum", "typo"],
)
def test_real_program_registers_nothing_on_bad_config(
    project_with_stack, fresh_loop, config: dict
) -> None:
    project_dir = project_with_stack({"aws:region": "us-east-2", **config})
    with pytest.raises(SettingsError) as caught:
        synthesize("bad", project_dir=project_dir, program=PROJECT_DIR / "__main__.py")
    assert caught.value.partial_recording.records == []
    assert "steadystate:" in str(caught.value)


def test_program_side_imports_need_no_policy_sdk() -> None:
    """`pulumi up` installs only requirements.txt: settings must not pull in pulumi-policy."""
    import subprocess
    import sys

    probe = "import sys, settings, composition.args; print('pulumi_policy' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_a_release_pin_whose_version_is_no_exact_image_tag_is_refused() -> None:
    image = "123456789012.dkr.ecr.us-east-2.amazonaws.com/app@sha256:" + "a" * 64
    found = problems(release={"pins": {"blue-fleet": {"image": image, "version": "src-*"}}})
    assert found[0].startswith("steadystate:release.pins = ")
    assert "blue-fleet.version: release pin version 'src-*' is not an image tag" in found[0]
    ok = {"blue-fleet": {"image": image, "version": "src-3f2a9c1d0b7e4a55"}}
    assert load_settings(raw(release={"pins": ok})).release.pins == ok


def test_teardown_is_off_by_default_and_keeps_the_final_snapshot() -> None:
    assert (
        load_settings(
            raw(
                stage="prod",
                connectivity={"alarmEmails": ["a@b.co"]},
                service={"minTasks": 2, "cpuTarget": 50},
                **PROD_NEEDS,
            )
        ).teardown.allow_data_loss
        is False
    )
    found = problems(
        teardown={"allowDataLoss": True},
        database={"enabled": True, "finalSnapshot": False},
        network={"availabilityZones": 2},
    )
    assert found == [
        "steadystate:database.finalSnapshot = false: must be true while teardown.allowDataLoss "
        "is set: `pulumi destroy` would delete the database without a final snapshot (the "
        "teardown keeps the data in it)"
    ]
