"""The gate's pure parts: registrations, durations, tree, report, graph, traceback trimming."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ops.gate.analyzer_client import Diagnostic, to_wire
from ops.gate.check import analyze_request, duration_seconds, registrations, stack_resource
from ops.gate.graph import GraphError, components_dot, graph_format, to_dot
from ops.gate.policy_report import PolicyReport, violation_from
from ops.gate.resource_tree import render_tree, split_urn, type_counts
from ops.gate.tracebacks import is_config_error, trim_traceback
from ops.synth.mocks import ResourceRecord
from ops.synth.runner import Synthesis
from ops.synth.stack_config import StackConfig

ROOT = "urn:pulumi:prod::shop::pulumi:pulumi:Stack::shop-prod"
DEFAULT = "urn:pulumi:prod::shop::pulumi:providers:aws::default_7_51_1"
NO_ID = "00000000-0000-0000-0000-000000000000"


def record(
    urn: str, type_: str, *, custom: bool = True, parent: str = ROOT, **kw
) -> ResourceRecord:
    fields = {
        "provider": f"{DEFAULT}::{NO_ID}" if custom else "",
        "inputs": {},
        "outputs": {},
        "options": {"version": "7.51.1"} if custom else {},
        "dependencies": [],
        "property_dependencies": {},
    }
    fields.update(kw)
    return ResourceRecord(urn, type_, urn.rsplit("::", 1)[1], custom, parent, **fields)


WEB = record("urn:pulumi:prod::shop::shop:index:Web::web", "shop:index:Web", custom=False)
SG = record(
    "urn:pulumi:prod::shop::shop:index:Web$aws:ec2/securityGroup:SecurityGroup::web-sg",
    "aws:ec2/securityGroup:SecurityGroup",
    parent=WEB.urn,
    inputs={"description": "web", "password": {"4dabf18193072939515e22adb298388d": "x"}},
)
WEST = record(
    "urn:pulumi:prod::shop::pulumi:providers:aws::west",
    "pulumi:providers:aws",
    provider=f"urn:pulumi:prod::shop::pulumi:providers:pulumi::default::{NO_ID}",  # mock artefact
    inputs={"region": "us-west-2"},
)
TOPIC = record(
    "urn:pulumi:prod::shop::aws:sns/topic:Topic::alerts",
    "aws:sns/topic:Topic",
    provider=f"{WEST.urn}::west-id",
    dependencies=[SG.urn, WEB.urn],
    property_dependencies={"kmsMasterKeyId": [SG.urn], "name": []},
    options={"customTimeouts": {"create": "2m", "update": "", "delete": ""}, "protect": True},
)
SYNTH = Synthesis(
    records=[WEB, SG, WEST, TOPIC],
    outputs={"url": "https://shop"},
    config=StackConfig(
        "shop",
        "prod",
        {"aws:region": "us-east-2", "aws:secretKey": "placeholder", "shop:size": "3"},
        ["aws:secretKey"],
        {"aws:region": "us-east-2", "aws:secretKey": {"secure": "x"}, "shop:size": 3},
    ),
)


def test_registrations_follow_the_engine() -> None:
    regs = registrations(SYNTH)
    assert [(r.kind, r.name) for r in regs] == [
        ("stack", "shop-prod"),
        ("component", "web"),
        ("default-provider", "default_7_51_1"),  # registered right before its first user
        ("resource", "web-sg"),
        ("provider", "west"),
        ("resource", "alerts"),
    ]
    stack, web, default, sg, west, topic = regs
    assert (stack.urn, stack.parent, stack.outputs) == (ROOT, "", {"url": "https://shop"})
    assert default.inputs == {
        "region": "us-east-2",
        "secretKey": {
            "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
            "value": "placeholder",
        },
        "version": "7.51.1",
    }
    assert web.provider is None and west.provider is None  # components and providers have none
    assert sg.provider is default
    assert topic.provider is west


def test_analyze_request_and_stack_resource() -> None:
    topic = registrations(SYNTH)[-1]
    request = analyze_request(topic)
    assert (request.type, request.name, request.urn) == (TOPIC.type, "alerts", TOPIC.urn)
    assert request.options.protect
    assert request.options.parent == ROOT
    assert request.options.customTimeouts.create == 120.0
    assert not request.options.deleteBeforeReplaceDefined
    assert (request.provider.urn, request.provider.name) == (WEST.urn, "west")
    assert dict(request.provider.properties) == {"region": "us-west-2"}

    resource = stack_resource(topic)
    assert resource.parent == ROOT
    assert resource.options.parent == ""  # AnalyzeStack carries the parent on the resource
    assert list(resource.dependencies) == [SG.urn, WEB.urn]
    assert {k: list(v.urns) for k, v in resource.propertyDependencies.items()} == {
        "kmsMasterKeyId": [SG.urn]
    }  # empty property dependencies are skipped, as the engine does


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("", 0.0),
        (None, 0.0),
        ("5m", 300.0),
        ("1h30m", 5400.0),
        ("90s", 90.0),
        ("1.5h", 5400.0),
        ("250ms", 0.25),
        (30, 30.0),
    ],
)
def test_duration_seconds(text, seconds) -> None:
    assert duration_seconds(text) == pytest.approx(seconds)


def test_duration_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        duration_seconds("5 minutes")


def test_to_wire_handles_assets_and_tuples() -> None:
    import pulumi

    assert to_wire({"a": (1, 2), "b": pulumi.StringAsset("hi")}) == {
        "a": [1, 2],
        "b": {"4dabf18193072939515e22adb298388d": "c44067f5952c0a294b673a41bacd8c17", "text": "hi"},
    }


def test_tree_nests_components_and_counts_types() -> None:
    text = render_tree(SYNTH.records, project="shop", stack="prod")
    assert text.splitlines()[:5] == [
        "pulumi:pulumi:Stack  shop-prod",
        "├─ alerts  (aws:sns/topic:Topic)",
        "├─ web  (shop:index:Web)  [component]",
        "│  └─ web-sg  (aws:ec2/securityGroup:SecurityGroup)",
        "└─ west  (pulumi:providers:aws)",
    ]
    assert "  5 resources: 2 custom, 1 components, 1 explicit providers, 1 stack" in text
    counts = {c.type: (c.count, c.kind) for c in type_counts(SYNTH.records)}
    assert counts["shop:index:Web"] == (1, "component")
    assert counts["pulumi:pulumi:Stack"] == (1, "stack")


def test_split_urn() -> None:
    assert split_urn(SG.urn) == ("aws:ec2/securityGroup:SecurityGroup", "web-sg")
    assert split_urn("urn:pulumi:s::p::t::name::with::colons") == ("t", "name::with::colons")


def diagnostic(level: str, message: str, policy: str = "p") -> Diagnostic:
    return Diagnostic(policy, "pack", "1", "Describe.", message, level, "", "high")


def test_report_groups_levels_and_summarises() -> None:
    report = PolicyReport(
        "pack",
        "1.0",
        policy_count=3,
        resource_count=5,
        project="shop",
        stack="prod",
        disabled=["quiet"],
    )
    report.add(
        [
            violation_from(
                diagnostic("advisory", "Describe.\nline one\nline two", "b"),
                urn=SG.urn,
                stage="resource",
            ),
            violation_from(
                diagnostic("remediate", "Describe.", "a"), urn=TOPIC.urn, stage="resource"
            ),
        ]
    )
    text = report.render_text()
    assert "mandatory (1)\n  mandatory  a  alerts (aws:sns/topic:Topic): Describe." in text
    assert "  advisory   b  web-sg (aws:ec2/securityGroup:SecurityGroup): line one\n" in text
    (more,) = [line for line in text.splitlines() if line.endswith("line two")]
    assert more.strip() == "line two" and more.startswith(" " * 16)  # continuation, indented
    assert "disabled (1): quiet" in text
    assert text.splitlines()[-1] == "pack: 3 policies, 5 resources, 1 mandatory, 1 advisory"
    assert report.exit_code == 1
    doc = report.to_json()
    assert [v["level"] for v in doc["violations"]] == ["mandatory", "advisory"]
    assert doc["violations"][1]["message"] == "line one\nline two"
    assert doc["violations"][1]["resource"] == {
        "name": "web-sg",
        "type": "aws:ec2/securityGroup:SecurityGroup",
        "urn": SG.urn,
    }
    json.dumps(doc)


def test_graph_clusters_components_and_draws_dependencies() -> None:
    dot = to_dot(SYNTH.records, project="shop", stack="prod", levels={SG.urn: "mandatory"})
    assert "subgraph cluster_n0 {" in dot
    assert 'label="web (shop:index:Web)";' in dot
    assert "n3 -> n1;" in dot  # alerts depends on web-sg
    assert "n3 -> n0 [lhead=cluster_n0];" in dot  # ... and on the web component
    assert 'fillcolor="#f4b6b6"' in dot  # web-sg violates a mandatory policy


def test_component_overview_draws_components_parent_to_child() -> None:
    inner = record(
        "urn:pulumi:prod::shop::shop:index:Web$shop:index:Cache::cache",
        "shop:index:Cache",
        custom=False,
        parent=WEB.urn,
    )
    node = record(
        "urn:pulumi:prod::shop::shop:index:Web$shop:index:Cache$aws:s3/bucket:Bucket::cache-b",
        "aws:s3/bucket:Bucket",
        parent=inner.urn,
    )
    records = [WEB, SG, WEST, TOPIC, inner, node]
    dot = components_dot(records, project="shop", stack="prod", levels={node.urn: "advisory"})
    # Only the stack and the two components are nodes; the four resources are only counted.
    assert 'root [label="shop-prod\\npulumi:pulumi:Stack\\n4 resources"' in dot
    # Components are numbered by name, whatever order they registered in.
    assert 'c1 [label="web\\nshop:index:Web\\n2 resources", fillcolor="#fbe3a6"' in dot
    assert 'c0 [label="cache\\nshop:index:Cache\\n1 resource", fillcolor="#fbe3a6"' in dot
    assert "root -> c1;" in dot and "c1 -> c0;" in dot
    assert dot.count(" -> ") == 2
    for resource in ("web-sg", "alerts", "west", "cache-b"):
        assert resource not in dot.replace(f'tooltip="{node.urn}"', "")
    # A mandatory violation anywhere below colours every component above it.
    dot = components_dot(records, project="shop", stack="prod", levels={SG.urn: "mandatory"})
    assert 'c1 [label="web\\nshop:index:Web\\n2 resources", fillcolor="#f4b6b6"' in dot
    assert 'fillcolor="#f4b6b6"];' in dot.split("\n", 7)[6]  # the root line


def test_component_overview_does_not_depend_on_registration_order() -> None:
    """The engine registers children concurrently, so the order of records varies between runs;
    the overview (committed in docs/assets) must not."""
    inner = record(
        "urn:pulumi:prod::shop::shop:index:Web$shop:index:Cache::cache",
        "shop:index:Cache",
        custom=False,
        parent=WEB.urn,
    )
    records = [WEB, SG, WEST, TOPIC, inner]
    forward = components_dot(records, project="shop", stack="prod")
    assert components_dot(records[::-1], project="shop", stack="prod") == forward


@pytest.mark.parametrize(("name", "fmt"), [("g.svg", "svg"), ("g.PNG", "png")])
def test_the_graph_format_follows_the_suffix(name: str, fmt: str) -> None:
    assert graph_format(Path(name)) == fmt


@pytest.mark.parametrize("name", ["g.jpg", "g", "g.svg.gz"])
def test_other_graph_suffixes_are_refused(name: str) -> None:
    with pytest.raises(GraphError, match=r"unsupported file type .*; use \.svg or \.png"):
        graph_format(Path(name))


def test_trimmed_traceback_keeps_project_frames_and_the_chain(tmp_path: Path) -> None:
    program = tmp_path / "prog.py"
    program.write_text(
        "def inner():\n"
        "    raise KeyError('zone')\n"
        "def outer():\n"
        "    try:\n"
        "        inner()\n"
        "    except KeyError as err:\n"
        "        raise RuntimeError('cannot plan subnets') from err\n"
    )
    namespace: dict = {}
    exec(compile(program.read_text(), str(program), "exec"), namespace)
    with pytest.raises(RuntimeError) as info:
        namespace["outer"]()
    text = trim_traceback(info.value, [tmp_path], relative_to=tmp_path)
    assert text.splitlines() == [
        "Traceback (most recent call last; project frames only):",
        '  File "prog.py", line 5, in outer',
        "    inner()",
        '  File "prog.py", line 2, in inner',
        "    raise KeyError('zone')",
        "KeyError: 'zone'",
        "",
        "The above exception was the direct cause of the following exception:",
        "",
        "Traceback (most recent call last; project frames only):",
        '  File "prog.py", line 7, in outer',
        "    raise RuntimeError('cannot plan subnets') from err",
        "RuntimeError: cannot plan subnets",
    ]  # this test's own frame (outside tmp_path) is gone


def test_config_errors_are_recognised_by_name_or_problems() -> None:
    class SettingsError(Exception):
        pass

    class Other(Exception):
        problems = ["x"]

    assert is_config_error(SettingsError("bad"))
    assert is_config_error(Other())
    assert not is_config_error(ValueError("bad"))
