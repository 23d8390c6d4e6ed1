"""Configure / Remediate / Analyze / AnalyzeStack against a real pack subprocess over gRPC."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from ops.gate.analyzer_client import PackEnvironment, PolicyPackError, PolicyPackProcess
from ops.gate.check import judge, read_policy_project
from ops.gate.policy_config import PolicyConfigError
from ops.gate.policy_report import Violation
from ops.synth.mocks import ResourceRecord
from ops.synth.runner import Synthesis

PACK = Path(__file__).resolve().parent / "fixtures" / "pack"
ROOT = "urn:pulumi:dev::basic::pulumi:pulumi:Stack::basic-dev"
EDGE = "urn:pulumi:dev::basic::basic:index:Edge::edge"
DEFAULT_AWS = "urn:pulumi:dev::basic::pulumi:providers:aws::default_7_51_1"


def run(pack: PolicyPackProcess, synthesis: Synthesis, config: str | Path | None):
    path = PACK / "config" / config if isinstance(config, str) else config
    return judge(pack, synthesis, config_path=path, policy_project=read_policy_project(PACK))


def seen(violations: list[Violation], policy: str, name: str) -> dict:
    (found,) = [v for v in violations if v.policy == policy and v.resource_name == name]
    return json.loads(found.message)


def test_analyzer_info_lists_policies_and_schemas(fixture_pack: PolicyPackProcess) -> None:
    info = fixture_pack.get_analyzer_info()
    assert info.name == "gate-test-pack"
    assert info.supports_config
    by_name = {p.name: p for p in info.policies}
    assert by_name["no-open-ssh"].enforcement_level == "mandatory"
    assert by_name["log-retention"].config_properties == {
        "minimumDays": {"type": "integer", "default": 30.0, "minimum": 1.0}
    }
    assert by_name["stack-needs-alarm"].kind == "stack"
    assert by_name["probe-resource"].kind == "resource"


def test_diagnostics_by_level_with_the_stack_config(fixture_pack, basic_synthesis) -> None:
    result = run(fixture_pack, basic_synthesis, "dev.json")
    report = result.report
    assert (
        result.version == "0.3.0"
    )  # PulumiPolicy.yaml wins over the SDK's 0.0.1, as in the engine
    (ssh,) = report.of_level("mandatory")
    assert (ssh.policy, ssh.resource_name, ssh.message) == (
        "no-open-ssh",
        "edge-ssh",
        "port 22 is open to 0.0.0.0/0",
    )
    assert ssh.description == "Security groups must not open SSH to the world."
    advisory = {(v.policy, v.resource_name) for v in report.of_level("advisory")}
    assert ("log-retention", "app-logs") in advisory
    assert ("log-retention", "probe-logs") not in advisory  # 30 >= minimumDays 14 from dev.json
    assert ("stack-needs-alarm", "basic-dev") in advisory
    retention = next(v for v in report.violations if v.policy == "log-retention")
    assert retention.message == "retentionInDays is 7; keep logs at least 14 days"
    assert report.exit_code == 1
    assert report.resource_count == 8  # stack + 7 registered; the default provider is not counted
    assert report.summary_line() == (
        f"gate-test-pack: 7 policies, 8 resources, 1 mandatory, {len(advisory)} advisory"
    )


def test_options_and_provider_arrive_filled(fixture_pack, basic_synthesis) -> None:
    report = run(fixture_pack, basic_synthesis, "dev.json").report
    sg = seen(report.violations, "probe-resource", "probe-sg")
    assert sg["protect"] is True
    assert sg["ignoreChanges"] == ["tags"]
    assert sg["deleteBeforeReplace"] is True
    assert sg["additionalSecretOutputs"] == ["arn"]
    assert sg["customTimeouts"] == [300.0, 5400.0, 90.0]  # 5m, 1h30m, 90s
    assert sg["parent"] == EDGE
    assert sg["props"] == {"description": "probe", "tags": {"team": "gate"}}
    assert sg["provider"] == {
        "type": "pulumi:providers:aws",
        "urn": DEFAULT_AWS,
        "name": "default_7_51_1",
        "props": {"region": "us-east-2", "version": "7.51.1"},
    }
    assert sg["stackTags"] == {"pulumi:project": "basic", "pulumi:runtime": "python"}
    assert (sg["project"], sg["stack"], sg["region"]) == ("basic", "dev", "us-east-2")

    topic = seen(report.violations, "probe-resource", "probe-topic")
    assert topic["provider"]["name"] == "west"
    assert topic["provider"]["props"]["region"] == "us-west-2"
    assert topic["props"] == {"kmsMasterKeyId": "offline-placeholder-for-basic-apiKey"}  # a secret
    assert topic["parent"] == ROOT
    assert topic["deleteBeforeReplace"] is None  # not set by the program


def test_stack_analysis_sees_outputs_and_the_graph(fixture_pack, basic_synthesis) -> None:
    report = run(fixture_pack, basic_synthesis, "dev.json").report
    logs = seen(report.violations, "probe-stack", "probe-logs")
    topic = "urn:pulumi:dev::basic::aws:sns/topic:Topic::probe-topic"
    assert logs["parent"] == ROOT
    assert logs["optsParent"] is None  # the engine puts the parent on the resource, not its options
    assert logs["dependencies"] == [topic]
    assert logs["propertyDependencies"] == {"kmsKeyId": [topic]}
    assert logs["props"]["arn"].startswith("arn:aws:logs:")  # outputs, not inputs
    assert logs["provider"] == DEFAULT_AWS
    assert seen(report.violations, "probe-stack", "probe-sg")["parent"] == EDGE
    # A stack violation without a URN is attributed to the root stack, as the engine does.
    note = next(v for v in report.violations if v.message == "stack-level note without a resource")
    assert (note.urn, note.stage) == (ROOT, "stack")


def test_all_disabled_and_schema_defaults(fixture_pack, basic_synthesis) -> None:
    report = run(fixture_pack, basic_synthesis, "strict.json").report
    assert report.disabled == ["explode", "probe-resource", "probe-stack"]
    assert {v.level for v in report.violations} == {"mandatory"}
    assert not any(v.policy.startswith("probe") for v in report.violations)
    retention = [v for v in report.violations if v.policy == "log-retention"]
    assert [v.message for v in retention] == ["retentionInDays is 7; keep logs at least 30 days"]


def test_remediation_rewrites_inputs_before_analysis(
    fixture_pack, basic_synthesis, tmp_path
) -> None:
    config = tmp_path / "remediate.json"
    config.write_text('{"owner-tag": "remediate", "probe-resource": "disabled"}')
    report = run(fixture_pack, basic_synthesis, config).report
    remediated = report.of_level("remediated")
    assert {(v.policy, v.resource_name, v.message) for v in remediated} == {
        ("owner-tag", "app-logs", "rewrote tags"),
        ("owner-tag", "probe-logs", "rewrote tags"),
    }
    # Analyze ran on the remediated inputs, so owner-tag has nothing left to report.
    assert not [v for v in report.violations if v.policy == "owner-tag" and v.level != "remediated"]
    assert "remediated" in report.summary_line()


def test_malformed_policy_config_names_policy_and_key(fixture_pack, basic_synthesis) -> None:
    with pytest.raises(PolicyConfigError) as err:
        run(fixture_pack, basic_synthesis, "malformed.json")
    assert err.value.problems == [
        "log-retention: minimumDays: 'thirty' is not of type 'integer'",
        "no-open-shh: the pack has no policy of that name (did you mean no-open-ssh?)",
    ]


def test_a_policy_that_raises_fails_only_its_resource(fixture_pack, basic_synthesis) -> None:
    boom = ResourceRecord(
        urn="urn:pulumi:dev::basic::aws:sns/topic:Topic::boom",
        type="aws:sns/topic:Topic",
        name="boom",
        custom=True,
        parent=ROOT,
        provider=f"{DEFAULT_AWS}::00000000-0000-0000-0000-000000000000",
        inputs={},
        outputs={},
        options={},
        dependencies=[],
        property_dependencies={},
    )
    synthesis = dataclasses.replace(basic_synthesis, records=[*basic_synthesis.records, boom])
    report = run(fixture_pack, synthesis, "dev.json").report
    (error,) = report.errors
    assert "Analyze(urn:pulumi:dev::basic::aws:sns/topic:Topic::boom)" in error
    assert "explode: this policy crashed on purpose" in error
    assert report.exit_code == 3
    assert any(v.policy == "no-open-ssh" for v in report.violations)  # the rest was still judged


def test_pack_that_fails_to_start_reports_its_stderr(tmp_path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text("import no_such_module_for_the_gate\n")
    pack = PolicyPackProcess(tmp_path, PackEnvironment("p", "dev"), start_timeout=30)
    with pack, pytest.raises(PolicyPackError) as err:
        pack.wait_ready()
    message = str(err.value)
    assert "exited before it started serving" in message
    assert "no_such_module_for_the_gate" in message
    assert pack.pid is None  # closed: the subprocess is gone


def test_close_kills_the_subprocess_even_when_never_used() -> None:
    pack = PolicyPackProcess(PACK, PackEnvironment("p", "dev")).spawn()
    proc = pack._proc
    assert proc is not None and proc.poll() is None
    pack.close()
    assert proc.poll() is not None
    pack.close()  # idempotent


def test_analyze_sequential_and_pipelined_agree(fixture_pack, basic_synthesis) -> None:
    from ops.gate.check import analyze_request, registrations

    requests = [analyze_request(r) for r in registrations(basic_synthesis)]
    one, errors_one = fixture_pack.analyze_many(requests, in_flight=1)
    many, errors_many = fixture_pack.analyze_many(requests, in_flight=16)
    assert one == many
    assert errors_one == errors_many == []
