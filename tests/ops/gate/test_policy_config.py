"""Policy config files are parsed and reconciled the way the Pulumi engine does it."""

from __future__ import annotations

import pytest

from ops.gate.policy_config import (
    PolicyConfigEntry,
    PolicyConfigError,
    PolicySchema,
    parse_policy_config,
    reconcile_policy_config,
)

POLICIES = [
    PolicySchema("no-open-ssh", "mandatory"),
    PolicySchema(
        "log-retention",
        "advisory",
        {
            "minimumDays": {"type": "integer", "default": 30.0, "minimum": 1},
            "note": {"type": "string"},
        },
    ),
    PolicySchema("needs-owner", "advisory", {"owner": {"type": "string"}}, ("owner",)),
]


def test_string_is_a_level_and_object_holds_level_and_properties() -> None:
    parsed = parse_policy_config(
        '{"all": "advisory", "log-retention": {"enforcementLevel": "mandatory", "minimumDays": 7},'
        ' "needs-owner": {"owner": "team"}, "no-open-ssh": {}}'
    )
    assert parsed == {
        "all": PolicyConfigEntry("advisory", None),
        "log-retention": PolicyConfigEntry("mandatory", {"minimumDays": 7}),
        "needs-owner": PolicyConfigEntry("", {"owner": "team"}),
    }  # the empty object is dropped, as the engine does


def test_empty_file_is_no_config() -> None:
    assert parse_policy_config("  \n") == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"x": "strict"}', "x: 'strict' is not a valid enforcement level"),
        (
            '{"x": {"enforcementLevel": 3}}',
            "x: enforcementLevel 3 is not a valid enforcement level",
        ),
        ('{"x": 5}', "x: 5 is not a valid value; must be a string or object"),
        ('["x"]', "expected a JSON object keyed by policy name"),
        ("{", "not valid JSON"),
    ],
)
def test_malformed_file_names_the_key(text: str, expected: str) -> None:
    with pytest.raises(PolicyConfigError) as err:
        parse_policy_config(text, "cfg.json")
    assert expected in str(err.value)
    assert "cfg.json" in str(err.value)


def test_defaults_levels_all_and_overrides() -> None:
    config = {
        "all": PolicyConfigEntry("mandatory"),
        "log-retention": PolicyConfigEntry("", {"note": "why"}),
        "needs-owner": PolicyConfigEntry("disabled", {"owner": "platform"}),
    }
    resolved = reconcile_policy_config(POLICIES, config)
    assert resolved["no-open-ssh"] == PolicyConfigEntry("mandatory", None)
    # `all` sets the level; the entry's properties merge over the schema default.
    assert resolved["log-retention"] == PolicyConfigEntry(
        "mandatory", {"minimumDays": 30.0, "note": "why"}
    )
    assert resolved["needs-owner"] == PolicyConfigEntry("disabled", {"owner": "platform"})
    # Like the engine, the `all` entry itself is passed on to Configure.
    assert resolved["all"] == PolicyConfigEntry("mandatory", None)


def test_initial_config_applies_before_the_file() -> None:
    resolved = reconcile_policy_config(
        POLICIES,
        {"needs-owner": PolicyConfigEntry("", {"owner": "file"})},
        initial_config={
            "log-retention": PolicyConfigEntry("mandatory", {"minimumDays": 60}),
            "needs-owner": PolicyConfigEntry("", {"owner": "initial"}),
        },
    )
    assert resolved["log-retention"] == PolicyConfigEntry("mandatory", {"minimumDays": 60})
    assert resolved["needs-owner"].properties == {"owner": "file"}


def test_schema_violations_name_policy_and_key() -> None:
    config = {
        "log-retention": PolicyConfigEntry("", {"minimumDays": "thirty"}),
        "no-open-sh": PolicyConfigEntry("advisory"),
        "all": PolicyConfigEntry("advisory", {"minimumDays": 1}),
    }
    with pytest.raises(PolicyConfigError) as err:
        reconcile_policy_config(POLICIES, config, source="prod.json")
    problems = err.value.problems
    assert "log-retention: minimumDays: 'thirty' is not of type 'integer'" in problems
    assert "needs-owner: 'owner' is a required property" in problems
    assert any(p.startswith("no-open-sh: ") and "did you mean no-open-ssh" in p for p in problems)
    assert any(p.startswith("all: only an enforcement level") for p in problems)
    assert "prod.json (4 problems)" in str(err.value)


def test_whole_number_floats_are_integers() -> None:
    # Numbers cross the wire as doubles; a default of 30.0 is a valid integer (JSON Schema draft 6+).
    resolved = reconcile_policy_config(
        POLICIES, {"needs-owner": PolicyConfigEntry("", {"owner": "x"})}
    )
    assert resolved["log-retention"].properties == {"minimumDays": 30.0}
