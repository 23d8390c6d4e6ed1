"""Database generations under mocks: a final snapshot name per instance, stable across re-runs;
the Postgres log group owned by the stack and created before the instance; the app secret."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest
from pulumi.runtime.mocks import MockResourceArgs

from components import database_names
from components.database import Database, DatabaseArgs
from ops.synth.mocks import SteadyMocks

INSTANCE = "aws:rds/instance:Instance"
MARKER = "aws:ssm/parameter:Parameter"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SECRET = "aws:secretsmanager/secret:Secret"
RDS_IDENTIFIER = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$")

PROD = DatabaseArgs(
    vpc_id="vpc-0123",
    isolated_subnet_ids=["subnet-iso-a", "subnet-iso-b"],
    client_security_group_ids=["sg-ecs-instances"],
    skip_final_snapshot=False,
    deletion_protection=True,
    multi_az=True,
    log_retention_days=90,
)


def one(rec: Any, typ: str) -> Any:
    (record,) = rec.of_type(typ)
    return record


def synth(mocked, args: DatabaseArgs = PROD, **kwargs: Any) -> Any:
    return mocked(lambda: Database("db", args), project="steadystate", stack="prod", **kwargs)


def test_final_snapshot_is_named_after_this_generation(mocked) -> None:
    rec = synth(mocked)
    marker, db = one(rec, MARKER), one(rec, INSTANCE).inputs
    prefix = database_names.identifier_prefix("steadystate", "prod", "db")
    assert db["identifier"] == database_names.instance_identifier(prefix, marker.outputs["name"])
    assert RDS_IDENTIFIER.match(db["identifier"]), db["identifier"]
    assert db["identifier"].startswith("steadystate-prod-db-")
    assert db["finalSnapshotIdentifier"] == f"{db['identifier']}-final"


def test_a_new_generation_gets_new_names_and_a_rerun_the_same(
    mocked, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, again = synth(mocked), synth(mocked)
    assert one(first, INSTANCE).inputs == one(again, INSTANCE).inputs  # stable across re-runs

    # What the engine does on a replacement or after destroy + up: a new auto-name for the marker.
    original = SteadyMocks.new_resource

    def new_generation(self: SteadyMocks, args: MockResourceArgs) -> tuple[str | None, dict]:
        resource_id, state = original(self, args)
        if args.typ == MARKER:
            state["name"] = f"{args.name}-f00dfee"
            resource_id = state["name"]
        return resource_id, state

    monkeypatch.setattr(SteadyMocks, "new_resource", new_generation)
    second = synth(mocked)
    old, new = one(first, INSTANCE).inputs, one(second, INSTANCE).inputs
    assert new["identifier"] != old["identifier"]
    assert new["finalSnapshotIdentifier"] != old["finalSnapshotIdentifier"]
    assert one(second, LOG_GROUP).inputs["name"] != one(first, LOG_GROUP).inputs["name"]


@pytest.mark.parametrize(
    ("change", "replaces"),
    [
        ({"db_name": "orders"}, True),
        ({"username": "owner"}, True),
        ({"kms_key_id": "arn:aws:kms:us-east-2:123456789012:key/k"}, True),
        ({"instance_class": "db.m7g.large"}, False),
        ({"allocated_storage": 50, "max_allocated_storage": 200}, False),
        ({"multi_az": False, "backup_retention_days": 14}, False),
        ({"engine_version": "17"}, False),
    ],
)
def test_marker_is_replaced_exactly_when_the_instance_would_be(
    mocked, change: dict, replaces: bool
) -> None:
    before = one(synth(mocked), MARKER)
    after = one(synth(mocked, dataclasses.replace(PROD, **change)), MARKER)
    assert before.options["replaceOnChanges"] == ["value"]
    assert (before.inputs["value"] != after.inputs["value"]) is replaces
    assert set(json.loads(before.inputs["value"])) == set(database_names.REPLACEMENT_INPUTS)


def test_postgres_log_group_is_owned_and_created_before_the_instance(mocked) -> None:
    rec = synth(mocked)
    logs, db = one(rec, LOG_GROUP), one(rec, INSTANCE)
    assert logs.inputs["name"] == f"/aws/rds/instance/{db.inputs['identifier']}/postgresql"
    assert logs.inputs["retentionInDays"] == 90
    assert logs.urn in db.dependencies
    assert rec.records.index(logs) < rec.records.index(db)
    assert db.inputs["enabledCloudwatchLogsExports"] == ["postgresql"]


def test_app_secret_is_created_empty(mocked) -> None:
    rec = synth(mocked)
    secret = one(rec, SECRET)
    assert "steadystate_app" in secret.inputs["description"]
    # No version: the bootstrap task generates and stores the password, never the program.
    assert not rec.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    assert not {"secretString", "password"} & set(secret.inputs)


def test_identifier_prefix_is_valid_and_leaves_room_for_the_generation() -> None:
    long = database_names.identifier_prefix("steadystate", "x" * 80, "db")
    assert len(database_names.instance_identifier(long, "m-1234567")) <= 63
    assert RDS_IDENTIFIER.match(database_names.instance_identifier(long, "m-1234567"))
    assert database_names.identifier_prefix("9p", "s__t", "DB") == "db-9p-s-t-db"


@pytest.mark.parametrize(
    ("change", "arg"),
    [
        ({"app_username": "App"}, "app_username"),
        ({"app_username": "rds_app"}, "app_username"),
        ({"app_username": "app_admin"}, "app_username"),
        ({"app_username": "a" * 58}, "app_username"),
        ({"log_retention_days": 0}, "log_retention_days"),
    ],
)
def test_invalid_args_name_the_argument(change: dict, arg: str) -> None:
    with pytest.raises(ValueError, match=rf"DatabaseArgs\.{arg} must be"):
        Database("db", dataclasses.replace(PROD, **change))


def test_the_app_username_leaves_room_for_its_rotation_twin() -> None:
    with pytest.raises(ValueError, match="max 57: rotation alternates it with <name>_clone"):
        Database("db", dataclasses.replace(PROD, app_username="a" * 58))
