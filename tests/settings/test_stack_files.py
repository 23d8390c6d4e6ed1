"""Stack files never lose settings silently: what the CLI would drop or misread is refused or called out.

Secrets anywhere in the structure are written the way `pulumi config set --secret --path` writes them
(https://www.pulumi.com/docs/iac/concepts/config/#structured-configuration): a `secure:` leaf inside a
list or an object, or one `secure:` value for a whole object.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops.synth.runner import PROJECT_DIR, synthesize
from ops.synth.stack_config import StackConfigError, load_stack_config
from settings import SettingsError, deploy_readiness, load_settings
from settings.offline_secrets import is_placeholder

SECURE = {"secure": "v1:c2VjcmV0:bm90IGRlY3J5cHRhYmxlIG9mZmxpbmU="}


def _project(tmp_path: Path, stack_text: str, stack: str = "prod") -> Path:
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(stack_text)
    (tmp_path / "app").symlink_to(PROJECT_DIR / "app")  # the image's build context
    return tmp_path


def _prod_with(**config: Any) -> str:
    """The shipped prod file with `config` entries replaced or added."""
    data = yaml.safe_load((PROJECT_DIR / "Pulumi.prod.yaml").read_text())
    data["config"].update(config)
    return yaml.safe_dump(data, sort_keys=False)


CONNECTIVITY = yaml.safe_load((PROJECT_DIR / "Pulumi.prod.yaml").read_text())["config"][
    "steadystate:connectivity"
]


@pytest.mark.parametrize(
    "connectivity",
    [
        {**CONNECTIVITY, "alarmEmails": [SECURE]},
        {**CONNECTIVITY, "alarmEmails": ["ops@corp.internal", SECURE]},
        {**CONNECTIVITY, "alarmEmails": [], "alarmWebhooks": [SECURE]},
    ],
    ids=["list-item", "mixed-list", "webhooks"],
)
def test_secure_items_load_offline_as_placeholders(tmp_path, connectivity) -> None:
    project = _project(tmp_path, _prod_with(**{"steadystate:connectivity": connectivity}))
    config = load_stack_config(project, "prod")
    assert config.secret_keys == ["steadystate:connectivity"]
    settings = load_settings(config.values)
    secrets = [*settings.connectivity.alarm_emails, *settings.connectivity.alarm_webhooks]
    assert any(is_placeholder(value) for value in secrets)


def test_a_whole_object_secret_loads_with_its_rules_left_to_the_real_run(tmp_path) -> None:
    """Offline the object is unknowable: its group keeps defaults, and prod's "some subscriber"
    rule on it waits for the real run, which has the decrypted value."""
    project = _project(tmp_path, _prod_with(**{"steadystate:connectivity": SECURE}))
    config = load_stack_config(project, "prod")
    assert config.secret_keys == ["steadystate:connectivity"]
    settings = load_settings(config.values)
    assert settings.connectivity.alarm_emails == []
    with pytest.raises(SettingsError, match=r"connectivity\.alarmEmails"):
        load_settings({**config.values, "steadystate:connectivity": '{"alarmEmails": []}'})


def test_a_secret_inside_a_list_synthesizes_the_real_prod_program(tmp_path, fresh_loop) -> None:
    """`make check` and `make release-plan` both run the program through `synthesize`."""
    stack = _prod_with(**{"steadystate:connectivity": {**CONNECTIVITY, "alarmEmails": [SECURE]}})
    synthesis = synthesize(
        "prod", project_dir=_project(tmp_path, stack), program=PROJECT_DIR / "__main__.py"
    )
    subscriptions = synthesis.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert any(is_placeholder(s.inputs.get("endpoint")) for s in subscriptions)


def test_a_plain_item_beside_a_secret_is_still_judged(tmp_path) -> None:
    bad = {**CONNECTIVITY, "alarmEmails": [SECURE, "not-an-address"]}
    config = load_stack_config(
        _project(tmp_path, _prod_with(**{"steadystate:connectivity": bad})), "prod"
    )
    with pytest.raises(SettingsError) as caught:
        load_settings(config.values)
    assert [p.key for p in caught.value.problems] == ["steadystate:connectivity.alarmEmails"]


@pytest.mark.parametrize(
    ("stack_text", "names"),
    [
        (
            "config:\n  aws:region: us-east-2\n  steadystate:stage: dev\n  steadystate:stage: prod\n",
            ["'steadystate:stage' is given twice", "lines 3 and 4"],
        ),
        (
            "config:\n  aws:region: us-east-2\n  stage: dev\n  steadystate:stage: prod\n",
            ["steadystate:stage is given twice", "'stage'"],
        ),
        (
            "config:\n  aws:region: us-east-2\nsteadystate:stage: prod\n",
            ["steadystate:stage at the top level", "settings belong under config:"],
        ),
        (
            "config:\n  steadystate:stage: dev\n",
            ["aws:region is not set", "pulumi config set aws:region"],
        ),
        (
            "config:\n  aws:regoin: us-east-2\n",
            ["aws:region is not set", "aws:regoin looks like a misspelling"],
        ),
    ],
    ids=["yaml-key-twice", "prefixed-and-bare", "outside-config", "no-region", "misspelled-region"],
)
def test_stack_file_mistakes_are_refused_naming_the_key(tmp_path, stack_text, names) -> None:
    with pytest.raises(StackConfigError) as caught:
        load_stack_config(_project(tmp_path, stack_text, "dev"), "dev")
    for name in names:
        assert name in str(caught.value)


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("steadystat:service", "did you mean steadystate:service?"),
        ("stedystate:stage", "did you mean steadystate:stage?"),
        ("awz:region", "did you mean aws:region?"),
        ("frobnicate:x", "namespaces: steadystate, aws, docker, pulumi"),
    ],
)
def test_a_key_in_a_foreign_namespace_is_refused(key, hint) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"aws:region": "us-east-2", key: '{"minTasks": 2}'})
    [problem] = caught.value.problems
    assert problem.key == key
    assert hint in problem.message


def test_provider_and_pulumi_namespaces_are_accepted() -> None:
    load_settings({"aws:region": "us-east-2", "docker:host": "unix:///x", "pulumi:tags": "{}"})


@pytest.fixture
def warnings(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The mock engine logs `pulumi.log.warn` through the root logger."""
    caplog.set_level(logging.WARNING)
    return caplog


def test_shipped_prod_examples_are_a_warning_offline(fresh_loop, warnings) -> None:
    synthesize("prod")
    text = warnings.text
    for key in ("dns.zoneName", "loadBalancer.certificateDomain", "connectivity.alarmEmails"):
        assert f"steadystate:{key}" in text
    assert "a real preview or up refuses this" in text


def test_shipped_prod_examples_are_refused_for_a_real_deploy(fresh_loop, monkeypatch) -> None:
    monkeypatch.setattr(deploy_readiness, "deploying", lambda: True)
    with pytest.raises(SettingsError) as caught:
        synthesize("prod")
    assert {p.key for p in caught.value.problems} == {
        "steadystate:dns.zoneName",
        "steadystate:loadBalancer.certificateDomain",
        "steadystate:connectivity.alarmEmails",
    }
    assert caught.value.partial_recording.records == []  # pyright: ignore[reportAttributeAccessIssue]


def test_dev_copied_into_another_stack_is_called_out(
    tmp_path, fresh_loop, warnings, monkeypatch
) -> None:
    project = _project(tmp_path, (PROJECT_DIR / "Pulumi.dev.yaml").read_text(), "staging")
    synthesize("staging", project_dir=project, program=PROJECT_DIR / "__main__.py")
    assert "its Stack tag says 'dev' but this is stack 'staging'" in warnings.text
    monkeypatch.setattr(deploy_readiness, "deploying", lambda: True)
    with pytest.raises(SettingsError) as caught:
        synthesize("staging", project_dir=project, program=PROJECT_DIR / "__main__.py")
    assert [p.key for p in caught.value.problems] == ["aws:defaultTags"]


def test_own_names_pass_and_dev_is_never_judged_for_examples(fresh_loop, warnings) -> None:
    synthesize("dev")
    assert "reserved example name" not in warnings.text
    assert not deploy_readiness.is_reserved_name("api.corp.internal")
    assert deploy_readiness.is_reserved_name("api.EXAMPLE.org.")
    assert deploy_readiness.is_reserved_name("svc.test")


def test_the_gate_is_not_a_real_deploy(fresh_loop) -> None:
    seen: list[bool] = []
    from ops.synth.runner import run_under_mocks

    run_under_mocks(lambda: seen.append(deploy_readiness.deploying()))
    assert seen == [False]
